//! The protocols clients speak to us: Docker's credential helper protocol (docker,
//! podman, skopeo, BuildKit…), the kubelet's image credential provider protocol, and
//! Bazel's credential helper protocol. Each parses its input into a
//! [`crate::token::resolve::Target`], asks the token path, and shapes the answer; none
//! has a token path of its own.

pub mod bazel;
pub mod docker;
pub mod kubelet;

use std::io::Read;

/// Largest stdin we read (SPEC A.6); a larger one is an error, not a truncation.
pub const MAX_STDIN: u64 = 64 * 1024;

/// Reads all of stdin as UTF-8, refusing more than [`MAX_STDIN`] bytes.
pub fn read_stdin() -> Result<String, String> {
    read_bounded(std::io::stdin().lock())
}

pub fn read_bounded(input: impl Read) -> Result<String, String> {
    let mut buf = Vec::new();
    input
        .take(MAX_STDIN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    if buf.len() as u64 > MAX_STDIN {
        return Err(format!(
            "standard input is larger than {} KiB; expected a registry address",
            MAX_STDIN / 1024
        ));
    }
    String::from_utf8(buf).map_err(|_| "standard input is not UTF-8 text".to_string())
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
                .contains("larger than 64 KiB")
        );
        assert!(
            read_bounded(&[0xff, 0xfe][..])
                .unwrap_err()
                .contains("not UTF-8")
        );
    }
}
