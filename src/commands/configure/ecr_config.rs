//! ecr-login's own TOML config, edited with its comments and layout kept: the per-registry
//! `profile`, `role_arn` and `ecr` that `configure` writes, and the `[store]` settings of
//! `configure --store`.

/// Sets `profile`/`role_arn`/`ecr` for each host in our TOML config, keeping comments.
pub fn edit(
    text: &str,
    hosts: &[String],
    profile: Option<&str>,
    role_arn: Option<&str>,
    ecr: Option<&str>,
) -> Result<(String, Vec<String>), String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let registries = doc
        .entry("registries")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or("`registries` is not a table")?;
    let mut changes = Vec::new();
    for host in hosts {
        let rule = registries
            .entry(host)
            .or_insert_with(toml_edit::table)
            .as_table_mut()
            .ok_or_else(|| format!("registries.\"{host}\" is not a table"))?;
        for (key, value) in [("profile", profile), ("role_arn", role_arn), ("ecr", ecr)] {
            let Some(value) = value else { continue };
            if rule.get(key).and_then(|v| v.as_str()) != Some(value) {
                rule[key] = toml_edit::value(value);
                changes.push(format!("registries.\"{host}\".{key} = \"{value}\""));
            }
        }
    }
    Ok((doc.to_string(), changes))
}

/// Sets (`Some`) or removes (`None`) keys of the `[store]` table.
pub fn set_store(
    text: &str,
    settings: &[(&str, Option<&str>)],
) -> Result<(String, Vec<String>), String> {
    edit_store(text, |store| {
        let mut changes = Vec::new();
        for (key, value) in settings {
            match value {
                Some(v) if store.get(key).and_then(|x| x.as_str()) != Some(*v) => {
                    store[*key] = toml_edit::value(*v);
                    changes.push(format!("store.{key} = \"{v}\""));
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

/// Runs `edit` on the `[store]` table (made if missing, dropped if left empty), every
/// other byte of the file kept. Returns the text and the edit's change lines.
fn edit_store(
    text: &str,
    edit: impl FnOnce(&mut toml_edit::Table) -> Vec<String>,
) -> Result<(String, Vec<String>), String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let store = doc
        .entry("store")
        .or_insert_with(toml_edit::table)
        .as_table_mut()
        .ok_or("`store` is not a table")?;
    let changes = edit(store);
    if store.is_empty() {
        doc.remove("store");
    }
    Ok((doc.to_string(), changes))
}

/// Sets (`Some`) or removes (`None`, or empty) a list under `[store]`, every other byte kept.
pub fn set_store_list(
    text: &str,
    key: &str,
    values: Option<&[String]>,
) -> Result<(String, Vec<String>), String> {
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
    use ecr_login_core::token::config::Config;
    use std::path::Path;

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
            c.rule_for("127.0.0.1:5000").unwrap().profile.as_deref(),
            Some("dev")
        );
    }
}
