//! The windows of the shared limits (failed logins, unknown share codes, reset requests): one
//! row per counted key, kept in the database so that every replica counts against the same
//! allowance.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::allowance_windows;
use super::DbConnection;

/// One key to count against and its limit within a window.
pub struct Counted<'a> {
    pub key: &'a str,
    pub limit: u32,
}

/// Takes `n` from every key's window if each has that many left, and otherwise takes none:
/// `Ok(None)` when taken, `Ok(Some(ends_at))` when refused, with the time the last blocking
/// window ends. A window that has ended starts again at `now`. Run it in a write transaction:
/// a refusal has counted, and the caller rolls back (the rows stay locked meanwhile, so that
/// concurrent takers of one key are serialised on both backends).
pub fn take(
    conn: &mut DbConnection,
    keys: &[Counted<'_>],
    n: u32,
    now: NaiveDateTime,
    window_ends: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let names: Vec<&str> = keys.iter().map(|k| k.key).collect();
    diesel::delete(
        allowance_windows::table
            .filter(allowance_windows::key.eq_any(&names))
            .filter(allowance_windows::ends_at.le(now)),
    )
    .execute(conn)?;
    let used = i32::try_from(n).unwrap_or(i32::MAX);
    let mut refused_until: Option<NaiveDateTime> = None;
    // Always in the callers' order (an account before an address), so that two takers never
    // wait for each other's rows.
    for counted in keys {
        let (now_used, ends_at): (i32, NaiveDateTime) = crate::each_backend!(conn, c =>
            diesel::insert_into(allowance_windows::table)
                .values((
                    allowance_windows::key.eq(counted.key),
                    allowance_windows::used.eq(used),
                    allowance_windows::ends_at.eq(window_ends),
                ))
                .on_conflict(allowance_windows::key)
                .do_update()
                .set(
                    allowance_windows::used
                        .eq(allowance_windows::used + excluded(allowance_windows::used)),
                )
                .returning((allowance_windows::used, allowance_windows::ends_at))
                .get_result(c))?;
        if i64::from(now_used) > i64::from(counted.limit) {
            refused_until = Some(refused_until.map_or(ends_at, |t| t.max(ends_at)));
        }
    }
    Ok(refused_until)
}

/// Gives one back to each key's current window (an attempt that was not a failure).
pub fn give_back(conn: &mut DbConnection, keys: &[&str]) -> QueryResult<usize> {
    diesel::update(
        allowance_windows::table
            .filter(allowance_windows::key.eq_any(keys))
            .filter(allowance_windows::used.gt(0)),
    )
    .set(allowance_windows::used.eq(allowance_windows::used - 1))
    .execute(conn)
}

/// Ends a key's window (a successful login clears its account's failures).
pub fn clear(conn: &mut DbConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(allowance_windows::table.filter(allowance_windows::key.eq(key))).execute(conn)
}

/// Deletes the windows that ended before `now`.
pub fn purge_ended(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(allowance_windows::table.filter(allowance_windows::ends_at.le(now)))
        .execute(conn)
}
