//! A copy of everything Skillpath holds about a learner (PIPL Art. 45): one JSON document with
//! every section, one CSV per section, and a note explaining both, in one zip.
//!
//! What is left out, on purpose: secrets that protect the learner rather than describe them (the
//! password hash, session and link tokens, the share codes' and feed address's hashes, the
//! identity number's ciphertext and keyed hash). The identity number appears masked: a file
//! travels further than the service, and the learner knows their own number.

use std::io::Write;

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::db::personal_data::{self, LearnerRows};
use crate::db::{audit, Database, DbConnection};
use crate::domain::{AuditAction, AuditEntity, LearnerId, UserId};
use crate::error::AppError;

/// The export's format name and version, in the document and the note.
pub const FORMAT: &str = "skillpath-personal-data";
pub const VERSION: u32 = 1;

/// Columns that hold JSON as text: written as the JSON they hold.
const JSON_TEXT: &[&str] = &[
    "payload",
    "before",
    "after",
    "settings",
    "summary",
    "certificate_ids",
    "milestone_keys",
    "warnings",
    "alarm_days",
    "details",
    "changes",
    "current_values",
];

/// Who asked for the copy, for the audit log.
#[derive(Debug, Clone, Copy)]
pub enum RequestedBy {
    TheLearner(UserId),
    Staff(UserId),
}

/// The copy: the learner's rows read on one snapshot, outside any write lock; the zip built off
/// the connection (and off the HTTP workers); then noted (audited; the learner told when staff
/// made it).
pub async fn make_copy(
    database: &Database,
    learner_id: LearnerId,
    by: RequestedBy,
) -> Result<Vec<u8>, AppError> {
    let now = crate::db::now();
    let rows = database
        .read(move |conn| {
            crate::db::snapshot(conn, |conn| personal_data::learner_rows(conn, learner_id))?
                .ok_or(AppError::NotFound { what: "learner" })
        })
        .await?;
    let zip = tokio::task::spawn_blocking(move || build(&rows, now))
        .await
        .map_err(|e| AppError::internal("blocking task", e))??;
    database
        .write(move |conn| record(conn, learner_id, by, now))
        .await?;
    Ok(zip)
}

/// The learner's rows as a zip.
pub fn build(rows: &LearnerRows, now: NaiveDateTime) -> Result<Vec<u8>, AppError> {
    let document = document(rows, now)?;
    zip_of(&document).map_err(|e| AppError::internal("personal data export", e))
}

/// Audits that a copy was made; a copy made by staff is also told to the learner (inbox and
/// email), so that none is made without their knowing. Run in a write transaction.
pub fn record(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    requested_by: RequestedBy,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let (actor, by) = match requested_by {
        RequestedBy::TheLearner(user) => (user, "learner"),
        RequestedBy::Staff(user) => (user, "staff"),
    };
    audit::record(
        conn,
        Some(actor),
        AuditAction::Export,
        AuditEntity::Learner,
        learner_id.0,
        &json!({"requested_by": by}),
    )?;
    if let RequestedBy::Staff(_) = requested_by {
        super::tell(
            conn,
            learner_id,
            format!("export:{learner_id}:{now}"),
            crate::domain::NoticeKind::DataExported,
            crate::notify::messages::data_exported_message(),
            now,
        )?;
    }
    Ok(())
}

/// The name a copy is downloaded under.
pub fn file_name(learner_id: LearnerId) -> String {
    format!("skillpath-learner-{}.zip", learner_id.0)
}

/// The JSON document: the format, when it was made, and each section (an object for the learner,
/// a list of rows for every other).
pub fn document(rows: &LearnerRows, now: NaiveDateTime) -> Result<Value, AppError> {
    let mut sections =
        serde_json::to_value(rows).map_err(|e| AppError::internal("personal data export", e))?;
    if let Some(map) = sections.as_object_mut() {
        for section in map.values_mut() {
            match section {
                Value::Array(items) => items.iter_mut().for_each(embed_json_text),
                other => embed_json_text(other),
            }
        }
    }
    Ok(json!({
        "format": FORMAT,
        "version": VERSION,
        "generated_at": now.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "learner_id": rows.learner.id,
        "sections": sections,
    }))
}

/// Replaces the text of JSON-holding columns with the JSON it holds.
fn embed_json_text(row: &mut Value) {
    let Some(map) = row.as_object_mut() else {
        return;
    };
    for name in JSON_TEXT {
        if let Some(Value::String(text)) = map.get(*name) {
            if let Ok(parsed @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(text) {
                map.insert((*name).to_owned(), parsed);
            }
        }
    }
}

/// The zip: `export.json`, `csv/<section>.csv` for each section, and `README.txt`.
fn zip_of(document: &Value) -> Result<Vec<u8>, String> {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), String> {
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())
    };
    add("README.txt", NOTE.as_bytes())?;
    let json = serde_json::to_vec_pretty(document).map_err(|e| e.to_string())?;
    add("export.json", &json)?;
    if let Some(sections) = document["sections"].as_object() {
        for (name, section) in sections {
            let rows: Vec<&Map<String, Value>> = match section {
                Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
                Value::Object(one) => vec![one],
                _ => Vec::new(),
            };
            add(&format!("csv/{name}.csv"), &csv_of(&rows)?)?;
        }
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

/// Rows as CSV (UTF-8 with a byte-order mark, as spreadsheets expect): one column per field of
/// the first row, nested values as their JSON text.
fn csv_of(rows: &[&Map<String, Value>]) -> Result<Vec<u8>, String> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let Some(first) = rows.first() else {
        return out.into_inner().map_err(|e| e.to_string());
    };
    let columns: Vec<&String> = first.keys().collect();
    out.write_record(&columns).map_err(|e| e.to_string())?;
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match row.get(*c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        out.write_record(&cells).map_err(|e| e.to_string())?;
    }
    out.into_inner().map_err(|e| e.to_string())
}

const NOTE: &str = "\
Skillpath — 您的个人信息副本 / A copy of your personal information

export.json 是一个 JSON 文档，包含 Skillpath 保存的关于您的全部记录；csv/ 目录中每类记录一个 CSV
文件（UTF-8）。字段说明见 Skillpath 文档 docs/privacy.md。身份证号以遮盖形式出现；密码、登录令牌、
分享码和日历地址等用于保护您的密钥不在其中。时间均为 UTC。

export.json is one JSON document holding every record Skillpath keeps about you; csv/ holds one
CSV file (UTF-8) per kind of record. The fields are described in Skillpath's documentation
(docs/privacy.md). Your identity number appears masked; the secrets that protect you (password
hash, session and link tokens, share codes, your calendar address) are not included. Times are
UTC.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_columns_are_embedded_and_csv_flattens_them() {
        let mut row = json!({"payload": "{\"a\":1}", "summary": "not json", "other": "[1]"});
        embed_json_text(&mut row);
        assert_eq!(row["payload"], json!({"a": 1}));
        assert_eq!(row["summary"], "not json");
        assert_eq!(row["other"], "[1]", "only the columns known to hold JSON");
        let map = row.as_object().unwrap();
        let csv = String::from_utf8(csv_of(&[map]).unwrap()).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\"{\"\"a\"\":1}\""), "{csv}");
    }
}
