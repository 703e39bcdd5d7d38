-- Notifications for staff accounts too (HR staff who relied on a certificate that was revoked):
-- a row is for a learner or for a user account, never both. SQLite cannot relax NOT NULL in
-- place, so both tables are rebuilt with their rows.
CREATE TABLE notification_outbox_new (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT REFERENCES learners (id),
    user_id BIGINT REFERENCES users (id),
    event_key TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('inbox', 'email')),
    category TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead', 'withdrawn')),
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    UNIQUE (learner_id, event_key, channel),
    CHECK ((learner_id IS NULL) <> (user_id IS NULL))
);
INSERT INTO notification_outbox_new (id, learner_id, event_key, channel, category, kind, payload,
        status, attempts, due_at, lease_until, last_error, created_at, sent_at)
    SELECT id, learner_id, event_key, channel, category, kind, payload,
        status, attempts, due_at, lease_until, last_error, created_at, sent_at
    FROM notification_outbox;

CREATE TABLE inbox_messages_new (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT REFERENCES learners (id),
    user_id BIGINT REFERENCES users (id),
    outbox_id BIGINT NOT NULL UNIQUE REFERENCES notification_outbox_new (id),
    category TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL,
    body_en TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    CHECK ((learner_id IS NULL) <> (user_id IS NULL))
);
INSERT INTO inbox_messages_new (id, learner_id, outbox_id, category, title_zh, title_en, body_zh,
        body_en, created_at, read_at)
    SELECT id, learner_id, outbox_id, category, title_zh, title_en, body_zh,
        body_en, created_at, read_at
    FROM inbox_messages;

DROP TABLE inbox_messages;
DROP TABLE notification_outbox;
ALTER TABLE notification_outbox_new RENAME TO notification_outbox;
ALTER TABLE inbox_messages_new RENAME TO inbox_messages;
CREATE INDEX notification_outbox_due ON notification_outbox (status, due_at);
CREATE UNIQUE INDEX notification_outbox_user_event
    ON notification_outbox (user_id, event_key, channel) WHERE user_id IS NOT NULL;
CREATE INDEX inbox_messages_learner ON inbox_messages (learner_id, id);
CREATE INDEX inbox_messages_user ON inbox_messages (user_id, id);
