use std::fmt;

use chrono::NaiveDate;

/// A resident identity number (公民身份号码, GB 11643-1999): 17 digits and a check character
/// (0–9 or X) computed with ISO 7064 MOD 11-2. Never printed whole: `Debug` shows the mask.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

impl IdentityNumber {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        if bytes.len() != 18
            || !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err("must be 18 characters: 17 digits and a check digit or X".into());
        }
        if !(b'1'..=b'9').contains(&bytes[0]) {
            return Err("does not start with a valid region code".into());
        }
        let sum: u32 = bytes[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        if CHECK[(sum % 11) as usize] != bytes[17] {
            return Err("has a wrong check digit (GB 11643)".into());
        }
        let number = Self(value);
        if number.birth_date().is_none() {
            return Err("holds an impossible date of birth".into());
        }
        Ok(number)
    }

    /// The date of birth in characters 7–14.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// `**************1234`: the last four characters only. Responses carry the birth date beside
    /// the mask, so the mask shows no digit of the region either (with the birth date and a
    /// few region digits, a handful of candidates would remain).
    pub fn masked(&self) -> String {
        format!("**************{}", &self.0[14..])
    }

    /// The full number, for encryption and the keyed hash only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdentityNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityNumber({})", self.masked())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a valid number from 17 digits by computing its check character.
    pub fn with_check(first17: &str) -> String {
        let sum: u32 = first17
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
    }

    #[test]
    fn the_standard_example_passes() {
        // The worked example of GB 11643-1999.
        let n = IdentityNumber::parse("11010519491231002X").unwrap();
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(n.masked(), "**************002X");
        assert!(!format!("{n:?}").contains("19491231"));
        assert!(IdentityNumber::parse("11010519491231002x").is_ok());
    }

    #[test]
    fn wrong_checks_and_shapes_fail() {
        assert!(IdentityNumber::parse("110105194912310021").is_err());
        assert!(IdentityNumber::parse("11010519491231002").is_err());
        assert!(IdentityNumber::parse("A1010519491231002X").is_err());
        let impossible_date = with_check("31010420020230123");
        assert!(IdentityNumber::parse(&impossible_date).is_err());
        let fine = with_check("31010420020228123");
        assert!(IdentityNumber::parse(&fine).is_ok());
    }
}
