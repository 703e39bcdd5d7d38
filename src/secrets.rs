//! Secrets that must survive restarts: taken from configuration, or generated once and kept in a
//! file (mode 0600) beside the database, with a warning that production should configure them.

use std::io::ErrorKind;
use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

use crate::config::{Secret, MIN_SECRET_BYTES};

/// The configured secret, or the one stored at `file`, or a new one stored there.
pub fn configured_or_stored(
    configured: Option<&Secret>,
    file: &Path,
    variable: &str,
) -> anyhow::Result<Secret> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    if let Some(secret) = read(file)? {
        return Ok(secret);
    }
    let mut bytes = vec![0u8; 64];
    rand::thread_rng().fill_bytes(&mut bytes);
    match write_new(file, &STANDARD.encode(&bytes)) {
        Ok(()) => {
            tracing::warn!(
                file = %file.display(),
                "{variable} is not set: generated a secret and stored it in this file; \
                 set {variable} (the same value on every replica) in production"
            );
            Ok(Secret::new(bytes))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            read(file)?.with_context(|| format!("reading {}", file.display()))
        }
        Err(e) => Err(e).with_context(|| format!("writing {}", file.display())),
    }
}

/// The configured secret, or the one stored at `file`; never a new one.
pub fn configured_or_existing(
    configured: Option<&Secret>,
    file: &Path,
) -> anyhow::Result<Option<Secret>> {
    match configured {
        Some(secret) => Ok(Some(secret.clone())),
        None => read(file),
    }
}

/// Writes `contents` to a new file readable by its owner only.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    write_new(path, contents)
}

fn read(path: &Path) -> anyhow::Result<Option<Secret>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = STANDARD
                .decode(text.trim())
                .with_context(|| format!("{} is not base64", path.display()))?;
            if bytes.len() < MIN_SECRET_BYTES {
                anyhow::bail!(
                    "{} holds fewer than {MIN_SECRET_BYTES} bytes",
                    path.display()
                );
            }
            Ok(Some(Secret::new(bytes)))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_new(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("skillpath.test-secret");
        let first = configured_or_stored(None, &file, "TEST_SECRET").unwrap();
        let second = configured_or_stored(None, &file, "TEST_SECRET").unwrap();
        assert_eq!(first, second);
        assert!(first.expose().len() >= MIN_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let configured = Secret::new(b"configured secret of at least 32 bytes!".to_vec());
        assert_eq!(
            configured_or_stored(Some(&configured), &file, "TEST_SECRET").unwrap(),
            configured
        );
    }
}
