//! ecr-login's own TOML config, edited with its comments and layout kept: the per-registry
//! `profile`, `role_arn` and `ecr` that `configure` writes, and the `[store]` settings of
//! `configure --store`.

use super::user_file::Edited;
use ecr_login_core::config::{Config, ConfigError};
use std::path::{Path, PathBuf};

/// Why an edit of the TOML could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TomlEditError {
    /// Boxed: toml's error is large, and this one travels inside two more.
    #[error("{0}")]
    Toml(Box<toml_edit::TomlError>),
    /// A top-level key we write under (`registries`, `store`) holds something else.
    #[error("`{0}` is not a table")]
    NotATable(&'static str),
    /// A `[registries]` entry that is not a table.
    #[error("registries.\"{0}\" is not a table")]
    RuleNotATable(String),
}

impl From<toml_edit::TomlError> for TomlEditError {
    fn from(e: toml_edit::TomlError) -> TomlEditError {
        TomlEditError::Toml(Box::new(e))
    }
}

/// Why our config file was left as it was.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigEditError {
    /// The edit could not be made.
    #[error("config file {}: {why}", path.display())]
    Edit { path: PathBuf, why: TomlEditError },
    /// The edited text is one we would refuse to load, so it is never written.
    #[error(transparent)]
    WouldNotLoad(ConfigError),
}

/// An edit of our config at `path` as `user_file::update` takes it: a refusal names the
/// file, a text the config would not load is refused, and no change is no text.
pub(crate) fn checked(
    path: &Path,
    edited: Result<(String, Vec<String>), TomlEditError>,
) -> Edited<ConfigEditError> {
    let (text, changes) = edited.map_err(|why| ConfigEditError::Edit {
        path: path.to_path_buf(),
        why,
    })?;
    Config::parse(&text, path).map_err(ConfigEditError::WouldNotLoad)?;
    Ok(((!changes.is_empty()).then_some(text), changes))
}

/// Sets `profile`/`role_arn`/`ecr` for each host in our TOML config, keeping comments.
pub(crate) fn edit(
    text: &str,
    hosts: &[String],
    profile: Option<&str>,
    role_arn: Option<&str>,
    ecr: Option<&str>,
) -> Result<(String, Vec<String>), TomlEditError> {
    let mut doc: toml_edit::DocumentMut = text.parse()?;
    let registries = doc
        .entry("registries")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or(TomlEditError::NotATable("registries"))?;
    let mut changes = Vec::new();
    for host in hosts {
        let rule = registries
            .entry(host)
            .or_insert_with(toml_edit::table)
            .as_table_mut()
            .ok_or_else(|| TomlEditError::RuleNotATable(host.clone()))?;
        for (key, value) in [("profile", profile), ("role_arn", role_arn), ("ecr", ecr)] {
            let Some(value) = value else { continue };
            if rule.get(key).and_then(|v| v.as_str()) != Some(value) {
                rule[key] = toml_edit::value(value);
                // Quoted and escaped as the file holds it: a value with a newline stays
                // on its line of the report (issue 27).
                changes.push(format!("registries.\"{host}\".{key} = {value:?}"));
            }
        }
    }
    Ok((doc.to_string(), changes))
}

/// Sets (`Some`) or removes (`None`) keys of the `[store]` table.
pub(crate) fn set_store(
    text: &str,
    settings: &[(&str, Option<&str>)],
) -> Result<(String, Vec<String>), TomlEditError> {
    edit_store(text, |store| {
        let mut changes = Vec::new();
        for (key, value) in settings {
            match value {
                Some(v) if store.get(key).and_then(|x| x.as_str()) != Some(*v) => {
                    store[*key] = toml_edit::value(*v);
                    changes.push(format!("store.{key} = {v:?}"));
                }
                None if store.contains_key(key) => {
                    store.remove(key);
                    changes.push(format!("removed store.{key}"));
                }
                _ => {}
            }
        }
        changes
    })
}

/// Sets (`true`) or removes (`false`) a boolean under `[store]`.
pub(crate) fn set_store_flag(
    text: &str,
    key: &str,
    on: bool,
) -> Result<(String, Vec<String>), TomlEditError> {
    edit_store(text, |store| match (on, store.contains_key(key)) {
        (true, false) => {
            store[key] = toml_edit::value(true);
            vec![format!("store.{key} = true")]
        }
        (false, true) => {
            store.remove(key);
            vec![format!("removed store.{key}")]
        }
        _ => Vec::new(),
    })
}

/// Runs `edit` on the `[store]` table (made if missing, dropped if left empty), every
/// other byte of the file kept. Returns the text and the edit's change lines.
fn edit_store(
    text: &str,
    edit: impl FnOnce(&mut toml_edit::Table) -> Vec<String>,
) -> Result<(String, Vec<String>), TomlEditError> {
    let mut doc: toml_edit::DocumentMut = text.parse()?;
    let store = doc
        .entry("store")
        .or_insert_with(toml_edit::table)
        .as_table_mut()
        .ok_or(TomlEditError::NotATable("store"))?;
    let changes = edit(store);
    if store.is_empty() {
        doc.remove("store");
    }
    Ok((doc.to_string(), changes))
}

/// Sets (`Some`) or removes (`None`, or empty) a list under `[store]`, every other byte kept.
pub(crate) fn set_store_list(
    text: &str,
    key: &str,
    values: Option<&[String]>,
) -> Result<(String, Vec<String>), TomlEditError> {
    edit_store(text, |store| {
        let current: Vec<String> = store
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut changes = Vec::new();
        match values.filter(|v| !v.is_empty()) {
            Some(v) if current != v => {
                let array: toml_edit::Array = v.iter().map(String::as_str).collect();
                store[key] = toml_edit::value(array);
                changes.push(format!("store.{key} = [{}]", v.join(", ")));
            }
            None if store.contains_key(key) => {
                store.remove(key);
                changes.push(format!("removed store.{key}"));
            }
            _ => {}
        }
        changes
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_edits_keep_comments() {
        let before = "# mine\n[cache]\nmin_remaining = \"40%\" # keep\n";
        let (after, changes) = edit(
            before,
            &["127.0.0.1:5000".into()],
            Some("dev"),
            None,
            Some("123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        )
        .unwrap();
        assert_eq!(changes.len(), 2);
        assert!(
            after.starts_with("# mine\n[cache]\nmin_remaining = \"40%\" # keep\n"),
            "{after}"
        );
        let c = Config::parse(&after, Path::new("x")).unwrap();
        assert_eq!(
            ecr_login_core::resolve::Route::of("127.0.0.1:5000", &c)
                .unwrap()
                .rule
                .and_then(|r| r.profile)
                .as_deref(),
            Some("dev")
        );
    }
}
