//! A cohort's enrollments from a CSV file: rows checked, learners matched (within the
//! importer's scope) or created, and enrolled, all or nothing unless partial.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde_json::json;

use crate::auth::scope::{self, RefusedMatches};
use crate::auth::AuthUser;
use crate::crypto::IdentityVault;
use crate::db::learners::{self, NewLearner};
use crate::db::records::{self, NewEnrollment};
use crate::db::{self, audit, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    today_in_shanghai, ClassType, EmailAddress, EnrollmentStatus, Hukou, IdentityNumber, Language,
    LearnerKind,
};
use crate::domain::{AuditAction, AuditEntity};
use crate::error::AppError;
use crate::services::imports::csv::{
    self as import, Column, Columns, CsvUpload, ImportReport, Rejections,
};

const COHORT_COLUMNS: &[Column] = &[
    Column {
        name: "name",
        aliases: &["姓名", "学员姓名", "学生姓名"],
        required: true,
    },
    Column {
        name: "id_number",
        aliases: &["身份证号", "身份证号码", "公民身份号码", "证件号码"],
        required: false,
    },
    Column {
        name: "email",
        aliases: &["邮箱", "电子邮箱", "电子邮件"],
        required: false,
    },
    Column {
        name: "kind",
        aliases: &["学员类型", "人员类型", "类型"],
        required: false,
    },
    Column {
        name: "start_date",
        aliases: &["入学日期", "入学时间", "开始日期"],
        required: true,
    },
    Column {
        name: "end_date",
        aliases: &["毕业日期", "预计毕业日期", "结束日期"],
        required: true,
    },
    Column {
        name: "full_time",
        aliases: &["全日制", "是否全日制"],
        required: false,
    },
    Column {
        name: "class_type",
        aliases: &["班级类型", "班型"],
        required: false,
    },
    Column {
        name: "status",
        aliases: &["学籍状态", "状态"],
        required: false,
    },
    Column {
        name: "preferred_language",
        aliases: &["语言", "首选语言"],
        required: false,
    },
    Column {
        name: "hukou",
        aliases: &["户籍", "户口"],
        required: false,
    },
];

/// Cell values as Chinese exports write them, mapped to the API's names.
fn translate<'a>(column: &str, value: &'a str) -> &'a str {
    match (column, value) {
        ("kind", "在校学生" | "学生") => "student",
        ("kind", "在职职工" | "职工" | "在职") => "employee",
        ("kind", "社会人员" | "社会") => "social",
        ("class_type", "企业冠名班" | "冠名班") => "named_class",
        ("class_type", "技师班") => "technician_class",
        ("class_type", "学徒制" | "新型学徒制" | "现代学徒制") => "apprenticeship",
        ("class_type", "普通班" | "普通") => "regular",
        ("status", "在读" | "在校") => "enrolled",
        ("status", "毕业" | "已毕业") => "graduated",
        ("status", "退学" | "肄业") => "withdrawn",
        ("hukou", "上海" | "本市" | "上海市") => "shanghai",
        ("hukou", "外省市" | "外地" | "非本市") => "other",
        ("preferred_language", "中文" | "简体中文" | "zh" | "zh-cn") => "zh-CN",
        ("preferred_language", "英文" | "English" | "english") => "en",
        _ => value,
    }
}

/// One checked row of the file.
struct CohortLine {
    line: u64,
    name: String,
    id_number: Option<IdentityNumber>,
    email: Option<String>,
    kind: LearnerKind,
    start: NaiveDate,
    end: NaiveDate,
    full_time: bool,
    class_type: ClassType,
    status: EnrollmentStatus,
    language: Language,
    hukou: Option<Hukou>,
    /// Whether the file gave the kind and the language (else they are defaults).
    kind_given: bool,
    language_given: bool,
}

fn parse_line(
    columns: &Columns,
    record: &csv::StringRecord,
    line: u64,
    rejected: &mut Rejections,
) -> Option<CohortLine> {
    let mut checks = Checks::new();
    let cell = |c: &str| columns.get(record, c).map(|v| translate(c, v));
    let name = checks.text("name", cell("name").unwrap_or_default(), 100);
    let id_number =
        cell("id_number").and_then(|v| checks.with("id_number", IdentityNumber::parse(v)));
    let email = cell("email")
        .and_then(|v| checks.with("email", EmailAddress::parse(v)))
        .map(EmailAddress::into_inner);
    if cell("id_number").is_none() && cell("email").is_none() {
        checks.add(
            "id_number",
            "an identity number or an email is needed to match the learner",
        );
    }
    let kind = checks.parse::<LearnerKind>("kind", cell("kind").unwrap_or("student"));
    let start = checks.with(
        "start_date",
        cell("start_date")
            .ok_or_else(|| "is required".to_owned())
            .and_then(import::parse_date),
    );
    let end = checks.with(
        "end_date",
        cell("end_date")
            .ok_or_else(|| "is required".to_owned())
            .and_then(import::parse_date),
    );
    checks.ordered("end_date", start, end, "start_date");
    let full_time = cell("full_time").map_or(Some(true), |v| {
        checks.with("full_time", import::parse_flag(v))
    });
    let class_type =
        checks.parse::<ClassType>("class_type", cell("class_type").unwrap_or("regular"));
    let status = checks.parse::<EnrollmentStatus>("status", cell("status").unwrap_or("enrolled"));
    let language = checks.parse::<Language>(
        "preferred_language",
        cell("preferred_language").unwrap_or("zh-CN"),
    );
    let hukou = cell("hukou").and_then(|v| checks.parse::<Hukou>("hukou", v));
    let had_hukou = cell("hukou").is_some();
    match checks.done(|| {
        Some(CohortLine {
            line,
            name: name?,
            id_number,
            email,
            kind: kind?,
            start: start?,
            end: end?,
            full_time: full_time?,
            class_type: class_type?,
            status: status?,
            language: language?,
            hukou: if had_hukou { Some(hukou?) } else { None },
            kind_given: cell("kind").is_some(),
            language_given: cell("preferred_language").is_some(),
        })
    }) {
        Ok(line) => Some(line),
        Err(AppError::Validation(errors)) => {
            rejected.push_all(line, errors);
            None
        }
        Err(_) => None,
    }
}

/// Rows handled per round trip: a few statements per batch instead of several per row.
const BATCH_ROWS: usize = 500;

pub struct ImportContext<'a> {
    pub vault: &'a IdentityVault,
    /// Who imports: matches outside their scope are refused (the scope module decides).
    pub caller: &'a AuthUser,
    /// Where refused matches are noted for the audit log (outside the transaction).
    pub refused: &'a RefusedMatches,
    pub cohort_id: i64,
    pub program_id: i64,
    pub institution_id: i64,
    pub actor: i64,
}

/// How a row finds its learner: by identity-number hash, else by email.
#[derive(Clone, PartialEq, Eq, Hash)]
enum LearnerKey {
    IdHash(String),
    Email(String),
}

/// Where a row of the file leads.
enum Target {
    Existing(i64),
    New(LearnerKey),
}

/// Matches or creates the learners of one batch and enrolls them in the cohort.
fn import_batch(
    conn: &mut DbConnection,
    ctx: &ImportContext<'_>,
    batch: Vec<CohortLine>,
    report: &mut ImportReport,
    rejected: &mut Rejections,
) -> Result<(), AppError> {
    // Seal identity numbers once per row.
    let mut rows = Vec::with_capacity(batch.len());
    for line in batch {
        let sealed = match &line.id_number {
            Some(n) => Some(ctx.vault.seal(n).map_err(AppError::Internal)?),
            None => None,
        };
        rows.push((line, sealed));
    }
    let hashes: Vec<String> = rows
        .iter()
        .filter_map(|(_, s)| s.as_ref().map(|s| s.hash.clone()))
        .collect();
    let emails: Vec<String> = rows.iter().filter_map(|(l, _)| l.email.clone()).collect();
    let mut by_hash: HashMap<String, i64> = HashMap::new();
    let mut by_email: HashMap<String, (i64, Option<String>)> = HashMap::new();
    for (id, hash, email) in learners::keys_by_hashes(conn, &hashes)?
        .into_iter()
        .chain(learners::keys_by_emails(conn, &emails)?)
    {
        if let Some(h) = &hash {
            by_hash.insert(h.clone(), id);
        }
        if let Some(e) = email {
            by_email.insert(e, (id, hash));
        }
    }

    // A match may be reached only within the importer's scope; the refusal is neutral.
    let matched: Vec<(i64, &'static str)> = by_hash
        .values()
        .copied()
        .chain(by_email.values().map(|(id, _)| *id))
        .collect::<std::collections::BTreeSet<i64>>()
        .into_iter()
        .map(|id| (id, "cohort_import"))
        .collect();
    let reachable = scope::split_matches(conn, ctx.caller, &matched, ctx.refused)?;

    // Resolve each row to an existing learner or a learner to create (once per key).
    let mut new_learners: Vec<NewLearner> = Vec::new();
    let mut new_keys: HashSet<LearnerKey> = HashSet::new();
    let mut new_emails: HashMap<String, Option<String>> = HashMap::new();
    let mut resolved: Vec<(CohortLine, Target)> = Vec::with_capacity(rows.len());
    let now = db::now();
    for (line, sealed) in rows {
        let hash = sealed.as_ref().map(|s| s.hash.clone());
        let by_email_match = line.email.as_ref().and_then(|e| by_email.get(e));
        let outside = hash
            .as_ref()
            .and_then(|h| by_hash.get(h))
            .into_iter()
            .chain(by_email_match.map(|(id, _)| id))
            .find(|id| !reachable.contains(id));
        if outside.is_some() {
            rejected.push(line.line, "row", scope::OUT_OF_SCOPE_ROW);
            continue;
        }
        let target = if let Some(id) = hash.as_ref().and_then(|h| by_hash.get(h)) {
            Target::Existing(*id)
        } else if let Some((id, stored_hash)) = by_email_match {
            if stored_hash.is_some() && hash.is_some() && stored_hash != &hash {
                rejected.push(
                    line.line,
                    "email",
                    "belongs to another learner with a different identity number",
                );
                continue;
            }
            Target::Existing(*id)
        } else {
            if let Some(email) = &line.email {
                if let Some(other_hash) = new_emails.get(email) {
                    if other_hash != &hash {
                        rejected.push(
                            line.line,
                            "email",
                            "is used by another row of this file for a different learner",
                        );
                        continue;
                    }
                }
            }
            let key = match &hash {
                Some(h) => LearnerKey::IdHash(h.clone()),
                None => LearnerKey::Email(line.email.clone().unwrap_or_default()),
            };
            if new_keys.insert(key.clone()) {
                if let Some(email) = &line.email {
                    new_emails.insert(email.clone(), hash.clone());
                }
                new_learners.push(NewLearner {
                    name: line.name.clone(),
                    kind: line.kind.as_str().into(),
                    email: line.email.clone(),
                    preferred_language: line.language.as_str().into(),
                    hukou: line.hukou.map(|h| h.as_str().into()),
                    residence_permit_since: None,
                    social_insurance_since: None,
                    income_tax_in_shanghai: None,
                    insurance_base_at_least_average_6_of_12: None,
                    education_level: None,
                    education_occupation_codes: String::new(),
                    birth_date: line.id_number.as_ref().and_then(IdentityNumber::birth_date),
                    id_number_ciphertext: sealed.as_ref().map(|s| s.ciphertext.clone()),
                    id_number_hash: hash.clone(),
                    id_number_masked: sealed.as_ref().map(|s| s.masked.clone()),
                    registered_by_institution_id: Some(ctx.institution_id),
                    created_at: now,
                    updated_at: now,
                });
            }
            Target::New(key)
        };
        resolved.push((line, target));
    }

    let created = learners::insert_many(conn, &new_learners)?;
    report.learners_created = Some(report.learners_created.unwrap_or(0) + created.len() as u64);
    let mut created_ids: HashMap<LearnerKey, i64> = HashMap::new();
    for (id, hash, email) in &created {
        match (hash, email) {
            (Some(h), _) => created_ids.insert(LearnerKey::IdHash(h.clone()), *id),
            (None, Some(e)) => created_ids.insert(LearnerKey::Email(e.clone()), *id),
            (None, None) => None,
        };
    }
    let kinds: Vec<(i64, String)> = new_learners
        .iter()
        .filter_map(|n| {
            let key = match (&n.id_number_hash, &n.email) {
                (Some(h), _) => LearnerKey::IdHash(h.clone()),
                (None, Some(e)) => LearnerKey::Email(e.clone()),
                (None, None) => return None,
            };
            created_ids.get(&key).map(|id| (*id, n.kind.clone()))
        })
        .collect();
    learners::record_first_kinds(conn, &kinds, today_in_shanghai(), Some(ctx.actor), now)?;

    report_unapplied(conn, &resolved, report)?;

    // Enroll: skip enrollments that already exist (same learner, program and start date).
    let mut learner_ids = Vec::with_capacity(resolved.len());
    let mut lines = Vec::with_capacity(resolved.len());
    for (line, target) in resolved {
        let id = match target {
            Target::Existing(id) => {
                report.learners_matched = Some(report.learners_matched.unwrap_or(0) + 1);
                id
            }
            Target::New(key) => *created_ids.get(&key).ok_or_else(|| {
                AppError::internal("cohort import", "a created learner was not returned")
            })?,
        };
        learner_ids.push(id);
        lines.push((id, line));
    }
    let mut existing: HashSet<(i64, NaiveDate)> =
        records::existing_enrollments(conn, ctx.program_id, &learner_ids)?
            .into_iter()
            .collect();
    let mut enrollments = Vec::new();
    for (learner_id, line) in lines {
        if !existing.insert((learner_id, line.start)) {
            report.unchanged += 1;
            continue;
        }
        enrollments.push(NewEnrollment {
            learner_id,
            program_id: ctx.program_id,
            cohort_id: Some(ctx.cohort_id),
            start_date: line.start,
            end_date: line.end,
            full_time: line.full_time,
            status: line.status.as_str().into(),
            class_type: line.class_type.as_str().into(),
            created_at: now,
            updated_at: now,
        });
    }
    report.created += records::insert_enrollments(conn, &enrollments)? as u64;
    Ok(())
}

/// Whether a row agrees with the rows before it: one email, one person (checked before any
/// lookup, so that a file bound to fail never holds the database while it is matched).
fn file_consistent(
    line: &CohortLine,
    emails: &mut HashMap<String, Option<String>>,
    rejected: &mut Rejections,
) -> bool {
    let Some(email) = &line.email else {
        return true;
    };
    let person = line.id_number.as_ref().map(|n| n.expose().to_owned());
    match emails.get(email) {
        Some(seen) if seen.is_some() && person.is_some() && seen != &person => {
            rejected.push(
                line.line,
                "email",
                "is used by another row of this file for a different learner",
            );
            false
        }
        _ => {
            emails.entry(email.clone()).or_insert(person);
            true
        }
    }
}

/// Compares each row matched to an existing learner with the stored record: the import enrolls,
/// it does not edit a person's record, so whatever differs is reported row by row.
fn report_unapplied(
    conn: &mut DbConnection,
    resolved: &[(CohortLine, Target)],
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let ids: Vec<i64> = resolved
        .iter()
        .filter_map(|(_, t)| match t {
            Target::Existing(id) => Some(*id),
            Target::New(_) => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let stored: HashMap<i64, learners::LearnerRow> = learners::find_many(conn, &ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for (line, target) in resolved {
        let Target::Existing(id) = target else {
            continue;
        };
        let Some(row) = stored.get(id) else {
            continue;
        };
        let n = line.line;
        if row.name != line.name {
            report.warn(
                n,
                "name",
                "differs from the learner's stored name, which is kept",
            );
        }
        if line.id_number.is_some() && row.id_number_hash.is_none() {
            report.warn(
                n,
                "id_number",
                "not applied: the learner was matched by email and has no identity number on \
record; add it in the learner's record",
            );
        }
        if let Some(email) = &line.email {
            match &row.email {
                Some(stored) if stored == email => {}
                Some(_) => report.warn(
                    n,
                    "email",
                    "not applied: the learner was matched by identity number and has another \
email on record",
                ),
                None => report.warn(
                    n,
                    "email",
                    "not applied: the learner has no email on record; add it in the learner's \
record",
                ),
            }
        }
        if line.kind_given && row.kind != line.kind.as_str() {
            report.warn(n, "kind", "not applied: differs from the stored kind");
        }
        if line.language_given && row.preferred_language != line.language.as_str() {
            report.warn(
                n,
                "preferred_language",
                "not applied: differs from the stored language",
            );
        }
        if let Some(hukou) = line.hukou {
            if row.hukou.as_deref() != Some(hukou.as_str()) {
                report.warn(n, "hukou", "not applied: differs from the stored hukou");
            }
        }
    }
    Ok(())
}

pub fn import_cohort(
    conn: &mut DbConnection,
    ctx: &ImportContext<'_>,
    mut upload: CsvUpload,
    partial: bool,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::new(upload.encoding, partial);
    report.learners_created = Some(0);
    report.learners_matched = Some(0);
    let mut rejected = Rejections::default();
    let columns = upload.columns(COHORT_COLUMNS)?;
    // All-or-nothing: every row is checked before any is matched against stored learners, so a
    // file that will be refused anyway reveals nothing of who is on record. With ?partial=true,
    // rows are matched a batch at a time as they are read.
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut held: Vec<CohortLine> = Vec::new();
    let mut emails_in_file: HashMap<String, Option<String>> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match upload.reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                report.rows_read += 1;
                let line = record.position().map_or(0, |p| p.line());
                if !columns.fits(&record, line, &mut rejected) {
                    continue;
                }
                if let Some(parsed) = parse_line(&columns, &record, line, &mut rejected) {
                    if partial {
                        batch.push(parsed);
                    } else if file_consistent(&parsed, &mut emails_in_file, &mut rejected)
                        && rejected.count == 0
                    {
                        held.push(parsed);
                    }
                }
            }
            Err(e) => {
                if e.is_io_error() {
                    return Err(AppError::bad_input(
                        "invalid_body",
                        format!("Reading the upload failed: {e}"),
                    ));
                }
                report.rows_read += 1;
                rejected.push(
                    e.position().map_or(0, |p| p.line()),
                    "row",
                    format!("unreadable row: {e}"),
                );
            }
        }
        if batch.len() >= BATCH_ROWS {
            import_batch(
                conn,
                ctx,
                std::mem::take(&mut batch),
                &mut report,
                &mut rejected,
            )?;
        }
    }
    if partial {
        import_batch(conn, ctx, batch, &mut report, &mut rejected)?;
    } else if rejected.count == 0 {
        let mut rows = held.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<CohortLine> = rows.by_ref().take(BATCH_ROWS).collect();
            import_batch(conn, ctx, chunk, &mut report, &mut rejected)?;
            if rejected.count > 0 {
                break; // nothing will be stored: match no further
            }
        }
    }
    let report = report.finish(rejected)?;
    audit::record(
        conn,
        Some(ctx.actor),
        AuditAction::Import,
        AuditEntity::Cohort,
        ctx.cohort_id,
        &json!({
            "rows": report.rows_read, "enrollments_created": report.created, "unchanged": report.unchanged,
            "learners_created": report.learners_created, "learners_matched": report.learners_matched,
            "rejected": report.rejected_count, "partial": partial,
        }),
    )?;
    Ok(report)
}
