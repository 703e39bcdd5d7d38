-- Erasure (PIPL Art. 47): a learner asks to delete their account; after a grace period (during
-- which they can cancel) their personal information is erased. What is kept — the certificates
-- with their verification decisions, revoked shares, audit entries — stays attached to the
-- learner's row, which keeps no personal information and says when it was erased.
ALTER TABLE learners ADD COLUMN erased_at TIMESTAMP;

CREATE TABLE deletion_requests (
    learner_id BIGINT PRIMARY KEY REFERENCES learners (id),
    requested_by BIGINT REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    erase_after TIMESTAMP NOT NULL
);
CREATE INDEX deletion_requests_due ON deletion_requests (erase_after);

-- The audit log stays append-only but for one change: an erasure replaces the person in an
-- entry's summary with their pseudonym; nothing else of an entry ever changes.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (NEW.id = OLD.id AND NEW.actor_user_id IS OLD.actor_user_id AND NEW.action = OLD.action
    AND NEW.entity_type = OLD.entity_type AND NEW.entity_id = OLD.entity_id
    AND NEW.created_at = OLD.created_at AND NEW.summary GLOB '*erased-*')
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
