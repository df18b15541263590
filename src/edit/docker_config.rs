//! Docker's `config.json`: the user's file, shared with every other tool. We add and
//! remove our `credHelpers` entries and keep every other key, in order.

use super::json_text::{JsonError, ObjectText};
use crate::error::CommandError;

/// The `credHelpers` value that makes Docker exec `docker-credential-ecr-login`.
pub(crate) const HELPER: &str = "ecr-login";
use ecr_login_core::config::HelperNameError;
use ecr_login_core::error::Error;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// Why Docker's config was left as it was. Each reads after the file's name ("… is not
/// valid JSON"), and prints its cause's words, so none returns it from `source()`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DockerEditError {
    /// The file is not one JSON object.
    #[error("{0}; fix or move it first")]
    Unparsable(JsonError),
    /// It has a `credHelpers` that is not an object.
    #[error("has a credHelpers that is not an object; fix it first")]
    HelpersNotAnObject,
    /// Its `credsStore` could not be kept as our fallback, so switching would lose it.
    #[error("has credsStore {name:?}, which cannot be kept as the fallback ({why}); fix it first")]
    UnkeepableStore { name: String, why: HelperNameError },
    /// Our own edit did not make JSON (a bug, never the file's fault).
    #[error("{0}")]
    Splice(JsonError),
}

/// What our own edits return: a splice that went wrong.
impl From<JsonError> for DockerEditError {
    fn from(e: JsonError) -> DockerEditError {
        DockerEditError::Splice(e)
    }
}

impl From<serde_json::Error> for DockerEditError {
    fn from(e: serde_json::Error) -> DockerEditError {
        DockerEditError::Splice(JsonError::Invalid(e))
    }
}

/// A Docker config's text as one JSON object (no file, or only white space: `{}`).
pub(crate) fn parse(text: Option<&str>) -> Result<ObjectText, DockerEditError> {
    let text = match text {
        Some(t) if !t.trim().is_empty() => t,
        _ => "{}\n",
    };
    ObjectText::parse(text).map_err(DockerEditError::Unparsable)
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub(crate) fn path() -> Result<PathBuf, Error> {
    ecr_login_core::paths::docker_config().map_err(|e| CommandError::DockerConfig(e).into())
}

/// Adds (or with `remove`, takes out) `credHelpers` entries, leaving every other byte of
/// the file as it was. Returns the new text and a line per change; `None` text means
/// nothing changed.
pub(crate) fn edit(
    text: Option<&str>,
    hosts: &[String],
    remove: bool,
) -> Result<(Option<String>, Vec<String>), DockerEditError> {
    let doc = parse(text)?;
    let mut helpers: Map<String, Value> = match doc.get("credHelpers") {
        Some(raw) => match serde_json::from_str(raw) {
            Ok(Value::Object(map)) => map,
            _ => return Err(DockerEditError::HelpersNotAnObject),
        },
        None => Map::new(),
    };
    let mut changes = Vec::new();
    if remove {
        let ours: Vec<String> = helpers
            .iter()
            .filter(|(h, v)| v.as_str() == Some(HELPER) && (hosts.is_empty() || hosts.contains(h)))
            .map(|(h, _)| h.clone())
            .collect();
        for h in ours {
            helpers.shift_remove(&h);
            changes.push(format!("removed credHelpers[\"{h}\"]"));
        }
    } else {
        for h in hosts {
            match helpers.get(h).and_then(Value::as_str) {
                Some(HELPER) => {}
                Some(other) => {
                    changes.push(format!("credHelpers[\"{h}\"]: \"{other}\" -> \"{HELPER}\""));
                    helpers.insert(h.clone(), Value::from(HELPER));
                }
                None => {
                    changes.push(format!("added credHelpers[\"{h}\"] = \"{HELPER}\""));
                    helpers.insert(h.clone(), Value::from(HELPER));
                }
            }
        }
    }
    if changes.is_empty() {
        return Ok((None, changes));
    }
    let doc = if helpers.is_empty() {
        doc.remove("credHelpers")?
    } else {
        doc.set("credHelpers", &tab_indented(&Value::Object(helpers))?)?
    };
    Ok((Some(doc.text().to_string()), changes))
}

/// A value as Docker writes its config: pretty, tab-indented.
pub(crate) fn tab_indented(value: &Value) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(value, &mut ser)?;
    String::from_utf8(out).map_err(serde::ser::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_other_key_in_order() {
        let before = r#"{"auths":{"ghcr.io":{"auth":"eA=="}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"zzz":{"unknown":[1,2]},"aaa":true}"#;
        let hosts = vec!["123456789012.dkr.ecr.us-east-1.amazonaws.com".to_string()];
        let (after, changes) = edit(Some(before), &hosts, false).unwrap();
        let after = after.unwrap();
        assert_eq!(changes.len(), 1);
        let v: Value = serde_json::from_str(&after).unwrap();
        assert_eq!(v["credHelpers"]["gcr.io"], "gcloud");
        assert_eq!(v["credHelpers"][&hosts[0]], "ecr-login");
        assert_eq!(v["zzz"]["unknown"][1], 2);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["auths", "credsStore", "credHelpers", "zzz", "aaa"]);
        // Issue 13: every byte outside credHelpers stays, numbers included.
        let numbers = "{\"version\": 1.10, \"big\": 123456789012345678901234567890}";
        let (numbered, _) = edit(Some(numbers), &hosts, false).unwrap();
        assert!(
            numbered
                .unwrap()
                .starts_with("{\"version\": 1.10, \"big\": 123456789012345678901234567890,")
        );
        // Idempotent.
        let (again, changes) = edit(Some(&after), &hosts, false).unwrap();
        assert!(again.is_none() && changes.is_empty());
        // Remove takes out only our entries.
        let (removed, _) = edit(Some(&after), &[], true).unwrap();
        let v: Value = serde_json::from_str(&removed.unwrap()).unwrap();
        assert_eq!(v["credHelpers"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn creates_from_nothing_and_refuses_garbage() {
        let hosts = vec!["public.ecr.aws".to_string()];
        let (text, _) = edit(None, &hosts, false).unwrap();
        assert_eq!(
            text.unwrap(),
            "{\n\t\"credHelpers\": {\n\t\t\"public.ecr.aws\": \"ecr-login\"\n\t}\n}\n"
        );
        for garbage in ["[1]", "{oops"] {
            assert!(matches!(
                edit(Some(garbage), &hosts, false),
                Err(DockerEditError::Unparsable(_))
            ));
        }
        assert!(matches!(
            edit(Some("{\"credHelpers\": []}"), &hosts, false),
            Err(DockerEditError::HelpersNotAnObject)
        ));
    }
}
