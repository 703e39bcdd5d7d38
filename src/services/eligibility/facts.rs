//! A learner's records, loaded as the facts the rules read.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;

use crate::db::{certificates, institutions, learners, occupations, records, DbConnection};
use crate::domain::{decode_code_list, InstitutionId, LearnerId, ProgramId};
use crate::error::AppError;
use crate::rules::facts::{
    AwardFact, CertificateFact, EmploymentFact, EnrollmentFact, InstitutionFact, LearnerFacts,
    OccupationFact,
};
use crate::rules::Facts;

/// The facts of one learner, as the rules read them.
pub fn load_facts(conn: &mut DbConnection, learner_id: LearnerId) -> Result<Facts, AppError> {
    load_facts_many(conn, &[learner_id])?
        .remove(&learner_id)
        .ok_or(AppError::NotFound { what: "learner" })
}

/// The facts of many learners in a fixed number of queries (one per kind of record), whatever
/// their number: what batch recomputation needs.
pub fn load_facts_many(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> Result<HashMap<LearnerId, Facts>, AppError> {
    let learners = learners::find_many(conn, learner_ids)?;
    let certificates = certificates::of_learners(conn, learner_ids)?;
    facts_of(conn, &learners, &certificates)
}

/// The facts of learners whose rows and certificates are already loaded; the other records are
/// loaded here.
pub fn facts_of(
    conn: &mut DbConnection,
    learners: &[learners::LearnerRow],
    certificates: &[certificates::CertificateRow],
) -> Result<HashMap<LearnerId, Facts>, AppError> {
    let learner_ids: Vec<LearnerId> = learners.iter().map(|l| l.id).collect();
    let learner_ids = learner_ids.as_slice();
    let mut out: HashMap<LearnerId, Facts> = HashMap::new();
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for learner in learners {
        codes.extend(decode_code_list(&learner.education_occupation_codes));
        let facts_learner = LearnerFacts {
            kind: learner.kind,
            hukou: learner.hukou,
            residence_permit_since: learner.residence_permit_since,
            social_insurance_since: learner.social_insurance_since,
            income_tax_in_shanghai: learner.income_tax_in_shanghai,
            insurance_base_at_least_average_6_of_12: learner
                .insurance_base_at_least_average_6_of_12,
            education_level: learner.education_level,
            education_occupations: decode_code_list(&learner.education_occupation_codes),
        };
        out.insert(
            learner.id,
            Facts {
                learner: facts_learner,
                ..Facts::default()
            },
        );
    }
    for c in certificates {
        codes.insert(c.occupation_code.clone());
        if let Some(facts) = out.get_mut(&c.learner_id) {
            facts.certificates.push(CertificateFact {
                id: Some(c.id),
                kind: c.kind,
                level: c.level,
                occupation: c.occupation_code.clone(),
                issued_on: c.issued_on,
                status: c.status,
            });
        }
    }
    let enrollment_rows = records::enrollments_of_learners(conn, learner_ids)?;
    let program_ids: Vec<ProgramId> = enrollment_rows
        .iter()
        .map(|e| e.program_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let programs: HashMap<ProgramId, institutions::ProgramRow> =
        institutions::find_programs(conn, &program_ids)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let mut related: HashMap<ProgramId, Vec<String>> = HashMap::new();
    for (program_id, code) in institutions::related_occupations(conn, &program_ids)? {
        related.entry(program_id).or_default().push(code);
    }
    let institution_ids: Vec<InstitutionId> = programs
        .values()
        .map(|p| p.institution_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut designations: HashMap<InstitutionId, Vec<(NaiveDate, Option<NaiveDate>)>> =
        HashMap::new();
    for d in institutions::designations_of_many(conn, &institution_ids)? {
        designations
            .entry(d.institution_id)
            .or_default()
            .push((d.designated_from, d.designated_until));
    }
    let mut institution_facts: HashMap<InstitutionId, InstitutionFact> = HashMap::new();
    for row in institutions::find_many(conn, &institution_ids)? {
        institution_facts.insert(
            row.id,
            InstitutionFact {
                id: row.id,
                name: row.name,
                kind: row.kind,
                assessed: row.assessed,
                designations: designations.remove(&row.id).unwrap_or_default(),
            },
        );
    }
    for e in enrollment_rows {
        let program = programs
            .get(&e.program_id)
            .ok_or(AppError::NotFound { what: "program" })?;
        let institution = institution_facts
            .get(&program.institution_id)
            .cloned()
            .ok_or(AppError::NotFound {
                what: "institution",
            })?;
        let related = related.get(&program.id).cloned().unwrap_or_default();
        codes.insert(program.occupation_code.clone());
        codes.extend(related.iter().cloned());
        if let Some(facts) = out.get_mut(&e.learner_id) {
            facts.enrollments.push(EnrollmentFact {
                id: e.id,
                institution,
                program_name: program.name.clone(),
                program_occupation: program.occupation_code.clone(),
                related_occupations: related,
                start: e.start_date,
                end: e.end_date,
                full_time: e.full_time,
                status: e.status,
                class_type: e.class_type,
            });
        }
    }
    for e in records::employments_of_learners(conn, learner_ids)? {
        codes.insert(e.occupation_code.clone());
        if let Some(facts) = out.get_mut(&e.learner_id) {
            facts.employments.push(EmploymentFact {
                id: Some(e.id),
                employer: e.employer_name,
                occupation: e.occupation_code,
                start: e.start_date,
                end: e.end_date,
                in_shanghai: e.in_shanghai,
                frontline: e.frontline,
                dedicated_trainer: e.dedicated_trainer,
            });
        }
    }
    for a in records::awards_of_learners(conn, learner_ids)? {
        if let Some(facts) = out.get_mut(&a.learner_id) {
            facts.awards.push(AwardFact {
                kind: a.kind,
                awarded_on: a.awarded_on,
            });
        }
    }
    let catalog = occupation_facts(conn, codes)?;
    for facts in out.values_mut() {
        let mentioned: BTreeSet<&str> = facts
            .certificates
            .iter()
            .map(|c| c.occupation.as_str())
            .chain(facts.employments.iter().map(|e| e.occupation.as_str()))
            .chain(facts.enrollments.iter().flat_map(|e| e.occupations()))
            .chain(
                facts
                    .learner
                    .education_occupations
                    .iter()
                    .map(String::as_str),
            )
            .collect();
        facts.occupations = mentioned
            .into_iter()
            .filter_map(|code| catalog.get(code).map(|o| (code.to_owned(), o.clone())))
            .collect();
    }
    Ok(out)
}

fn occupation_facts(
    conn: &mut DbConnection,
    codes: BTreeSet<String>,
) -> Result<crate::rules::fast_map::FastMap<String, OccupationFact>, AppError> {
    let codes: Vec<String> = codes.into_iter().collect();
    Ok(occupations::find_many(conn, &codes)?
        .into_iter()
        .map(|row| {
            (
                row.code,
                OccupationFact {
                    name: row.name,
                    high_skill_catalog: row.high_skill_catalog,
                    technician_catalog: row.technician_catalog,
                    priority_industry: row.priority_industry,
                },
            )
        })
        .collect())
}

/// Loads the catalog flags of `codes` into the facts.
pub fn add_occupations(
    conn: &mut DbConnection,
    facts: &mut Facts,
    codes: BTreeSet<String>,
) -> Result<(), AppError> {
    let missing: BTreeSet<String> = codes
        .into_iter()
        .filter(|c| !facts.occupations.contains_key(c))
        .collect();
    facts.occupations.extend(occupation_facts(conn, missing)?);
    Ok(())
}
