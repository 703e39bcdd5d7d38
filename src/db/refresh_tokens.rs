//! Refresh tokens: stored as SHA-256 hashes, grouped in families (one per login), rotated on use.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::refresh_tokens;
use super::DbConnection;
use crate::domain::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: i64,
    pub user_id: UserId,
    pub family_id: String,
    pub token_hash: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub user_id: UserId,
    pub family_id: &'a str,
    pub token_hash: &'a str,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken<'_>) -> QueryResult<usize> {
    diesel::insert_into(refresh_tokens::table)
        .values(new)
        .execute(conn)
}

pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .get_result(conn)
        .optional()
}

/// Marks a token used if it still is unused and not revoked. Returns false when another
/// request got there first — which means the token is being replayed.
pub fn claim(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(at))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)
}

pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: UserId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)
}
