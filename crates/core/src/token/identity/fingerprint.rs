//! Fingerprints of secrets, for cache keys and labels: HMAC-SHA-256 under a random key that
//! lives beside the cache (`<cache dir>/.fingerprint-key`, 0600, made on first use), not a
//! bare hash. A bare SHA-256 prefix of a low-entropy secret (an external ID, a short
//! token) in `status --json` or an entry file could be reversed by guessing; under a key
//! that never leaves the cache directory it cannot.
//!
//! The key is a value, [`Key`]: the cache owns its own ([`Key::of_cache`], made when the
//! cache is opened), and whoever computes an identity passes one in, so an identity
//! computed without the cache's key does not compile (it used to be a process-wide global
//! installed as a side effect of opening the cache, and a path that forgot to open it
//! first missed every entry). Without a cache, a key of the process alone serves
//! ([`Key::ephemeral`]): nothing is kept then, so nothing needs to match.
//!
//! The randomness is `getrandom(2)` (`getentropy` on macOS and the BSDs), which needs no
//! device file: a chroot or sandbox without `/dev/urandom` still gets a key. With no
//! randomness at all there is no key, and that is an error with its line, never a key
//! anyone could compute (issue 27: it used to be the constant `0x5a…`).

use crate::files;
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::Path;

/// The key file's name in the cache directory.
pub(crate) const KEY_FILE: &str = ".fingerprint-key";
const KEY_LEN: usize = 32;

/// The key fingerprints of secrets are made under. Its bytes are never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// The key of the cache in `dir`: its file's, else a new one kept there (a file that
    /// cannot be used or kept gives way to a new key of this process alone). An error (no
    /// randomness) means this cache must not be used.
    pub(crate) fn of_cache(dir: &Path) -> io::Result<Key> {
        cache_key(dir, &random).map(Key)
    }

    /// A key of this process alone, for identities nothing keeps (no cache).
    pub fn ephemeral() -> Result<Key, KeyError> {
        random().map(Key).map_err(|e| KeyError {
            detail: Some(e.to_string()),
        })
    }

    /// A fixed key, for tests and the fuzzers' checks (never a shipped build's).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn fixed() -> Key {
        Key([0x42; KEY_LEN])
    }

    /// The first 64 bits of HMAC-SHA-256(key, value), hex.
    pub(crate) fn fingerprint(&self, value: &[u8]) -> String {
        hex(&hmac(&self.0, value)[..8])
    }
}

/// There is no key to fingerprint secrets under: the system gave no randomness (and there
/// is no cache with a key of its own).
#[derive(Debug)]
pub struct KeyError {
    /// What the system said, when it said something.
    pub(crate) detail: Option<String>,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the system gives no randomness (getrandom")?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        f.write_str("), so ecr-login has no key to fingerprint secrets under and cannot tell one identity from another; it does not go on with a key others could compute")
    }
}

impl std::error::Error for KeyError {}

/// The key for the cache in `dir`: its file's, else a new one from `random` (kept in
/// the file when it can be).
fn cache_key(
    dir: &Path,
    random: &dyn Fn() -> io::Result<[u8; KEY_LEN]>,
) -> io::Result<[u8; KEY_LEN]> {
    match load(dir, Some(random))? {
        Some(key) => Ok(key),
        None => random(),
    }
}

/// The key in `dir`; made there (exclusively, 0600) with `random` when one is given and
/// the file is missing. `Ok(None)`: no usable key file. `Err`: no randomness to make one.
fn load(
    dir: &Path,
    random: Option<&dyn Fn() -> io::Result<[u8; KEY_LEN]>>,
) -> io::Result<Option<[u8; KEY_LEN]>> {
    let path = dir.join(KEY_FILE);
    let mut options = files::open_options(0o600);
    options.read(true);
    match (options.open(&path), random) {
        (Ok(file), _) => {
            // Ours and private, as every file here. Its link count is not checked: while its
            // maker links it into place, the temp name is a second link for an instant.
            let Ok(meta) = file.metadata() else {
                return Ok(None);
            };
            if files::check_owned(&path, &meta, "fingerprint key").is_err()
                || !meta.is_file()
                || meta.len() != KEY_LEN as u64
            {
                return Ok(None);
            }
            let mut key = [0u8; KEY_LEN];
            Ok(file
                .take(KEY_LEN as u64)
                .read_exact(&mut key)
                .ok()
                .map(|()| key))
        }
        (Err(e), Some(random)) if e.kind() == io::ErrorKind::NotFound => {
            let key = random()?;
            match files::write_new(&path, &key, 0o600) {
                Ok(()) => Ok(Some(key)),
                // Another process made it first: theirs is the key.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => load(dir, None),
                Err(e) => {
                    tracing::debug!("cannot keep {}: {e}", path.display());
                    Ok(None)
                }
            }
        }
        _ => Ok(None),
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

/// A new key from the kernel, with `getrandom(2)`: no file to open (a sandbox may have no
/// `/dev/urandom`, or a `/dev/null` in its place).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn random() -> io::Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    let mut filled = 0;
    while filled < KEY_LEN {
        let rest = &mut key[filled..];
        // SAFETY: getrandom writes at most `rest.len()` bytes into `rest`.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        match n {
            n if n > 0 => filled += n as usize,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    Ok(key)
}

/// macOS and the BSDs: `getentropy(2)`, the same without a device file (up to 256 bytes).
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn random() -> io::Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    // SAFETY: the buffer and its length agree, and the length is under getentropy's 256.
    if unsafe { libc::getentropy(key.as_mut_ptr().cast(), KEY_LEN) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(key)
}

#[cfg(windows)]
fn random() -> io::Result<[u8; KEY_LEN]> {
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
    if status != 0 {
        return Err(io::Error::other(format!(
            "BCryptGenRandom failed (NTSTATUS {status:#x})"
        )));
    }
    Ok(key)
}

/// First 16 hex digits of SHA-256: enough to tell keys apart, useless to recover one.
pub(crate) fn short_hash(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes())[..8])
}

/// Lower-case hex, two digits a byte. By table: every hit hexes a few digests, and a
/// `format!` per byte was a fifth of a hit's instructions (benches/README.md).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 has a short key; this checks the construction against a
    /// 32-byte key computed with Python's hmac module.
    #[test]
    fn hmac_is_hmac_sha256() {
        let key = [0x0bu8; 32];
        let got = hex(&hmac(&key, b"Hi There"));
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
                std::thread::spawn(move || cache_key(&d, &random).ok())
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
        let one = cache_key(dir.path(), &random).unwrap();
        assert_eq!(cache_key(dir.path(), &random).unwrap(), one);
        assert_eq!(load(dir.path(), None).unwrap(), Some(one));
        #[cfg(unix)]
        assert_eq!(
            files::mode(&std::fs::metadata(dir.path().join(KEY_FILE)).unwrap()),
            0o600
        );
        let other = tempfile::tempdir().unwrap();
        assert_ne!(cache_key(other.path(), &random).unwrap(), one);
    }

    /// Issue 27: with no randomness the key was the constant `0x5a…`. Now there is no key
    /// for a new cache (so the cache is not used), and none is written; an existing key
    /// file still serves.
    #[test]
    fn no_randomness_means_no_key_for_a_new_cache() {
        let none = || Err(io::Error::other("no randomness"));
        let dir = tempfile::tempdir().unwrap();
        assert!(cache_key(dir.path(), &none).is_err());
        assert!(!dir.path().join(KEY_FILE).exists());
        let made = cache_key(dir.path(), &random).unwrap();
        assert_eq!(cache_key(dir.path(), &none).unwrap(), made);
    }

    #[test]
    fn a_key_is_never_shown() {
        let key = Key([0x42; KEY_LEN]);
        assert_eq!(format!("{key:?}"), "Key(..)");
        assert_ne!(
            key.fingerprint(b"x"),
            Key([0x43; KEY_LEN]).fingerprint(b"x")
        );
    }
}
