//! Who sees what. The mistakes that hurt systems like this most are cross-tenant reads, so every
//! handler that touches a record asks here, and a record outside the caller's scope answers 404
//! exactly as a record that does not exist.
//!
//! - admin: everything;
//! - college_staff and employer_hr: their institution, its programs and cohorts, and the learners
//!   tied to it (enrolled in one of its programs, employed by it, or registered by it);
//! - evaluator: certificates (to decide them), not learner records;
//! - learner: their own record.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::auth::rate_limit::RefusalAllowance;
use crate::auth::AuthUser;
use crate::db::cohorts::{self, CohortRow};
use crate::db::institutions::{self, ProgramRow};
use crate::db::learners::{self, LearnerScope};
use crate::db::shares::{self, ShareRow};
use crate::db::{Database, DbConnection};
use crate::domain::{
    AuditAction, AuditEntity, CohortId, InstitutionId, LearnerId, ProgramId, Role, ShareId,
};
use crate::error::AppError;

impl AuthUser {
    /// The institution a staff account is bound to.
    pub fn staff_institution(&self) -> Option<InstitutionId> {
        match self.role {
            Role::CollegeStaff | Role::EmployerHr => self.institution_id,
            _ => None,
        }
    }

    /// The institution a list of institutions, programs or cohorts is narrowed to: `None` (all)
    /// for administrators and evaluators, a staff account's own, and for a learner (or an
    /// unbound staff account) an id no row has.
    pub fn listing_institution(&self) -> Option<InstitutionId> {
        const NONE_MATCHES: InstitutionId = InstitutionId(-1);
        match self.role {
            Role::Admin | Role::Evaluator => None,
            Role::CollegeStaff | Role::EmployerHr => {
                Some(self.institution_id.unwrap_or(NONE_MATCHES))
            }
            Role::Learner => Some(NONE_MATCHES),
        }
    }

    /// Whose inbox the caller reads: a learner's own, or (for staff) the account's.
    pub fn inbox_owner(&self) -> crate::db::notifications::Recipient {
        use crate::db::notifications::Recipient;
        match self.learner_id {
            Some(learner) if self.role == Role::Learner => Recipient::Learner(learner),
            _ => Recipient::User(self.id),
        }
    }

    /// Which learner records this caller may see.
    pub fn learner_scope(&self) -> LearnerScope {
        match (self.role, self.institution_id, self.learner_id) {
            (Role::Admin, _, _) => LearnerScope::All,
            (Role::CollegeStaff | Role::EmployerHr, Some(inst), _) => {
                LearnerScope::Institution(inst)
            }
            (Role::Learner, _, Some(id)) => LearnerScope::Only(id),
            _ => LearnerScope::Nobody,
        }
    }

    /// Whether this caller may see the institution (and its programs and cohorts).
    pub fn sees_institution(&self, institution_id: InstitutionId) -> bool {
        match self.role {
            Role::Admin | Role::Evaluator => true,
            Role::CollegeStaff | Role::EmployerHr => self.institution_id == Some(institution_id),
            Role::Learner => false,
        }
    }

    /// Whether this caller may change the institution's programs and cohorts.
    pub fn manages_institution(&self, institution_id: InstitutionId) -> bool {
        match self.role {
            Role::Admin => true,
            Role::CollegeStaff => self.institution_id == Some(institution_id),
            _ => false,
        }
    }

    /// The caller's own learner record: 403 for any other role (the `/me/…` endpoints).
    pub fn own_learner_id(&self) -> Result<LearnerId, AppError> {
        match (self.role, self.learner_id) {
            (Role::Learner, Some(id)) => Ok(id),
            _ => Err(AppError::Forbidden),
        }
    }

    pub fn is_learner(&self, learner_id: LearnerId) -> bool {
        self.role == Role::Learner && self.learner_id == Some(learner_id)
    }
}

/// 404 unless the caller may see the learner.
pub fn require_learner(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
) -> Result<(), AppError> {
    if learners::visible(conn, caller.learner_scope(), learner_id)? {
        Ok(())
    } else {
        Err(AppError::NotFound { what: "learner" })
    }
}

/// 404 unless the caller may produce a copy of the learner's data for them (PIPL Art. 45):
/// administrators, and staff of a college that sees the learner. HR staff may not (a copy holds
/// every record, well beyond what an employer may see); 403 for roles that never may.
pub fn require_exporter_of(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
) -> Result<(), AppError> {
    match caller.role {
        Role::Admin | Role::CollegeStaff => require_learner(conn, caller, learner_id),
        _ => Err(AppError::Forbidden),
    }
}

/// The correction requests the caller decides on: administrators all, staff (college or HR)
/// those of their institution; 403 for other roles, who decide none and learn nothing of which
/// exist.
pub fn corrections_decided_by(
    caller: &AuthUser,
) -> Result<crate::db::corrections::Listing, AppError> {
    use crate::db::corrections::Listing;
    match (caller.role, caller.institution_id) {
        (Role::Admin, _) => Ok(Listing::All),
        (Role::CollegeStaff | Role::EmployerHr, Some(institution)) => {
            Ok(Listing::Institution(institution))
        }
        _ => Err(AppError::Forbidden),
    }
}

/// Whether the caller decides on a correction request the staff of `institution` decide
/// (administrators decide on all): 404 for staff of another institution, 403 for other roles.
pub fn require_correction_decider(
    caller: &AuthUser,
    institution: Option<InstitutionId>,
) -> Result<(), AppError> {
    match caller.role {
        Role::Admin => Ok(()),
        Role::CollegeStaff | Role::EmployerHr
            if institution.is_some() && caller.institution_id == institution =>
        {
            Ok(())
        }
        Role::CollegeStaff | Role::EmployerHr => Err(AppError::NotFound {
            what: "correction request",
        }),
        _ => Err(AppError::Forbidden),
    }
}

/// Learners that a registration or a bulk import matched (by identity number or email) but the
/// caller may not reach, noted outside the request's transaction (a refusal rolls it back) so
/// that they can be audited afterwards ([`record_refusals`]); and the allowance they are taken
/// from ([`refusal_allowance`]).
#[derive(Clone)]
pub struct RefusedMatches {
    noted: Arc<Mutex<Vec<(LearnerId, &'static str)>>>,
    allowance: Arc<RefusalAllowance>,
}

impl RefusedMatches {
    pub fn new(allowance: Arc<RefusalAllowance>) -> Self {
        Self {
            noted: Arc::default(),
            allowance,
        }
    }

    fn noted(&self) -> std::sync::MutexGuard<'_, Vec<(LearnerId, &'static str)>> {
        self.noted.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Of the existing learners a registration or an import matched, each with how it matched
/// (`id_number`, `email`, `cohort_import`), those the caller may reach. Matching runs over every
/// learner, since one person has one record; reaching a match is allowed only within the
/// caller's scope. The others are taken from the caller's allowance of refusals — all at once,
/// or none and 429, so that a batch that would exceed it tells nothing — and noted in `refused`;
/// they must be answered with [`out_of_scope_match`] or [`OUT_OF_SCOPE_ROW`], which say neither
/// that the person exists nor which identifier matched.
pub fn split_matches(
    conn: &mut DbConnection,
    caller: &AuthUser,
    matches: &[(LearnerId, &'static str)],
    refused: &RefusedMatches,
) -> Result<HashSet<LearnerId>, AppError> {
    let ids: Vec<LearnerId> = matches.iter().map(|(id, _)| *id).collect();
    let reachable: HashSet<LearnerId> =
        learners::visible_among(conn, caller.learner_scope(), &ids)?
            .into_iter()
            .collect();
    let outside: Vec<(LearnerId, &'static str)> = matches
        .iter()
        .filter(|(id, _)| !reachable.contains(id))
        .copied()
        .collect();
    let mut noted = refused.noted();
    let new: HashSet<LearnerId> = outside
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !noted.iter().any(|(n, _)| n == id))
        .collect();
    refused
        .allowance
        .take(&caller.id.to_string(), new.len() as u32)?;
    noted.extend(outside);
    Ok(reachable)
}

/// The words of a refusal to reach a learner outside the caller's scope, in a file's row report.
pub const OUT_OF_SCOPE_ROW: &str = "cannot be registered or enrolled by your institution: ask the \
learner to check their identity number and email, or the city administrator to link their record";

/// The refusal of a single registration that matched a learner outside the caller's scope.
pub fn out_of_scope_match() -> AppError {
    AppError::conflict(
        "not_registrable",
        "This person cannot be registered by your institution. Ask them to check their identity \
number and email, or ask the city administrator to link their record to your institution.",
    )
}

/// Refused matches one account may collect in an hour; past it, registrations and imports that
/// would be refused answer 429. A refusal still tells that a person cannot be registered, so an
/// account must not be able to test a long list of identity numbers. Counted per account only
/// (staff accounts are people an administrator named; a shared office address must not lock out
/// colleagues).
pub fn refusal_allowance() -> RefusalAllowance {
    RefusalAllowance::new(20, std::time::Duration::from_secs(3600))
}

/// After a registration or an import: writes each refused match to the audit log
/// (`scope_refused`: who tried to reach which learner, and how) in a transaction of its own. A
/// failure to audit is logged; it does not replace the answer.
pub async fn record_refusals(db: &Database, caller: &AuthUser, refused: &RefusedMatches) {
    let taken = std::mem::take(&mut *refused.noted());
    if taken.is_empty() {
        return;
    }
    let (actor, institution) = (caller.id, caller.institution_id);
    let written = db
        .write(move |conn| {
            for (learner_id, via) in taken {
                crate::db::audit::record(
                    conn,
                    Some(actor),
                    AuditAction::ScopeRefused,
                    AuditEntity::Learner,
                    learner_id,
                    &serde_json::json!({"via": via, "institution_id": institution}),
                )?;
            }
            Ok(())
        })
        .await;
    if let Err(err) = written {
        tracing::error!(error = ?err, actor = %actor, "could not audit refused matches");
    }
}

/// Whether the caller may tie a learner's employment to an institution, which opens the learner's
/// record to that institution's staff: administrators any, staff and HR their own institution
/// only, learners none (they name their employer; its HR ties it).
pub fn may_bind_employer(caller: &AuthUser, institution_id: InstitutionId) -> bool {
    caller.role == Role::Admin || caller.staff_institution() == Some(institution_id)
}

/// 404 unless the caller may see the institution; the guard for every institution read.
pub fn require_institution(
    caller: &AuthUser,
    institution_id: InstitutionId,
) -> Result<(), AppError> {
    if caller.sees_institution(institution_id) {
        Ok(())
    } else {
        Err(AppError::NotFound {
            what: "institution",
        })
    }
}

/// Whether the caller acts for the institution in its own affairs (its designation application,
/// its partnerships, the records its targets are counted from): administrators for any, its
/// staff for their own; learners and evaluators never.
pub fn acts_for(caller: &AuthUser, institution_id: InstitutionId) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::CollegeStaff | Role::EmployerHr => caller.institution_id == Some(institution_id),
        Role::Evaluator | Role::Learner => false,
    }
}

/// The guard of an institution's own affairs: 403 for the roles that never reach them, 404 for
/// staff of another institution (whose existence is not theirs to learn this way).
pub fn require_acting_for(
    caller: &AuthUser,
    institution_id: InstitutionId,
) -> Result<(), AppError> {
    match caller.role {
        _ if acts_for(caller, institution_id) => Ok(()),
        Role::Evaluator | Role::Learner => Err(AppError::Forbidden),
        _ => Err(AppError::NotFound {
            what: "institution",
        }),
    }
}

/// Loads a program the caller may see; 404 otherwise.
pub fn visible_program(
    conn: &mut DbConnection,
    caller: &AuthUser,
    program_id: ProgramId,
) -> Result<ProgramRow, AppError> {
    let program = institutions::find_program(conn, program_id)?
        .ok_or(AppError::NotFound { what: "program" })?;
    if !caller.sees_institution(program.institution_id) {
        return Err(AppError::NotFound { what: "program" });
    }
    Ok(program)
}

/// Whether HR staff may use a share: one that names no enterprise, or names theirs.
pub fn may_use_share(caller: &AuthUser, share: &ShareRow) -> bool {
    share.recipient_institution_id.is_none()
        || share.recipient_institution_id == caller.institution_id
}

/// The enterprise whose addressed shares the caller may list: HR staff's own; 403 otherwise.
pub fn addressed_enterprise(caller: &AuthUser) -> Result<InstitutionId, AppError> {
    match (caller.role, caller.institution_id) {
        (Role::EmployerHr, Some(enterprise)) => Ok(enterprise),
        _ => Err(AppError::Forbidden),
    }
}

/// Whether the learner has worked (or works) at the caller's institution: what opens an
/// employee's verified records to their enterprise's HR staff.
pub fn employs(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
) -> Result<bool, AppError> {
    Ok(caller.institution_id.is_some()
        && crate::db::records::employments_of(conn, learner_id)?
            .iter()
            .any(|e| e.employer_institution_id == caller.institution_id))
}

/// Of these learners, those who have worked (or work) at the caller's institution, in one
/// query: [`employs`] for many.
pub fn employees_among(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_ids: &[LearnerId],
) -> Result<HashSet<LearnerId>, AppError> {
    let Some(institution) = caller.institution_id else {
        return Ok(HashSet::new());
    };
    Ok(
        crate::db::records::employments_of_learners(conn, learner_ids)?
            .into_iter()
            .filter(|e| e.employer_institution_id == Some(institution))
            .map(|e| e.learner_id)
            .collect(),
    )
}

/// Whether the caller may change an employment spell of a learner they reach: HR staff only
/// the spells at their own enterprise.
pub fn may_change_employment(caller: &AuthUser, employer: Option<InstitutionId>) -> bool {
    caller.role != Role::EmployerHr || employer == caller.institution_id
}

/// A cohort with its program's institution, if the caller may see it; 404 otherwise.
pub fn visible_cohort(
    conn: &mut DbConnection,
    caller: &AuthUser,
    id: CohortId,
) -> Result<(CohortRow, InstitutionId), AppError> {
    let cohort = cohorts::find(conn, id)?.ok_or(AppError::NotFound { what: "cohort" })?;
    let program = visible_program(conn, caller, cohort.program_id)
        .map_err(|_| AppError::NotFound { what: "cohort" })?;
    Ok((cohort, program.institution_id))
}

/// Roles that may add facts to a learner's record, beyond administrators: staff in scope and
/// the learner themself.
pub fn may_add_facts(caller: &AuthUser, learner_id: LearnerId) -> Result<(), AppError> {
    match caller.role {
        Role::Admin | Role::CollegeStaff | Role::EmployerHr => Ok(()),
        Role::Learner if caller.is_learner(learner_id) => Ok(()),
        // Another learner's record is, for a learner, a record that does not exist.
        Role::Learner => Err(AppError::NotFound { what: "learner" }),
        Role::Evaluator => Err(AppError::Forbidden),
    }
}

pub fn own_share(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    id: ShareId,
) -> Result<ShareRow, AppError> {
    shares::find_share(conn, id)?
        .filter(|s| s.learner_id == learner_id)
        .ok_or(AppError::NotFound { what: "share" })
}

/// The program, if the caller may enroll learners in it (administrators, or staff of its
/// institution); 404 when it is not visible, 403 when visible but not theirs to change.
pub fn managed_program(
    conn: &mut DbConnection,
    caller: &AuthUser,
    program_id: ProgramId,
) -> Result<ProgramRow, AppError> {
    let program = visible_program(conn, caller, program_id)?;
    if !caller.manages_institution(program.institution_id) {
        return Err(AppError::Forbidden);
    }
    Ok(program)
}
