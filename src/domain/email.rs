use std::fmt;

/// An email address, trimmed and lower-cased: accounts are unique regardless of case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain.tld` shapes; the message says what is wrong, for a learner or a clerk.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err("is required".into());
        }
        if value.chars().count() > 254 {
            return Err("must be at most 254 characters".into());
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces".into());
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err("must contain '@'".into());
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err("has an invalid part before '@'".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err("has an invalid domain".into());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(
            EmailAddress::parse("  Li.Wei@Example.COM ")
                .unwrap()
                .as_str(),
            "li.wei@example.com"
        );
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in [
            "",
            "plain",
            "@x.cn",
            "a@",
            "a@localhost",
            "a b@x.cn",
            "a@-x.cn",
            "a@x..cn",
        ] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }
}
