//! Receiving a CSV upload (the API's import endpoints and the pages' upload): the body is
//! received whole, within its time limits and the memory set aside for uploads, and checked,
//! before any database work starts (which then runs off the HTTP workers).

use actix_web::http::header;
use actix_web::web::Payload;
use actix_web::HttpRequest;
use encoding_rs::{Encoding, GB18030, UTF_8};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppError;
use crate::services::imports::csv::{check_upload, CsvUpload};

/// Largest CSV upload accepted.
pub const CSV_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// No byte for this long ends the upload with 408.
const UPLOAD_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// The whole upload must arrive within this time.
const UPLOAD_TOTAL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `true`: store the good rows and report the bad ones. Default: one bad row rejects the
    /// whole file and nothing is stored.
    pub partial: Option<bool>,
}

/// The charset named in `Content-Type`, if any; checks the media type is CSV-like.
fn declared_encoding(req: &HttpRequest) -> Result<Option<&'static Encoding>, AppError> {
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
        return Err(AppError::UnsupportedFormat {
            detail: "Send the file as text/csv (optionally with charset=utf-8 or charset=gbk)."
                .into(),
        });
    }
    for part in parts {
        if let Some(label) = part.strip_prefix("charset=") {
            let label = label.trim_matches('"');
            // The encodings institutions' files come in; anything else is refused rather than
            // guessed at (a label such as utf-16 or x-user-defined would decode to nonsense).
            return Encoding::for_label(label.as_bytes())
                .filter(|e| *e == UTF_8 || *e == GB18030 || *e == encoding_rs::GBK)
                .map(|e| Some(if e == UTF_8 { UTF_8 } else { GB18030 }))
                .ok_or_else(|| AppError::UnsupportedFormat {
                    detail: format!("Unsupported charset '{label}'; use utf-8 or gbk."),
                });
        }
    }
    Ok(None)
}

/// Receives the whole upload, then checks it, before any transaction opens: a client that
/// trickles its file holds nothing but its own request, and a file that is not text in its
/// encoding, or holds a control character, is refused with its line before a row is read.
/// The body is kept in memory (at most `CSV_BODY_LIMIT`; all uploads together `UPLOAD_MEMORY_KIB`).
pub async fn open(req: &HttpRequest, mut payload: Payload) -> Result<CsvUpload, AppError> {
    let declared = declared_encoding(req)?;
    // Uploads are held whole in memory while they are checked and imported: what they hold is
    // taken, as it arrives, from a budget shared by the process (twice the bytes received: the
    // body and its decoded text). A slow client holds only what it has sent.
    let budget = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|state| state.upload_memory.clone())
        .ok_or_else(|| AppError::internal("upload", "no application state"))?;
    let mut held: Option<tokio::sync::OwnedSemaphorePermit> = None;
    let started = tokio::time::Instant::now();
    let mut body: Vec<u8> = Vec::new();
    loop {
        let deadline =
            (started + UPLOAD_TOTAL_TIMEOUT).min(tokio::time::Instant::now() + UPLOAD_IDLE_TIMEOUT);
        let next = tokio::time::timeout_at(deadline, payload.next())
            .await
            .map_err(|_| AppError::InputTimedOut)?;
        match next {
            Some(Ok(chunk)) => {
                if body.len() + chunk.len() > CSV_BODY_LIMIT {
                    return Err(AppError::TooLarge {
                        limit: CSV_BODY_LIMIT,
                    });
                }
                let kib = u32::try_from((2 * chunk.len()).div_ceil(1024)).unwrap_or(u32::MAX);
                let more =
                    budget
                        .clone()
                        .try_acquire_many_owned(kib)
                        .map_err(|_| AppError::Busy {
                            detail: "Other uploads are using the memory set aside for files; send \
the file again shortly.",
                        })?;
                match held.as_mut() {
                    Some(permit) => permit.merge(more),
                    None => held = Some(more),
                }
                body.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                return Err(AppError::bad_input(
                    "invalid_body",
                    format!("Reading the upload failed: {e}"),
                ))
            }
            None => break,
        }
    }
    if body.is_empty() {
        return Err(AppError::bad_input("empty_file", "The file is empty."));
    }
    let mut upload = actix_web::web::block(move || check_upload(body, declared))
        .await
        .map_err(|e| AppError::internal("checking an upload", e))??;
    upload.hold(held);
    Ok(upload)
}
