//! Fingerprints of secrets, for cache keys and labels: HMAC-SHA-256 under a random key that
//! lives beside the cache (`<cache dir>/.fingerprint-key`, 0600, made on first use), not a
//! bare hash. A bare SHA-256 prefix of a low-entropy secret (an external ID, a short
//! token) in `status --json` or an entry file could be reversed by guessing; under a key
//! that never leaves the cache directory it cannot.
//!
//! One key per process, installed when the cache is opened ([`install`]), which every
//! path does before it computes an identity; without a cache, an existing key is read
//! from the default cache directory, else a key of this process alone is made (nothing
//! is kept then, so nothing needs to match).

use crate::files;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

/// The key file's name in the cache directory.
pub(crate) const KEY_FILE: &str = ".fingerprint-key";
const KEY_LEN: usize = 32;

static KEY: OnceLock<[u8; KEY_LEN]> = OnceLock::new();

/// Uses the key of the cache in `dir` (making it if needed) for this process, unless one
/// is in use already.
pub(crate) fn install(dir: &Path) {
    if KEY.get().is_none()
        && let Some(key) = load(dir, true)
    {
        let _ = KEY.set(key);
    }
}

/// The first 64 bits of HMAC-SHA-256(key, value), hex.
pub(crate) fn fingerprint(value: &[u8]) -> String {
    super::hex(&hmac(key(), value)[..8])
}

fn key() -> &'static [u8; KEY_LEN] {
    KEY.get_or_init(|| {
        crate::token::cache::default_dir()
            .ok()
            .flatten()
            .and_then(|dir| load(&dir, false))
            .unwrap_or_else(|| random().unwrap_or([0x5a; KEY_LEN]))
    })
}

/// The key in `dir`; made there (exclusively, 0600) when `create` and it is missing.
fn load(dir: &Path, create: bool) -> Option<[u8; KEY_LEN]> {
    let path = dir.join(KEY_FILE);
    let mut options = files::open_options(0o600);
    options.read(true);
    match options.open(&path) {
        Ok(file) => {
            // Ours and private, as every file here. Its link count is not checked: while its
            // maker links it into place, the temp name is a second link for an instant.
            let meta = file.metadata().ok()?;
            files::check_owned(&path, &meta, "fingerprint key").ok()?;
            if !meta.is_file() || meta.len() != KEY_LEN as u64 {
                return None;
            }
            let mut key = [0u8; KEY_LEN];
            file.take(KEY_LEN as u64).read_exact(&mut key).ok()?;
            Some(key)
        }
        Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
            let key = random()?;
            match files::write_new(&path, &key, 0o600) {
                Ok(()) => Some(key),
                // Another process made it first: theirs is the key.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load(dir, false),
                Err(e) => {
                    tracing::debug!("cannot keep {}: {e}", path.display());
                    None
                }
            }
        }
        Err(_) => None,
    }
}

fn hmac(key: &[u8; KEY_LEN], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut inner = [0x36u8; BLOCK];
    let mut outer = [0x5cu8; BLOCK];
    for (i, k) in key.iter().enumerate() {
        inner[i] ^= k;
        outer[i] ^= k;
    }
    let inner_hash = Sha256::new()
        .chain_update(inner)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(outer)
        .chain_update(inner_hash)
        .finalize()
        .into()
}

#[cfg(unix)]
fn random() -> Option<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .ok()?;
    Some(key)
}

#[cfg(windows)]
fn random() -> Option<[u8; KEY_LEN]> {
    use windows_sys::Win32::Security::Cryptography::{
        BCRYPT_USE_SYSTEM_PREFERRED_RNG, BCryptGenRandom,
    };
    let mut key = [0u8; KEY_LEN];
    // SAFETY: the buffer and its length agree; no algorithm handle with this flag.
    let status = unsafe {
        BCryptGenRandom(
            std::ptr::null_mut(),
            key.as_mut_ptr(),
            KEY_LEN as u32,
            BCRYPT_USE_SYSTEM_PREFERRED_RNG,
        )
    };
    (status == 0).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 has a short key; this checks the construction against a
    /// 32-byte key computed with Python's hmac module.
    #[test]
    fn hmac_is_hmac_sha256() {
        let key = [0x0bu8; 32];
        let got = super::super::hex(&hmac(&key, b"Hi There"));
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"\x0b"*32,b"Hi There",hashlib.sha256).hexdigest())'
        assert_eq!(
            got,
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
    }

    /// Many processes making the key at once all end up with the one that was linked
    /// first (a reader used to refuse it while its maker's temp name was a second link).
    #[test]
    fn racing_makers_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<_> = (0..16)
            .map(|_| {
                let d = dir.path().to_path_buf();
                std::thread::spawn(move || load(&d, true))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert!(
            keys.iter().all(|k| k.is_some() && *k == keys[0]),
            "{keys:?}"
        );
    }

    #[test]
    fn the_key_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let one = load(dir.path(), true).unwrap();
        assert_eq!(load(dir.path(), true).unwrap(), one);
        assert_eq!(load(dir.path(), false).unwrap(), one);
        #[cfg(unix)]
        assert_eq!(
            files::mode(&std::fs::metadata(dir.path().join(KEY_FILE)).unwrap()),
            0o600
        );
        let other = tempfile::tempdir().unwrap();
        assert_ne!(load(other.path(), true).unwrap(), one);
    }
}
