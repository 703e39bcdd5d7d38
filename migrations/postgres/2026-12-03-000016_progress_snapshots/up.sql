-- Each learner's progress (what GET /api/v1/me/progress answers, without its date), stored with
-- the days over which it stays true: from valid_from up to, not including, valid_until (NULL:
-- no end known under the parameters in force). Rewritten by the transaction of every change that
-- affects the learner; the triggers below make sure no stored answer outlives a change that a
-- code path forgot: a write to the learner's records removes it, a write to the catalog (the
-- occupations, institutions, designations, programs, parameters) removes them all, and the next
-- read computes and stores it again.
CREATE TABLE progress_snapshots (
    learner_id BIGINT PRIMARY KEY REFERENCES learners (id) ON DELETE CASCADE,
    valid_from DATE NOT NULL,
    valid_until DATE,
    parameters_version TEXT NOT NULL,
    body TEXT NOT NULL,
    computed_at TIMESTAMP NOT NULL
);
CREATE INDEX progress_snapshots_until ON progress_snapshots (valid_until);

-- Statement-level: one DELETE per statement whatever its number of rows (a cohort import
-- inserts thousands in one).
--
-- Concurrency. A snapshot is computed and stored by a transaction that first takes the learner's
-- row FOR UPDATE (and a ROW EXCLUSIVE lock on this table) and only then reads the records. A
-- change must not slip between that read and that store, so every change conflicts with those
-- locks: an insert of a learner's record takes a KEY SHARE lock on the learner's row (its foreign
-- key), an update or delete takes the row lock in the trigger below, and a change of the catalog
-- takes an EXCLUSIVE lock on this table. Whichever comes second waits for the first to commit,
-- and then either sees the change (and computes from it) or removes what was stored before it.
CREATE FUNCTION progress_snapshots_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE progress_snapshots IN EXCLUSIVE MODE;
    DELETE FROM progress_snapshots;
    RETURN NULL;
END $$;

CREATE FUNCTION progress_snapshots_forget_learners_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT id FROM changed_new);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_learners_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT id FROM changed_old);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_learners_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots
    WHERE learner_id IN (SELECT id FROM changed_old UNION SELECT id FROM changed_new);
    RETURN NULL;
END $$;

CREATE TRIGGER progress_snapshots_learners_update AFTER UPDATE ON learners
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_learners_both();

CREATE TRIGGER progress_snapshots_learners_delete AFTER DELETE ON learners
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_learners_old();

CREATE FUNCTION progress_snapshots_forget_learner_kind_changes_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_learner_kind_changes_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_old);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_learner_kind_changes_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots
    WHERE learner_id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;

CREATE TRIGGER progress_snapshots_learner_kind_changes_insert AFTER INSERT ON learner_kind_changes
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_learner_kind_changes_new();

CREATE TRIGGER progress_snapshots_learner_kind_changes_update AFTER UPDATE ON learner_kind_changes
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_learner_kind_changes_both();

CREATE TRIGGER progress_snapshots_learner_kind_changes_delete AFTER DELETE ON learner_kind_changes
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_learner_kind_changes_old();

CREATE FUNCTION progress_snapshots_forget_enrollments_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_enrollments_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_old);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_enrollments_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots
    WHERE learner_id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;

CREATE TRIGGER progress_snapshots_enrollments_insert AFTER INSERT ON enrollments
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_enrollments_new();

CREATE TRIGGER progress_snapshots_enrollments_update AFTER UPDATE ON enrollments
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_enrollments_both();

CREATE TRIGGER progress_snapshots_enrollments_delete AFTER DELETE ON enrollments
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_enrollments_old();

CREATE FUNCTION progress_snapshots_forget_employments_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_employments_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_old);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_employments_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots
    WHERE learner_id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;

CREATE TRIGGER progress_snapshots_employments_insert AFTER INSERT ON employments
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_employments_new();

CREATE TRIGGER progress_snapshots_employments_update AFTER UPDATE ON employments
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_employments_both();

CREATE TRIGGER progress_snapshots_employments_delete AFTER DELETE ON employments
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_employments_old();

CREATE FUNCTION progress_snapshots_forget_awards_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_awards_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_old);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_awards_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots
    WHERE learner_id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;

CREATE TRIGGER progress_snapshots_awards_insert AFTER INSERT ON awards
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_awards_new();

CREATE TRIGGER progress_snapshots_awards_update AFTER UPDATE ON awards
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_awards_both();

CREATE TRIGGER progress_snapshots_awards_delete AFTER DELETE ON awards
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_awards_old();

CREATE FUNCTION progress_snapshots_forget_certificates_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_certificates_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT learner_id FROM changed_old);
    RETURN NULL;
END $$;
CREATE FUNCTION progress_snapshots_forget_certificates_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM learners WHERE id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new) ORDER BY id FOR UPDATE;
    DELETE FROM progress_snapshots
    WHERE learner_id IN (SELECT learner_id FROM changed_old UNION SELECT learner_id FROM changed_new);
    RETURN NULL;
END $$;

CREATE TRIGGER progress_snapshots_certificates_insert AFTER INSERT ON certificates
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_certificates_new();

CREATE TRIGGER progress_snapshots_certificates_update AFTER UPDATE ON certificates
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_certificates_both();

CREATE TRIGGER progress_snapshots_certificates_delete AFTER DELETE ON certificates
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_certificates_old();

CREATE FUNCTION progress_snapshots_forget_certificate_decisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM progress_snapshots WHERE learner_id IN (SELECT c.learner_id FROM certificates c JOIN changed_new n ON c.id = n.certificate_id);
    RETURN NULL;
END $$;
CREATE TRIGGER progress_snapshots_certificate_decisions_insert AFTER INSERT ON certificate_decisions
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_certificate_decisions();

CREATE TRIGGER progress_snapshots_occupations_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON occupations
    FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_all();

CREATE TRIGGER progress_snapshots_institutions_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON institutions
    FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_all();

CREATE TRIGGER progress_snapshots_designations_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON designations
    FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_all();

CREATE TRIGGER progress_snapshots_programs_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON programs
    FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_all();

CREATE TRIGGER progress_snapshots_program_related_occupations_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON program_related_occupations
    FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_all();

CREATE TRIGGER progress_snapshots_rule_parameters_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rule_parameters
    FOR EACH STATEMENT EXECUTE FUNCTION progress_snapshots_forget_all();
