//! ecr-login's own store for logins to registries that are not ECR, when ecr-login is
//! Docker's `credsStore` and no other helper is named to keep them: what a plain Docker
//! `auths` entry would hold (server, user name, secret), one 0600 file per server in a
//! 0700 directory, written atomically under a lock. It is separate from the token cache,
//! which the daemon and housekeeping touch; nothing here is ever renewed or swept.

use super::protocol::Credentials;
use crate::files::{self, check_owned};
use crate::frontends::error::Error;
use crate::frontends::store_error::StoreError;
use crate::token::identity::short_hash;
use crate::token::lock;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Overrides where the store lives.
pub(crate) use crate::paths::STORE_ENV;

/// A login file larger than this is not ours.
const MAX_LOGIN_BYTES: u64 = 64 * 1024;
/// How long a `store` or `erase` waits for another one on the same server.
const LOCK_BUDGET: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

/// `ECR_LOGIN_STORE_DIR`, else the platform's local data directory: `~/.local/share/
/// ecr-login/logins`, `~/Library/Application Support/ecr-login/logins`,
/// `%LOCALAPPDATA%\ecr-login\data\logins`.
pub fn default_dir() -> Result<PathBuf, Error> {
    crate::paths::store_dir().map_err(|_| Error::Store(StoreError::NoHome { env: STORE_ENV }))
}

impl FileStore {
    pub fn new(dir: PathBuf) -> FileStore {
        FileStore { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a server: named by a hash of the server string exactly as the client
    /// sends it, as Docker's own stores key logins.
    fn path(&self, server: &str) -> PathBuf {
        self.dir.join(format!("{}.json", short_hash(server)))
    }

    /// Vets the directory; `Ok(false)` when it does not exist (nothing stored yet).
    fn usable(&self) -> Result<bool, Error> {
        match fs::symlink_metadata(&self.dir) {
            Ok(meta) => check_owned(&self.dir, &meta, "login store")
                .map(|()| true)
                .map_err(StoreError::Refused),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StoreError::UseStore {
                dir: self.dir.clone(),
                error: source,
            }),
        }
        .map_err(Error::Store)
    }

    pub fn get(&self, server: &str) -> Result<Option<Credentials>, Error> {
        if !self.usable()? {
            return Ok(None);
        }
        self.read(&self.path(server))
            .map(|c| c.filter(|c| c.server_url == server))
    }

    fn read(&self, path: &Path) -> Result<Option<Credentials>, Error> {
        let fail = |source| StoreError::ReadLogin {
            path: path.to_path_buf(),
            error: source,
        };
        let file = match files::open_options(0o600).read(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(e).into()),
        };
        let meta = file.metadata().map_err(fail)?;
        check_owned(path, &meta, "login file").map_err(StoreError::Refused)?;
        let mut text = Vec::new();
        file.take(MAX_LOGIN_BYTES)
            .read_to_end(&mut text)
            .map_err(fail)?;
        let creds = serde_json::from_slice(&text).map_err(|e| StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: crate::redact::serde_message(&e),
        })?;
        Ok(Some(creds))
    }

    /// Keeps a login. Says where on stderr the first time, and how to use a keychain.
    pub fn store(&self, creds: &Credentials, config_path: Option<&Path>) -> Result<(), Error> {
        let first = !self.usable()?;
        if first {
            create_private_dir(&self.dir).map_err(|source| StoreError::CreateStore {
                dir: self.dir.clone(),
                error: source,
            })?;
            crate::frontends::output::error_line(&format!(
                "keeping logins to registries other than ECR in {} (files only you can read); to keep them in a keychain instead, set [store] fallback = \"secretservice\" (or pass, osxkeychain, wincred) in {}",
                self.dir.display(),
                config_path.map_or_else(
                    || "the ecr-login config".to_string(),
                    |p| p.display().to_string()
                )
            ));
        }
        let path = self.path(&creds.server_url);
        let _lock = self.lock(&creds.server_url)?;
        files::write_atomic(&path, &crate::frontends::output::json_line(creds), 0o600).map_err(
            |source| {
                StoreError::WriteLogin {
                    path,
                    error: source,
                }
                .into()
            },
        )
    }

    /// Forgets a login; `Ok(false)` when there was none.
    pub(crate) fn erase(&self, server: &str) -> Result<bool, Error> {
        if !self.usable()? || self.get(server)?.is_none() {
            return Ok(false);
        }
        let _lock = self.lock(server)?;
        let path = self.path(server);
        let removed = fs::remove_file(&path).is_ok();
        let _ = fs::remove_file(path.with_extension("lock"));
        Ok(removed)
    }

    /// Every login, as `list` answers: server to user name.
    pub(crate) fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let mut out = BTreeMap::new();
        if !self.usable()? {
            return Ok(out);
        }
        let dir = fs::read_dir(&self.dir).map_err(|source| StoreError::ListStore {
            dir: self.dir.clone(),
            error: source,
        })?;
        for item in dir.flatten() {
            let name = item.file_name();
            if !name.to_str().is_some_and(|n| n.ends_with(".json")) {
                continue;
            }
            match self.read(&item.path()) {
                Ok(Some(c)) => {
                    out.insert(c.server_url, c.username);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("{e}"),
            }
        }
        Ok(out)
    }

    fn lock(&self, server: &str) -> Result<lock::LockGuard, Error> {
        let path = self.path(server).with_extension("lock");
        lock::exclusive(&path, LOCK_BUDGET).map_err(|e| StoreError::Lock(e).into())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(windows)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn login(server: &str, user: &str) -> Credentials {
        Credentials {
            server_url: server.into(),
            username: user.into(),
            secret: Secret::new(format!("secret-of-{user}")),
        }
    }

    #[test]
    fn store_get_list_erase() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::new(tmp.path().join("logins"));
        assert_eq!(store.get("ghcr.io").unwrap(), None);
        assert!(store.list().unwrap().is_empty());
        store.store(&login("ghcr.io", "alice"), None).unwrap();
        store
            .store(&login("https://index.docker.io/v1/", "bob"), None)
            .unwrap();
        assert_eq!(
            store.get("ghcr.io").unwrap(),
            Some(login("ghcr.io", "alice"))
        );
        // Keys are the exact server strings, as Docker's own stores keep them.
        assert_eq!(store.get("https://ghcr.io").unwrap(), None);
        assert_eq!(
            store.list().unwrap(),
            BTreeMap::from([
                ("ghcr.io".to_string(), "alice".to_string()),
                ("https://index.docker.io/v1/".to_string(), "bob".to_string()),
            ])
        );
        assert!(store.erase("ghcr.io").unwrap());
        assert!(!store.erase("ghcr.io").unwrap());
        assert_eq!(store.list().unwrap().len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(store.dir()), 0o700);
            for f in fs::read_dir(store.dir()).unwrap().flatten() {
                assert_eq!(mode(&f.path()), 0o600, "{}", f.path().display());
            }
        }
    }
}
