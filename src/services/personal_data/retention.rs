//! Limited retention (PIPL Art. 19): HR's looks, ended shares, settled email notifications and
//! decided correction requests are deleted once their retention period (a parameter each) has passed, by the daily durable
//! job `purge_expired`.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use crate::db::{retention, DbConnection};
use crate::error::AppError;
use crate::services::eligibility::InForce;

/// How many rows one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub share_accesses: usize,
    pub shares: usize,
    pub notifications: usize,
    pub corrections: usize,
    /// Windows of the shared limits (logins, share codes, resets) that have ended.
    pub allowance_windows: usize,
}

/// Deletes what has been kept longer than its retention period on `today` (parameters in force
/// that day). Run in a write transaction.
pub fn purge(
    conn: &mut DbConnection,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<Purged, AppError> {
    let params = InForce::read(conn, today)?.parameters;
    let days = |name| now - Duration::days(i64::from(params.int(name)));
    let shares =
        retention::purge_ended_shares(conn, days(crate::param!("retention.ended_shares_days")))?;
    let share_accesses = retention::purge_share_accesses(
        conn,
        days(crate::param!("retention.share_accesses_days")),
    )?;
    let notifications = retention::purge_settled_notifications(
        conn,
        days(crate::param!("retention.delivered_notifications_days")),
    )?;
    let corrections = retention::purge_decided_corrections(
        conn,
        days(crate::param!("retention.decided_corrections_days")),
    )?;
    let allowance_windows = crate::db::allowances::purge_ended(conn, now)?;
    Ok(Purged {
        share_accesses,
        shares,
        notifications,
        corrections,
        allowance_windows,
    })
}
