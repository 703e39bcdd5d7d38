//! The designation lifecycle of policy 六 as a state machine: which step may follow which, and
//! which bodies review an application of each kind of institution. Pure: the service loads the
//! application, asks [`next_state`], and writes what it answers.
//!
//! ```text
//! draft ─submit→ preliminary_review ─(every body approved)→ city_education_consent (colleges)
//!                                                          → expert_review (enterprises)
//! city_education_consent ─consent→ expert_review ─approved, notice period→ public_notice
//! public_notice ─(period over, no objection upheld) designate→ designated
//! designated ─evaluate: meets→ designated │ short, deadline→ rectification
//! rectification ─re_evaluate: meets→ designated │ short→ de_designated (摘牌)
//! any refusal or upheld objection → rejected; withdraw (before designation) → withdrawn
//! ```

use chrono::NaiveDate;

use crate::domain::{ApplicationState, ApplicationStep, InstitutionKind, ReviewBody};

/// The kinds of step an application in `state` may take (a step of such a kind may still be
/// refused for its facts: a body that already decided, a notice still running).
pub fn open_steps(state: ApplicationState) -> &'static [ApplicationStep] {
    use ApplicationState as S;
    use ApplicationStep as K;
    match state {
        S::Draft => &[K::Submit, K::Withdraw],
        S::PreliminaryReview => &[K::PreliminaryReview, K::Withdraw],
        S::CityEducationConsent => &[K::CityEducationConsent, K::Withdraw],
        S::ExpertReview => &[K::ExpertReview, K::Withdraw],
        S::PublicNotice => &[K::Objection, K::Designate, K::Withdraw],
        S::Designated => &[K::Evaluate],
        S::Rectification => &[K::ReEvaluate],
        S::DeDesignated | S::Rejected | S::Withdrawn => &[],
    }
}

/// The bodies whose preliminary review (初审) an application needs, in the order 六(一) names
/// them. 技工院校 (technical schools and technician colleges) follow the route of 中职学校, the
/// secondary vocational schools they are counted among: a choice, since 六(一) does not name them.
pub fn preliminary_bodies(kind: InstitutionKind, run_by_industry: bool) -> Vec<ReviewBody> {
    use InstitutionKind::*;
    match kind {
        SecondaryVocational | TechnicalSchool | SeniorTechnicalSchool | TechnicianCollege => {
            let mut bodies = vec![ReviewBody::DistrictEducation, ReviewBody::DistrictHr];
            if run_by_industry {
                bodies.push(ReviewBody::IndustryAuthority);
            }
            bodies
        }
        HigherVocational | UndergraduateVocational => vec![ReviewBody::SuperiorDepartment],
        Enterprise => vec![ReviewBody::IndustryAuthority, ReviewBody::DistrictHr],
    }
}

/// Whether the city education department must consent before the application reaches the city
/// HR department: for schools and colleges, not for enterprises (六(一)).
pub fn needs_city_education_consent(kind: InstitutionKind) -> bool {
    kind != InstitutionKind::Enterprise
}

/// A step as the state machine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    Submit,
    Withdraw,
    PreliminaryReview { body: ReviewBody, approved: bool },
    CityEducationConsent { approved: bool },
    ExpertReview { approved: bool },
    Objection { upheld: bool },
    Designate,
    Evaluate { meets: bool },
    ReEvaluate { meets: bool },
}

/// What the machine knows of the application.
#[derive(Debug, Clone)]
pub struct Standing {
    pub state: ApplicationState,
    pub kind: InstitutionKind,
    pub run_by_industry: bool,
    /// Bodies whose preliminary approval is recorded.
    pub approved_by: Vec<ReviewBody>,
    /// The public notice's last day, once opened.
    pub notice_until: Option<NaiveDate>,
    /// In rectification: the deadline (限期整改).
    pub rectification_due: Option<NaiveDate>,
}

/// Why a step cannot be taken: a conflict with the application's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

fn not_now(state: ApplicationState, step: ApplicationStep) -> Refusal {
    refuse(
        "transition_refused",
        format!("An application that is {state} cannot take the step {step}."),
    )
}

/// The state after `step`, taken on `decided_on`, or why it cannot be taken.
pub fn next_state(
    standing: &Standing,
    step: &Move,
    decided_on: NaiveDate,
) -> Result<ApplicationState, Refusal> {
    use ApplicationState as S;
    let state = standing.state;
    match (state, step) {
        (S::Draft, Move::Submit) => Ok(S::PreliminaryReview),
        (
            S::Draft
            | S::PreliminaryReview
            | S::CityEducationConsent
            | S::ExpertReview
            | S::PublicNotice,
            Move::Withdraw,
        ) => Ok(S::Withdrawn),
        (S::PreliminaryReview, Move::PreliminaryReview { body, approved }) => {
            let required = preliminary_bodies(standing.kind, standing.run_by_industry);
            if !required.contains(body) {
                return Err(refuse(
                    "body_not_required",
                    format!(
                        "{body} does not review an application of a {}; the bodies are: {}.",
                        standing.kind,
                        names(&required)
                    ),
                ));
            }
            if standing.approved_by.contains(body) {
                return Err(refuse(
                    "already_reviewed",
                    format!("{body} has already approved this application."),
                ));
            }
            if !approved {
                return Ok(S::Rejected);
            }
            let outstanding = required
                .iter()
                .filter(|b| *b != body && !standing.approved_by.contains(b))
                .count();
            Ok(match outstanding {
                0 if needs_city_education_consent(standing.kind) => S::CityEducationConsent,
                0 => S::ExpertReview,
                _ => S::PreliminaryReview,
            })
        }
        (S::CityEducationConsent, Move::CityEducationConsent { approved }) => Ok(if *approved {
            S::ExpertReview
        } else {
            S::Rejected
        }),
        (S::ExpertReview, Move::ExpertReview { approved }) => Ok(if *approved {
            S::PublicNotice
        } else {
            S::Rejected
        }),
        (S::PublicNotice, Move::Objection { upheld }) => Ok(if *upheld {
            S::Rejected
        } else {
            S::PublicNotice
        }),
        (S::PublicNotice, Move::Designate) => match standing.notice_until {
            Some(until) if decided_on > until => Ok(S::Designated),
            Some(until) => Err(refuse(
                "notice_running",
                format!("The public notice runs until {until}; designate after it."),
            )),
            None => Err(not_now(state, ApplicationStep::Designate)),
        },
        (S::Designated, Move::Evaluate { meets }) => Ok(if *meets {
            S::Designated
        } else {
            S::Rectification
        }),
        (S::Rectification, Move::ReEvaluate { meets: true }) => Ok(S::Designated),
        // 整改仍不达标: short only once the deadline has passed.
        (S::Rectification, Move::ReEvaluate { meets: false }) => match standing.rectification_due {
            Some(due) if decided_on < due => Err(refuse(
                "rectification_running",
                format!("Rectification runs until {due}; the institution is found short after it."),
            )),
            _ => Ok(S::DeDesignated),
        },
        (_, step) => Err(not_now(state, step.kind())),
    }
}

impl Move {
    pub fn kind(&self) -> ApplicationStep {
        match self {
            Move::Submit => ApplicationStep::Submit,
            Move::Withdraw => ApplicationStep::Withdraw,
            Move::PreliminaryReview { .. } => ApplicationStep::PreliminaryReview,
            Move::CityEducationConsent { .. } => ApplicationStep::CityEducationConsent,
            Move::ExpertReview { .. } => ApplicationStep::ExpertReview,
            Move::Objection { .. } => ApplicationStep::Objection,
            Move::Designate => ApplicationStep::Designate,
            Move::Evaluate { .. } => ApplicationStep::Evaluate,
            Move::ReEvaluate { .. } => ApplicationStep::ReEvaluate,
        }
    }

    /// Whether the institution's own staff take this step (the rest are the reviewing
    /// bodies' decisions, recorded by administrators).
    pub fn by_the_institution(&self) -> bool {
        matches!(self, Move::Submit | Move::Withdraw)
    }
}

fn names(bodies: &[ReviewBody]) -> String {
    bodies
        .iter()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    use ApplicationState as S;

    fn standing(state: S, kind: InstitutionKind) -> Standing {
        Standing {
            state,
            kind,
            run_by_industry: false,
            approved_by: Vec::new(),
            notice_until: None,
            rectification_due: None,
        }
    }

    fn review(body: ReviewBody, approved: bool) -> Move {
        Move::PreliminaryReview { body, approved }
    }

    #[test]
    fn the_bodies_of_six_one_by_kind() {
        use InstitutionKind::*;
        use ReviewBody::*;
        assert_eq!(
            preliminary_bodies(SecondaryVocational, false),
            [DistrictEducation, DistrictHr]
        );
        assert_eq!(
            preliminary_bodies(SecondaryVocational, true),
            [DistrictEducation, DistrictHr, IndustryAuthority]
        );
        assert_eq!(
            preliminary_bodies(TechnicianCollege, false),
            [DistrictEducation, DistrictHr]
        );
        assert_eq!(
            preliminary_bodies(HigherVocational, true),
            [SuperiorDepartment]
        );
        assert_eq!(
            preliminary_bodies(UndergraduateVocational, false),
            [SuperiorDepartment]
        );
        assert_eq!(
            preliminary_bodies(Enterprise, false),
            [IndustryAuthority, DistrictHr]
        );
        assert!(needs_city_education_consent(SecondaryVocational));
        assert!(needs_city_education_consent(HigherVocational));
        assert!(!needs_city_education_consent(Enterprise));
    }

    #[test]
    fn a_college_moves_on_when_every_body_has_approved_then_needs_the_city_education_department() {
        let day = d("2026-03-01");
        let mut app = standing(S::PreliminaryReview, InstitutionKind::SecondaryVocational);
        assert_eq!(
            next_state(&app, &review(ReviewBody::DistrictHr, true), day),
            Ok(S::PreliminaryReview)
        );
        app.approved_by.push(ReviewBody::DistrictHr);
        assert_eq!(
            next_state(&app, &review(ReviewBody::DistrictHr, true), day)
                .unwrap_err()
                .code,
            "already_reviewed"
        );
        assert_eq!(
            next_state(&app, &review(ReviewBody::DistrictEducation, true), day),
            Ok(S::CityEducationConsent)
        );
        assert_eq!(
            next_state(&app, &review(ReviewBody::SuperiorDepartment, true), day)
                .unwrap_err()
                .code,
            "body_not_required"
        );
        assert_eq!(
            next_state(&app, &review(ReviewBody::DistrictEducation, false), day),
            Ok(S::Rejected)
        );
    }

    #[test]
    fn an_enterprise_goes_from_its_reviews_to_the_city_hr_department() {
        let mut app = standing(S::PreliminaryReview, InstitutionKind::Enterprise);
        app.approved_by.push(ReviewBody::IndustryAuthority);
        assert_eq!(
            next_state(&app, &review(ReviewBody::DistrictHr, true), d("2026-03-01")),
            Ok(S::ExpertReview)
        );
    }

    #[test]
    fn designation_waits_for_the_end_of_the_public_notice() {
        let mut app = standing(S::PublicNotice, InstitutionKind::TechnicianCollege);
        app.notice_until = Some(d("2026-05-10"));
        assert_eq!(
            next_state(&app, &Move::Designate, d("2026-05-10"))
                .unwrap_err()
                .code,
            "notice_running"
        );
        assert_eq!(
            next_state(&app, &Move::Designate, d("2026-05-11")),
            Ok(S::Designated)
        );
        assert_eq!(
            next_state(&app, &Move::Objection { upheld: false }, d("2026-05-08")),
            Ok(S::PublicNotice)
        );
        assert_eq!(
            next_state(&app, &Move::Objection { upheld: true }, d("2026-05-08")),
            Ok(S::Rejected)
        );
        app.notice_until = None;
        assert_eq!(
            next_state(&app, &Move::Designate, d("2026-05-11"))
                .unwrap_err()
                .code,
            "transition_refused"
        );
    }

    #[test]
    fn evaluation_rectification_and_de_designation() {
        let kind = InstitutionKind::TechnicianCollege;
        let day = d("2027-01-15");
        let short = Move::Evaluate { meets: false };
        assert_eq!(
            next_state(&standing(S::Designated, kind), &short, day),
            Ok(S::Rectification)
        );
        assert_eq!(
            next_state(
                &standing(S::Designated, kind),
                &Move::Evaluate { meets: true },
                day
            ),
            Ok(S::Designated)
        );
        let mut rectifying = standing(S::Rectification, kind);
        rectifying.rectification_due = Some(d("2027-03-31"));
        assert_eq!(
            next_state(&rectifying, &Move::ReEvaluate { meets: true }, day),
            Ok(S::Designated)
        );
        assert_eq!(
            next_state(&rectifying, &Move::ReEvaluate { meets: false }, day)
                .unwrap_err()
                .code,
            "rectification_running"
        );
        assert_eq!(
            next_state(
                &rectifying,
                &Move::ReEvaluate { meets: false },
                d("2027-03-31")
            ),
            Ok(S::DeDesignated)
        );
        // 摘牌 only after rectification: an evaluation of a rectifying institution is a re-evaluation.
        assert_eq!(
            next_state(&rectifying, &short, day).unwrap_err().code,
            "transition_refused"
        );
    }

    #[test]
    fn impossible_transitions_are_refused_in_every_state() {
        let kind = InstitutionKind::SecondaryVocational;
        let day = d("2026-03-01");
        let moves = [
            Move::Submit,
            Move::Withdraw,
            review(ReviewBody::DistrictHr, true),
            Move::CityEducationConsent { approved: true },
            Move::ExpertReview { approved: true },
            Move::Objection { upheld: false },
            Move::Designate,
            Move::Evaluate { meets: true },
            Move::ReEvaluate { meets: true },
        ];
        // Each state accepts the moves of its open steps, and refuses every other.
        for &state in S::ALL {
            let open = open_steps(state);
            for step in &moves {
                let result = next_state(&standing(state, kind), step, day);
                let refused_for_its_facts =
                    state == S::PublicNotice && step.kind() == ApplicationStep::Designate;
                assert_eq!(
                    result.is_ok() || refused_for_its_facts,
                    open.contains(&step.kind()),
                    "{state} then {}: {result:?}",
                    step.kind()
                );
            }
            assert_eq!(state.is_final(), open.is_empty());
        }
    }
}
