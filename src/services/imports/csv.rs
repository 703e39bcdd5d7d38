//! CSV files as institutions really produce them: UTF-8 with or without a byte-order mark, or
//! GB18030/GBK from Excel on Chinese Windows; headers in English or Chinese. A file is decoded
//! strictly and its cells' sizes checked before a row is read; rows are then read into typed
//! columns, and every rejected row is reported with its line.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use chrono::NaiveDate;
use encoding_rs::{Encoding, GB18030, UTF_8};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;

/// Rejected rows listed in a report at most; the count covers them all.
pub const MAX_REPORTED_ROWS: usize = 1000;

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The column, by its English name.
    pub field: String,
    pub message: String,
}

/// Collects rejected rows, keeping the first `MAX_REPORTED_ROWS` problems.
#[derive(Debug, Default)]
pub struct Rejections {
    pub listed: Vec<RowError>,
    /// Problems found (a row may have several).
    pub count: u64,
    /// Distinct rows rejected.
    pub rows: u64,
    last_line: Option<u64>,
}

impl Rejections {
    pub fn push(&mut self, line: u64, field: &str, message: impl Into<String>) {
        self.count += 1;
        if self.last_line != Some(line) {
            self.rows += 1;
            self.last_line = Some(line);
        }
        if self.listed.len() < MAX_REPORTED_ROWS {
            self.listed.push(RowError {
                line,
                field: field.to_owned(),
                message: message.into(),
            });
        }
    }

    /// Records every field problem of one row.
    pub fn push_all(
        &mut self,
        line: u64,
        errors: impl IntoIterator<Item = crate::error::FieldError>,
    ) {
        for e in errors {
            self.push(line, &e.field, e.message);
        }
    }

    pub fn truncated(&self) -> bool {
        self.count > self.listed.len() as u64
    }
}

impl ImportReport {
    /// Notes a field of a matched row that was not applied.
    pub fn warn(&mut self, line: u64, field: &str, message: impl Into<String>) {
        if self.warnings.len() < MAX_REPORTED_ROWS {
            self.warnings.push(RowError {
                line,
                field: field.to_owned(),
                message: message.into(),
            });
        }
    }
}

/// What an import did. In all-or-nothing mode a file with rejected rows stores nothing and is
/// answered 422 with this report inside the problem document.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// `UTF-8` or `gb18030` (which covers GBK).
    pub encoding: String,
    pub partial: bool,
    /// Whether the good rows were stored.
    pub committed: bool,
    /// Data rows read (the header not counted).
    pub rows_read: u64,
    /// Records created (occupations, or enrollments for a cohort).
    pub created: u64,
    /// Records changed in place.
    pub updated: u64,
    /// Rows that matched what is already stored.
    pub unchanged: u64,
    /// Cohort imports: learners created, and learners matched to existing records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learners_created: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learners_matched: Option<u64>,
    /// Rows rejected (a row with several problems counts once).
    pub rejected_count: u64,
    /// The problems of the rejected rows, one entry per field (the first 1000).
    pub rejected: Vec<RowError>,
    pub rejected_truncated: bool,
    /// Rows that matched an existing learner but carried something the import did not apply
    /// (an identity number or email the record lacks or holds otherwise, another name, kind,
    /// language or hukou): one entry per field, the first 1000. The enrollment itself is stored.
    pub warnings: Vec<RowError>,
}

impl ImportReport {
    pub fn new(encoding: &'static Encoding, partial: bool) -> Self {
        Self {
            encoding: encoding.name().to_owned(),
            partial,
            ..Self::default()
        }
    }

    /// Closes the report: in all-or-nothing mode any rejection makes it an error (which rolls
    /// the transaction back).
    pub fn finish(mut self, rejections: Rejections) -> Result<Self, AppError> {
        self.rejected_count = rejections.rows;
        self.rejected_truncated = rejections.truncated();
        self.rejected = rejections.listed;
        if !self.partial && self.rejected_count > 0 {
            // Nothing was stored: the counts of what would have been must not read as done.
            self.created = 0;
            self.updated = 0;
            self.unchanged = 0;
            self.learners_created = self.learners_created.map(|_| 0);
            self.learners_matched = self.learners_matched.map(|_| 0);
            self.warnings.clear();
            let detail = format!(
                "{} of {} rows were rejected; nothing was stored. Fix them, or send ?partial=true to store the good rows.",
                self.rejected_count, self.rows_read
            );
            let report =
                serde_json::to_value(&self).map_err(|e| AppError::internal("import report", e))?;
            return Err(AppError::ImportRejected { detail, report });
        }
        self.committed = true;
        Ok(self)
    }
}

/// UTF-8 when the body is valid UTF-8 (a sequence cut at the end is fine) or starts with a BOM;
/// otherwise GB18030, the superset of GBK and GB2312 that Excel writes on Chinese Windows.
pub fn sniff_encoding(head: &[u8]) -> &'static Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return UTF_8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        Err(e) if e.error_len().is_none() => UTF_8,
        Err(_) => GB18030,
    }
}

/// A CSV upload being read on the blocking pool.
pub struct CsvUpload {
    pub reader: csv::Reader<Box<dyn Read + Send>>,
    pub encoding: &'static Encoding,
    /// Its share of the process's upload memory, held until the import is done.
    memory: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl CsvUpload {
    /// Keeps `memory` (the upload's share of the process's budget) until the upload is dropped.
    pub fn hold(&mut self, memory: Option<tokio::sync::OwnedSemaphorePermit>) {
        self.memory = memory;
    }

    /// Reads the header row and maps it to the `known` columns.
    pub fn columns(&mut self, known: &[Column]) -> Result<Columns, AppError> {
        let headers = self.reader.headers().map_err(|e| {
            AppError::bad_input("invalid_csv", format!("The header row cannot be read: {e}"))
        })?;
        Columns::map(headers, known)
    }
}

/// The longest cell accepted, in bytes of UTF-8 (a name, a code or a date is far shorter).
pub const MAX_CELL_BYTES: usize = 4096;

/// Decodes the body strictly and checks its cells' sizes.
pub fn check_upload(
    body: Vec<u8>,
    declared: Option<&'static Encoding>,
) -> Result<CsvUpload, AppError> {
    let encoding = declared.unwrap_or_else(|| sniff_encoding(&body));
    let text = decode_strictly(body, encoding)?;
    if let Some(at) = text.find(crate::domain::text::is_forbidden_control) {
        let line = 1 + text[..at].bytes().filter(|b| *b == b'\n').count() as u64;
        return Err(invalid_csv(line, "the file holds a control character"));
    }
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(Box::new(Cursor::new(text.into_bytes())) as Box<dyn Read + Send>);
    Ok(CsvUpload {
        reader,
        encoding,
        memory: None,
    })
}

fn invalid_csv(line: u64, detail: impl std::fmt::Display) -> AppError {
    AppError::bad_input("invalid_csv", format!("Line {line}: {detail}"))
}

/// The text of the body in `encoding`, without a byte-order mark; a byte sequence that is not
/// text in that encoding is refused with its line (never silently replaced).
fn decode_strictly(body: Vec<u8>, encoding: &'static Encoding) -> Result<String, AppError> {
    let line_of =
        |bytes: &[u8], at: usize| 1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64;
    if encoding == UTF_8 {
        let start = if body.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        if let Err(e) = std::str::from_utf8(&body[start..]) {
            let at = start + e.valid_up_to();
            return Err(invalid_csv(
                line_of(&body, at),
                "the file is not valid UTF-8 here; save it as UTF-8, or send charset=gbk",
            ));
        }
        let mut body = body;
        body.drain(..start);
        return String::from_utf8(body).map_err(|e| AppError::internal("decoding an upload", e));
    }
    if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(&body) {
        return Ok(text.into_owned());
    }
    // Lines end with 0x0A, which no multi-byte GB18030 sequence contains: find the bad one.
    let line = 1 + body
        .split(|b| *b == b'\n')
        .take_while(|piece| {
            encoding
                .decode_without_bom_handling_and_without_replacement(piece)
                .is_some()
        })
        .count() as u64;
    Err(invalid_csv(
        line,
        format!("the file is not valid {} here", encoding.name()),
    ))
}

/// A column the importer understands, with the header names it answers to.
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// Where each known column sits in the file.
#[derive(Debug)]
pub struct Columns {
    positions: HashMap<&'static str, usize>,
    /// Cells in the header row.
    width: usize,
}

fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

impl Columns {
    /// Maps the header row; a missing required column is a 400 `invalid_csv` naming it.
    pub fn map(headers: &csv::StringRecord, known: &[Column]) -> Result<Self, AppError> {
        let normalised: Vec<String> = headers.iter().map(normalise_header).collect();
        let mut positions = HashMap::new();
        let mut missing = Vec::new();
        for column in known {
            let found = normalised.iter().position(|h| {
                h == column.name || column.aliases.iter().any(|a| normalise_header(a) == *h)
            });
            match found {
                Some(i) => {
                    positions.insert(column.name, i);
                }
                None if column.required => missing.push(crate::error::FieldError::new(
                    column.name,
                    format!(
                        "the header row has no '{}' column (also accepted: {})",
                        column.name,
                        column.aliases.join(", ")
                    ),
                )),
                None => {}
            }
        }
        if !missing.is_empty() {
            return Err(AppError::InvalidCsv(missing));
        }
        Ok(Self {
            positions,
            width: headers.len(),
        })
    }

    /// Whether a row has no more cells than the header (a cell beyond it would be dropped
    /// unread) and no cell longer than `MAX_CELL_BYTES` (which no name, code or date needs, and
    /// which a report must not echo); otherwise the row is rejected with its line.
    pub fn fits(&self, record: &csv::StringRecord, line: u64, rejected: &mut Rejections) -> bool {
        if record.len() > self.width {
            rejected.push(
                line,
                "row",
                format!("has {} cells; the header has {}", record.len(), self.width),
            );
            return false;
        }
        if record.iter().any(|cell| cell.len() > MAX_CELL_BYTES) {
            rejected.push(
                line,
                "row",
                format!("a cell is longer than {MAX_CELL_BYTES} bytes"),
            );
            return false;
        }
        true
    }

    /// The cell of `column` in `record`; empty cells are `None`.
    pub fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        let i = *self.positions.get(column)?;
        record.get(i).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Dates as spreadsheets write them: 2024-09-01, 2024/9/1, 2024.09.01, 20240901.
pub fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let v = value.trim();
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(v, format) {
            return Ok(date);
        }
    }
    Err(format!("'{v}' is not a date (use YYYY-MM-DD)"))
}

/// Yes/no as people write it: true/false, 1/0, yes/no, y/n, 是/否.
pub fn parse_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" | "√" => Ok(true),
        "false" | "0" | "no" | "n" | "否" | "×" => Ok(false),
        other => Err(format!("'{other}' is not yes or no")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff_encoding("姓名,身份证号".as_bytes()), UTF_8);
        assert_eq!(sniff_encoding(b"\xEF\xBB\xBFname"), UTF_8);
        let (gbk, _, _) = GB18030.encode("姓名,身份证号");
        assert_eq!(sniff_encoding(&gbk), GB18030);
        // A UTF-8 character cut at the end of the sniffed head is still UTF-8.
        let text = "姓名".as_bytes();
        assert_eq!(sniff_encoding(&text[..text.len() - 1]), UTF_8);
    }

    #[test]
    fn dates_and_flags() {
        let d = NaiveDate::from_ymd_opt(2024, 9, 1).unwrap();
        for v in ["2024-09-01", "2024/9/1", "2024.09.01", "20240901"] {
            assert_eq!(parse_date(v).unwrap(), d, "{v}");
        }
        assert!(parse_date("2024-02-30").is_err());
        assert!(parse_flag("是").unwrap());
        assert!(!parse_flag("N").unwrap());
        assert!(parse_flag("maybe").is_err());
    }

    #[test]
    fn headers_in_either_language() {
        let known = [
            Column {
                name: "name",
                aliases: &["姓名"],
                required: true,
            },
            Column {
                name: "id_number",
                aliases: &["身份证号"],
                required: false,
            },
            Column {
                name: "email",
                aliases: &["邮箱"],
                required: false,
            },
        ];
        let headers = csv::StringRecord::from(vec!["\u{feff}姓名", "Id Number"]);
        let columns = Columns::map(&headers, &known).unwrap();
        let row = csv::StringRecord::from(vec!["王芳", " "]);
        assert_eq!(columns.get(&row, "name"), Some("王芳"));
        assert_eq!(columns.get(&row, "id_number"), None);
        assert_eq!(columns.get(&row, "email"), None);
        let err = Columns::map(&csv::StringRecord::from(vec!["email"]), &known).unwrap_err();
        assert!(matches!(err, AppError::InvalidCsv(ref e) if e[0].field == "name"));
    }
}
