//! CSV uploads as institutions really produce them: UTF-8 with or without a byte-order mark, or
//! GB18030/GBK from Excel on Chinese Windows; headers in English or Chinese. The body streams
//! from the HTTP payload through a bounded channel into a blocking reader, so a large file never
//! sits in memory whole, and the database work runs off the HTTP workers.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use actix_web::http::header;
use actix_web::web::{Bytes, Payload};
use actix_web::HttpRequest;
use chrono::NaiveDate;
use encoding_rs::{Encoding, GB18030, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Largest CSV upload accepted.
pub const CSV_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Rejected rows listed in a report at most; the count covers them all.
pub const MAX_REPORTED_ROWS: usize = 1000;

/// Bytes looked at to tell UTF-8 from GB18030 when the upload does not say.
const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `true`: store the good rows and report the bad ones. Default: one bad row rejects the
    /// whole file and nothing is stored.
    pub partial: Option<bool>,
}

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The column, by its English name.
    pub field: String,
    pub message: String,
}

/// Collects rejected rows, keeping the first `MAX_REPORTED_ROWS`.
#[derive(Debug, Default)]
pub struct Rejections {
    pub listed: Vec<RowError>,
    pub count: u64,
}

impl Rejections {
    pub fn push(&mut self, line: u64, field: &str, message: impl Into<String>) {
        self.count += 1;
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
    pub rejected_count: u64,
    /// The first 1000 rejected rows.
    pub rejected: Vec<RowError>,
    pub rejected_truncated: bool,
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
    pub fn finish(mut self, rejections: Rejections) -> Result<Self, ApiError> {
        self.rejected_count = rejections.count;
        self.rejected_truncated = rejections.truncated();
        self.rejected = rejections.listed;
        if !self.partial && self.rejected_count > 0 {
            let detail = format!(
                "{} of {} rows were rejected; nothing was stored. Fix them, or send ?partial=true to store the good rows.",
                self.rejected_count, self.rows_read
            );
            let report =
                serde_json::to_value(&self).map_err(|e| ApiError::internal("import report", e))?;
            return Err(ApiError::ImportRejected { detail, report });
        }
        self.committed = true;
        Ok(self)
    }
}

/// Reads the chunks the HTTP side sends, as a blocking `Read`.
struct ChannelReader {
    chunks: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(message)) => return Err(std::io::Error::other(message)),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// The charset named in `Content-Type`, if any; checks the media type is CSV-like.
fn declared_encoding(req: &HttpRequest) -> Result<Option<&'static Encoding>, ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default().to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    if !matches!(
        media,
        "text/csv"
            | "application/csv"
            | "text/plain"
            | "application/vnd.ms-excel"
            | "application/octet-stream"
    ) {
        return Err(ApiError::UnsupportedMediaType {
            detail: "Send the file as text/csv (optionally with charset=utf-8 or charset=gbk)."
                .into(),
        });
    }
    for part in parts {
        if let Some(label) = part.strip_prefix("charset=") {
            let label = label.trim_matches('"');
            return Encoding::for_label(label.as_bytes())
                .map(Some)
                .ok_or_else(|| ApiError::UnsupportedMediaType {
                    detail: format!("Unknown charset '{label}'; use utf-8 or gbk."),
                });
        }
    }
    Ok(None)
}

/// UTF-8 when the head is valid UTF-8 (a sequence cut at the end is fine) or starts with a BOM;
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
}

impl CsvUpload {
    /// Reads the header row and maps it to the `known` columns.
    pub fn columns(&mut self, known: &[Column]) -> Result<Columns, ApiError> {
        let headers = self.reader.headers().map_err(|e| {
            ApiError::bad_request("invalid_csv", format!("The header row cannot be read: {e}"))
        })?;
        Columns::map(headers, known)
    }
}

/// Starts streaming the request body; returns once the encoding is known. The returned
/// reader must be consumed on a blocking thread.
pub async fn open(req: &HttpRequest, mut payload: Payload) -> Result<CsvUpload, ApiError> {
    let declared = declared_encoding(req)?;
    let mut head = Vec::new();
    let mut total = 0usize;
    let mut finished = false;
    while head.len() < SNIFF_BYTES {
        match payload.next().await {
            Some(Ok(chunk)) => {
                total += chunk.len();
                if total > CSV_BODY_LIMIT {
                    return Err(ApiError::PayloadTooLarge {
                        limit: CSV_BODY_LIMIT,
                    });
                }
                head.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                return Err(ApiError::bad_request(
                    "invalid_body",
                    format!("Reading the upload failed: {e}"),
                ))
            }
            None => {
                finished = true;
                break;
            }
        }
    }
    if head.is_empty() {
        return Err(ApiError::bad_request("empty_file", "The file is empty."));
    }
    let encoding = declared.unwrap_or_else(|| sniff_encoding(&head));

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(8);
    if !finished {
        actix_web::rt::spawn(async move {
            let mut total = total;
            while let Some(chunk) = payload.next().await {
                let item = match chunk {
                    Ok(bytes) => {
                        total += bytes.len();
                        if total > CSV_BODY_LIMIT {
                            Err(format!("the file is larger than {CSV_BODY_LIMIT} bytes"))
                        } else {
                            Ok(bytes)
                        }
                    }
                    Err(e) => Err(format!("reading the upload failed: {e}")),
                };
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    break;
                }
            }
        });
    } else {
        drop(tx);
    }

    let source = Cursor::new(head).chain(ChannelReader {
        chunks: rx,
        current: Bytes::new(),
    });
    let decoded = DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .build(source);
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(Box::new(decoded) as Box<dyn Read + Send>);
    Ok(CsvUpload { reader, encoding })
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
}

fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

impl Columns {
    /// Maps the header row; a missing required column is a 422 naming it.
    pub fn map(headers: &csv::StringRecord, known: &[Column]) -> Result<Self, ApiError> {
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
            return Err(ApiError::Validation(missing));
        }
        Ok(Self { positions })
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
        assert!(matches!(err, ApiError::Validation(ref e) if e[0].field == "name"));
    }
}
