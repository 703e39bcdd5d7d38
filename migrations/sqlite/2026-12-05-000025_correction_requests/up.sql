-- A learner's requests to correct a fact their college or employer recorded (PIPL Art. 46), and
-- the decision on each.
CREATE TABLE correction_requests (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    record TEXT NOT NULL CHECK (record IN ('learner', 'enrollment', 'employment')),
    -- The enrollment or employment spell; NULL for the learner's own facts.
    record_id BIGINT,
    -- JSON: the fields and the values asked for, and what those fields held when asked.
    changes TEXT NOT NULL,
    current_values TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Whose staff decide (the institution that recorded the fact); NULL: administrators only.
    institution_id BIGINT REFERENCES institutions (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'refused')),
    requested_by BIGINT REFERENCES users (id),
    decided_by BIGINT REFERENCES users (id),
    decision_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX correction_requests_learner ON correction_requests (learner_id, id);
CREATE INDEX correction_requests_institution ON correction_requests (institution_id, status, id);
