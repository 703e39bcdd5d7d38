//! Certificate number shapes (RULES.md, Certificates; secondary sources, Unconfirmed):
//! - 职业技能等级证书: 22 characters, `Y` (employer) or `S` (social organisation) and 21 digits;
//!   of the digits, 14–15 are the issue year's last two digits and 16 the grade (1–5).
//! - 职业资格证书: 16 digits; 1–2 the issue year's last two digits and 11 the grade.
//!
//! The grade digit is read as the national grade number (1 = 高级技师 … 5 = 初级工). A number of
//! either shape whose digits disagree with the recorded level or issue year is accepted with a
//! warning for the evaluator; any other shape is accepted as `other`.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::kinds::NumberFormat;
use super::skill_level::SkillLevel;

/// A remark stored with a certificate for the evaluator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateWarning {
    /// `number_year_mismatch` or `number_level_mismatch`.
    pub code: String,
    pub message: String,
}

/// Normalised form: trimmed, upper-case, inner spaces removed.
pub fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        // Full-width forms (Ｙ３１０…, as a Chinese input method types them) are the same number.
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod normalise_tests {
    #[test]
    fn full_width_and_spaced_numbers_are_the_same_number() {
        assert_eq!(
            super::normalise("Ｙ３１０ 000000000024300012"),
            "Y310000000000024300012"
        );
        assert_eq!(
            super::normalise("y310000000000024300012"),
            "Y310000000000024300012"
        );
    }
}

/// The shape of `number` and the warnings its digits raise against the recorded facts.
pub fn inspect(
    number: &str,
    level: SkillLevel,
    issued_on: NaiveDate,
) -> (NumberFormat, Vec<CertificateWarning>) {
    let bytes = number.as_bytes();
    let digits_at =
        |range: std::ops::Range<usize>| -> Option<u32> { number.get(range)?.parse().ok() };
    let (format, year, grade) = if bytes.len() == 22
        && matches!(bytes[0], b'Y' | b'S')
        && bytes[1..].iter().all(u8::is_ascii_digit)
    {
        // Digit n of the 21 digits is character n (character 0 is the letter).
        (
            NumberFormat::SkillLevel,
            digits_at(14..16),
            digits_at(16..17),
        )
    } else if bytes.len() == 16 && bytes.iter().all(u8::is_ascii_digit) {
        (
            NumberFormat::VocationalQualification,
            digits_at(0..2),
            digits_at(10..11),
        )
    } else {
        return (NumberFormat::Other, Vec::new());
    };

    let mut warnings = Vec::new();
    let expected_year = issued_on.year().rem_euclid(100) as u32;
    if year != Some(expected_year) {
        warnings.push(CertificateWarning {
            code: "number_year_mismatch".into(),
            message: format!(
                "The number's year digits read {:02}, but the issue date is in {}.",
                year.unwrap_or_default(),
                issued_on.year()
            ),
        });
    }
    if grade != Some(u32::from(level.grade())) {
        warnings.push(CertificateWarning {
            code: "number_level_mismatch".into(),
            message: format!(
                "The number's level digit reads {}, but the recorded level is {} (grade {}).",
                grade.unwrap_or_default(),
                level.name_zh(),
                level.grade()
            ),
        });
    }
    (format, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn skill_level_numbers_are_checked() {
        // Y + 13 digits + "24" (year) + "3" (grade 3 = 高级工) + 5 digits.
        let n = &format!("Y{}{}{}{}", "3100000000000", "24", "3", "00012");
        assert_eq!(n.len(), 22);
        let (format, warnings) = inspect(n, SkillLevel::SeniorWorker, date(2024, 6, 30));
        assert_eq!(format, NumberFormat::SkillLevel);
        assert!(warnings.is_empty(), "{warnings:?}");

        let (_, warnings) = inspect(n, SkillLevel::Technician, date(2023, 6, 30));
        let codes: Vec<&str> = warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, ["number_year_mismatch", "number_level_mismatch"]);
    }

    #[test]
    fn qualification_numbers_are_checked() {
        // "15" (year) + 8 digits + "2" (grade 2 = 技师) + 5 digits.
        let n = "1531000000212345";
        let (format, warnings) = inspect(n, SkillLevel::Technician, date(2015, 1, 5));
        assert_eq!(format, NumberFormat::VocationalQualification);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_, warnings) = inspect(n, SkillLevel::Technician, date(2016, 1, 5));
        assert_eq!(warnings[0].code, "number_year_mismatch");
    }

    #[test]
    fn other_shapes_pass_without_warnings() {
        assert_eq!(
            inspect("ABC-123", SkillLevel::JuniorWorker, date(2024, 1, 1)),
            (NumberFormat::Other, vec![])
        );
        assert_eq!(normalise(" y3100 0000 "), "Y31000000");
    }
}
