//! Between the records and the pure rules engine: loads a learner's facts and the parameters,
//! computes milestones, stores them with the events of their changes, and orders next steps.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::learners::split_codes;
use crate::db::milestones::{self, NewEvent, StoredMilestone, StoredState};
use crate::db::{self, certificates, institutions, learners, occupations, records, DbConnection};
use crate::error::{parse_stored, ApiError};
use crate::rules::facts::{
    AwardFact, CertificateFact, EmploymentFact, EnrollmentFact, InstitutionFact, LearnerFacts,
    OccupationFact,
};
use crate::rules::params::ParameterValue;
use crate::rules::{self, Facts, Milestone, Parameters, Status, Text};

/// Every stored parameter value.
pub fn parameter_values(conn: &mut DbConnection) -> Result<Vec<ParameterValue>, ApiError> {
    Ok(milestones::all_parameters(conn)?
        .iter()
        .map(|r| r.to_value())
        .collect())
}

/// The stored parameter values, read again only when `rule_parameters` has changed.
///
/// The table is append-only (a new value supersedes an old one by its effective dates; the API
/// never updates or deletes a row, and an edit by hand needs a restart), so its row count,
/// highest id and latest creation time tell whether anything was added since the last read: one small
/// query per request instead of loading and parsing every value. The parameters in force on the
/// last date asked for are kept too (nearly every request asks for today). One cache per database.
#[derive(Default)]
pub struct ParameterCache(Mutex<Option<CachedParameters>>);

struct CachedParameters {
    marker: milestones::ParametersMarker,
    values: Arc<Vec<ParameterValue>>,
    in_force: Option<(NaiveDate, Arc<Parameters>)>,
}

impl ParameterCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedParameters>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The parameters in force on `as_of`.
    pub fn in_force(
        &self,
        conn: &mut DbConnection,
        as_of: NaiveDate,
    ) -> Result<Arc<Parameters>, ApiError> {
        // The marker is read before the values: values newer than their marker only cause one
        // more read later, never a stale answer.
        let marker = milestones::parameters_marker(conn)?;
        let cached_values = match self.lock().as_ref().filter(|c| c.marker == marker) {
            Some(cached) => match &cached.in_force {
                Some((date, params)) if *date == as_of => return Ok(Arc::clone(params)),
                _ => Some(Arc::clone(&cached.values)),
            },
            None => None,
        };
        let values = match cached_values {
            Some(values) => values,
            None => Arc::new(parameter_values(conn)?),
        };
        let params = Arc::new(Parameters::in_force(&values, as_of));
        *self.lock() = Some(CachedParameters {
            marker,
            values,
            in_force: Some((as_of, Arc::clone(&params))),
        });
        Ok(params)
    }
}

/// The facts of one learner, as the rules read them.
pub fn load_facts(conn: &mut DbConnection, learner_id: i64) -> Result<Facts, ApiError> {
    load_facts_many(conn, &[learner_id])?
        .remove(&learner_id)
        .ok_or(ApiError::NotFound { what: "learner" })
}

/// The facts of many learners in a fixed number of queries (one per kind of record), whatever
/// their number: what batch recomputation needs.
pub fn load_facts_many(
    conn: &mut DbConnection,
    learner_ids: &[i64],
) -> Result<HashMap<i64, Facts>, ApiError> {
    let learners = learners::find_many(conn, learner_ids)?;
    let certificates = certificates::of_learners(conn, learner_ids)?;
    facts_of(conn, &learners, &certificates)
}

/// The facts of learners whose rows and certificates are already loaded; the other records are
/// loaded here.
pub fn facts_of(
    conn: &mut DbConnection,
    learners: &[learners::LearnerRow],
    certificates: &[certificates::CertificateRow],
) -> Result<HashMap<i64, Facts>, ApiError> {
    let learner_ids: Vec<i64> = learners.iter().map(|l| l.id).collect();
    let learner_ids = learner_ids.as_slice();
    let mut out: HashMap<i64, Facts> = HashMap::new();
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for learner in learners {
        codes.extend(split_codes(&learner.education_occupation_codes));
        let facts_learner = LearnerFacts {
            kind: parse_stored(&learner.kind)?,
            hukou: learner.hukou.as_deref().map(parse_stored).transpose()?,
            residence_permit_since: learner.residence_permit_since,
            social_insurance_since: learner.social_insurance_since,
            income_tax_in_shanghai: learner.income_tax_in_shanghai,
            insurance_base_at_least_average_6_of_12: learner
                .insurance_base_at_least_average_6_of_12,
            education_level: learner
                .education_level
                .as_deref()
                .map(parse_stored)
                .transpose()?,
            education_occupations: split_codes(&learner.education_occupation_codes),
        };
        out.insert(
            learner.id,
            Facts {
                learner: facts_learner,
                ..Facts::default()
            },
        );
    }
    for c in certificates {
        codes.insert(c.occupation_code.clone());
        if let Some(facts) = out.get_mut(&c.learner_id) {
            facts.certificates.push(CertificateFact {
                id: Some(c.id),
                kind: parse_stored(&c.kind)?,
                level: parse_stored(&c.level)?,
                occupation: c.occupation_code.clone(),
                issued_on: c.issued_on,
                status: parse_stored(&c.status)?,
            });
        }
    }
    let enrollment_rows = records::enrollments_of_learners(conn, learner_ids)?;
    let program_ids: Vec<i64> = enrollment_rows
        .iter()
        .map(|e| e.program_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let programs: HashMap<i64, institutions::ProgramRow> =
        institutions::find_programs(conn, &program_ids)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let mut related: HashMap<i64, Vec<String>> = HashMap::new();
    for (program_id, code) in institutions::related_occupations(conn, &program_ids)? {
        related.entry(program_id).or_default().push(code);
    }
    let institution_ids: Vec<i64> = programs
        .values()
        .map(|p| p.institution_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut designations: HashMap<i64, Vec<(NaiveDate, Option<NaiveDate>)>> = HashMap::new();
    for d in institutions::designations_of_many(conn, &institution_ids)? {
        designations
            .entry(d.institution_id)
            .or_default()
            .push((d.designated_from, d.designated_until));
    }
    let mut institution_facts: HashMap<i64, InstitutionFact> = HashMap::new();
    for row in institutions::find_many(conn, &institution_ids)? {
        institution_facts.insert(
            row.id,
            InstitutionFact {
                id: row.id,
                name: row.name,
                kind: parse_stored(&row.kind)?,
                assessed: row.assessed,
                designations: designations.remove(&row.id).unwrap_or_default(),
            },
        );
    }
    for e in enrollment_rows {
        let program = programs
            .get(&e.program_id)
            .ok_or(ApiError::NotFound { what: "program" })?;
        let institution = institution_facts
            .get(&program.institution_id)
            .cloned()
            .ok_or(ApiError::NotFound {
                what: "institution",
            })?;
        let related = related.get(&program.id).cloned().unwrap_or_default();
        codes.insert(program.occupation_code.clone());
        codes.extend(related.iter().cloned());
        if let Some(facts) = out.get_mut(&e.learner_id) {
            facts.enrollments.push(EnrollmentFact {
                id: e.id,
                institution,
                program_name: program.name.clone(),
                program_occupation: program.occupation_code.clone(),
                related_occupations: related,
                start: e.start_date,
                end: e.end_date,
                full_time: e.full_time,
                status: parse_stored(&e.status)?,
                class_type: parse_stored(&e.class_type)?,
            });
        }
    }
    for e in records::employments_of_learners(conn, learner_ids)? {
        codes.insert(e.occupation_code.clone());
        if let Some(facts) = out.get_mut(&e.learner_id) {
            facts.employments.push(EmploymentFact {
                id: Some(e.id),
                employer: e.employer_name,
                occupation: e.occupation_code,
                start: e.start_date,
                end: e.end_date,
                in_shanghai: e.in_shanghai,
                frontline: e.frontline,
                dedicated_trainer: e.dedicated_trainer,
            });
        }
    }
    for a in records::awards_of_learners(conn, learner_ids)? {
        if let Some(facts) = out.get_mut(&a.learner_id) {
            facts.awards.push(AwardFact {
                kind: parse_stored(&a.kind)?,
                awarded_on: a.awarded_on,
            });
        }
    }
    let catalog = occupation_facts(conn, codes)?;
    for facts in out.values_mut() {
        let mentioned: BTreeSet<&str> = facts
            .certificates
            .iter()
            .map(|c| c.occupation.as_str())
            .chain(facts.employments.iter().map(|e| e.occupation.as_str()))
            .chain(facts.enrollments.iter().flat_map(|e| e.occupations()))
            .chain(
                facts
                    .learner
                    .education_occupations
                    .iter()
                    .map(String::as_str),
            )
            .collect();
        facts.occupations = mentioned
            .into_iter()
            .filter_map(|code| catalog.get(code).map(|o| (code.to_owned(), o.clone())))
            .collect();
    }
    Ok(out)
}

fn occupation_facts(
    conn: &mut DbConnection,
    codes: BTreeSet<String>,
) -> Result<crate::rules::fast_map::FastMap<String, OccupationFact>, ApiError> {
    let codes: Vec<String> = codes.into_iter().collect();
    Ok(occupations::find_many(conn, &codes)?
        .into_iter()
        .map(|row| {
            (
                row.code,
                OccupationFact {
                    name: row.name,
                    high_skill_catalog: row.high_skill_catalog,
                    technician_catalog: row.technician_catalog,
                    priority_industry: row.priority_industry,
                },
            )
        })
        .collect())
}

/// Loads the catalog flags of `codes` into the facts.
pub fn add_occupations(
    conn: &mut DbConnection,
    facts: &mut Facts,
    codes: BTreeSet<String>,
) -> Result<(), ApiError> {
    let missing: BTreeSet<String> = codes
        .into_iter()
        .filter(|c| !facts.occupations.contains_key(c))
        .collect();
    facts.occupations.extend(occupation_facts(conn, missing)?);
    Ok(())
}

/// A learner's milestones on `as_of`, under the parameters in force that day.
pub fn compute(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: i64,
    as_of: NaiveDate,
) -> Result<(Vec<Milestone>, String), ApiError> {
    let facts = load_facts(conn, learner_id)?;
    evaluate(conn, parameters, &facts, as_of)
}

/// Milestones of loaded facts on `as_of`, under the parameters in force that day.
pub fn evaluate(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    facts: &Facts,
    as_of: NaiveDate,
) -> Result<(Vec<Milestone>, String), ApiError> {
    let params = parameters.in_force(conn, as_of)?;
    Ok((
        rules::evaluate(facts, &params, as_of),
        params.version.clone(),
    ))
}

/// The kind of change between a stored milestone and a new one: every change of status is an
/// event (and every move of an open milestone's date). Losing what the learner held — met,
/// upcoming or achieved — is `lost`, which they are told; a move of a stored milestone between
/// two statuses that give the learner nothing (`not_met`, `needs_info`, `not_applicable`,
/// `lapsed`, absent) is `changed`, recorded without a notice. A milestone computed for the first
/// time is an event only when it gives something (met, upcoming, achieved).
pub fn change(before: Option<&Milestone>, after: Option<&Milestone>) -> Option<&'static str> {
    let b = before.map(|m| m.status);
    let a = after.map(|m| m.status);
    let was_open = matches!(b, Some(Status::Met | Status::Upcoming | Status::Achieved));
    match a {
        Some(Status::Met) if b != Some(Status::Met) => Some("newly_met"),
        Some(Status::Upcoming) if b != Some(Status::Upcoming) => Some("newly_upcoming"),
        Some(Status::Achieved) if b != Some(Status::Achieved) => Some("achieved"),
        Some(Status::Lapsed) if b != Some(Status::Lapsed) => Some("lapsed"),
        Some(Status::Met | Status::Upcoming)
            if before.map(|m| m.eligible_from) != after.map(|m| m.eligible_from) =>
        {
            Some("date_moved")
        }
        Some(Status::NotMet | Status::NeedsInfo | Status::NotApplicable) | None if was_open => {
            Some("lost")
        }
        _ if b.is_some() && a != b => Some("changed"),
        _ => None,
    }
}

/// Recomputes the milestones of `learner_ids` as of `today`, stores them and records an event
/// for each change, in a fixed number of queries for the whole batch. Run inside the write
/// transaction of the change that caused it.
pub fn refresh(
    conn: &mut DbConnection,
    learner_ids: &[i64],
    params: &Parameters,
    today: NaiveDate,
) -> Result<usize, ApiError> {
    refresh_with(conn, learner_ids, params, today, Vec::new())
}

/// `refresh`, writing `notices` (of the change that caused it) together with those of the
/// milestone events: one set of statements for all of them.
pub fn refresh_with(
    conn: &mut DbConnection,
    learner_ids: &[i64],
    params: &Parameters,
    today: NaiveDate,
    notices: Vec<crate::notify::Notice<'_>>,
) -> Result<usize, ApiError> {
    learners::lock(conn, learner_ids)?;
    let facts = load_facts_many(conn, learner_ids)?;
    // Stored milestones are compared by their columns; payloads (with their traces, the bulk of
    // the table) are read and parsed only for what changed.
    let mut previous: HashMap<(i64, String), StoredState> =
        milestones::stored_states(conn, learner_ids)?
            .into_iter()
            .map(|s| ((s.learner_id, s.milestone_key.clone()), s))
            .collect();
    let now = db::now();
    let mut changed: Vec<(i64, Milestone, bool)> = Vec::new();
    for (&learner_id, learner_facts) in &facts {
        for m in rules::evaluate(learner_facts, params, today) {
            let stored = previous.remove(&(learner_id, m.key.clone()));
            // The same status, date and parameters: no event, and the stored row stands.
            let unchanged = stored.as_ref().is_some_and(|s| {
                s.status == m.status.as_str()
                    && s.eligible_from == m.eligible_from
                    && *s.parameters_version == *m.parameters_version
            });
            if !unchanged {
                changed.push((learner_id, m, stored.is_some()));
            }
        }
    }
    // What is left of the stored milestones has vanished.
    let vanished: Vec<(i64, String)> = previous.into_keys().collect();
    let mut stale: Vec<(i64, String)> = changed
        .iter()
        .filter(|(_, _, was_stored)| *was_stored)
        .map(|(learner_id, m, _)| (*learner_id, m.key.clone()))
        .collect();
    stale.extend(vanished.iter().cloned());
    let befores: HashMap<(i64, String), Milestone> = milestones::payloads(conn, &stale)?
        .into_iter()
        .filter_map(|(learner_id, key, payload)| {
            Some((
                (learner_id, key),
                serde_json::from_str::<Milestone>(&payload).ok()?,
            ))
        })
        .collect();
    let json = |m: Option<&Milestone>| m.and_then(|m| serde_json::to_string(m).ok());
    let mut events = Vec::new();
    let mut rows = Vec::new();
    for (learner_id, m, _) in &changed {
        let before = befores.get(&(*learner_id, m.key.clone()));
        if let Some(kind) = change(before, Some(m)) {
            events.push(NewEvent {
                learner_id: *learner_id,
                milestone_key: m.key.clone(),
                rule_id: m.rule_id.to_string(),
                event: kind.into(),
                before: json(before),
                after: json(Some(m)),
                created_at: now,
            });
        }
        rows.push(StoredMilestone {
            learner_id: *learner_id,
            milestone_key: m.key.clone(),
            rule_id: m.rule_id.to_string(),
            status: m.status.as_str().into(),
            eligible_from: m.eligible_from,
            payload: serde_json::to_string(m).map_err(|e| ApiError::internal("milestone", e))?,
            parameters_version: m.parameters_version.to_string(),
            computed_at: now,
        });
    }
    for (learner_id, key) in vanished {
        let old = befores.get(&(learner_id, key.clone()));
        if let Some(kind) = old.and_then(|old| change(Some(old), None)) {
            events.push(NewEvent {
                learner_id,
                milestone_key: key,
                rule_id: old.map(|o| o.rule_id.to_string()).unwrap_or_default(),
                event: kind.into(),
                before: json(old),
                after: None,
                created_at: now,
            });
        }
    }
    events.sort_by(|a, b| (a.learner_id, &a.milestone_key).cmp(&(b.learner_id, &b.milestone_key)));
    milestones::replace_some(conn, &stale, &rows)?;
    milestones::insert_events(conn, &events)?;
    let reminder_days = params.days("notify.reminder_days");
    crate::metrics::producing(|| {
        notify_events(conn, &events, notices, &reminder_days, today, now)
    })?;
    Ok(events.len())
}

/// Puts a notification in the outbox for each milestone event, and moves the milestone's
/// reminders with it, in the same transaction.
fn notify_events<'a>(
    conn: &mut DbConnection,
    events: &'a [NewEvent],
    caused: Vec<crate::notify::Notice<'a>>,
    reminder_days: &[u32],
    today: NaiveDate,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    if events.is_empty() && caused.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = events
        .iter()
        .map(|e| e.learner_id)
        .chain(caused.iter().filter_map(|n| n.recipient.learner_id()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let crate::notify::Contacts {
        emails,
        preferences,
    } = crate::notify::contacts(conn, &ids)?;
    let mut notices: Vec<crate::notify::Notice<'_>> = caused;
    let parse = |json: &Option<String>| {
        json.as_deref()
            .and_then(|j| serde_json::from_str::<Milestone>(j).ok())
    };
    for event in events {
        let (before, after) = (parse(&event.before), parse(&event.after));
        let email = emails.get(&event.learner_id).map(String::as_str);
        notices.extend(crate::notify::reminders::follow_change(
            conn,
            event.learner_id,
            email,
            before.as_ref(),
            after.as_ref(),
            reminder_days,
            today,
            now,
        )?);
        let Some(message) =
            crate::notify::milestone_message(&event.event, before.as_ref(), after.as_ref())
        else {
            continue;
        };
        let date = after
            .as_ref()
            .and_then(|m| m.eligible_from)
            .map_or_else(|| "-".to_owned(), |d| d.to_string());
        notices.push(crate::notify::Notice {
            recipient: crate::notify::Recipient::Learner(event.learner_id),
            email,
            // The same change recorded twice on one day (two recomputations racing) is one notice.
            event_key: format!(
                "milestone:{}:{}:{date}:{today}",
                event.milestone_key, event.event
            ),
            category: crate::notify::Category::Milestone,
            kind: &event.event,
            message,
            due_at: None,
        });
    }
    crate::notify::produce_many(conn, &notices, &preferences, now)
}

/// `refresh` with the parameters in force today: what every write of a learner's facts calls.
pub fn refresh_now(conn: &mut DbConnection, learner_id: i64) -> Result<usize, ApiError> {
    refresh_now_with(conn, learner_id, Vec::new())
}

/// `refresh_now`, writing the notices of the change that caused it together with its own.
pub fn refresh_now_with(
    conn: &mut DbConnection,
    learner_id: i64,
    notices: Vec<crate::notify::Notice<'_>>,
) -> Result<usize, ApiError> {
    let today = crate::domain::today_in_shanghai();
    let params = Parameters::in_force(&parameter_values(conn)?, today);
    refresh_with(conn, &[learner_id], &params, today, notices)
}

/// What a recomputation of every learner did.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecomputeSummary {
    pub learners: u64,
    pub events: u64,
    pub seconds: f64,
}

/// Stored milestones, their events and their notices are statements about today: a learner reads
/// them as such. A recomputation for another date would store (and announce) what is not true
/// today, so it is refused; milestones on another date are answered, never stored, by
/// `GET /learners/{id}/milestones?as_of=`.
pub fn check_recompute_date(as_of: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if as_of == today {
        Ok(())
    } else {
        Err(format!(
            "--as-of {as_of}: stored milestones and their notices are today's ({today}); \
milestones on another date are answered without being stored by \
GET /api/v1/learners/{{id}}/milestones?as_of={as_of}"
        ))
    }
}

/// Recomputes every learner's milestones as of `today`, a batch per transaction.
pub fn recompute_all(
    database: &db::Database,
    today: NaiveDate,
) -> Result<RecomputeSummary, ApiError> {
    const BATCH: i64 = 200;
    check_recompute_date(today, crate::domain::today_in_shanghai())
        .map_err(|refusal| ApiError::internal("recomputation", refusal))?;
    let started = std::time::Instant::now();
    let mut conn = database.get()?;
    // The batches look stored milestones up by learner: plans need current statistics.
    db::analyze(&mut conn, &["learner_milestones"])?;
    let params = Parameters::in_force(&parameter_values(&mut conn)?, today);
    let mut summary = RecomputeSummary::default();
    let mut after = 0;
    loop {
        let ids = milestones::learner_ids_after(&mut conn, after, BATCH)?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let events = db::write_transaction(&mut conn, |conn| refresh(conn, &ids, &params, today))?;
        summary.learners += ids.len() as u64;
        summary.events += events as u64;
        after = last;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Runs `recompute_all` off the HTTP workers after a change that may affect every learner
/// (a parameter value, a designation, the occupation catalog).
pub fn recompute_all_in_background(database: db::Database, reason: &'static str) {
    actix_web::rt::spawn(async move {
        let today = crate::domain::today_in_shanghai();
        match actix_web::web::block(move || recompute_all(&database, today)).await {
            Ok(Ok(summary)) => tracing::info!(
                reason,
                learners = summary.learners,
                events = summary.events,
                seconds = summary.seconds,
                "milestones recomputed"
            ),
            Ok(Err(err)) => tracing::error!(reason, error = ?err, "recomputing milestones failed"),
            Err(err) => tracing::error!(reason, error = %err, "recomputing milestones failed"),
        }
    });
}

/// When the daily recomputation runs: ten past midnight in Shanghai, once the date has turned
/// (time passing turns `upcoming` into `met` and closes windows).
const DAILY_AT: (u32, u32) = (0, 10);

/// Runs `recompute_all` every day at `DAILY_AT`, for as long as the process serves.
pub async fn run_daily(database: db::Database) {
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
        let today = crate::domain::today_in_shanghai();
        match tokio::task::spawn_blocking(move || recompute_all(&db, today)).await {
            Ok(Ok(summary)) => tracing::info!(
                learners = summary.learners,
                events = summary.events,
                seconds = summary.seconds,
                "daily milestone recomputation"
            ),
            Ok(Err(err)) => tracing::error!(error = ?err, "daily milestone recomputation failed"),
            Err(err) => tracing::error!(error = %err, "daily milestone recomputation failed"),
        }
    }
}

/// Recomputes the milestones of a cohort's learners off the HTTP workers (after an import).
pub fn refresh_cohort_in_background(database: db::Database, cohort_id: i64) {
    actix_web::rt::spawn(async move {
        let outcome = actix_web::web::block(move || -> Result<usize, ApiError> {
            let mut conn = database.get()?;
            let ids = milestones::learner_ids_of_cohort(&mut conn, cohort_id)?;
            let today = crate::domain::today_in_shanghai();
            let params = Parameters::in_force(&parameter_values(&mut conn)?, today);
            for chunk in ids.chunks(200) {
                db::write_transaction(&mut conn, |conn| refresh(conn, chunk, &params, today))?;
            }
            Ok(ids.len())
        })
        .await;
        match outcome {
            Ok(Ok(count)) => {
                tracing::info!(cohort_id, learners = count, "cohort milestones recomputed")
            }
            Ok(Err(err)) => {
                tracing::error!(cohort_id, error = ?err, "recomputing cohort milestones failed")
            }
            Err(err) => {
                tracing::error!(cohort_id, error = %err, "recomputing cohort milestones failed")
            }
        }
    });
}

crate::string_enum! {
    /// What a next step asks of the learner.
    StepKind {
        /// Eligible now: apply (before the window closes, if it does).
        ApplyNow => "apply_now",
        /// A fact is missing: record it.
        ProvideInfo => "provide_info",
        /// Only time is missing: eligible on the date.
        WaitUntil => "wait_until",
        /// Work towards the missing conditions.
        WorkTowards => "work_towards",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NextStep {
    pub kind: StepKind,
    pub rule_id: String,
    pub milestone_key: String,
    pub title: Text,
    /// The date that matters: when eligibility opens, or when an open window closes.
    pub date: Option<NaiveDate>,
    pub text: Text,
}

/// The learner's next steps, the single most useful first: an open window closing soonest, then
/// facts to record, then what opens soonest, then the goals still to work towards.
pub fn next_steps(milestones: &[Milestone]) -> Vec<NextStep> {
    let mut steps: Vec<(u8, Option<NaiveDate>, NextStep)> = Vec::new();
    for m in milestones {
        let target = m.target_label.clone().unwrap_or_else(|| m.title.clone());
        let (rank, kind, date, text) = match m.status {
            Status::Met => (
                0,
                StepKind::ApplyNow,
                m.open_until,
                match m.open_until {
                    Some(until) => Text::new(
                        format!("现在即可申请：{}（{}前）", target.zh, until),
                        format!("Apply now: {} (before {until})", target.en),
                    ),
                    None => Text::new(
                        format!("现在即可申请：{}", target.zh),
                        format!("Apply now: {}", target.en),
                    ),
                },
            ),
            Status::NeedsInfo => (
                1,
                StepKind::ProvideInfo,
                None,
                Text::new(
                    format!(
                        "补充信息：{}",
                        m.missing
                            .iter()
                            .map(|t| t.zh.as_ref())
                            .collect::<Vec<_>>()
                            .join("；")
                    ),
                    format!(
                        "Record: {}",
                        m.missing
                            .iter()
                            .map(|t| t.en.as_ref())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ),
            ),
            Status::Upcoming => (
                2,
                StepKind::WaitUntil,
                m.eligible_from,
                Text::new(
                    format!(
                        "{}起可申请：{}",
                        m.eligible_from.map(|d| d.to_string()).unwrap_or_default(),
                        target.zh
                    ),
                    format!(
                        "From {}: {}",
                        m.eligible_from.map(|d| d.to_string()).unwrap_or_default(),
                        target.en
                    ),
                ),
            ),
            Status::NotMet => (
                3,
                StepKind::WorkTowards,
                None,
                Text::new(
                    format!(
                        "{}：{}",
                        target.zh,
                        m.missing
                            .iter()
                            .map(|t| t.zh.as_ref())
                            .collect::<Vec<_>>()
                            .join("；")
                    ),
                    format!(
                        "{}: {}",
                        target.en,
                        m.missing
                            .iter()
                            .map(|t| t.en.as_ref())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ),
            ),
            _ => continue,
        };
        let sort_date = date.or(m.eligible_from);
        steps.push((
            rank,
            sort_date,
            NextStep {
                kind,
                rule_id: m.rule_id.to_string(),
                milestone_key: m.key.clone(),
                title: m.title.clone(),
                date,
                text,
            },
        ));
    }
    // Within a rank, dated steps first, earliest first; undated after (stable otherwise).
    steps.sort_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| match (a.1, b.1) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
    });
    steps.into_iter().map(|(_, _, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Citation;

    #[test]
    fn only_today_is_recomputed() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert!(super::check_recompute_date(today, today).is_ok());
        let later = NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
        let refusal = super::check_recompute_date(later, today).unwrap_err();
        assert!(refusal.contains("as_of=2027-06-30"), "{refusal}");
        assert!(super::check_recompute_date(today.pred_opt().unwrap(), today).is_err());
    }

    /// Every stored change of status, and every move of an open milestone's date, is an event;
    /// losing what was held is one the learner is told of.
    #[test]
    fn every_change_of_status_has_its_event() {
        let statuses: Vec<Option<Status>> = std::iter::once(None)
            .chain(Status::ALL.iter().copied().map(Some))
            .collect();
        for before in &statuses {
            for after in &statuses {
                for (from_before, from_after) in [
                    (Some("2025-01-01"), Some("2025-01-01")),
                    (Some("2025-01-01"), Some("2026-01-01")),
                ] {
                    let b = before.map(|s| m(s, from_before));
                    let a = after.map(|s| m(s, from_after));
                    let event = change(b.as_ref(), a.as_ref());
                    let open_after = matches!(after, Some(Status::Met | Status::Upcoming));
                    let gives = matches!(
                        after,
                        Some(Status::Met | Status::Upcoming | Status::Achieved | Status::Lapsed)
                    );
                    let should = (before.is_some() && before != after)
                        || (before.is_none() && gives)
                        || (open_after && from_before != from_after);
                    assert_eq!(
                        event.is_some(),
                        should,
                        "{before:?} -> {after:?} ({from_before:?} -> {from_after:?}): {event:?}"
                    );
                    let held = matches!(
                        before,
                        Some(Status::Met | Status::Upcoming | Status::Achieved)
                    );
                    let gone = matches!(
                        after,
                        None | Some(Status::NotMet | Status::NeedsInfo | Status::NotApplicable)
                    );
                    if held && gone {
                        assert_eq!(event, Some("lost"), "{before:?} -> {after:?}");
                    }
                }
            }
        }
    }

    fn m(status: Status, from: Option<&str>) -> Milestone {
        let mut m = Milestone::new("r", "k", Text::new("t", "t"), Citation::new("s", "c"))
            .with_status(status);
        m.eligible_from = from.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
        m
    }

    #[test]
    fn changes_worth_an_event() {
        assert_eq!(
            change(None, Some(&m(Status::Met, Some("2025-01-01")))),
            Some("newly_met")
        );
        assert_eq!(
            change(
                Some(&m(Status::Upcoming, Some("2025-01-01"))),
                Some(&m(Status::Met, Some("2025-01-01")))
            ),
            Some("newly_met")
        );
        assert_eq!(
            change(
                Some(&m(Status::NotMet, None)),
                Some(&m(Status::Upcoming, Some("2026-01-01")))
            ),
            Some("newly_upcoming")
        );
        assert_eq!(
            change(
                Some(&m(Status::Upcoming, Some("2026-01-01"))),
                Some(&m(Status::Upcoming, Some("2026-06-01")))
            ),
            Some("date_moved")
        );
        assert_eq!(
            change(
                Some(&m(Status::Met, Some("2025-01-01"))),
                Some(&m(Status::NotMet, None))
            ),
            Some("lost")
        );
        assert_eq!(
            change(Some(&m(Status::Met, Some("2025-01-01"))), None),
            Some("lost")
        );
        assert_eq!(
            change(
                Some(&m(Status::Met, Some("2025-01-01"))),
                Some(&m(Status::Lapsed, None))
            ),
            Some("lapsed")
        );
        assert_eq!(
            change(
                Some(&m(Status::Met, Some("2025-01-01"))),
                Some(&m(Status::Met, Some("2025-01-01")))
            ),
            None
        );
        assert_eq!(
            change(
                Some(&m(Status::NotMet, None)),
                Some(&m(Status::NotMet, None))
            ),
            None
        );
    }

    #[test]
    fn the_most_useful_step_comes_first() {
        let mut closing = m(Status::Met, Some("2025-06-30"));
        closing.open_until = NaiveDate::from_ymd_opt(2025, 12, 31);
        let steps = next_steps(&[
            m(Status::NotMet, None),
            m(Status::Upcoming, Some("2027-01-01")),
            m(Status::Upcoming, Some("2026-03-01")),
            closing,
            m(Status::NeedsInfo, None),
        ]);
        let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::ApplyNow,
                StepKind::ProvideInfo,
                StepKind::WaitUntil,
                StepKind::WaitUntil,
                StepKind::WorkTowards
            ]
        );
        assert_eq!(steps[2].date, NaiveDate::from_ymd_opt(2026, 3, 1));
    }
}
