//! Shares, their access log, and the keys that sign shared statements.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{share_accesses, shares, signing_keys};
use super::DbConnection;
use crate::domain::{AccessBasis, InstitutionId, LearnerId, ShareId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, treat_none_as_default_value = false)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub public_key: String,
    pub private_key: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
    pub signed_until: Option<NaiveDateTime>,
}

pub fn insert_key(conn: &mut DbConnection, key: &SigningKeyRow) -> QueryResult<usize> {
    diesel::insert_into(signing_keys::table)
        .values(key)
        .execute(conn)
}

/// The key that signs now: the newest one not retired.
pub fn active_key(conn: &mut DbConnection) -> QueryResult<Option<SigningKeyRow>> {
    signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Retires every key that signs; returns how many.
pub fn retire_active(conn: &mut DbConnection, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
        .set(signing_keys::retired_at.eq(Some(at)))
        .execute(conn)
}

/// Every key, newest first.
pub fn all_keys(conn: &mut DbConnection) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKeyRow::as_select())
        .load(conn)
}

/// Keys whose public half is published: those that sign, and retired ones until the last
/// statement they signed has expired.
pub fn published_keys(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::signed_until.gt(now)),
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKeyRow::as_select())
        .load(conn)
}

/// Records that the key signed a statement valid until `until`.
pub fn extend_signed_until(
    conn: &mut DbConnection,
    kid: &str,
    until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        signing_keys::table
            .filter(signing_keys::kid.eq(kid))
            .filter(
                signing_keys::signed_until
                    .is_null()
                    .or(signing_keys::signed_until.lt(until)),
            ),
    )
    .set(signing_keys::signed_until.eq(Some(until)))
    .execute(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = shares, treat_none_as_default_value = false)]
pub struct NewShare {
    pub learner_id: LearnerId,
    pub code_hash: String,
    pub purpose: String,
    pub recipient_institution_id: Option<InstitutionId>,
    pub certificate_ids: String,
    pub milestone_keys: String,
    pub kid: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consent_version: Option<String>,
    /// The text agreed to, both languages (JSON).
    pub consent_text: Option<String>,
    pub consented_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = shares)]
pub struct ShareRow {
    pub id: ShareId,
    pub learner_id: LearnerId,
    #[serde(skip_serializing)]
    pub code_hash: String,
    pub purpose: String,
    pub recipient_institution_id: Option<InstitutionId>,
    pub certificate_ids: String,
    pub milestone_keys: String,
    pub kid: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub consent_version: Option<String>,
    pub consent_text: Option<String>,
    pub consented_at: Option<NaiveDateTime>,
}

pub fn insert_share(conn: &mut DbConnection, share: &NewShare) -> QueryResult<ShareRow> {
    crate::each_backend!(conn, c => diesel::insert_into(shares::table)
        .values(share)
        .returning(ShareRow::as_returning())
        .get_result(c))
}

pub fn find_share(conn: &mut DbConnection, id: ShareId) -> QueryResult<Option<ShareRow>> {
    shares::table
        .find(id)
        .select(ShareRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_share_by_code(
    conn: &mut DbConnection,
    code_hash: &str,
) -> QueryResult<Option<ShareRow>> {
    shares::table
        .filter(shares::code_hash.eq(code_hash))
        .select(ShareRow::as_select())
        .get_result(conn)
        .optional()
}

/// A learner's shares, newest first, before `before_id`.
pub fn shares_of(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<ShareRow>> {
    let mut query = shares::table
        .filter(shares::learner_id.eq(learner_id))
        .order(shares::id.desc())
        .limit(limit)
        .select(ShareRow::as_select())
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(shares::id.lt(before));
    }
    query.load(conn)
}

/// The shares that name this enterprise, newest first.
pub fn shares_for_institution(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    limit: i64,
) -> QueryResult<Vec<ShareRow>> {
    shares::table
        .filter(shares::recipient_institution_id.eq(institution_id))
        .order(shares::id.desc())
        .limit(limit)
        .select(ShareRow::as_select())
        .load(conn)
}

/// Revokes a share; false when it was revoked already.
pub fn revoke_share(conn: &mut DbConnection, id: ShareId, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        shares::table
            .filter(shares::id.eq(id))
            .filter(shares::revoked_at.is_null()),
    )
    .set(shares::revoked_at.eq(Some(at)))
    .execute(conn)
    .map(|n| n == 1)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = share_accesses, treat_none_as_default_value = false)]
pub struct NewAccess {
    pub learner_id: LearnerId,
    pub share_id: Option<ShareId>,
    pub user_id: UserId,
    pub institution_id: Option<InstitutionId>,
    pub basis: AccessBasis,
    pub accessed_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = share_accesses)]
pub struct AccessRow {
    pub id: i64,
    pub learner_id: LearnerId,
    pub share_id: Option<ShareId>,
    pub user_id: UserId,
    pub institution_id: Option<InstitutionId>,
    pub basis: AccessBasis,
    pub accessed_at: NaiveDateTime,
}

pub fn insert_access(conn: &mut DbConnection, access: &NewAccess) -> QueryResult<i64> {
    crate::each_backend!(conn, c => diesel::insert_into(share_accesses::table)
        .values(access)
        .returning(share_accesses::id)
        .get_result(c))
}

/// Accesses to a learner's records (all, or of one share), newest first, before `before_id`,
/// with the accessing account's email and institution name.
pub fn accesses_of(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    share_id: Option<ShareId>,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<(AccessRow, String, Option<String>)>> {
    use super::schema::{institutions, users};
    let mut query = share_accesses::table
        .inner_join(users::table.on(users::id.eq(share_accesses::user_id)))
        .left_join(
            institutions::table.on(institutions::id
                .nullable()
                .eq(share_accesses::institution_id)),
        )
        .filter(share_accesses::learner_id.eq(learner_id))
        .order(share_accesses::id.desc())
        .limit(limit)
        .select((
            AccessRow::as_select(),
            users::email,
            institutions::name.nullable(),
        ))
        .into_boxed();
    if let Some(share) = share_id {
        query = query.filter(share_accesses::share_id.eq(share));
    }
    if let Some(before) = before_id {
        query = query.filter(share_accesses::id.lt(before));
    }
    query.load(conn)
}

/// One look at a learner's records, with what the HR account needs to be told of a change.
#[derive(Debug, Clone, Queryable)]
pub struct Reliance {
    pub user_id: UserId,
    pub email: String,
    pub disabled: bool,
    /// The share's certificate ids (JSON), for a look through a share.
    pub shared_certificates: Option<String>,
    pub purpose: Option<String>,
    pub accessed_at: NaiveDateTime,
}

/// Every look by HR at a learner's records since `since`, newest first.
pub fn looks_since(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    since: NaiveDateTime,
) -> QueryResult<Vec<Reliance>> {
    use super::schema::users;
    share_accesses::table
        .inner_join(users::table.on(users::id.eq(share_accesses::user_id)))
        .left_join(shares::table.on(shares::id.nullable().eq(share_accesses::share_id)))
        .filter(share_accesses::learner_id.eq(learner_id))
        .filter(share_accesses::accessed_at.ge(since))
        .order(share_accesses::id.desc())
        .select((
            users::id,
            users::email,
            users::disabled,
            shares::certificate_ids.nullable(),
            shares::purpose.nullable(),
            share_accesses::accessed_at,
        ))
        .load(conn)
}
