-- A learner's notification preferences (JSON: per category and channel, and email quiet hours).
CREATE TABLE notification_preferences (
    learner_id BIGINT PRIMARY KEY REFERENCES learners (id),
    settings TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
