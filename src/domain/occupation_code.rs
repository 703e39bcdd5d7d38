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

#[cfg(test)]
mod tests {
    use super::OccupationCode;

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
