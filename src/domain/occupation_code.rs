use std::fmt;

/// An occupation code of the 职业分类大典 (2022 edition): `D-DD-DD-DD`, e.g. `6-18-02-04`.
/// The first digit is the major group (大类) 1–8.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OccupationCode(String);

impl OccupationCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        let bytes = value.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes.iter().enumerate().all(|(i, b)| match i {
                1 | 4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(format!(
                "'{value}' is not an occupation code of the form D-DD-DD-DD (e.g. 6-18-02-04)"
            ));
        }
        if !(b'1'..=b'8').contains(&bytes[0]) {
            return Err(format!(
                "'{value}': the major group (first digit) must be 1 to 8"
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for OccupationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OccupationCode({})", self.0)
    }
}

impl fmt::Display for OccupationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a list of occupation codes is stored in one text column: the codes joined by commas, the
/// empty list as the empty text.
pub fn encode_code_list<S: AsRef<str>>(codes: &[S]) -> String {
    codes
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads back what [`encode_code_list`] stored.
pub fn decode_code_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{decode_code_list, encode_code_list, OccupationCode};

    #[test]
    fn a_code_list_reads_back_as_stored() {
        let codes = ["6-18-02-04".to_owned(), "4-01-02-01".to_owned()];
        assert_eq!(decode_code_list(&encode_code_list(&codes)), codes);
        // The empty list is stored as the empty text and reads back empty (never as a code).
        assert_eq!(encode_code_list::<&str>(&[]), "");
        assert!(decode_code_list(&encode_code_list::<&str>(&[])).is_empty());
    }

    #[test]
    fn accepts_the_catalog_form() {
        assert_eq!(
            OccupationCode::parse(" 6-18-02-04 ").unwrap().as_str(),
            "6-18-02-04"
        );
        assert!(OccupationCode::parse("4-01-02-01").is_ok());
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "6-18-02",
            "61-8-02-04",
            "6-18-02-0X",
            "0-18-02-04",
            "9-18-02-04",
            "6.18.02.04",
            "6-18-02-045",
        ] {
            assert!(OccupationCode::parse(bad).is_err(), "{bad}");
        }
    }
}
