//! The JSON files doctor reads besides Docker's config (podman's auth files, the AWS CLI's
//! SSO and `aws login` caches), and the one line for why one could not be read.

use serde_json::Value;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum JsonFileError {
    Read {
        path: PathBuf,
        source: io::Error,
    },
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl fmt::Display for JsonFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonFileError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            // serde's words without the values it quotes: these files hold tokens.
            JsonFileError::NotJson { path, source } => write!(
                f,
                "{} is not valid JSON ({})",
                path.display(),
                ecr_login_core::redact::serde_message(source)
            ),
        }
    }
}

impl std::error::Error for JsonFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JsonFileError::Read { source, .. } => Some(source),
            JsonFileError::NotJson { source, .. } => Some(source),
        }
    }
}

/// The file's JSON; `None`: there is no file.
pub fn read(path: &Path) -> Result<Option<Value>, JsonFileError> {
    let text =
        match ecr_login_core::files::read_text_limited(path, ecr_login_core::files::CONFIG_LIMIT) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(JsonFileError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| JsonFileError::NotJson {
            path: path.to_path_buf(),
            source,
        })
}
