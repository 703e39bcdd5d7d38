-- Rule parameters: every value with the period it applies to and its citation. Values are
-- only ever added; a policy change is a new row with a later effective_from.
CREATE TABLE rule_parameters (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    occupation_code TEXT REFERENCES occupations (code),
    value TEXT NOT NULL,
    effective_from DATE NOT NULL,
    effective_until DATE,
    source TEXT NOT NULL,
    clause TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK (effective_until IS NULL OR effective_until >= effective_from)
);
CREATE INDEX rule_parameters_name ON rule_parameters (name, effective_from);

-- Each learner's current milestones, as last computed.
CREATE TABLE learner_milestones (
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    milestone_key TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    status TEXT NOT NULL,
    eligible_from DATE,
    payload TEXT NOT NULL,
    parameters_version TEXT NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (learner_id, milestone_key)
);

-- Every change of a milestone, with before and after (the notification outbox reads these).
CREATE TABLE milestone_events (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    milestone_key TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('newly_met', 'newly_upcoming', 'achieved', 'lost', 'lapsed', 'date_moved')),
    before TEXT,
    after TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX milestone_events_learner ON milestone_events (learner_id, id);
