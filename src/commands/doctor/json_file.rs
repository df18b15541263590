//! The JSON files doctor reads besides Docker's config (podman's auth files, the AWS CLI's
//! SSO and `aws login` caches), and the one line for why one could not be read.

use ecr_login_core::redact::serde_message;
use serde_json::Value;
use std::io;
use std::path::{Path, PathBuf};

/// Why a file could not be read, in one line: its own words hold the cause's, so it has no
/// `source()` to say it again (and serde's own words may quote a token).
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonFileError {
    #[error("cannot read {}: {error}", .path.display())]
    Read { path: PathBuf, error: io::Error },
    #[error("{} is not valid JSON ({})", .path.display(), serde_message(.error))]
    NotJson {
        path: PathBuf,
        error: serde_json::Error,
    },
}

/// The file's JSON; `None`: there is no file. An empty file holds nothing (`null`), as
/// Docker reads one.
pub(crate) fn read(path: &Path) -> Result<Option<Value>, JsonFileError> {
    let text =
        match ecr_login_core::files::read_text_limited(path, ecr_login_core::files::CONFIG_LIMIT) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(JsonFileError::Read {
                    path: path.to_path_buf(),
                    error,
                });
            }
        };
    if text.trim().is_empty() {
        return Ok(Some(Value::Null));
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| JsonFileError::NotJson {
            path: path.to_path_buf(),
            error,
        })
}
