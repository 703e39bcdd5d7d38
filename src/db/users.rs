//! Accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::users;
use super::DbConnection;
use crate::domain::{InstitutionId, LearnerId, Role, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: Role,
    pub institution_id: Option<InstitutionId>,
    pub learner_id: Option<LearnerId>,
    pub disabled: bool,
    #[serde(skip_serializing)]
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub institution_id: Option<InstitutionId>,
    pub learner_id: Option<LearnerId>,
    pub disabled: bool,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Filters of the account list.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub email_prefix: Option<String>,
    pub disabled: Option<bool>,
}

// By primary key, `get_result` rather than `first`: `first` adds `LIMIT ?`, and SQLite (3.50)
// re-prepares a statement whose LIMIT is a bound value each time it is run — for this lookup,
// made on every authenticated request, that was a tenth of the server's time.
pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_many(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

/// The accounts bound to a learner record.
pub fn find_by_learner(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::learner_id.eq(learner_id))
        .select(UserRow::as_select())
        .load(conn)
}

/// Of these learners, those with an account.
pub fn learners_with_accounts(
    conn: &mut DbConnection,
    ids: &[LearnerId],
) -> QueryResult<Vec<LearnerId>> {
    users::table
        .filter(users::learner_id.eq_any(ids))
        .select(users::learner_id.assume_not_null())
        .load(conn)
}

/// Of these addresses, those an account uses.
pub fn emails_taken(conn: &mut DbConnection, emails: &[String]) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::email.eq_any(emails))
        .select(users::email)
        .load(conn)
}

pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> QueryResult<UserRow> {
    crate::each_backend!(conn, c => diesel::insert_into(users::table)
        .values(new)
        .returning(UserRow::as_returning())
        .get_result(c))
}

pub fn admin_exists(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::role.eq(Role::Admin)),
    ))
    .get_result(conn)
}

/// One page in id order, starting after `after_id`.
pub fn list(
    conn: &mut DbConnection,
    filter: &UserFilter,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(users::id.gt(after));
    }
    if let Some(role) = &filter.role {
        query = query.filter(users::role.eq(*role));
    }
    if let Some(prefix) = &filter.email_prefix {
        // Emails are stored lower-case, so a lower-cased prefix matches on both backends.
        query = query.filter(
            users::email
                .like(format!("{}%", super::escape_like(prefix)))
                .escape('\\'),
        );
    }
    if let Some(disabled) = filter.disabled {
        query = query.filter(users::disabled.eq(disabled));
    }
    query.load(conn)
}

/// Sets the disabled flag; any change of access state bumps the token version so that
/// access tokens already issued stop working.
pub fn set_disabled(
    conn: &mut DbConnection,
    id: UserId,
    disabled: bool,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::disabled.eq(disabled),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(at),
        ))
        .execute(conn)
}

pub fn set_password_hash(
    conn: &mut DbConnection,
    id: UserId,
    hash: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(at),
        ))
        .execute(conn)
}

/// The enabled staff accounts bound to an institution (who hear of its affairs), with their
/// emails.
pub fn staff_of(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
) -> QueryResult<Vec<(UserId, String)>> {
    users::table
        .filter(users::institution_id.eq(institution_id))
        .filter(users::role.eq_any([Role::CollegeStaff, Role::EmployerHr]))
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select((users::id, users::email))
        .load(conn)
}
