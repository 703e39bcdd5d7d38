//! Field checks that collect every problem of a request before answering 422 once.

use std::str::FromStr;

use chrono::NaiveDate;

use crate::error::{AppError, FieldError};

#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records `message` against `field` unless `ok`.
    pub fn ensure(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Trimmed text, required, at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> Option<String> {
        // The length is of the text as sent (as the OpenAPI document's maxLength says); the
        // text is stored trimmed.
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
            return None;
        }
        let value = value.trim();
        if value.is_empty() {
            self.add(field, "is required");
            None
        } else {
            Some(value.to_owned())
        }
    }

    /// Optional text: absent or blank is `None`.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => self.text(field, v, max),
        }
    }

    /// A value parsed with `FromStr` whose error is a message for the learner or clerk.
    pub fn parse<T: FromStr<Err = String>>(&mut self, field: &str, value: &str) -> Option<T> {
        match value.trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Like `parse`, for parsers that are plain functions.
    pub fn with<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// `end` not before `start`, when both are known.
    pub fn ordered(
        &mut self,
        field: &str,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        start_name: &str,
    ) {
        if let (Some(s), Some(e)) = (start, end) {
            self.ensure(e >= s, field, format!("must not be before {start_name}"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// 422 listing every problem, or the value `build` assembles from the checked parts.
    pub fn done<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, AppError> {
        if !self.errors.is_empty() {
            return Err(AppError::Validation(self.errors));
        }
        build().ok_or_else(|| AppError::internal("request checks", "a checked field was missing"))
    }
}

/// The dates a record of this service can hold: 1900 to 2099 (a date outside is a typing
/// mistake, and some lie outside what the databases store).
pub fn plausible_date(checks: &mut Checks, field: &str, date: NaiveDate) {
    use chrono::Datelike;
    checks.ensure(
        (1900..=2099).contains(&date.year()),
        field,
        "must be a date from 1900 to 2099",
    );
}
