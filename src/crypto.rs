//! Protection of identity numbers: XChaCha20-Poly1305 encryption (random 24-byte nonces) and an
//! HMAC-SHA256 keyed hash that finds duplicates without decrypting. Both keys are derived from
//! the one data key of the configuration, each for its own purpose.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::IdentityNumber;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key` (HMAC takes keys of any length).
pub(crate) fn hmac(key: &[u8], data: &[u8]) -> anyhow::Result<[u8; 32]> {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(key).map_err(|e| anyhow::anyhow!("hmac key: {e}"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

/// Encrypts `plain` under `cipher` with a random nonce: base64 of nonce ‖ ciphertext.
fn seal_bytes(cipher: &XChaCha20Poly1305, plain: &[u8]) -> anyhow::Result<String> {
    let mut nonce = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), plain)
        .map_err(|_| anyhow::anyhow!("encrypting"))?;
    let mut stored = nonce.to_vec();
    stored.extend_from_slice(&ciphertext);
    Ok(STANDARD.encode(stored))
}

/// Opens what `seal_bytes` stored.
fn open_bytes(cipher: &XChaCha20Poly1305, stored: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = STANDARD.decode(stored)?;
    if bytes.len() < 24 {
        anyhow::bail!("sealed value is too short");
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    cipher
        .decrypt(XNonce::from_slice(nonce), ciphertext)
        .map_err(|_| anyhow::anyhow!("sealed value does not decrypt under this key"))
}

/// Encrypts other secrets the service keeps (the private keys that sign statements, the tokens
/// of account links waiting to be emailed) under a key derived from the data key for that
/// purpose: one purpose's key opens nothing of another's.
#[derive(Clone)]
pub struct KeyVault {
    cipher: XChaCha20Poly1305,
}

impl KeyVault {
    /// The vault of the signing keys.
    pub fn new(data_key: &Secret) -> anyhow::Result<Self> {
        Self::for_purpose(data_key, b"skillpath/signing-keys/encryption/v1")
    }

    /// The vault of account links' tokens until their email is sent.
    pub fn for_links(data_key: &Secret) -> anyhow::Result<Self> {
        Self::for_purpose(data_key, b"skillpath/account-links/encryption/v1")
    }

    fn for_purpose(data_key: &Secret, purpose: &[u8]) -> anyhow::Result<Self> {
        let key = hmac(data_key.expose(), purpose)?;
        Ok(Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        })
    }

    pub fn seal(&self, plain: &[u8]) -> anyhow::Result<String> {
        seal_bytes(&self.cipher, plain)
    }

    pub fn open(&self, stored: &str) -> anyhow::Result<Vec<u8>> {
        open_bytes(&self.cipher, stored)
    }
}

pub struct IdentityVault {
    cipher: XChaCha20Poly1305,
    hash_key: [u8; 32],
}

/// What is stored for an identity number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedIdentity {
    pub ciphertext: String,
    pub hash: String,
    pub masked: String,
}

impl IdentityVault {
    pub fn new(data_key: &Secret) -> anyhow::Result<Self> {
        let enc = hmac(
            data_key.expose(),
            b"skillpath/identity-number/encryption/v1",
        )?;
        Ok(Self {
            cipher: XChaCha20Poly1305::new(&enc.into()),
            hash_key: hmac(data_key.expose(), b"skillpath/identity-number/hash/v1")?,
        })
    }

    /// The keyed hash: equal numbers give equal hashes under one key, and nothing else.
    pub fn hash(&self, number: &IdentityNumber) -> anyhow::Result<String> {
        Ok(hex::encode(hmac(
            &self.hash_key,
            number.expose().as_bytes(),
        )?))
    }

    pub fn seal(&self, number: &IdentityNumber) -> anyhow::Result<SealedIdentity> {
        Ok(SealedIdentity {
            ciphertext: seal_bytes(&self.cipher, number.expose().as_bytes())?,
            hash: self.hash(number)?,
            masked: number.masked(),
        })
    }

    /// Decrypts a stored number (for exports an administrator asks for; never for API answers).
    pub fn open(&self, stored: &str) -> anyhow::Result<IdentityNumber> {
        let plain = open_bytes(&self.cipher, stored)?;
        IdentityNumber::parse(&String::from_utf8(plain)?).map_err(|e| anyhow::anyhow!(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(key: &[u8]) -> IdentityVault {
        IdentityVault::new(&Secret::new(key.to_vec())).unwrap()
    }

    #[test]
    fn seal_and_open() {
        let v = vault(b"a data key of at least thirty-two bytes");
        let n = IdentityNumber::parse("11010519491231002X").unwrap();
        let sealed = v.seal(&n).unwrap();
        assert!(!sealed.ciphertext.contains("19491231"));
        assert_eq!(sealed.masked, "**************002X");
        assert_eq!(v.open(&sealed.ciphertext).unwrap(), n);
        // Random nonces: the same number encrypts differently, but hashes the same.
        let again = v.seal(&n).unwrap();
        assert_ne!(again.ciphertext, sealed.ciphertext);
        assert_eq!(again.hash, sealed.hash);
        // Another key neither opens it nor reproduces the hash.
        let other = vault(b"another data key, also thirty-two bytes");
        assert!(other.open(&sealed.ciphertext).is_err());
        assert_ne!(other.hash(&n).unwrap(), sealed.hash);
    }
}
