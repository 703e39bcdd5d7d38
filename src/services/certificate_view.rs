//! What a certificate looks like to the people who may see it: its record with the learner's
//! name and every decision. The API answers it, and a learner's stored progress holds it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::certificates::{self, CertificateRow, DecisionRow};
use crate::db::{learners, DbConnection};
use crate::domain::certificate_number::CertificateWarning;
use crate::domain::{
    CertificateId, CertificateKind, CertificateStatus, Decision, LearnerId, NumberFormat,
    SkillLevel, UserId,
};
use crate::error::AppError;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionResponse {
    pub decision: Decision,
    pub from_status: CertificateStatus,
    pub to_status: CertificateStatus,
    pub reason: String,
    /// The account that decided.
    #[schema(value_type = i64)]
    pub decided_by: UserId,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CertificateResponse {
    #[schema(value_type = i64)]
    pub id: CertificateId,
    #[schema(value_type = i64)]
    pub learner_id: LearnerId,
    pub learner_name: String,
    pub number: String,
    /// Which known number shape it has; `other` for any other.
    pub number_format: NumberFormat,
    pub kind: CertificateKind,
    pub level: SkillLevel,
    pub occupation_code: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    /// Only `verified` certificates count for milestones.
    pub status: CertificateStatus,
    /// Mismatches between the number's digits and the recorded level or year, for the evaluator.
    pub warnings: Vec<CertificateWarning>,
    #[schema(value_type = Option<i64>)]
    pub submitted_by: Option<UserId>,
    /// Every decision, oldest first.
    pub decisions: Vec<DecisionResponse>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn certificate_response(
    row: CertificateRow,
    learner_name: String,
    decisions: Vec<DecisionRow>,
) -> Result<CertificateResponse, AppError> {
    Ok(CertificateResponse {
        number_format: row.number_format,
        kind: row.kind,
        level: row.level,
        status: row.status,
        warnings: serde_json::from_str(&row.warnings)
            .map_err(|e| AppError::internal("stored warnings", e))?,
        decisions: decisions
            .into_iter()
            .map(|d| {
                Ok(DecisionResponse {
                    decision: d.decision,
                    from_status: d.from_status,
                    to_status: d.to_status,
                    reason: d.reason,
                    decided_by: d.decided_by,
                    decided_at: d.decided_at.and_utc(),
                })
            })
            .collect::<Result<_, AppError>>()?,
        id: row.id,
        learner_id: row.learner_id,
        learner_name,
        number: row.number,
        occupation_code: row.occupation_code,
        issuer: row.issuer,
        issued_on: row.issued_on,
        submitted_by: row.submitted_by,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// Certificates with their learners' names and decisions, in three queries whatever their number.
pub fn load_certificates(
    conn: &mut DbConnection,
    rows: Vec<CertificateRow>,
) -> Result<Vec<CertificateResponse>, AppError> {
    let learner_ids: Vec<LearnerId> = rows.iter().map(|r| r.learner_id).collect();
    let names: std::collections::HashMap<LearnerId, String> =
        learners::find_many(conn, &learner_ids)?
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect();
    with_decisions(conn, rows, |learner_id| {
        names.get(&learner_id).cloned().unwrap_or_default()
    })
}

/// One learner's certificates, the learner's name known.
pub fn own_certificates(
    conn: &mut DbConnection,
    rows: Vec<CertificateRow>,
    learner_name: &str,
) -> Result<Vec<CertificateResponse>, AppError> {
    with_decisions(conn, rows, |_| learner_name.to_owned())
}

pub fn with_decisions(
    conn: &mut DbConnection,
    rows: Vec<CertificateRow>,
    name_of: impl Fn(LearnerId) -> String,
) -> Result<Vec<CertificateResponse>, AppError> {
    let ids: Vec<CertificateId> = rows.iter().map(|r| r.id).collect();
    let mut decisions: std::collections::HashMap<CertificateId, Vec<DecisionRow>> =
        std::collections::HashMap::new();
    for d in certificates::decisions_of_many(conn, &ids)? {
        decisions.entry(d.certificate_id).or_default().push(d);
    }
    rows.into_iter()
        .map(|row| {
            let name = name_of(row.learner_id);
            let own = decisions.remove(&row.id).unwrap_or_default();
            certificate_response(row, name, own)
        })
        .collect()
}

pub fn load_certificate(
    conn: &mut DbConnection,
    row: CertificateRow,
) -> Result<CertificateResponse, AppError> {
    load_certificates(conn, vec![row])?
        .pop()
        .ok_or(AppError::NotFound {
            what: "certificate",
        })
}
