-- Notifications for staff accounts too (HR staff who relied on a certificate that was revoked):
-- a row is for a learner or for a user account, never both.
ALTER TABLE notification_outbox ALTER COLUMN learner_id DROP NOT NULL;
ALTER TABLE notification_outbox ADD COLUMN user_id BIGINT REFERENCES users (id);
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_one_recipient
    CHECK ((learner_id IS NULL) <> (user_id IS NULL));
CREATE UNIQUE INDEX notification_outbox_user_event
    ON notification_outbox (user_id, event_key, channel) WHERE user_id IS NOT NULL;

ALTER TABLE inbox_messages ALTER COLUMN learner_id DROP NOT NULL;
ALTER TABLE inbox_messages ADD COLUMN user_id BIGINT REFERENCES users (id);
ALTER TABLE inbox_messages ADD CONSTRAINT inbox_messages_one_recipient
    CHECK ((learner_id IS NULL) <> (user_id IS NULL));
CREATE INDEX inbox_messages_user ON inbox_messages (user_id, id);
