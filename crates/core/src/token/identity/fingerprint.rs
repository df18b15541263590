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
//!
//! The randomness is `getrandom(2)` (`getentropy` on macOS and the BSDs), which needs no
//! device file: a chroot or sandbox without `/dev/urandom` still gets a key. With no
//! randomness at all the cache is not used, rather than keyed with something guessable
//! (issue 27: it used to be the constant `0x5a…`).

use crate::files;
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::Path;
use std::sync::OnceLock;

/// The key file's name in the cache directory.
pub(crate) const KEY_FILE: &str = ".fingerprint-key";
const KEY_LEN: usize = 32;

static KEY: OnceLock<[u8; KEY_LEN]> = OnceLock::new();

/// Uses the key of the cache in `dir` (making it if needed) for this process, unless one
/// is in use already; a key file that cannot be used or kept gives way to a random key
/// of this process alone. An error (no randomness) means this cache must not be used.
pub(crate) fn install(dir: &Path) -> io::Result<()> {
    if KEY.get().is_none() {
        let _ = KEY.set(cache_key(dir, &random)?);
    }
    Ok(())
}

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

/// The first 64 bits of HMAC-SHA-256(key, value), hex.
pub(crate) fn fingerprint(value: &[u8]) -> String {
    super::hex(&hmac(key(), value)[..8])
}

fn key() -> &'static [u8; KEY_LEN] {
    KEY.get_or_init(|| {
        let kept = crate::token::cache::default_dir().ok().flatten();
        kept.and_then(|dir| load(&dir, None).ok().flatten())
            .or_else(|| random().ok())
            .unwrap_or_else(process_key)
    })
}

/// The last resort of a process with no cache and no randomness: its fingerprints are
/// shown (`doctor`), never kept. Not secret-grade, but not a constant anyone can compute
/// ahead: the time, the process and where the loader put this code and its stack.
fn process_key() -> [u8; KEY_LEN] {
    let on_stack = 0u8;
    let facts = format!(
        "{:?} {} {:p} {:p} {:?}",
        std::time::SystemTime::now(),
        std::process::id(),
        &on_stack,
        process_key as fn() -> [u8; KEY_LEN],
        std::time::Instant::now(),
    );
    Sha256::digest(facts.as_bytes()).into()
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
        assert_ne!(process_key(), [0x5a; KEY_LEN]);
    }
}
