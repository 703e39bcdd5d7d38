//! One-time account links (invitations, password resets), stored by the hash of their token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::account_links;
use super::DbConnection;
use crate::domain::{LearnerId, LinkPurpose, UserId};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = account_links, treat_none_as_default_value = false)]
pub struct NewAccountLink<'a> {
    pub token_hash: &'a str,
    pub purpose: LinkPurpose,
    pub learner_id: Option<LearnerId>,
    pub user_id: Option<UserId>,
    pub email: &'a str,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = account_links)]
pub struct AccountLinkRow {
    pub token_hash: String,
    pub purpose: LinkPurpose,
    pub learner_id: Option<LearnerId>,
    pub user_id: Option<UserId>,
    pub email: String,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, new: &NewAccountLink<'_>) -> QueryResult<usize> {
    diesel::insert_into(account_links::table)
        .values(new)
        .execute(conn)
}

/// Inserts many links, in chunks.
pub fn insert_many(conn: &mut DbConnection, rows: &[NewAccountLink<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(500) {
        inserted += crate::each_backend!(conn, c => diesel::insert_into(account_links::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(inserted)
}

/// Of these learners, those ever invited.
pub fn invited_among(conn: &mut DbConnection, ids: &[LearnerId]) -> QueryResult<Vec<LearnerId>> {
    account_links::table
        .filter(account_links::purpose.eq(LinkPurpose::Invitation))
        .filter(account_links::learner_id.eq_any(ids))
        .select(account_links::learner_id.assume_not_null())
        .distinct()
        .load(conn)
}

/// The unused, unexpired link of this purpose with this token hash.
pub fn find_live(
    conn: &mut DbConnection,
    token_hash: &str,
    purpose: LinkPurpose,
    now: NaiveDateTime,
) -> QueryResult<Option<AccountLinkRow>> {
    account_links::table
        .filter(account_links::token_hash.eq(token_hash))
        .filter(account_links::purpose.eq(purpose))
        .filter(account_links::used_at.is_null())
        .filter(account_links::expires_at.gt(now))
        .select(AccountLinkRow::as_select())
        .get_result(conn)
        .optional()
}

/// Uses one link, if it is still unused; false when another request used it first.
pub fn mark_used(
    conn: &mut DbConnection,
    token_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        account_links::table
            .filter(account_links::token_hash.eq(token_hash))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}

/// Retires every unused link of a learner's invitations (a newer one replaces them, or the
/// account exists now).
pub fn retire_for_learner(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        account_links::table
            .filter(account_links::learner_id.eq(learner_id))
            .filter(account_links::purpose.eq(LinkPurpose::Invitation))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(at))
    .execute(conn)
}

/// Retires every unused password-reset link of an account (its password was just set).
pub fn retire_for_user(
    conn: &mut DbConnection,
    user_id: UserId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        account_links::table
            .filter(account_links::user_id.eq(user_id))
            .filter(account_links::purpose.eq(LinkPurpose::PasswordReset))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(at))
    .execute(conn)
}

/// Whether a learner was ever invited.
pub fn invited_before(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        account_links::table
            .filter(account_links::learner_id.eq(learner_id))
            .filter(account_links::purpose.eq(LinkPurpose::Invitation)),
    ))
    .get_result(conn)
}

/// When the account's newest password-reset link was made.
pub fn newest_reset(
    conn: &mut DbConnection,
    user_id: UserId,
) -> QueryResult<Option<NaiveDateTime>> {
    account_links::table
        .filter(account_links::user_id.eq(user_id))
        .filter(account_links::purpose.eq(LinkPurpose::PasswordReset))
        .select(diesel::dsl::max(account_links::created_at))
        .get_result(conn)
}

/// Forgets links that expired before `before` (they can never be used).
pub fn delete_expired(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(account_links::table.filter(account_links::expires_at.lt(before))).execute(conn)
}
