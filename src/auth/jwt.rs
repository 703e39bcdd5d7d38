//! Short-lived access tokens: HS256 only, with `exp`, `iat`, `iss`, `aud` and `sub` required
//! and checked, and a token version that the database can move to cut access at once.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{
    decode, encode, get_current_timestamp, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::domain::{Role, UserId};
use crate::error::AppError;

/// The one algorithm accepted: a token naming any other (`none`, `HS512`, `RS256`) is refused.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// Seconds of clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    pub role: Role,
    /// The user's token version when the token was issued.
    pub ver: i64,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
}

pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl AccessTokens {
    pub fn new(
        secret: &Secret,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.expose())?,
            decoding: DecodingKey::from_secret(secret.expose())?,
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: UserId, role: Role, version: i64) -> Result<String, AppError> {
        let now = get_current_timestamp();
        let claims = AccessClaims {
            sub: user_id.to_string(),
            role,
            ver: version,
            iat: now,
            exp: now + self.ttl.as_secs(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| AppError::internal("signing an access token", e))
    }

    /// Checks signature, algorithm, issuer, audience, expiry and issue time.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AppError> {
        let data =
            decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|e| match e
                .kind()
            {
                ErrorKind::ExpiredSignature => AppError::unauthenticated(
                    "token_expired",
                    "The access token has expired; refresh it.",
                ),
                _ => AppError::unauthenticated("invalid_token", "The access token is not valid."),
            })?;
        if data.claims.iat > get_current_timestamp() + LEEWAY_SECS {
            return Err(AppError::unauthenticated(
                "invalid_token",
                "The access token is not valid.",
            ));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            &Secret::new(b"an example secret of at least 32 bytes!".to_vec()),
            "skillpath",
            "skillpath-api",
            Duration::from_secs(900),
        )
        .unwrap()
    }

    #[test]
    fn round_trip() {
        let t = tokens();
        let token = t.issue(UserId(7), Role::Evaluator, 3).unwrap();
        let claims = t.verify(&token).unwrap();
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.role, Role::Evaluator);
        assert_eq!(claims.ver, 3);
    }

    #[test]
    fn other_audience_or_secret_is_refused() {
        let t = tokens();
        let other = AccessTokens::new(
            &Secret::new(b"an example secret of at least 32 bytes!".to_vec()),
            "skillpath",
            "another-api",
            Duration::from_secs(900),
        )
        .unwrap();
        assert!(t
            .verify(&other.issue(UserId(1), Role::Admin, 0).unwrap())
            .is_err());
        let forged = AccessTokens::new(
            &Secret::new(b"a different secret of at least 32 bytes".to_vec()),
            "skillpath",
            "skillpath-api",
            Duration::from_secs(900),
        )
        .unwrap();
        assert!(t
            .verify(&forged.issue(UserId(1), Role::Admin, 0).unwrap())
            .is_err());
    }
}
