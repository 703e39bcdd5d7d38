//! The windows of the shared limits (failed logins, unknown share codes, reset requests): one
//! row per counted key, kept in the database so that every replica counts against the same
//! allowance.
//!
//! Rows are locked in one order only — the callers' keys in the order given (an account before
//! an address), one statement per key — so that two takers never wait for each other's rows.

use chrono::NaiveDateTime;
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::allowance_windows;
use super::DbConnection;

/// Ended windows deleted by one take, beside its own keys: the table stays about one window of
/// counted keys however many a client invents.
const SWEEP_ROWS: i64 = 100;

/// One key to count against and its limit within a window.
pub struct Counted<'a> {
    pub key: &'a str,
    pub limit: u32,
}

/// When the last of `keys` that is at its limit on `now` stops being so; `None` when none is.
/// A read: a refused attempt takes no write lock.
pub fn refused_until(
    conn: &mut DbConnection,
    keys: &[Counted<'_>],
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let names: Vec<&str> = keys.iter().map(|k| k.key).collect();
    let open: Vec<(String, i32, NaiveDateTime)> = allowance_windows::table
        .filter(allowance_windows::key.eq_any(&names))
        .filter(allowance_windows::ends_at.gt(now))
        .select((
            allowance_windows::key,
            allowance_windows::used,
            allowance_windows::ends_at,
        ))
        .load(conn)?;
    Ok(open
        .into_iter()
        .filter(|(key, used, _)| {
            keys.iter()
                .any(|k| k.key == key && i64::from(*used) >= i64::from(k.limit))
        })
        .map(|(_, _, ends_at)| ends_at)
        .max())
}

/// Takes `n` from every key's window if each has that many left, and otherwise takes none:
/// `Ok(None)` when taken, `Ok(Some(ends_at))` when refused, with the time the last blocking
/// window ends. A window that has ended starts again at `now` (in the same statement). Run it in
/// a write transaction: a refusal has counted, and the caller rolls back.
pub fn take(
    conn: &mut DbConnection,
    keys: &[Counted<'_>],
    n: u32,
    now: NaiveDateTime,
    window_ends: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let used = i32::try_from(n).unwrap_or(i32::MAX);
    let mut refused_until: Option<NaiveDateTime> = None;
    for counted in keys {
        let ended = allowance_windows::ends_at.le(now);
        let (now_used, ends_at): (i32, NaiveDateTime) = crate::each_backend!(conn, c =>
            diesel::insert_into(allowance_windows::table)
                .values((
                    allowance_windows::key.eq(counted.key),
                    allowance_windows::used.eq(used),
                    allowance_windows::ends_at.eq(window_ends),
                ))
                .on_conflict(allowance_windows::key)
                .do_update()
                .set((
                    allowance_windows::used.eq(case_when(ended, excluded(allowance_windows::used))
                        .otherwise(allowance_windows::used + excluded(allowance_windows::used))),
                    allowance_windows::ends_at.eq(case_when(ended, excluded(allowance_windows::ends_at))
                        .otherwise(allowance_windows::ends_at)),
                ))
                .returning((allowance_windows::used, allowance_windows::ends_at))
                .get_result(c))?;
        if i64::from(now_used) > i64::from(counted.limit) {
            refused_until = Some(refused_until.map_or(ends_at, |t| t.max(ends_at)));
        }
    }
    Ok(refused_until)
}

/// Deletes up to [`SWEEP_ROWS`] windows that ended before `now`, skipping (on PostgreSQL) rows
/// another transaction holds, so that the sweep never waits.
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let ended: Vec<String> = match conn {
        DbConnection::Postgres(c) => allowance_windows::table
            .filter(allowance_windows::ends_at.le(now))
            .select(allowance_windows::key)
            .limit(SWEEP_ROWS)
            .for_update()
            .skip_locked()
            .load(c)?,
        DbConnection::Sqlite(c) => allowance_windows::table
            .filter(allowance_windows::ends_at.le(now))
            .select(allowance_windows::key)
            .limit(SWEEP_ROWS)
            .load(c)?,
    };
    if ended.is_empty() {
        return Ok(0);
    }
    diesel::delete(
        allowance_windows::table
            .filter(allowance_windows::key.eq_any(&ended))
            .filter(allowance_windows::ends_at.le(now)),
    )
    .execute(conn)
}

/// Gives one back to each key's current window (an attempt that was not a failure), key by key
/// in the order given.
pub fn give_back(conn: &mut DbConnection, keys: &[&str]) -> QueryResult<()> {
    for key in keys {
        diesel::update(
            allowance_windows::table
                .filter(allowance_windows::key.eq(key))
                .filter(allowance_windows::used.gt(0)),
        )
        .set(allowance_windows::used.eq(allowance_windows::used - 1))
        .execute(conn)?;
    }
    Ok(())
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
