DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (NEW.id = OLD.id AND NEW.actor_user_id IS OLD.actor_user_id AND NEW.action = OLD.action
    AND NEW.entity_type = OLD.entity_type AND NEW.entity_id = OLD.entity_id
    AND NEW.created_at = OLD.created_at AND NEW.summary GLOB '*erased-*')
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
DROP TABLE erasures_in_progress;
