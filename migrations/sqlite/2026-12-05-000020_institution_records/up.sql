-- The records an institution's yearly targets are counted from (policy 四, annex 一.4 / 二.4).

-- Training and assessment delivered: 高级工以上年培训量 counts the training at 高级工 or above,
-- in person-times (四(一)).
CREATE TABLE training_deliveries (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    delivered_on DATE NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('training', 'assessment')),
    occupation_code TEXT NOT NULL REFERENCES occupations (code),
    level TEXT NOT NULL CHECK (level IN ('junior_worker', 'intermediate_worker', 'senior_worker',
        'technician', 'senior_technician')),
    person_times INTEGER NOT NULL CHECK (person_times > 0),
    note TEXT,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX training_deliveries_institution ON training_deliveries (institution_id, delivered_on);

-- Each year's teachers with their qualifications: the share of 双师型 or 一体化 teachers (四(二)).
CREATE TABLE teacher_years (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    staff_number TEXT NOT NULL,
    name TEXT NOT NULL,
    dual_qualified BOOLEAN NOT NULL,
    integrated BOOLEAN NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (institution_id, year, staff_number)
);

-- Teacher training and teachers' enterprise practice, in person-times (四(二)).
CREATE TABLE teacher_development (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    held_on DATE NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('teacher_training', 'enterprise_practice')),
    person_times INTEGER NOT NULL CHECK (person_times > 0),
    description TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX teacher_development_institution ON teacher_development (institution_id, held_on);
