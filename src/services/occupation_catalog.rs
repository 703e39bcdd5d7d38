//! The occupation catalog as the use cases check what they are given against it.

use crate::db::{occupations, DbConnection};
use crate::domain::checks::Checks;
use crate::error::AppError;

/// Adds to `checks`, under its field, each code the occupation catalog does not hold (one query
/// for them all).
pub fn check_occupations<'a>(
    conn: &mut DbConnection,
    checks: &mut Checks,
    named: impl IntoIterator<Item = (String, &'a str)>,
) -> Result<(), AppError> {
    let named: Vec<(String, &str)> = named.into_iter().collect();
    if named.is_empty() {
        return Ok(());
    }
    let codes: Vec<String> = named.iter().map(|(_, code)| (*code).to_owned()).collect();
    let known = occupations::existing(conn, &codes)?;
    for (field, code) in named {
        checks.ensure(
            known.iter().any(|k| k == code),
            &field,
            format!("{code} is not in the occupation catalog"),
        );
    }
    Ok(())
}

/// Refuses `code`, named as `field`, unless the occupation catalog holds it.
pub fn require_occupation(
    conn: &mut DbConnection,
    field: &str,
    code: &str,
) -> Result<(), AppError> {
    let mut checks = Checks::new();
    check_occupations(conn, &mut checks, [(field.to_owned(), code)])?;
    checks.done(|| Some(()))
}
