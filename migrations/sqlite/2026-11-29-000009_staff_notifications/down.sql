-- Staff rows cannot exist in the older shape.
DELETE FROM inbox_messages WHERE user_id IS NOT NULL;
DELETE FROM notification_outbox WHERE user_id IS NOT NULL;
CREATE TABLE notification_outbox_old (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
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
    UNIQUE (learner_id, event_key, channel)
);
INSERT INTO notification_outbox_old SELECT id, learner_id, event_key, channel, category, kind,
    payload, status, attempts, due_at, lease_until, last_error, created_at, sent_at
    FROM notification_outbox;
CREATE TABLE inbox_messages_old (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    outbox_id BIGINT NOT NULL UNIQUE REFERENCES notification_outbox_old (id),
    category TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL,
    body_en TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO inbox_messages_old SELECT id, learner_id, outbox_id, category, title_zh, title_en,
    body_zh, body_en, created_at, read_at FROM inbox_messages;
DROP TABLE inbox_messages;
DROP TABLE notification_outbox;
ALTER TABLE notification_outbox_old RENAME TO notification_outbox;
ALTER TABLE inbox_messages_old RENAME TO inbox_messages;
CREATE INDEX notification_outbox_due ON notification_outbox (status, due_at);
CREATE INDEX inbox_messages_learner ON inbox_messages (learner_id, id);
