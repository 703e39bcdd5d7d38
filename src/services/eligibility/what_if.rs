//! "What if": a learner's milestones supposing certificates or jobs they do not hold (yet),
//! compared with the same date without them. Nothing is stored.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::{add_occupations, load_facts, ParameterCache};
use crate::db::DbConnection;
use crate::domain::checks::Checks;
use crate::domain::{
    today_in_shanghai, CertificateKind, CertificateStatus, LearnerId, OccupationCode, SkillLevel,
};
use crate::error::AppError;
use crate::rules::facts::{CertificateFact, EmploymentFact};
use crate::rules::{self, Milestone};

/// What to suppose, checked.
#[derive(Clone)]
pub struct Hypotheses {
    pub certificates: Vec<CertificateFact>,
    pub employments: Vec<EmploymentFact>,
    /// Default: today, or the latest date among the hypotheses if later.
    pub as_of: Option<NaiveDate>,
}

/// A supposed certificate, checked field by field (`at` names it: `certificates[0]`): verified,
/// as a certificate counts once an evaluator verifies it.
pub fn certificate_fact(
    checks: &mut Checks,
    at: &str,
    kind: Option<&str>,
    level: &str,
    occupation_code: &str,
    issued_on: NaiveDate,
) -> Option<CertificateFact> {
    let kind = checks.parse::<CertificateKind>(&field(at, "kind"), kind.unwrap_or("skill_level"));
    let level = checks.parse::<SkillLevel>(&field(at, "level"), level);
    let code = checks.with(
        &field(at, "occupation_code"),
        OccupationCode::parse(occupation_code),
    );
    Some(CertificateFact {
        id: None,
        kind: kind?,
        level: level?,
        occupation: code?.into_inner(),
        issued_on,
        status: CertificateStatus::Verified,
    })
}

fn field(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

/// A milestone the hypotheses change.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIfChange {
    pub milestone_key: String,
    pub before: Option<Milestone>,
    pub after: Option<Milestone>,
}

pub struct Supposed {
    pub as_of: NaiveDate,
    pub parameters_version: String,
    /// The milestones with the hypotheses.
    pub milestones: Vec<Milestone>,
    pub changes: Vec<WhatIfChange>,
}

/// The learner's milestones supposing `hypotheses`, and what they change.
pub fn suppose(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: LearnerId,
    hypotheses: Hypotheses,
) -> Result<Supposed, AppError> {
    let Hypotheses {
        certificates,
        employments,
        as_of,
    } = hypotheses;
    let latest = certificates
        .iter()
        .map(|c| c.issued_on)
        .chain(employments.iter().map(|e| e.start))
        .max();
    let as_of = as_of.unwrap_or_else(|| today_in_shanghai().max(latest.unwrap_or(NaiveDate::MIN)));
    let mut facts = load_facts(conn, learner_id)?;
    let params = parameters.in_force(conn, as_of)?;
    let baseline = rules::evaluate(&facts, &params, as_of);
    let codes = certificates
        .iter()
        .map(|c| c.occupation.clone())
        .chain(employments.iter().map(|e| e.occupation.clone()))
        .collect();
    facts.certificates.extend(certificates);
    facts.employments.extend(employments);
    add_occupations(conn, &mut facts, codes)?;
    let supposed = rules::evaluate(&facts, &params, as_of);
    Ok(Supposed {
        as_of,
        parameters_version: params.version.clone(),
        changes: compare(&baseline, &supposed),
        milestones: supposed,
    })
}

/// The milestones whose status, dates or points differ between `baseline` and `supposed`.
fn compare(baseline: &[Milestone], supposed: &[Milestone]) -> Vec<WhatIfChange> {
    let mut changes = Vec::new();
    for after in supposed {
        let before = baseline.iter().find(|m| m.key == after.key);
        if before.is_none_or(|b| {
            b.status != after.status
                || b.eligible_from != after.eligible_from
                || b.points != after.points
        }) {
            changes.push(WhatIfChange {
                milestone_key: after.key.clone(),
                before: before.cloned(),
                after: Some(after.clone()),
            });
        }
    }
    for before in baseline
        .iter()
        .filter(|b| !supposed.iter().any(|m| m.key == b.key))
    {
        changes.push(WhatIfChange {
            milestone_key: before.key.clone(),
            before: Some(before.clone()),
            after: None,
        });
    }
    changes
}
