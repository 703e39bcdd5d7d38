-- A learner's private calendar feed (RFC 5545) of their milestone dates.

-- The feed's secret address: only its SHA-256 is kept (the token has 256 random bits); rotating
-- replaces it, turning the feed off deletes the row.
CREATE TABLE calendar_feeds (
    learner_id BIGINT PRIMARY KEY REFERENCES learners (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_fetched_at TIMESTAMP
);

-- Each event the feed has shown, as last shown: what a calendar client holds. A change of what
-- it shows raises its sequence (RFC 5545 3.8.7.4); an event whose milestone no longer gives the
-- date is kept, cancelled, so that clients remove it.
CREATE TABLE calendar_entries (
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    milestone_key TEXT NOT NULL,
    moment TEXT NOT NULL CHECK (moment IN ('eligible_from', 'open_until')),
    on_date DATE NOT NULL,
    summary TEXT NOT NULL,
    description TEXT NOT NULL,
    alarm_days TEXT NOT NULL,
    sequence INTEGER NOT NULL CHECK (sequence >= 0),
    cancelled BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (learner_id, milestone_key, moment)
);
