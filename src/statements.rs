//! Signed statements that can be checked without calling us: compact JWS (RFC 7515) signed with
//! EdDSA over Ed25519 (RFC 8037), published keys as a JWK Set (RFC 7517), key ids as JWK
//! thumbprints (RFC 7638). Any standard JOSE library verifies them against
//! `/.well-known/jwks.json`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A newly made key pair: its id, the public key (base64url) and the 32 secret bytes.
pub struct NewKey {
    pub kid: String,
    pub public_key: String,
    pub secret: [u8; 32],
}

/// Makes a key pair from the operating system's randomness.
pub fn generate() -> NewKey {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let key = SigningKey::from_bytes(&secret);
    let public_key = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    NewKey {
        kid: thumbprint(&public_key),
        public_key,
        secret,
    }
}

/// The RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over the required members in
/// lexicographic order, base64url.
pub fn thumbprint(public_key: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{public_key}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The public JWK of a key.
pub fn jwk(kid: &str, public_key: &str) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": public_key, "kid": kid, "alg": "EdDSA", "use": "sig"})
}

/// Signs `claims` as a compact JWS with the key `secret` named `kid`.
pub fn sign(kid: &str, secret: &[u8], claims: &Value) -> anyhow::Result<String> {
    let secret: [u8; 32] = secret
        .try_into()
        .map_err(|_| anyhow::anyhow!("a signing key has 32 bytes"))?;
    let key = SigningKey::from_bytes(&secret);
    let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": kid});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
    );
    let signature = key.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8037_test_vector() {
        // RFC 8037, appendix A.1–A.5: the same key, header and payload give the same JWS.
        let secret = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let key = SigningKey::from_bytes(&secret.clone().try_into().unwrap());
        let public = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        assert_eq!(public, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(
            thumbprint(&public),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        // A.4 signs the header {"alg":"EdDSA"} over "Example of Ed25519 signing".
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA"}"#),
            URL_SAFE_NO_PAD.encode(b"Example of Ed25519 signing")
        );
        assert_eq!(
            URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).to_bytes()),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }

    #[test]
    fn a_statement_has_three_parts_and_names_its_key() {
        let key = generate();
        let jws = sign(&key.kid, &key.secret, &json!({"share_id": 1})).unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], key.kid.as_str());
    }
}
