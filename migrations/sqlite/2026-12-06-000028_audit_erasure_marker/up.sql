-- The one change the audit log allows (an erasure putting a pseudonym in place of the person in
-- a summary) is allowed only while an erasure runs: its transaction holds a row here from its
-- start to its end, so no row is ever committed, and no other writer can rewrite an entry.
CREATE TABLE erasures_in_progress (
    learner_id BIGINT PRIMARY KEY NOT NULL
);

DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (NEW.id = OLD.id AND NEW.actor_user_id IS OLD.actor_user_id AND NEW.action = OLD.action
    AND NEW.entity_type = OLD.entity_type AND NEW.entity_id = OLD.entity_id
    AND NEW.created_at = OLD.created_at AND NEW.summary GLOB '*erased-*'
    AND EXISTS (SELECT 1 FROM erasures_in_progress))
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
