//! Sessions of the web pages, stored by the hash of their cookie token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{users, web_sessions};
use super::users::UserRow;
use super::DbConnection;
use crate::domain::UserId;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct NewWebSession<'a> {
    pub token_hash: &'a str,
    pub user_id: UserId,
    pub token_version: i64,
    pub csrf_token: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = web_sessions)]
pub struct WebSessionRow {
    pub token_hash: String,
    pub user_id: UserId,
    pub token_version: i64,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewWebSession<'_>) -> QueryResult<usize> {
    diesel::insert_into(web_sessions::table)
        .values(new)
        .execute(conn)
}

/// The unexpired session with this token hash, with its account.
pub fn find_live(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(WebSessionRow, UserRow)>> {
    web_sessions::table
        .inner_join(users::table)
        .filter(web_sessions::token_hash.eq(token_hash))
        .filter(web_sessions::expires_at.gt(now))
        .select((WebSessionRow::as_select(), UserRow::as_select()))
        .get_result(conn)
        .optional()
}

pub fn delete(conn: &mut DbConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::token_hash.eq(token_hash)))
        .execute(conn)
}

/// Keeps a user's `keep` newest sessions and removes the others.
pub fn keep_newest(conn: &mut DbConnection, user_id: UserId, keep: i64) -> QueryResult<usize> {
    let newest: Vec<String> = web_sessions::table
        .filter(web_sessions::user_id.eq(user_id))
        .order(web_sessions::created_at.desc())
        .limit(keep)
        .select(web_sessions::token_hash)
        .load(conn)?;
    diesel::delete(
        web_sessions::table
            .filter(web_sessions::user_id.eq(user_id))
            .filter(diesel::dsl::not(web_sessions::token_hash.eq_any(newest))),
    )
    .execute(conn)
}

/// Removes the sessions that expired before `now`.
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now))).execute(conn)
}
