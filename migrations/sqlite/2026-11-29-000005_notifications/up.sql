-- The notification outbox: one row per (learner, event, channel), written in the same transaction
-- as the change that causes it, so a notification is never lost and never produced twice.
CREATE TABLE notification_outbox (
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
CREATE INDEX notification_outbox_due ON notification_outbox (status, due_at);

-- The in-app inbox the mobile app reads.
CREATE TABLE inbox_messages (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    outbox_id BIGINT NOT NULL UNIQUE REFERENCES notification_outbox (id),
    category TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL,
    body_en TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX inbox_messages_learner ON inbox_messages (learner_id, id);
