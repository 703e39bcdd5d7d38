//! Learners and the history of their kind (student → employee …).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{employments, enrollments, learner_kind_changes, learners, programs};
use super::DbConnection;
use crate::domain::{
    CohortId, EducationLevel, Hukou, InstitutionId, Language, LearnerId, LearnerKind, UserId,
};

/// A learner's whole row; insertable with its id (a bulk load reserves the ids first), every
/// column written as given.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = learners, treat_none_as_default_value = false)]
pub struct LearnerRow {
    pub id: LearnerId,
    pub name: String,
    pub kind: LearnerKind,
    pub email: Option<String>,
    pub preferred_language: Language,
    pub hukou: Option<Hukou>,
    pub residence_permit_since: Option<NaiveDate>,
    pub social_insurance_since: Option<NaiveDate>,
    pub income_tax_in_shanghai: Option<bool>,
    pub insurance_base_at_least_average_6_of_12: Option<bool>,
    pub education_level: Option<EducationLevel>,
    pub education_occupation_codes: String,
    pub birth_date: Option<NaiveDate>,
    #[serde(skip_serializing)]
    pub id_number_ciphertext: Option<String>,
    #[serde(skip_serializing)]
    pub id_number_hash: Option<String>,
    pub id_number_masked: Option<String>,
    pub registered_by_institution_id: Option<InstitutionId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the learner's personal information was erased (the row stays, empty).
    pub erased_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = learners, treat_none_as_default_value = false)]
pub struct NewLearner {
    pub name: String,
    pub kind: LearnerKind,
    pub email: Option<String>,
    pub preferred_language: Language,
    pub hukou: Option<Hukou>,
    pub residence_permit_since: Option<NaiveDate>,
    pub social_insurance_since: Option<NaiveDate>,
    pub income_tax_in_shanghai: Option<bool>,
    pub insurance_base_at_least_average_6_of_12: Option<bool>,
    pub education_level: Option<EducationLevel>,
    pub education_occupation_codes: String,
    pub birth_date: Option<NaiveDate>,
    pub id_number_ciphertext: Option<String>,
    pub id_number_hash: Option<String>,
    pub id_number_masked: Option<String>,
    pub registered_by_institution_id: Option<InstitutionId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes of a learner: `None` leaves a field; `Some(None)` clears a nullable one.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = learners)]
pub struct LearnerChanges {
    pub name: Option<String>,
    pub kind: Option<LearnerKind>,
    pub email: Option<Option<String>>,
    pub preferred_language: Option<Language>,
    pub hukou: Option<Option<Hukou>>,
    pub residence_permit_since: Option<Option<NaiveDate>>,
    pub social_insurance_since: Option<Option<NaiveDate>>,
    pub income_tax_in_shanghai: Option<Option<bool>>,
    pub insurance_base_at_least_average_6_of_12: Option<Option<bool>>,
    pub education_level: Option<Option<EducationLevel>>,
    pub education_occupation_codes: Option<String>,
    pub birth_date: Option<Option<NaiveDate>>,
    pub id_number_ciphertext: Option<Option<String>>,
    pub id_number_hash: Option<Option<String>>,
    pub id_number_masked: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = learner_kind_changes)]
pub struct KindChangeRow {
    pub id: i64,
    pub learner_id: LearnerId,
    pub kind: LearnerKind,
    pub effective_from: NaiveDate,
    pub recorded_by: Option<UserId>,
    pub recorded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewLearner) -> QueryResult<LearnerRow> {
    crate::each_backend!(conn, c => diesel::insert_into(learners::table)
        .values(new)
        .returning(LearnerRow::as_returning())
        .get_result(c))
}

pub fn find(conn: &mut DbConnection, id: LearnerId) -> QueryResult<Option<LearnerRow>> {
    learners::table
        .find(id)
        .select(LearnerRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_id_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<LearnerRow>> {
    learners::table
        .filter(learners::id_number_hash.eq(hash))
        .select(LearnerRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<LearnerRow>> {
    learners::table
        .filter(learners::email.eq(email))
        .select(LearnerRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn update(
    conn: &mut DbConnection,
    id: LearnerId,
    changes: &LearnerChanges,
) -> QueryResult<usize> {
    diesel::update(learners::table.find(id))
        .set(changes)
        .execute(conn)
}

pub fn record_kind(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    kind: LearnerKind,
    effective_from: NaiveDate,
    recorded_by: Option<UserId>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(learner_kind_changes::table)
        .values((
            learner_kind_changes::learner_id.eq(learner_id),
            learner_kind_changes::kind.eq(kind),
            learner_kind_changes::effective_from.eq(effective_from),
            learner_kind_changes::recorded_by.eq(recorded_by),
            learner_kind_changes::recorded_at.eq(at),
        ))
        .execute(conn)
}

pub fn kind_history(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Vec<KindChangeRow>> {
    learner_kind_changes::table
        .filter(learner_kind_changes::learner_id.eq(learner_id))
        .order((
            learner_kind_changes::effective_from.asc(),
            learner_kind_changes::id.asc(),
        ))
        .select(KindChangeRow::as_select())
        .load(conn)
}

/// Who may see which learners: everyone (`All`), or those tied to one institution — enrolled
/// in one of its programs, employed by it, or registered by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerScope {
    All,
    Institution(InstitutionId),
    Only(LearnerId),
    Nobody,
}

#[derive(Debug, Default, Clone)]
pub struct LearnerFilter {
    pub institution_id: Option<InstitutionId>,
    pub cohort_id: Option<CohortId>,
    pub kind: Option<LearnerKind>,
    pub name_prefix: Option<String>,
}

type BoxedLearners<'a> = learners::BoxedQuery<'a, super::MultiBackend, learners::SqlType>;

fn tied_to_institution<'a>(
    query: BoxedLearners<'a>,
    institution_id: InstitutionId,
) -> BoxedLearners<'a> {
    let enrolled = enrollments::table
        .inner_join(programs::table)
        .filter(programs::institution_id.eq(institution_id))
        .select(enrollments::learner_id);
    let employed = employments::table
        .filter(employments::employer_institution_id.eq(institution_id))
        .select(employments::learner_id);
    query.filter(
        learners::id
            .eq_any(enrolled)
            .or(learners::id.eq_any(employed))
            .or(learners::registered_by_institution_id.eq(institution_id)),
    )
}

/// The learners within `scope`; an erased learner is in no one's (their row only anchors what
/// is kept of them).
fn scoped<'a>(scope: LearnerScope) -> BoxedLearners<'a> {
    let query = learners::table
        .filter(learners::erased_at.is_null())
        .into_boxed();
    match scope {
        LearnerScope::All => query,
        LearnerScope::Institution(id) => tied_to_institution(query, id),
        LearnerScope::Only(id) => query.filter(learners::id.eq(id)),
        LearnerScope::Nobody => query.filter(learners::id.eq(-1)),
    }
}

/// Whether `learner_id` exists within `scope`.
pub fn visible(
    conn: &mut DbConnection,
    scope: LearnerScope,
    learner_id: LearnerId,
) -> QueryResult<bool> {
    let found: Option<i64> = scoped(scope)
        .filter(learners::id.eq(learner_id))
        .select(learners::id)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Which of `ids` exist within `scope`.
pub fn visible_among(
    conn: &mut DbConnection,
    scope: LearnerScope,
    ids: &[LearnerId],
) -> QueryResult<Vec<LearnerId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    scoped(scope)
        .filter(learners::id.eq_any(ids))
        .select(learners::id)
        .load(conn)
}

pub fn list(
    conn: &mut DbConnection,
    scope: LearnerScope,
    filter: &LearnerFilter,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<LearnerRow>> {
    let mut query = scoped(scope);
    if let Some(institution_id) = filter.institution_id {
        query = tied_to_institution(query, institution_id);
    }
    if let Some(cohort_id) = filter.cohort_id {
        query = query.filter(
            learners::id.eq_any(
                enrollments::table
                    .filter(enrollments::cohort_id.eq(cohort_id))
                    .select(enrollments::learner_id),
            ),
        );
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(learners::kind.eq(*kind));
    }
    if let Some(prefix) = &filter.name_prefix {
        query = query.filter(
            learners::name
                .like(format!("{}%", super::escape_like(prefix)))
                .escape('\\'),
        );
    }
    if let Some(after) = after_id {
        query = query.filter(learners::id.gt(after));
    }
    query
        .order(learners::id.asc())
        .limit(limit)
        .select(LearnerRow::as_select())
        .load(conn)
}

/// A learner's id, identity-number hash and email: what an import matches on.
pub type LearnerKeys = (LearnerId, Option<String>, Option<String>);

/// (id, identity-number hash, email) of learners with any of these hashes.
pub fn keys_by_hashes(conn: &mut DbConnection, hashes: &[String]) -> QueryResult<Vec<LearnerKeys>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    learners::table
        .filter(learners::id_number_hash.eq_any(hashes))
        .select((learners::id, learners::id_number_hash, learners::email))
        .load(conn)
}

/// (id, identity-number hash, email) of learners with any of these emails.
pub fn keys_by_emails(conn: &mut DbConnection, emails: &[String]) -> QueryResult<Vec<LearnerKeys>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    learners::table
        .filter(learners::email.eq_any(emails))
        .select((learners::id, learners::id_number_hash, learners::email))
        .load(conn)
}

/// Inserts many learners; returns (id, hash, email) of each, in the order of `rows`. PostgreSQL
/// reserves their ids from the table's sequence and streams the rows with `COPY … FROM STDIN`
/// (binary); SQLite inserts them in one statement (under its write lock, rows take ascending
/// ids in the order given, while `RETURNING` promises no order: hence the sort).
pub fn insert_many(conn: &mut DbConnection, rows: &[NewLearner]) -> QueryResult<Vec<LearnerKeys>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    match conn {
        DbConnection::Postgres(c) => {
            let ids = super::reserve_ids(c, "learners", rows.len())?;
            let whole: Vec<LearnerRow> = rows
                .iter()
                .zip(ids)
                .map(|(n, id)| with_id(LearnerId(id), n.clone()))
                .collect();
            diesel::copy_from(learners::table)
                .from_insertable(&whole)
                .execute(c)?;
            Ok(whole
                .into_iter()
                .map(|r| (r.id, r.id_number_hash, r.email))
                .collect())
        }
        DbConnection::Sqlite(c) => {
            let mut keys: Vec<LearnerKeys> = diesel::insert_into(learners::table)
                .values(rows)
                .returning((learners::id, learners::id_number_hash, learners::email))
                .get_results(c)?;
            keys.sort_unstable_by_key(|k| k.0);
            Ok(keys)
        }
    }
}

fn with_id(id: LearnerId, n: NewLearner) -> LearnerRow {
    LearnerRow {
        id,
        name: n.name,
        kind: n.kind,
        email: n.email,
        preferred_language: n.preferred_language,
        hukou: n.hukou,
        residence_permit_since: n.residence_permit_since,
        social_insurance_since: n.social_insurance_since,
        income_tax_in_shanghai: n.income_tax_in_shanghai,
        insurance_base_at_least_average_6_of_12: n.insurance_base_at_least_average_6_of_12,
        education_level: n.education_level,
        education_occupation_codes: n.education_occupation_codes,
        birth_date: n.birth_date,
        id_number_ciphertext: n.id_number_ciphertext,
        id_number_hash: n.id_number_hash,
        id_number_masked: n.id_number_masked,
        registered_by_institution_id: n.registered_by_institution_id,
        created_at: n.created_at,
        updated_at: n.updated_at,
        erased_at: None,
    }
}

/// A learner's kind from a date, as recorded.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = learner_kind_changes, treat_none_as_default_value = false)]
struct NewKindChange {
    learner_id: LearnerId,
    kind: LearnerKind,
    effective_from: NaiveDate,
    recorded_by: Option<UserId>,
    recorded_at: NaiveDateTime,
}

/// Records the first kind of many new learners.
pub fn record_first_kinds(
    conn: &mut DbConnection,
    entries: &[(LearnerId, LearnerKind)],
    effective_from: NaiveDate,
    recorded_by: Option<UserId>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if entries.is_empty() {
        return Ok(0);
    }
    let values: Vec<NewKindChange> = entries
        .iter()
        .map(|(id, kind)| NewKindChange {
            learner_id: *id,
            kind: *kind,
            effective_from,
            recorded_by,
            recorded_at: at,
        })
        .collect();
    crate::copy_or_insert!(conn, learner_kind_changes::table, &values)
}

pub fn find_many(conn: &mut DbConnection, ids: &[LearnerId]) -> QueryResult<Vec<LearnerRow>> {
    crate::load_by_keys!(
        conn,
        learners::table.select(LearnerRow::as_select()),
        learners::id,
        ids
    )
}

/// Locks the learners' rows until the transaction ends (PostgreSQL; SQLite's write transactions
/// already exclude each other), in id order so that two batches cannot deadlock. Recomputations
/// of the same learner then follow one another instead of colliding on the stored milestones.
pub fn lock(conn: &mut DbConnection, ids: &[LearnerId]) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        learners::table
            .filter(learners::id.eq_any(&sorted))
            .order(learners::id)
            .select(learners::id)
            .for_update()
            .load::<LearnerId>(pg)?;
    }
    Ok(())
}

/// The kind histories of many learners, each oldest first.
pub fn kind_histories(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<KindChangeRow>> {
    learner_kind_changes::table
        .filter(learner_kind_changes::learner_id.eq_any(learner_ids))
        .order((
            learner_kind_changes::learner_id,
            learner_kind_changes::effective_from.asc(),
            learner_kind_changes::id.asc(),
        ))
        .select(KindChangeRow::as_select())
        .load(conn)
}
