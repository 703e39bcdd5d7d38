//! Durable background work. A change that makes work for later (a parameter value, the
//! occupation catalog or a designation, which may move every learner's milestones; a cohort
//! import) writes a job in its own transaction, so the work is never lost to a restart; a
//! runner (in `serve` unless `SKILLPATH_JOBS_IN_SERVE=false`, and in `skillpath worker`) claims
//! due jobs with a lease, runs them, and retries failures with a growing delay.

use std::future::Future;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::config::AccountLinkSettings;
use crate::crypto::KeyVault;
use crate::db::jobs::{self, JobRow, JobStatus, NewJob, Outcome};
use crate::db::{self, Database, DbConnection};
use crate::domain::{CohortId, JobId, UserId};
use crate::error::AppError;
use crate::services::account_links::LinkContext;
use crate::services::eligibility::{recompute_all, recompute_cohort};

crate::string_enum! {
    /// What a job does.
    JobKind {
        RecomputeAll => "recompute_all",
        /// The recomputation of each day (time turns `upcoming` into `met`).
        DailyRecompute => "daily_recompute",
        RefreshCohort => "refresh_cohort",
        InviteEnrolled => "invite_enrolled",
        TargetsAtRisk => "targets_at_risk",
        /// Deleting what has been kept past its retention period (PIPL Art. 19), once a day.
        PurgeExpired => "purge_expired",
    }
}

/// A job with what it needs to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Every learner's milestones, after a change that may affect them all.
    RecomputeAll { reason: String },
    /// Every learner's milestones, once a day.
    DailyRecompute { day: NaiveDate },
    /// The milestones of a cohort's learners, after an import.
    RefreshCohort { cohort_id: CohortId },
    /// Invitations to the learners an import enrolled in a cohort (its enrollments, stamped
    /// `at`) who have an address and no account, sent in the importer's (`actor`'s) name.
    InviteEnrolled {
        cohort_id: CohortId,
        at: NaiveDateTime,
        actor: UserId,
    },
    /// After the third quarter, the notices of the targets designated institutions' paces
    /// leave short (policy 四), once a day.
    TargetsAtRisk { day: NaiveDate },
    /// HR's looks, ended shares and settled notifications past their retention periods, and the
    /// learners whose grace period after asking to be deleted has ended.
    PurgeExpired { day: NaiveDate },
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Job::RecomputeAll { .. } => JobKind::RecomputeAll,
            Job::DailyRecompute { .. } => JobKind::DailyRecompute,
            Job::RefreshCohort { .. } => JobKind::RefreshCohort,
            Job::InviteEnrolled { .. } => JobKind::InviteEnrolled,
            Job::TargetsAtRisk { .. } => JobKind::TargetsAtRisk,
            Job::PurgeExpired { .. } => JobKind::PurgeExpired,
        }
    }

    /// Jobs with the same key do the same work: while one waits, another is not added.
    fn dedupe_key(&self) -> String {
        match self {
            Job::RecomputeAll { .. } => "recompute_all".into(),
            Job::DailyRecompute { day } => format!("daily_recompute:{day}"),
            Job::RefreshCohort { cohort_id } => format!("refresh_cohort:{cohort_id}"),
            Job::InviteEnrolled { cohort_id, at, .. } => {
                format!("invite_enrolled:{cohort_id}:{at}")
            }
            Job::TargetsAtRisk { day } => format!("targets_at_risk:{day}"),
            Job::PurgeExpired { day } => format!("purge_expired:{day}"),
        }
    }
}

/// A failed job is tried this many times in all.
pub const MAX_ATTEMPTS: i32 = 5;
/// How long a claimed job is its runner's; past it, another runner may take it over.
const LEASE: Duration = Duration::from_secs(30 * 60);

/// Adds `job`, due now, in the caller's transaction (unless the same work already waits).
pub fn enqueue(conn: &mut DbConnection, job: &Job) -> Result<(), AppError> {
    write_job(conn, job, jobs::enqueue)
}

/// Adds `job` unless a job of the same key exists in any state (the daily run, which every
/// serving process queues).
pub fn enqueue_once(conn: &mut DbConnection, job: &Job) -> Result<(), AppError> {
    write_job(conn, job, jobs::enqueue_once)
}

fn write_job(
    conn: &mut DbConnection,
    job: &Job,
    insert: fn(&mut DbConnection, &NewJob<'_>) -> diesel::QueryResult<bool>,
) -> Result<(), AppError> {
    let payload = serde_json::to_string(job).map_err(|e| AppError::internal("job payload", e))?;
    let now = db::now();
    insert(
        conn,
        &NewJob {
            kind: job.kind().as_str(),
            payload: &payload,
            dedupe_key: &job.dedupe_key(),
            status: JobStatus::Pending,
            attempts: 0,
            due_at: now,
            created_at: now,
        },
    )?;
    Ok(())
}

/// What jobs need to run: the database, and the keys of the work that sends links.
#[derive(Clone)]
pub struct JobContext {
    pub db: Database,
    /// Seals the tokens of the invitations a job sends until their email goes out.
    pub link_vault: KeyVault,
    pub link_settings: AccountLinkSettings,
}

impl JobContext {
    fn links(&self) -> LinkContext<'_> {
        LinkContext {
            vault: &self.link_vault,
            settings: self.link_settings,
        }
    }
}

/// Runs the work of `job` (off the async runtime: it blocks).
fn perform(cx: &JobContext, job: &Job) -> Result<String, AppError> {
    let database = &cx.db;
    let today = crate::domain::today_in_shanghai();
    match job {
        Job::RecomputeAll { .. } | Job::DailyRecompute { .. } => {
            let summary = recompute_all(database, today)?;
            let why = match job {
                Job::DailyRecompute { day } => format!("daily ({day})"),
                Job::RecomputeAll { reason } => reason.clone(),
                Job::RefreshCohort { .. }
                | Job::InviteEnrolled { .. }
                | Job::TargetsAtRisk { .. }
                | Job::PurgeExpired { .. } => String::new(),
            };
            Ok(format!(
                "{why}: {} learners, {} events in {:.1} s",
                summary.learners, summary.events, summary.seconds
            ))
        }
        Job::RefreshCohort { cohort_id } => {
            let learners = recompute_cohort(database, *cohort_id)?;
            Ok(format!("cohort {cohort_id}: {learners} learners"))
        }
        Job::TargetsAtRisk { day } => {
            let mut conn = database.get()?;
            let sent = crate::db::write_transaction(&mut conn, |conn| {
                crate::services::targets::warn_at_risk(conn, *day)
            })?;
            Ok(format!("targets at risk ({day}): {sent} notice(s)"))
        }
        Job::PurgeExpired { day } => {
            let mut conn = database.get()?;
            let purged = crate::db::write_transaction(&mut conn, |conn| {
                crate::services::personal_data::retention::purge(conn, *day, db::now())
            })?;
            let erased = crate::services::personal_data::erasure::erase_due(database, db::now())?;
            Ok(format!(
                "purged ({day}): {} share access(es), {} share(s), {} notification(s), {} decided correction request(s), {} ended limit window(s); {erased} learner(s) erased after their grace period",
                purged.share_accesses,
                purged.shares,
                purged.notifications,
                purged.corrections,
                purged.allowance_windows
            ))
        }
        Job::InviteEnrolled {
            cohort_id,
            at,
            actor,
        } => {
            use crate::services::account_links::{invite_enrolled, ImportInvitations};
            Ok(
                match invite_enrolled(database, cx.links(), *cohort_id, *at, *actor)? {
                    ImportInvitations::Sent(n) => format!("cohort {cohort_id}: {n} invited"),
                    ImportInvitations::ImporterGone => format!(
                        "cohort {cohort_id}: none invited, the importer's account is disabled \
or no longer manages the cohort"
                    ),
                },
            )
        }
    }
}

/// The delay before the `attempt`-th try again: 10 s, 40 s, 90 s, … at most an hour.
fn retry_delay(attempt: i32) -> chrono::Duration {
    let attempt = i64::from(attempt.max(1));
    chrono::Duration::seconds((10 * attempt * attempt).min(3600))
}

/// What running one due job came to: `None` when nothing was due.
#[derive(Debug)]
pub struct Ran {
    pub id: JobId,
    /// `None` for a kind this version does not know.
    pub kind: Option<JobKind>,
    pub outcome: Result<String, String>,
}

/// Claims and runs the job due first, if any. Blocking; call outside a transaction.
pub fn run_one(cx: &JobContext) -> Result<Option<Ran>, AppError> {
    let database = &cx.db;
    let now = db::now();
    let lease = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let mut conn = database.get()?;
    let Some(row) = jobs::claim_due(&mut conn, now, lease)? else {
        return Ok(None);
    };
    drop(conn);
    let kind = row.kind.parse::<JobKind>();
    let outcome = if row.attempts > MAX_ATTEMPTS {
        // Claimed again and again after its runner stopped (killed, out of memory): given up.
        Err(format!(
            "given up after {} claims: its runner stopped each time",
            MAX_ATTEMPTS
        ))
    } else {
        kind.clone()
            .map_err(|e| format!("kind '{}': {e}", row.kind))
            .and_then(|_| decode(&row))
            .and_then(|job| perform(cx, &job).map_err(|e| format!("{e:#}")))
    };
    let mut conn = database.get()?;
    let now = db::now();
    let settled = match &outcome {
        Ok(summary) => {
            tracing::info!(job = %row.id, kind = %row.kind, summary = %summary, "job done");
            jobs::settle(&mut conn, row.id, lease, Outcome::Done, now)?
        }
        Err(error) if row.attempts >= MAX_ATTEMPTS || kind.is_err() => {
            tracing::error!(job = %row.id, kind = %row.kind, error = %error, "job failed for good");
            jobs::settle(&mut conn, row.id, lease, Outcome::Failed { error }, now)?
        }
        Err(error) => {
            tracing::warn!(job = %row.id, kind = %row.kind, error = %error, attempt = row.attempts, "job failed; will retry");
            let at = now + retry_delay(row.attempts);
            jobs::settle(&mut conn, row.id, lease, Outcome::Retry { at, error }, now)?
        }
    };
    if !settled {
        // Its lease ran out while it ran: another runner took it over and settles it.
        tracing::warn!(job = %row.id, kind = %row.kind, "job outlived its lease; left to the runner that took it over");
    }
    Ok(Some(Ran {
        id: row.id,
        kind: kind.ok(),
        outcome,
    }))
}

fn decode(row: &JobRow) -> Result<Job, String> {
    serde_json::from_str(&row.payload).map_err(|e| format!("payload: {e}"))
}

/// Runs due jobs until `stop` resolves, looking for new ones every `poll`.
pub async fn run(cx: JobContext, poll: Duration, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let job_cx = cx.clone();
        let ran = tokio::task::spawn_blocking(move || run_one(&job_cx)).await;
        let busy = match ran {
            Ok(Ok(Some(_))) => true,
            Ok(Ok(None)) => false,
            Ok(Err(err)) => {
                tracing::error!(error = ?err, "claiming a job failed");
                false
            }
            Err(err) => {
                tracing::error!(error = %err, "job runner task failed");
                false
            }
        };
        if busy {
            continue;
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// When the daily recomputation runs: ten past midnight in Shanghai, once the date has turned
/// (time passing turns `upcoming` into `met` and closes windows).
const DAILY_AT: (u32, u32) = (0, 10);

/// Queues the recomputation of every learner each day at `DAILY_AT`, for as long as the process
/// serves (several processes queue one job a day between them).
pub async fn queue_daily(database: Database) {
    loop {
        let now = chrono::Utc::now().with_timezone(&crate::domain::SHANGHAI);
        let today_run = now
            .date_naive()
            .and_hms_opt(DAILY_AT.0, DAILY_AT.1, 0)
            .unwrap_or(now.naive_local());
        let next = if now.naive_local() < today_run {
            today_run
        } else {
            today_run + chrono::Duration::days(1)
        };
        let wait = (next - now.naive_local())
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(60));
        tokio::time::sleep(wait).await;
        let db = database.clone();
        let day = crate::domain::today_in_shanghai();
        let queued = tokio::task::spawn_blocking(move || -> Result<(), AppError> {
            let mut conn = db.get()?;
            enqueue_once(&mut conn, &Job::DailyRecompute { day })?;
            enqueue_once(&mut conn, &Job::TargetsAtRisk { day })?;
            enqueue_once(&mut conn, &Job::PurgeExpired { day })
        })
        .await;
        match queued {
            Ok(Ok(())) => tracing::info!("daily milestone recomputation queued"),
            Ok(Err(err)) => {
                tracing::error!(error = ?err, "queueing the daily recomputation failed")
            }
            Err(err) => tracing::error!(error = %err, "queueing the daily recomputation failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_and_keys_coalesce_like_work() {
        let all = Job::RecomputeAll {
            reason: "parameter value added".into(),
        };
        let json = serde_json::to_string(&all).unwrap();
        assert_eq!(serde_json::from_str::<Job>(&json).unwrap(), all);
        let other_reason = Job::RecomputeAll {
            reason: "occupation added".into(),
        };
        assert_eq!(all.dedupe_key(), other_reason.dedupe_key());
        let a = Job::RefreshCohort {
            cohort_id: CohortId(1),
        };
        let b = Job::RefreshCohort {
            cohort_id: CohortId(2),
        };
        assert_ne!(a.dedupe_key(), b.dedupe_key());
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(retry_delay(1), chrono::Duration::seconds(10));
        assert!(retry_delay(2) > retry_delay(1));
        assert_eq!(retry_delay(100), chrono::Duration::seconds(3600));
    }
}
