//! The protocols clients speak to us: Docker's credential helper protocol (docker,
//! podman, skopeo, BuildKit…), the kubelet's image credential provider protocol, and
//! Bazel's credential helper protocol. Each parses its input into a
//! [`crate::token::resolve::Target`], asks the token path, and shapes the answer; none
//! has a token path of its own. Beside them, what a request comes to when it is not an
//! answer ([`error`]) and how each protocol, and a human command, is told ([`output`]).

pub(crate) mod bazel;
pub(crate) mod docker;
pub mod error;
pub(crate) mod kubelet;
pub mod output;
pub(crate) mod store_error;

use std::io::Read;

/// Largest stdin we read (SPEC A.6); a larger one is an error, not a truncation.
pub(crate) const MAX_STDIN: u64 = 64 * 1024;

/// Why a request on stdin could not be read.
#[derive(Debug)]
pub enum InputError {
    Read(std::io::Error),
    TooLarge,
    NotUtf8,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Read(e) => write!(f, "cannot read standard input: {e}"),
            InputError::TooLarge => write!(
                f,
                "standard input is larger than {} KiB; expected a registry address",
                MAX_STDIN / 1024
            ),
            InputError::NotUtf8 => f.write_str("standard input is not UTF-8 text"),
        }
    }
}

impl std::error::Error for InputError {}

impl From<InputError> for crate::frontends::error::Error {
    fn from(e: InputError) -> Self {
        crate::frontends::error::Error::Input(e.to_string())
    }
}

/// Reads all of stdin as UTF-8, refusing more than [`MAX_STDIN`] bytes.
pub fn read_stdin() -> Result<String, InputError> {
    read_bounded(std::io::stdin().lock())
}

pub(crate) fn read_bounded(input: impl Read) -> Result<String, InputError> {
    let mut buf = Vec::new();
    input
        .take(MAX_STDIN + 1)
        .read_to_end(&mut buf)
        .map_err(InputError::Read)?;
    if buf.len() as u64 > MAX_STDIN {
        return Err(InputError::TooLarge);
    }
    String::from_utf8(buf).map_err(|_| InputError::NotUtf8)
}

/// What a front end tells its client when the token path has no token. ECR Public's pulls
/// work without one (its images are public): its failure is a warning and "no
/// credentials", so the client pulls anonymously. Any other is the error.
pub(crate) fn token_error(e: crate::token::resolve::TokenError) -> crate::frontends::error::Error {
    use crate::token::resolve::TokenError;
    match e {
        TokenError::Fetch { registry, error } if registry.is_public() => {
            tracing::warn!(
                "ECR token for {registry} ({}): {error}; pulling anonymously",
                error.kind()
            );
            crate::frontends::error::Error::NotFound
        }
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_is_bounded_and_utf8() {
        assert_eq!(read_bounded(&b"host\n"[..]).unwrap(), "host\n");
        let big = vec![b'a'; MAX_STDIN as usize + 1];
        assert!(
            read_bounded(&big[..])
                .unwrap_err()
                .to_string()
                .contains("larger than 64 KiB")
        );
        assert!(
            read_bounded(&[0xff, 0xfe][..])
                .unwrap_err()
                .to_string()
                .contains("not UTF-8")
        );
    }
}
