use std::fmt;

/// A password chosen by a person, checked against the length policy. Never printed.
#[derive(Clone)]
pub struct NewPassword(String);

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        if raw.trim().is_empty() {
            return Err("must not be only spaces".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::NewPassword;

    #[test]
    fn length_policy() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("            ").is_err());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
        // Counted in characters, not bytes: twelve Chinese characters are enough.
        assert!(NewPassword::parse("技能等级证书高级技师学院").is_ok());
        assert!(
            !format!("{:?}", NewPassword::parse("correct horse battery").unwrap())
                .contains("horse")
        );
    }
}
