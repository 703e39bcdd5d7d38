//! One-click unsubscribe links (RFC 8058): a token naming the learner and the category, signed
//! with a key derived from the data key, so the link works without logging in and cannot be
//! forged for another learner or category. Tokens do not expire: an old email's link must still
//! work.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Category;
use crate::config::Secret;
use crate::crypto::hmac;
use crate::domain::LearnerId;

#[derive(Clone)]
pub struct UnsubscribeKeys {
    key: [u8; 32],
}

impl UnsubscribeKeys {
    pub fn new(data_key: &Secret) -> anyhow::Result<Self> {
        Ok(Self {
            key: hmac(data_key.expose(), b"skillpath/unsubscribe/v1")?,
        })
    }

    fn signature(&self, learner_id: LearnerId, category: Category) -> anyhow::Result<String> {
        let mac = hmac(&self.key, format!("{learner_id}:{category}").as_bytes())?;
        Ok(URL_SAFE_NO_PAD.encode(mac))
    }

    /// `{learner}.{category}.{signature}`: URL-safe as it is.
    pub fn token(&self, learner_id: LearnerId, category: Category) -> anyhow::Result<String> {
        Ok(format!(
            "{learner_id}.{category}.{}",
            self.signature(learner_id, category)?
        ))
    }

    /// The learner and category a token was signed for; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<(LearnerId, Category)> {
        let mut parts = token.splitn(3, '.');
        let learner_id = parts.next()?.parse::<LearnerId>().ok()?;
        let category = parts.next()?.parse::<Category>().ok()?;
        let given = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).ok()?;
        mac.update(format!("{learner_id}:{category}").as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&given).ok()?;
        Some((learner_id, category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> UnsubscribeKeys {
        UnsubscribeKeys::new(&Secret::new(secret.as_bytes().to_vec())).unwrap()
    }

    #[test]
    fn a_token_names_its_learner_and_category_only() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let token = k.token(LearnerId(42), Category::Milestone).unwrap();
        assert_eq!(k.verify(&token), Some((LearnerId(42), Category::Milestone)));
        // Another learner or category with the same signature fails.
        let sig = token.rsplit('.').next().unwrap();
        assert_eq!(k.verify(&format!("43.milestone.{sig}")), None);
        assert_eq!(k.verify(&format!("42.certificate.{sig}")), None);
        // Another key fails; so does garbage.
        assert_eq!(
            keys("another-secret-another-secret-xx").verify(&token),
            None
        );
        for bad in ["", "42", "42.milestone", "x.milestone.abc", "42.nope.abc"] {
            assert_eq!(k.verify(bad), None, "{bad}");
        }
    }
}
