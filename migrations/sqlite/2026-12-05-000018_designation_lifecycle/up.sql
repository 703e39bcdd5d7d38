-- The designation lifecycle of policy 六: an institution's application to become a 新型技师学院,
-- the reviews and decisions taken on it, and the partnerships its conditions rest on (annex
-- 一.2 / 二.2). Decisions are recorded by city administrators for the body that took them.

CREATE TABLE partnerships (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    partner_name TEXT NOT NULL,
    -- A college's partners are enterprises; an enterprise's are colleges (annex 一.2 / 二.2).
    partner_kind TEXT NOT NULL CHECK (partner_kind IN ('enterprise', 'college')),
    partner_institution_id BIGINT REFERENCES institutions (id),
    started_on DATE NOT NULL,
    ended_on DATE,
    agreement_ref TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);
CREATE INDEX partnerships_institution ON partnerships (institution_id, started_on);

CREATE TABLE designation_applications (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'preliminary_review', 'city_education_consent',
        'expert_review', 'public_notice', 'designated', 'rectification', 'de_designated',
        'rejected', 'withdrawn')),
    -- 行业企业举办的: a school run by an industry or an enterprise also needs its industry
    -- department's preliminary review (六(一)).
    run_by_industry BOOLEAN NOT NULL,
    -- 培养目标 (三(三)), as the institution states them.
    goals TEXT NOT NULL,
    -- The annex's conditions, each answered with its evidence.
    industry_need TEXT NOT NULL,
    partnership_evidence TEXT NOT NULL,
    separate_departments BOOLEAN NOT NULL,
    organisation_evidence TEXT NOT NULL,
    facilities_evidence TEXT NOT NULL,
    yearly_training_volume INTEGER NOT NULL CHECK (yearly_training_volume >= 0),
    volume_evidence TEXT NOT NULL,
    submitted_on DATE,
    notice_from DATE,
    notice_until DATE,
    rectification_due DATE,
    designation_id BIGINT REFERENCES designations (id),
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One application in progress (or designation held) per institution at a time.
CREATE UNIQUE INDEX designation_applications_one_open ON designation_applications (institution_id)
    WHERE state NOT IN ('de_designated', 'rejected', 'withdrawn');
CREATE INDEX designation_applications_institution ON designation_applications (institution_id);

-- 培养项目: the occupations the application names (and, once designated, the designation's).
CREATE TABLE designation_application_projects (
    application_id BIGINT NOT NULL REFERENCES designation_applications (id) ON DELETE CASCADE,
    occupation_code TEXT NOT NULL REFERENCES occupations (code),
    name TEXT NOT NULL,
    PRIMARY KEY (application_id, occupation_code)
);

-- Every step taken on an application, in order: who (the body, and the account that recorded
-- it), when, the decision and the reason. Never updated.
CREATE TABLE designation_steps (
    id INTEGER PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES designation_applications (id),
    step TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    body TEXT,
    body_name TEXT,
    decision TEXT,
    reason TEXT,
    document_ref TEXT,
    decided_on DATE NOT NULL,
    -- The step's own facts (a notice period, a deadline, a year, a batch), as JSON.
    details TEXT NOT NULL,
    actor BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX designation_steps_application ON designation_steps (application_id, id);
