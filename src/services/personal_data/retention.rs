//! Limited retention (PIPL Art. 19): HR's looks, ended shares and settled email notifications
//! are deleted, and decided correction requests emptied of their values and reasons, once their
//! retention period (a parameter each) has passed, by the daily durable job `purge_expired`.

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
    let corrections = forget_decided_corrections(
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

/// Empties the correction requests decided before `before` of their values and reasons; each
/// stays, with the fields it named, as the record that it was made and decided (its number is
/// what the audit entries about it name, and is never given to another request).
fn forget_decided_corrections(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> Result<usize, AppError> {
    let due = retention::decided_corrections_to_forget(conn, before)?;
    for (id, changes, current_values) in &due {
        retention::forget_correction(
            conn,
            *id,
            &fields_without_values(changes),
            &fields_without_values(current_values),
        )?;
    }
    Ok(due.len())
}

/// A JSON object's fields with null values (`{}` for anything else).
fn fields_without_values(json: &str) -> String {
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .ok()
        .and_then(|value| super::corrections::fields_of(&value).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|name| (name, serde_json::Value::Null))
        .collect();
    serde_json::Value::Object(fields).to_string()
}

#[cfg(test)]
mod tests {
    use super::fields_without_values;

    #[test]
    fn a_forgotten_request_keeps_its_fields_not_their_values() {
        assert_eq!(
            fields_without_values(r#"{"name":"王芳芳","birth_date":"2001-02-03"}"#),
            r#"{"birth_date":null,"name":null}"#
        );
        assert_eq!(fields_without_values("not json"), "{}");
    }
}
