//! Bazel's credential helper protocol (rules_oci, the downloader): `get` with
//! `{"uri":"https://host/path"}` on stdin, answered with HTTP headers and an expiry.
//!
//! Detected on `get` by the leading `{` (a Docker server string never starts with one), so
//! one binary serves `--credential_helper=*.dkr.ecr.*.amazonaws.com=<path>` too.

use crate::clock::rfc3339;
use crate::frontends::error::Error;
use crate::frontends::output::json_line;
use crate::secret::Secret;
use crate::token::config::Config;
use crate::token::fetch::Fetcher;
use crate::token::policy;
use crate::token::resolve::{self, Context, Route};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
pub(crate) struct Request {
    pub uri: String,
}

#[derive(Debug, Serialize, Default)]
pub(crate) struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Vec<Secret>>,
}

pub(crate) fn is_request(input: &str) -> bool {
    input.trim_start().starts_with('{')
}

/// Parses one request into where it goes; `None` for a URI outside ECR (no I/O).
pub(crate) fn route(input: &str, config: &Config) -> Result<Option<Route>, Error> {
    let req: Request = serde_json::from_str(input.trim()).map_err(|e| {
        Error::Input(format!(
            "expected a Bazel credential request {{\"uri\":\"https://…\"}}: {}",
            crate::redact::serde_message(&e)
        ))
    })?;
    // An `Authorization` header is for TLS only: over plain http it would go out in clear.
    let https = req
        .uri
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if !https {
        return Ok(None);
    }
    Ok(Route::of(&req.uri, config))
}

/// Serves one Bazel request. A URI outside ECR gets `{}`: per the credential helper spec,
/// "no credentials for this URI", and Bazel goes on without.
pub(crate) fn handle(
    input: &str,
    ctx: &Context,
    fetcher: &dyn Fetcher,
    now: i64,
) -> Result<Vec<u8>, Error> {
    let Some(route) = route(input, ctx.config)? else {
        return Ok(json_line(&Response::default()));
    };
    let target = ctx.target(route)?;
    let entry = match resolve::serve(&target, ctx, fetcher, now).map_err(super::token_error) {
        Err(Error::NotFound) => return Ok(json_line(&Response::default())),
        other => other?,
    };
    let until = policy::serve_until(&entry, ctx.config.cache.min_remaining).max(now);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        entry.username,
        entry.secret.expose()
    ));
    let response = Response {
        expires: Some(rfc3339(until)),
        headers: BTreeMap::from([(
            "Authorization".to_string(),
            vec![Secret::new(format!("Basic {basic}"))],
        )]),
    };
    Ok(json_line(&response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ecr_uri_is_no_target() {
        let out = route(
            r#"{"uri":"https://bcr.bazel.build/modules/x"}"#,
            &Config::default(),
        )
        .unwrap();
        assert!(out.is_none());
        assert_eq!(json_line(&Response::default()), b"{}\n");
    }

    /// Issue 13: no `Authorization` header for a URI that would send it in clear.
    #[test]
    fn only_https_uris_get_credentials() {
        let c = Config::default();
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/";
        for (uri, served) in [
            (format!("https://{ecr}"), true),
            (format!("HTTPS://{ecr}"), true),
            (format!("http://{ecr}"), false),
            (ecr.to_string(), false),
        ] {
            let request = serde_json::json!({ "uri": uri }).to_string();
            assert_eq!(route(&request, &c).unwrap().is_some(), served, "{uri}");
        }
    }

    #[test]
    fn bad_requests_are_errors() {
        assert!(route("{", &Config::default()).is_err());
        assert!(route(r#"{"url":"x"}"#, &Config::default()).is_err());
    }

    #[test]
    fn response_shape_and_time_format() {
        assert_eq!(rfc3339(1_800_000_000_123), "2027-01-15T08:00:00Z");
        let r = Response {
            expires: Some(rfc3339(0)),
            headers: BTreeMap::from([(
                "Authorization".into(),
                vec![Secret::new("Basic QVdTOnB3")],
            )]),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"expires":"1970-01-01T00:00:00Z","headers":{"Authorization":["Basic QVdTOnB3"]}}"#
        );
        assert!(is_request(" {\"uri\":1}") && !is_request("public.ecr.aws"));
    }
}
