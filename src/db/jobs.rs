//! The durable job queue: rows written in the transaction of the change that needs the work,
//! claimed with a lease, settled when done.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::jobs;
use super::DbConnection;
use crate::domain::JobId;

crate::string_enum! {
    /// Where a job stands.
    JobStatus {
        /// Waiting for its time and a runner.
        Pending => "pending",
        /// Claimed by a runner, under a lease.
        Running => "running",
        Done => "done",
        /// Failed for good (its last error kept).
        Failed => "failed",
        /// Failed while the same work already waited again: that job does it.
        Superseded => "superseded",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: String,
    pub status: JobStatus,
    pub attempts: i32,
    pub due_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    pub dedupe_key: &'a str,
    pub status: JobStatus,
    pub attempts: i32,
    pub due_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Inserts the job unless one with the same key is pending (which will do the same work, as it
/// reads the data when it runs). Whether a row was added.
pub fn enqueue(conn: &mut DbConnection, job: &NewJob<'_>) -> QueryResult<bool> {
    crate::each_backend!(conn, c => diesel::insert_into(jobs::table)
        .values(job)
        .on_conflict_do_nothing()
        .execute(c))
    .map(|n| n > 0)
}

/// Inserts the job unless a job with the same key exists in any state (a daily run queued by
/// several processes is one). Whether a row was added.
pub fn enqueue_once(conn: &mut DbConnection, job: &NewJob<'_>) -> QueryResult<bool> {
    super::write_transaction(conn, |conn| {
        let exists: i64 = jobs::table
            .filter(jobs::dedupe_key.eq(job.dedupe_key))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(false);
        }
        enqueue(conn, job)
    })
}

/// Jobs by kind and state: waiting (`pending`, of which `due` now), `running`, `failed`.
pub fn counts(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, String, i64)>> {
    use diesel::dsl::count_star;
    let mut out: Vec<(String, String, i64)> = jobs::table
        .filter(jobs::status.eq_any([JobStatus::Pending, JobStatus::Running, JobStatus::Failed]))
        .group_by((jobs::kind, jobs::status))
        .select((jobs::kind, jobs::status, count_star()))
        .load(conn)?;
    let due: Vec<(String, i64)> = jobs::table
        .filter(jobs::status.eq(JobStatus::Pending))
        .filter(jobs::due_at.le(now))
        .group_by(jobs::kind)
        .select((jobs::kind, count_star()))
        .load(conn)?;
    out.extend(due.into_iter().map(|(kind, n)| (kind, "due".to_owned(), n)));
    Ok(out)
}

/// When each kind of job last finished successfully.
pub fn last_successes(
    conn: &mut DbConnection,
) -> QueryResult<Vec<(String, Option<NaiveDateTime>)>> {
    jobs::table
        .filter(jobs::status.eq(JobStatus::Done))
        .group_by(jobs::kind)
        .select((jobs::kind, diesel::dsl::max(jobs::finished_at)))
        .load(conn)
}

/// Claims the job due first: a pending one whose time has come, or a running one whose lease
/// ran out (its process died). Its lease runs until `lease_until`. Call outside a transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<JobRow>> {
    use jobs::dsl as j;
    super::write_transaction(conn, |conn| {
        let due = j::jobs
            .filter(
                j::status
                    .eq(JobStatus::Pending)
                    .and(j::due_at.le(now))
                    .or(j::status
                        .eq(JobStatus::Running)
                        .and(j::lease_until.is_null().or(j::lease_until.lt(now)))),
            )
            .order((j::due_at.asc(), j::id.asc()))
            .limit(1)
            .select(j::id);
        let id: Option<i64> = match conn {
            DbConnection::Postgres(c) => due.for_update().skip_locked().first(c).optional()?,
            DbConnection::Sqlite(c) => due.first(c).optional()?,
        };
        let Some(id) = id else {
            return Ok(None);
        };
        diesel::update(j::jobs.find(id))
            .set((
                j::status.eq(JobStatus::Running),
                j::lease_until.eq(Some(lease_until)),
                j::attempts.eq(j::attempts + 1),
            ))
            .execute(conn)?;
        j::jobs
            .find(id)
            .select(JobRow::as_select())
            .get_result(conn)
            .optional()
    })
}

/// How a claimed job ends.
pub enum Outcome<'a> {
    Done,
    /// Failed; due again at `at`.
    Retry {
        at: NaiveDateTime,
        error: &'a str,
    },
    /// Failed for good.
    Failed {
        error: &'a str,
    },
}

/// Ends the attempt of runner holding the job under `lease` (the `lease_until` of its claim).
/// Nothing happens when the job is no longer theirs (their lease ran out and another runner took
/// it over): whether it was settled. Call outside a transaction.
pub fn settle(
    conn: &mut DbConnection,
    id: JobId,
    lease: NaiveDateTime,
    outcome: Outcome<'_>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use jobs::dsl as j;
    let target = j::jobs
        .filter(j::id.eq(id))
        .filter(j::status.eq(JobStatus::Running))
        .filter(j::lease_until.eq(Some(lease)));
    match outcome {
        Outcome::Done => diesel::update(target)
            .set((
                j::status.eq(JobStatus::Done),
                j::lease_until.eq(None::<NaiveDateTime>),
                j::finished_at.eq(Some(now)),
            ))
            .execute(conn),
        Outcome::Failed { error } => diesel::update(target)
            .set((
                j::status.eq(JobStatus::Failed),
                j::lease_until.eq(None::<NaiveDateTime>),
                j::last_error.eq(Some(error)),
                j::finished_at.eq(Some(now)),
            ))
            .execute(conn),
        Outcome::Retry { at, error } => {
            let retried = super::write_transaction(conn, |conn| {
                diesel::update(target)
                    .set((
                        j::status.eq(JobStatus::Pending),
                        j::due_at.eq(at),
                        j::lease_until.eq(None::<NaiveDateTime>),
                        j::last_error.eq(Some(error)),
                    ))
                    .execute(conn)
            });
            match retried {
                // A job with the same key is already waiting: it does this one's work.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => diesel::update(target)
                    .set((
                        j::status.eq(JobStatus::Superseded),
                        j::lease_until.eq(None::<NaiveDateTime>),
                        j::last_error.eq(Some(error)),
                        j::finished_at.eq(Some(now)),
                    ))
                    .execute(conn),
                other => other,
            }
        }
    }
    .map(|n| n > 0)
}

/// Every job, newest first (for tests and operators).
pub fn recent(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .order(jobs::id.desc())
        .limit(limit)
        .select(JobRow::as_select())
        .load(conn)
}
