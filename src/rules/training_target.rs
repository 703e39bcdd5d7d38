//! `sh489.training_target` — the training goal of policy 三(三): 院校面向学生、职工和社会人员开展
//! 高技能人才培养 — students to 高级工, employees to 技师, social learners one level up.

use super::as_of::AsOf;
use super::facts::{level_text, Facts};
use super::milestone::{Check, Citation, Milestone, RuleInfo, Status, Text};
use super::params::Parameters;
use crate::domain::{EnrollmentStatus, LearnerKind, SkillLevel};

pub const ID: &str = "sh489.training_target";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "新型技师学院培养目标",
            "Training goal at the new-type technician college",
        ),
        citation: Citation::sh489("三(三)"),
    }
}

/// The goal for a learner of `kind` whose highest level is `highest`.
pub fn target_for(kind: LearnerKind, highest: Option<SkillLevel>) -> SkillLevel {
    match kind {
        LearnerKind::Student => SkillLevel::SeniorWorker,
        LearnerKind::Employee => SkillLevel::Technician,
        // The level above the highest held, at least 高级工, at most 高级技师.
        LearnerKind::Social => match highest {
            None => SkillLevel::SeniorWorker,
            Some(h) => h
                .next()
                .unwrap_or(SkillLevel::SeniorTechnician)
                .max(SkillLevel::SeniorWorker),
        },
    }
}

pub fn evaluate(facts: &Facts, params: &Parameters, _as_of: &AsOf, out: &mut Vec<Milestone>) {
    for e in facts
        .enrollments
        .iter()
        .filter(|e| e.status == EnrollmentStatus::Enrolled && e.at_designated_college(params, None))
    {
        let i = info();
        let mut m = Milestone::new(
            ID,
            &crate::compose!("enrollment:", e.id),
            i.title,
            i.citation,
        );
        // The goal is set when the learner enrolls: from the highest level held before the start.
        let highest = facts
            .level_certificates()
            .filter(|c| c.issued_on < e.start)
            .map(|c| c.level)
            .max();
        let target = target_for(facts.learner.kind, highest);
        m.target = Some(target.as_str().into());
        m.target_label = Some(level_text(target));
        m.check(Check::pass_if(
            true,
            Text::new("按学员类型确定的培养目标", "Goal by kind of learner"),
            facts.learner.kind.as_str(),
            target.as_str(),
        ));
        let reached = facts
            .level_certificates()
            .filter(|c| {
                c.level >= target
                    && e.in_program_occupations(&c.occupation)
                    && e.covers(c.issued_on)
            })
            .min_by_key(|c| c.issued_on);
        m.check(Check::pass_if(
            reached.is_some(),
            Text::new(
                "就读期间取得目标等级及以上的相关证书",
                "A related certificate at or above the goal, obtained while enrolled",
            ),
            reached.map_or_else(|| "not yet".to_owned(), |c| c.label()),
            crate::compose!(target.as_str(), " or above, ", e.start, " – ", e.end),
        ));
        match reached {
            Some(c) => {
                m.eligible_from = Some(c.issued_on);
                out.push(m.with_status(Status::Achieved));
            }
            None => out.push(m.with_status(Status::NotMet).missing(Text::new(
                crate::compose!("目标：", target.name_zh()),
                crate::compose!("Goal: ", target.name_en()),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use chrono::NaiveDate;

    /// The rule's milestones as a list (the engine appends them to a shared one).
    fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
        let mut out = Vec::new();
        super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
        out
    }

    #[test]
    fn goals_by_kind() {
        use SkillLevel::*;
        assert_eq!(
            target_for(LearnerKind::Student, Some(Technician)),
            SeniorWorker
        );
        assert_eq!(target_for(LearnerKind::Employee, None), Technician);
        assert_eq!(target_for(LearnerKind::Social, None), SeniorWorker);
        assert_eq!(
            target_for(LearnerKind::Social, Some(JuniorWorker)),
            SeniorWorker
        );
        assert_eq!(
            target_for(LearnerKind::Social, Some(SeniorWorker)),
            Technician
        );
        assert_eq!(
            target_for(LearnerKind::Social, Some(SeniorTechnician)),
            SeniorTechnician
        );
    }

    #[test]
    fn a_student_reaching_senior_worker_during_the_enrollment_achieves_the_goal() {
        let facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2024-06-30",
        )]);
        let m = &evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0];
        assert_eq!(m.status, Status::Achieved);
        let facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::IntermediateWorker,
            ELECTRICIAN,
            "2024-06-30",
        )]);
        let m = &evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0];
        assert_eq!(m.status, Status::NotMet);
        assert_eq!(m.missing[0].zh, "目标：高级工");
    }

    #[test]
    fn a_learner_who_changed_kind_gets_the_goal_of_the_current_kind() {
        let mut facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2024-06-30",
        )]);
        facts.learner.kind = LearnerKind::Employee;
        let m = &evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0];
        assert_eq!(
            (m.status, m.target.as_deref()),
            (Status::NotMet, Some("technician"))
        );
    }

    #[test]
    fn a_social_learners_goal_is_set_by_what_they_held_before_enrolling() {
        // Enrolled 2022-09-01: a 高级工 of the day before sets the goal at 技师; one of the
        // first day counts as obtained while enrolled.
        for (issued, goal, status) in [
            ("2022-08-31", "technician", Status::NotMet),
            ("2022-09-01", "senior_worker", Status::Achieved),
        ] {
            let mut facts = student_at_designated_college(vec![verified(
                1,
                SkillLevel::SeniorWorker,
                ELECTRICIAN,
                issued,
            )]);
            facts.learner.kind = LearnerKind::Social;
            let m = &evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0];
            assert_eq!((m.target.as_deref(), m.status), (Some(goal), status));
        }
    }

    #[test]
    fn graduates_have_no_training_goal() {
        let mut facts = student_at_designated_college(vec![]);
        facts.enrollments[0].status = EnrollmentStatus::Graduated;
        assert!(evaluate(&facts, &Parameters::seed(), d("2025-07-01")).is_empty());
    }
}
