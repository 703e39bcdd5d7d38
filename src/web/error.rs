//! How the pages answer a failed use case: an HTML page in the reader's language, the login page
//! for a missing session, and never the internals of a server error.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::domain::Language;
use crate::error::AppError;

/// A failure of a page; `From<AppError>` so that `?` works in page handlers.
#[derive(Debug)]
pub struct PageError {
    pub error: AppError,
    pub language: Language,
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        Self {
            error,
            language: Language::ZhCn,
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// The largest form a page accepts (the longest, a decision's reason, is 1000 characters).
pub const FORM_LIMIT: usize = 16 * 1024;

/// A form that cannot be read (not urlencoded, too large, a field missing or repeated) answers
/// as a page in the reader's language, like every other failure of the pages.
pub fn form_error(
    err: actix_web::error::UrlencodedError,
    req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::UrlencodedError;
    let error = match err {
        UrlencodedError::Overflow { limit, .. } => AppError::TooLarge { limit },
        other => AppError::bad_input("invalid_form", other.to_string()),
    };
    PageError {
        error,
        language: super::ui::language_of(req),
    }
    .into()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: &'a str,
    title: &'a str,
    text: &'a str,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match &self.error {
            AppError::Unauthenticated { .. } => StatusCode::SEE_OTHER,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Busy { .. } | AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status == StatusCode::SEE_OTHER {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish();
        }
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = ?self.error, "page failed");
        }
        let zh = self.language == Language::ZhCn;
        let (title, text) = match status {
            StatusCode::NOT_FOUND => (
                if zh {
                    "找不到该页面"
                } else {
                    "Not found"
                },
                if zh {
                    "该页面不存在，或不在您的权限范围内。"
                } else {
                    "This page does not exist, or is not yours to see."
                },
            ),
            StatusCode::FORBIDDEN => (
                if zh { "无权访问" } else { "Not allowed" },
                if zh {
                    "您的账户不能使用该页面。"
                } else {
                    "Your account cannot use this page."
                },
            ),
            StatusCode::TOO_MANY_REQUESTS => (
                if zh {
                    "尝试次数过多"
                } else {
                    "Too many attempts"
                },
                if zh {
                    "请稍后再试。"
                } else {
                    "Please try again later."
                },
            ),
            StatusCode::BAD_REQUEST => (
                if zh { "请求有误" } else { "Bad request" },
                if zh {
                    "请返回上一页重试。"
                } else {
                    "Please go back and try again."
                },
            ),
            _ => (
                if zh {
                    "暂时无法完成"
                } else {
                    "Something went wrong"
                },
                if zh {
                    "请稍后再试。"
                } else {
                    "Please try again in a moment."
                },
            ),
        };
        let page = ErrorPage {
            lang: self.language.as_str(),
            title,
            text,
        };
        let body = page.render().unwrap_or_else(|_| title.to_owned());
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body)
    }
}
