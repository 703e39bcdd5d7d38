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

CREATE TRIGGER progress_snapshots_learners_update AFTER UPDATE ON learners
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.id OR learner_id = NEW.id; END;

CREATE TRIGGER progress_snapshots_learners_delete AFTER DELETE ON learners
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.id; END;

CREATE TRIGGER progress_snapshots_learner_kind_changes_insert AFTER INSERT ON learner_kind_changes
BEGIN DELETE FROM progress_snapshots WHERE learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_learner_kind_changes_update AFTER UPDATE ON learner_kind_changes
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id OR learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_learner_kind_changes_delete AFTER DELETE ON learner_kind_changes
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id; END;

CREATE TRIGGER progress_snapshots_enrollments_insert AFTER INSERT ON enrollments
BEGIN DELETE FROM progress_snapshots WHERE learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_enrollments_update AFTER UPDATE ON enrollments
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id OR learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_enrollments_delete AFTER DELETE ON enrollments
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id; END;

CREATE TRIGGER progress_snapshots_employments_insert AFTER INSERT ON employments
BEGIN DELETE FROM progress_snapshots WHERE learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_employments_update AFTER UPDATE ON employments
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id OR learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_employments_delete AFTER DELETE ON employments
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id; END;

CREATE TRIGGER progress_snapshots_awards_insert AFTER INSERT ON awards
BEGIN DELETE FROM progress_snapshots WHERE learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_awards_update AFTER UPDATE ON awards
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id OR learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_awards_delete AFTER DELETE ON awards
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id; END;

CREATE TRIGGER progress_snapshots_certificates_insert AFTER INSERT ON certificates
BEGIN DELETE FROM progress_snapshots WHERE learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_certificates_update AFTER UPDATE ON certificates
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id OR learner_id = NEW.learner_id; END;

CREATE TRIGGER progress_snapshots_certificates_delete AFTER DELETE ON certificates
BEGIN DELETE FROM progress_snapshots WHERE learner_id = OLD.learner_id; END;

CREATE TRIGGER progress_snapshots_certificate_decisions_insert AFTER INSERT ON certificate_decisions
BEGIN DELETE FROM progress_snapshots WHERE learner_id = (SELECT learner_id FROM certificates WHERE id = NEW.certificate_id); END;

CREATE TRIGGER progress_snapshots_occupations_insert AFTER INSERT ON occupations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_occupations_update AFTER UPDATE ON occupations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_occupations_delete AFTER DELETE ON occupations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_institutions_insert AFTER INSERT ON institutions
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_institutions_update AFTER UPDATE ON institutions
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_institutions_delete AFTER DELETE ON institutions
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_designations_insert AFTER INSERT ON designations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_designations_update AFTER UPDATE ON designations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_designations_delete AFTER DELETE ON designations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_programs_insert AFTER INSERT ON programs
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_programs_update AFTER UPDATE ON programs
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_programs_delete AFTER DELETE ON programs
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_program_related_occupations_insert AFTER INSERT ON program_related_occupations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_program_related_occupations_update AFTER UPDATE ON program_related_occupations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_program_related_occupations_delete AFTER DELETE ON program_related_occupations
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_rule_parameters_insert AFTER INSERT ON rule_parameters
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_rule_parameters_update AFTER UPDATE ON rule_parameters
BEGIN DELETE FROM progress_snapshots; END;

CREATE TRIGGER progress_snapshots_rule_parameters_delete AFTER DELETE ON rule_parameters
BEGIN DELETE FROM progress_snapshots; END;
