//! The docker credential helper protocol's messages.
//!
//! Key spelling is exact (`ServerURL`, `Username`, `Secret`) because Bazel's rules_oci and
//! the Rust `docker_credential` crate decode case-sensitively (SPEC Part B).

use crate::frontends::error::Error;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// The protocol's actions: the one argument Docker calls a helper with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Get,
    Store,
    Erase,
    List,
}

impl Action {
    /// The argument that names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Store => "store",
            Action::Erase => "erase",
            Action::List => "list",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Action> {
        [Action::Get, Action::Store, Action::Erase, Action::List]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

/// One request, parsed. Each keeps the standard input as the client sent it: a registry
/// that is not ours is handed to the fallback helper byte for byte.
#[derive(Debug, Clone)]
pub(crate) enum Request<'a> {
    /// `get`: a server string.
    Get(&'a str),
    /// `store`: what `docker login` hands over, checked.
    Store {
        login: Credentials,
        input: &'a str,
    },
    /// `erase`: a server string.
    Erase(&'a str),
    List,
}

impl<'a> Request<'a> {
    /// Parses `action`'s standard input.
    pub(crate) fn parse(action: Action, input: &'a str) -> Result<Request<'a>, Error> {
        Ok(match action {
            Action::Get => Request::Get(input),
            Action::Store => Request::Store {
                login: parse_login(input)?,
                input,
            },
            Action::Erase => Request::Erase(input),
            Action::List => Request::List,
        })
    }

    pub(crate) fn action(&self) -> Action {
        match self {
            Request::Get(_) => Action::Get,
            Request::Store { .. } => Action::Store,
            Request::Erase(_) => Action::Erase,
            Request::List => Action::List,
        }
    }

    /// Standard input as the client sent it.
    pub(crate) fn input(&self) -> &'a str {
        match self {
            Request::Get(input) | Request::Erase(input) | Request::Store { input, .. } => input,
            Request::List => "",
        }
    }

    /// The server string a request is about (`list` is about none).
    pub(crate) fn server(&self) -> Option<&str> {
        match self {
            Request::Get(input) | Request::Erase(input) => Some(input.trim()),
            Request::Store { login, .. } => Some(login.server_url.trim()),
            Request::List => None,
        }
    }
}

/// `store`'s stdin, checked as Docker's own helpers check it.
fn parse_login(input: &str) -> Result<Credentials, Error> {
    let creds: Credentials = serde_json::from_str(input.trim()).map_err(|e| {
        Error::Input(format!(
            "store expects {{\"ServerURL\":…,\"Username\":…,\"Secret\":…}} on standard input: {}",
            crate::redact::serde_message(&e)
        ))
    })?;
    if creds.server_url.trim().is_empty() {
        return Err(Error::Input("no credentials server URL".into()));
    }
    if creds.username.is_empty() {
        return Err(Error::Input("no credentials username".into()));
    }
    Ok(creds)
}

/// `get`'s reply and `store`'s request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(rename = "ServerURL")]
    pub server_url: String,
    #[serde(rename = "Username")]
    pub username: String,
    #[serde(rename = "Secret")]
    pub secret: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_reply_is_byte_exact() {
        let creds = Credentials {
            server_url: "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            username: "AWS".into(),
            secret: Secret::new("pa\"ss"),
        };
        assert_eq!(
            String::from_utf8(crate::frontends::output::json_line(&creds)).unwrap(),
            "{\"ServerURL\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com\",\"Username\":\"AWS\",\"Secret\":\"pa\\\"ss\"}\n"
        );
    }

    #[test]
    fn store_request_parses_exact_keys() {
        let got: Credentials =
            serde_json::from_str(r#"{"ServerURL":"https://h","Username":"AWS","Secret":"s3"}"#)
                .unwrap();
        assert_eq!(got.server_url, "https://h");
        assert_eq!(got.secret.expose(), "s3");
        // Missing keys are an error, not empty strings.
        assert!(
            serde_json::from_str::<Credentials>(r#"{"ServerURL":"h","Username":"AWS"}"#).is_err()
        );
    }
}
