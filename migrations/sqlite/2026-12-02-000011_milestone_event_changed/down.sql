-- Undoing drops the `changed` events: the older table has no room for them.
DELETE FROM milestone_events WHERE event = 'changed';
CREATE TABLE milestone_events_old (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    milestone_key TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('newly_met', 'newly_upcoming', 'achieved', 'lost', 'lapsed', 'date_moved')),
    before TEXT,
    after TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO milestone_events_old (id, learner_id, milestone_key, rule_id, event, before, after, created_at)
SELECT id, learner_id, milestone_key, rule_id, event, before, after, created_at FROM milestone_events;
DROP TABLE milestone_events;
ALTER TABLE milestone_events_old RENAME TO milestone_events;
CREATE INDEX milestone_events_learner ON milestone_events (learner_id, id);
