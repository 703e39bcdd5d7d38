//! Files sent to be saved (a learner's copy of their data, a table of figures): named, and kept
//! out of every cache, the same way for the API and the pages.

use actix_web::http::header;
use actix_web::HttpResponse;

/// `body` as a download of `content_type` named `file_name` (a name the service made: no quotes
/// or line breaks in it).
pub fn attachment(content_type: &str, file_name: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body)
}
