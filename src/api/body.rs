//! The JSON body extractor every handler uses: the body must be one JSON object (serde would
//! otherwise accept an array in a struct's place), and no text in it may hold a control character
//! (PostgreSQL refuses NUL in text, SQLite stores it, and neither belongs in a name or a code),
//! and no date in it may lie outside 1900–2099 (PostgreSQL refuses some that SQLite stores).
//! All are refused before the body reaches a handler, naming the field, on both backends alike.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::text::is_forbidden_control;
use crate::error::AppError;

/// Largest JSON body accepted (CSV uploads have their own limit).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON object body deserialized into `T` after the checks above.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The size limit, the content type and the syntax are checked by actix's extractor with
        // the application's JsonConfig (and its problem+json error handler).
        let raw = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let value = raw.await?.into_inner();
            Ok(JsonBody(parse_object(value)?))
        })
    }
}

/// Checks a parsed body and deserializes it.
pub fn parse_object<T: DeserializeOwned>(value: Value) -> Result<T, AppError> {
    if !value.is_object() {
        return Err(AppError::bad_input(
            "invalid_body",
            "The body must be a JSON object.",
        ));
    }
    if let Some(field) = control_character_at(&value, &mut String::new()) {
        return Err(AppError::invalid(
            &field,
            "must not contain control characters",
        ));
    }
    if let Some(field) = implausible_date_at(&value, &mut String::new()) {
        return Err(AppError::invalid(
            &field,
            "must be a date from 1900 to 2099",
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        AppError::bad_input(
            "invalid_body",
            format!("The body does not match the expected shape: {e}"),
        )
    })
}

/// The path (`name`, `certificates[2].number`) of the first string, or object key, holding a
/// forbidden control character.
fn control_character_at(value: &Value, path: &mut String) -> Option<String> {
    string_at(value, path, &|s| s.chars().any(is_forbidden_control))
}

/// The path of the first date (`YYYY-MM-DD`, as the API's dates are written) outside 1900–2099:
/// a typing mistake every time, and SQLite would store what PostgreSQL refuses.
fn implausible_date_at(value: &Value, path: &mut String) -> Option<String> {
    use chrono::Datelike;
    string_at(value, path, &|s| {
        let digits = s.trim_start_matches(['+', '-']);
        digits.len() >= 10
            && digits.as_bytes()[digits.len() - 6] == b'-'
            && digits.as_bytes()[digits.len() - 3] == b'-'
            && s.parse::<chrono::NaiveDate>()
                .is_ok_and(|d| !(1900..=2099).contains(&d.year()))
    })
}

/// The path of the first string, or object key, that `test` picks (a key picked names the
/// object that holds it: the key itself may not be printable).
fn string_at(value: &Value, path: &mut String, test: &dyn Fn(&str) -> bool) -> Option<String> {
    match value {
        Value::String(s) => test(s).then(|| display_path(path)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = string_at(item, path, test);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            if test(key) {
                path.truncate(len);
                return Some(display_path(path));
            }
            path.push_str(key);
            let found = string_at(item, path, test);
            path.truncate(len);
            found
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    struct Login {
        #[allow(dead_code)]
        email: String,
    }

    fn field_of(err: AppError) -> String {
        match err {
            AppError::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn dates_outside_1900_to_2099_are_refused_by_their_field() {
        #[derive(Debug, serde::Deserialize)]
        struct Dated {
            #[allow(dead_code)]
            on: chrono::NaiveDate,
        }
        for bad in ["-5000-01-01", "+12345-01-01", "1899-12-31", "2100-01-01"] {
            let err = parse_object::<Dated>(json!({"on": bad})).unwrap_err();
            assert_eq!(field_of(err), "on", "{bad}");
        }
        let err = parse_object::<Login>(json!({"email": "a@x.cn", "x": [{"d": "0001-01-01"}]}))
            .unwrap_err();
        assert_eq!(field_of(err), "x[0].d");
        parse_object::<Dated>(json!({"on": "1900-01-01"})).unwrap();
        parse_object::<Dated>(json!({"on": "2099-12-31"})).unwrap();
        // Text that only looks like a date in part is text.
        parse_object::<Login>(json!({"email": "1899-12-31@x.cn"})).unwrap();
    }

    #[test]
    fn only_objects_are_bodies() {
        let err = parse_object::<Login>(json!(["a@x.cn"])).unwrap_err();
        assert_eq!(err.code(), "invalid_body");
        parse_object::<Login>(json!({"email": "a@x.cn"})).unwrap();
    }

    #[test]
    fn control_characters_are_named_by_field() {
        let err = parse_object::<Login>(json!({"email": "a\u{0}@x.cn"})).unwrap_err();
        assert_eq!(field_of(err), "email");
        let err =
            parse_object::<Value>(json!({"items": [{"n": "ok"}, {"n": "x\u{1b}"}]})).unwrap_err();
        assert_eq!(field_of(err), "items[1].n");
        let err = parse_object::<Value>(json!({"a": {"k\u{7f}": 1}})).unwrap_err();
        assert_eq!(field_of(err), "a");
        // Multi-line text is text.
        parse_object::<Value>(json!({"reason": "line one\r\nline\ttwo"})).unwrap();
        // Invisible characters that disguise text are not.
        for disguise in ["Y31\u{200B}0", "王\u{202E}芳", "\u{FEFF}x"] {
            let err = parse_object::<Value>(json!({"number": disguise})).unwrap_err();
            assert_eq!(field_of(err), "number");
        }
    }
}
