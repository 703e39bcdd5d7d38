-- Occupations of the 职业分类大典 (code D-DD-DD-DD) with the catalog flags of the rules.
CREATE TABLE occupations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    high_skill_catalog BOOLEAN NOT NULL DEFAULT 0,
    technician_catalog BOOLEAN NOT NULL DEFAULT 0,
    priority_industry BOOLEAN NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE institutions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('secondary_vocational', 'technical_school', 'senior_technical_school',
        'technician_college', 'higher_vocational', 'undergraduate_vocational', 'enterprise')),
    assessed BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Periods as 新型技师学院 (policy 六); ended periods are kept with their reason.
CREATE TABLE designations (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    batch TEXT NOT NULL,
    designated_from DATE NOT NULL,
    designated_until DATE,
    end_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (designated_until IS NULL OR designated_until >= designated_from)
);
CREATE INDEX designations_institution ON designations (institution_id);

CREATE TABLE programs (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    occupation_code TEXT NOT NULL REFERENCES occupations (code),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (institution_id, name)
);

CREATE TABLE program_related_occupations (
    program_id BIGINT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    occupation_code TEXT NOT NULL REFERENCES occupations (code),
    PRIMARY KEY (program_id, occupation_code)
);

CREATE TABLE learners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('student', 'employee', 'social')),
    email TEXT UNIQUE,
    preferred_language TEXT NOT NULL DEFAULT 'zh-CN' CHECK (preferred_language IN ('zh-CN', 'en')),
    hukou TEXT CHECK (hukou IN ('shanghai', 'other')),
    residence_permit_since DATE,
    social_insurance_since DATE,
    income_tax_in_shanghai BOOLEAN,
    insurance_base_at_least_average_6_of_12 BOOLEAN,
    education_level TEXT CHECK (education_level IN ('secondary', 'associate', 'bachelor', 'master', 'doctorate')),
    education_occupation_codes TEXT NOT NULL DEFAULT '',
    birth_date DATE,
    -- 身份证号: AEAD ciphertext, a keyed hash for duplicate detection, and the masked form shown.
    id_number_ciphertext TEXT,
    id_number_hash TEXT UNIQUE,
    id_number_masked TEXT,
    registered_by_institution_id BIGINT REFERENCES institutions (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX learners_name ON learners (name);
CREATE INDEX learners_registered_by ON learners (registered_by_institution_id);

CREATE TABLE learner_kind_changes (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    kind TEXT NOT NULL CHECK (kind IN ('student', 'employee', 'social')),
    effective_from DATE NOT NULL,
    recorded_by BIGINT REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX learner_kind_changes_learner ON learner_kind_changes (learner_id);

CREATE TABLE cohorts (
    id INTEGER PRIMARY KEY,
    program_id BIGINT NOT NULL REFERENCES programs (id),
    name TEXT NOT NULL,
    intake_year INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (program_id, name)
);

CREATE TABLE enrollments (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    program_id BIGINT NOT NULL REFERENCES programs (id),
    cohort_id BIGINT REFERENCES cohorts (id),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    full_time BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('enrolled', 'graduated', 'withdrawn')),
    class_type TEXT NOT NULL CHECK (class_type IN ('named_class', 'technician_class', 'apprenticeship', 'regular')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (end_date >= start_date),
    UNIQUE (learner_id, program_id, start_date)
);
CREATE INDEX enrollments_program ON enrollments (program_id);
CREATE INDEX enrollments_cohort ON enrollments (cohort_id);

CREATE TABLE employments (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    employer_name TEXT NOT NULL,
    -- The employer when it is a registered institution (an enterprise whose HR staff use the service).
    employer_institution_id BIGINT REFERENCES institutions (id),
    occupation_code TEXT NOT NULL REFERENCES occupations (code),
    post_title TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,
    in_shanghai BOOLEAN NOT NULL,
    frontline BOOLEAN NOT NULL,
    dedicated_trainer BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX employments_learner ON employments (learner_id);
CREATE INDEX employments_employer ON employments (employer_institution_id);

CREATE TABLE awards (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    kind TEXT NOT NULL CHECK (kind IN ('national_competition_medal', 'provincial_competition_gold',
        'national_or_provincial_honour', 'other')),
    title TEXT NOT NULL,
    awarded_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX awards_learner ON awards (learner_id);

CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners (id),
    number TEXT NOT NULL UNIQUE,
    number_format TEXT NOT NULL CHECK (number_format IN ('skill_level', 'vocational_qualification', 'other')),
    kind TEXT NOT NULL CHECK (kind IN ('skill_level', 'vocational_qualification', 'preparatory_technician')),
    level TEXT NOT NULL CHECK (level IN ('junior_worker', 'intermediate_worker', 'senior_worker', 'technician',
        'senior_technician')),
    occupation_code TEXT NOT NULL REFERENCES occupations (code),
    issuer TEXT NOT NULL,
    issued_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected', 'revoked')),
    -- JSON array of {code, message}: number/level/year mismatches for the evaluator.
    warnings TEXT NOT NULL DEFAULT '[]',
    submitted_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX certificates_learner ON certificates (learner_id);
CREATE INDEX certificates_status ON certificates (status, id);

CREATE TABLE certificate_decisions (
    id INTEGER PRIMARY KEY,
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    decision TEXT NOT NULL CHECK (decision IN ('verify', 'reject', 'revoke')),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_by BIGINT NOT NULL REFERENCES users (id),
    decided_at TIMESTAMP NOT NULL
);
CREATE INDEX certificate_decisions_certificate ON certificate_decisions (certificate_id);

-- Append-only record of every write; triggers below refuse updates and deletes.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    actor_user_id BIGINT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
