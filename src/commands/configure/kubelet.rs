//! `configure --kubelet --config PATH --bin-dir DIR [--service-account]`: what the kubelet
//! needs to use us as its image credential provider, and nothing else.
//!
//! - The `CredentialProviderConfig` at PATH (the kubelet's `--image-credential-provider-
//!   config`): a new JSON file; a drop-in (`ecr-login.json`) when PATH is a directory
//!   (Kubernetes 1.34+); or our providers merged into an existing file, every other byte
//!   kept: a JSON file is spliced as [`super::json_text`] does Docker's config, a YAML file
//!   gets our providers as one-line flow mappings in its `providers:` list (JSON is YAML),
//!   and the result is read back to check it says what we meant.
//! - The binaries in DIR (`--image-credential-provider-bin-dir`): the front binary under the
//!   node provider's name, the full one beside it, and for `--service-account` a link under
//!   the second provider's name.
//!
//! Every rule comes from the kubelet's own validation ([`crate::commands::provider_config`]),
//! which the result is checked against before anything is written. `--remove` takes out
//! only what this added; a second run changes nothing.

use crate::commands::args::ConfigureArgs as Request;
use crate::commands::provider_config::{
    self as pc, AUDIENCE, CONFIG_API, DROP_IN, KIND, NODE_PROVIDER, SA_PROVIDER,
};
use crate::edit::json_text::ObjectText;
use crate::edit::user_file;
use crate::error::CommandError;
use ecr_login_core::config::{self, Config};
use ecr_login_core::error::Error;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) fn run(req: &Request) -> Result<String, Error> {
    let config_path = req.kubelet_config.clone().ok_or_else(|| {
        Error::Input(
            "--kubelet needs --config PATH (the kubelet's --image-credential-provider-config, a file or a directory)".into(),
        )
    })?;
    let bin_dir = req.bin_dir.clone().ok_or_else(|| {
        Error::Input(
            "--kubelet needs --bin-dir DIR (the kubelet's --image-credential-provider-bin-dir)"
                .into(),
        )
    })?;
    let settings = Config::load()?.kubelet;
    let ours = if req.remove {
        Vec::new()
    } else {
        pc::our_providers(
            req.service_account,
            &settings.role_annotations,
            config::default_path().as_deref(),
        )
    };
    let mut out = String::new();
    let file = target_file(&config_path, &ours)?;
    let updated = user_file::update::<String>(&file, req.dry_run, &|current| {
        edit(current, &ours, req.remove).map(|(text, changes)| {
            let changes = changes
                .into_iter()
                .map(|c| format!("{c} ({})", file.display()))
                .collect();
            (text, changes)
        })
    })
    .map_err(|e| match e {
        user_file::EditError::Content { path, why } => CommandError::Content {
            path,
            before: ": ",
            why: why.to_string(),
        }
        .into(),
        e => Error::from(e),
    })?;
    // A file left with no provider would stop the kubelet ("at least 1 item"): gone.
    if req.remove && !req.dry_run && left_empty(&updated) {
        fs::remove_file(&updated.path).map_err(CommandError::file("remove", &updated.path))?;
        let _ = writeln!(out, "removed {}", updated.path.display());
    } else {
        updated.describe(&mut out, req.dry_run);
    }
    binaries(&mut out, &bin_dir, req)?;
    if !req.remove {
        next_steps(&mut out, &config_path, &bin_dir, req.service_account);
    }
    Ok(out)
}

/// The file to edit: PATH, or our drop-in when PATH is a directory. A directory's other
/// files must not name our providers (the kubelet refuses a name repeated across files).
fn target_file(path: &Path, ours: &[Value]) -> Result<PathBuf, Error> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let drop_in = path.join(DROP_IN);
    if let Ok(files) = pc::read(path) {
        for (file, p) in pc::providers(&files) {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            if file != drop_in && ours.iter().any(|o| o["name"] == name) {
                return Err(CommandError::ProviderNameTaken {
                    file: file.to_path_buf(),
                    name: name.to_string(),
                }
                .into());
            }
        }
    }
    Ok(drop_in)
}

/// Whether removing our providers left a file with none and nothing but what we write
/// (`apiVersion`, `kind`): ours, to delete.
fn left_empty(updated: &user_file::Updated) -> bool {
    let Some(v) = updated
        .text
        .as_deref()
        .and_then(|t| pc::decode(&updated.path, t).ok())
    else {
        return false;
    };
    let only_ours = v.as_object().is_some_and(|o| {
        o.keys()
            .all(|k| matches!(k.as_str(), "apiVersion" | "kind" | "providers"))
    });
    only_ours && v["providers"].as_array().is_none_or(Vec::is_empty)
}

/// The file's new text (`None`: unchanged) and what changed, or why it cannot be edited.
pub(crate) fn edit(
    current: Option<&str>,
    ours: &[Value],
    remove: bool,
) -> Result<(Option<String>, Vec<String>), String> {
    let Some(text) = current.filter(|t| !t.trim().is_empty()) else {
        if remove {
            return Ok((None, Vec::new()));
        }
        let doc = json!({"apiVersion": CONFIG_API, "kind": KIND, "providers": ours});
        let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
        let changes = ours
            .iter()
            .map(|p| format!("added provider {}", p["name"]))
            .collect();
        return Ok((Some(text), changes));
    };
    let before = pc::decode(Path::new("config"), text).map_err(|e| e.to_string())?;
    let new = if text.trim_start().starts_with('{') {
        splice_json(text, ours)?
    } else {
        splice_yaml(text, ours)?
    };
    // Read back: our providers exactly, everyone else's as they were.
    let after = pc::decode(Path::new("config"), &new).map_err(|e| e.to_string())?;
    // A config's providers, ours (`true`) or everyone else's, in order.
    let providers = |v: &Value, mine: bool| -> Vec<Value> {
        let list = v["providers"].as_array().cloned().unwrap_or_default();
        list.into_iter()
            .filter(|p| pc::is_ours(p) == mine)
            .collect()
    };
    if providers(&before, false) != providers(&after, false) || providers(&after, true) != ours {
        return Err(
            "could not add our providers without changing others (an unusual layout); add them by hand, or point --config at a directory for a drop-in".into(),
        );
    }
    if new == text {
        return Ok((None, Vec::new()));
    }
    let had = providers(&before, true);
    let mut changes = Vec::new();
    for p in ours {
        match had.iter().find(|h| h["name"] == p["name"]) {
            None => changes.push(format!("added provider {}", p["name"])),
            Some(h) if h != p => changes.push(format!("updated provider {}", p["name"])),
            Some(_) => {}
        }
    }
    for h in had
        .iter()
        .filter(|h| !ours.iter().any(|p| p["name"] == h["name"]))
    {
        changes.push(format!("removed provider {}", h["name"]));
    }
    Ok((Some(new), changes))
}

/// A JSON file: our entries replaced, removed or appended inside `providers`, every other
/// byte as it was.
fn splice_json(text: &str, ours: &[Value]) -> Result<String, String> {
    let doc = ObjectText::parse(text).map_err(|e| e.to_string())?;
    let Some(raw) = doc.get("providers") else {
        let list = serde_json::to_string(ours).map_err(|e| e.to_string())?;
        let doc = doc.set("providers", &list).map_err(|e| e.to_string())?;
        return Ok(doc.text().to_string());
    };
    let full = doc.text();
    let base = raw.as_ptr() as usize - full.as_ptr() as usize;
    let elements = array_elements(raw)?;
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut placed = Vec::new();
    let mut removed = Vec::new();
    for (i, (range, value)) in elements.iter().enumerate() {
        if !pc::is_ours(value) {
            continue;
        }
        match ours.iter().find(|o| o["name"] == value["name"]) {
            Some(o) if !placed.contains(&o["name"]) => {
                placed.push(o["name"].clone());
                if o != value {
                    edits.push((range.clone(), compact(o)?));
                }
            }
            _ => removed.push(i),
        }
    }
    // Each removed element goes with the comma that separated it: before the first kept
    // element, up to the next element; after it, from the previous one's end.
    let first_kept = (0..elements.len()).find(|i| !removed.contains(i));
    for &i in &removed {
        let range = match first_kept {
            None => elements[0].0.start..elements[elements.len() - 1].0.end,
            Some(k) if i < k => elements[i].0.start..elements[i + 1].0.start,
            Some(_) => elements[i - 1].0.end..elements[i].0.end,
        };
        if !edits.iter().any(|(r, _)| *r == range) {
            edits.push((range, String::new()));
        }
    }
    let missing: Vec<&Value> = ours
        .iter()
        .filter(|o| !placed.contains(&o["name"]))
        .collect();
    if !missing.is_empty() {
        let close = raw.rfind(']').ok_or("providers is not a list")?;
        let insert = match elements.last() {
            Some((last, _)) => {
                let sep = &raw[..elements[0].0.start];
                let indent = &sep[sep.trim_end().len()..];
                let indent = if indent.is_empty() { " " } else { indent };
                let mut s = String::new();
                for m in &missing {
                    s.push_str(&format!(",{indent}{}", compact(m)?));
                }
                (last.end..last.end, s)
            }
            None => {
                let items: Result<Vec<String>, String> =
                    missing.iter().map(|m| compact(m)).collect();
                (close..close, items?.join(", "))
            }
        };
        edits.push(insert);
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut new = full.to_string();
    for (range, with) in edits {
        new.replace_range(base + range.start..base + range.end, &with);
    }
    Ok(new)
}

/// The spans and values of a JSON array's elements.
fn array_elements(raw: &str) -> Result<Vec<(std::ops::Range<usize>, Value)>, String> {
    let bytes = raw.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(0);
    if bytes.get(i) != Some(&b'[') {
        return Err("providers is not a list".into());
    }
    i = skip_ws(i + 1);
    let mut out = Vec::new();
    while bytes.get(i) != Some(&b']') {
        let mut stream = serde_json::Deserializer::from_str(&raw[i..]).into_iter::<Value>();
        let value = stream
            .next()
            .ok_or("providers ends early")?
            .map_err(|e| e.to_string())?;
        let end = i + stream.byte_offset();
        out.push((i..end, value));
        i = skip_ws(end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(i + 1),
            Some(b']') => {}
            _ => return Err("providers is not a list".into()),
        }
    }
    Ok(out)
}

fn compact(v: &Value) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| e.to_string())
}

/// A YAML file: our providers as one-line flow mappings (`- {"name": …}`) at the end of its
/// block `providers:` list; a line of ours is replaced or removed. Anything else (a flow
/// list, no list) is refused with what to do instead.
fn splice_yaml(text: &str, ours: &[Value]) -> Result<String, String> {
    let refuse = || {
        "its providers are not a block list (`providers:` then `- name: …` lines); add ours by hand, or point --config at a directory for a drop-in (Kubernetes 1.34+)".to_string()
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == "providers:")
        .ok_or_else(refuse)?;
    let mut end = lines.len();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let first = l.chars().next();
        if first.is_some_and(|c| !c.is_whitespace() && c != '-' && c != '#') {
            end = i;
            break;
        }
    }
    let item = lines[start + 1..end]
        .iter()
        .find(|l| l.trim_start().starts_with("- "))
        .ok_or_else(refuse)?;
    let indent = item[..item.len() - item.trim_start().len()].to_string();
    let name_of = |l: &str| -> Option<String> {
        let flow = l.trim_start().strip_prefix("- ")?;
        let v: Value = serde_json::from_str(flow).ok()?;
        pc::is_ours(&v).then(|| v["name"].as_str().unwrap_or("").to_string())
    };
    let mut placed = Vec::new();
    let mut i = start + 1;
    while i < end {
        if let Some(name) = name_of(&lines[i]) {
            match ours.iter().find(|o| o["name"] == name.as_str()) {
                Some(o) if !placed.contains(&name) => {
                    lines[i] = format!("{indent}- {}", compact(o)?);
                    placed.push(name);
                }
                _ => {
                    lines.remove(i);
                    end -= 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    // After the list's last item line (its trailing blank or comment lines stay after ours).
    let mut at = end;
    while at > start + 1 && {
        let t = lines[at - 1].trim();
        t.is_empty() || t.starts_with('#')
    } {
        at -= 1;
    }
    for o in ours
        .iter()
        .filter(|o| !placed.iter().any(|n| o["name"] == n.as_str()))
    {
        lines.insert(at, format!("{indent}- {}", compact(o)?));
        at += 1;
    }
    let mut new = lines.join("\n");
    if text.ends_with('\n') {
        new.push('\n');
    }
    Ok(new)
}

/// The binaries in DIR: ours copied there (unless DIR is where they already are), the
/// service-account name a link to the front binary; `--remove` takes out only those.
fn binaries(out: &mut String, dir: &Path, req: &Request) -> Result<(), Error> {
    let full = std::env::current_exe().map_err(CommandError::OwnPath)?;
    let here = full.parent().map(Path::to_path_buf).unwrap_or_default();
    let front = here.join(NODE_PROVIDER);
    let same_dir = fs::canonicalize(dir).ok() == fs::canonicalize(&here).ok();
    let verb = if req.dry_run { "would " } else { "" };
    let copies = [
        (front, NODE_PROVIDER),
        (full.clone(), ecr_login_core::exec::FULL),
    ];
    let link = dir.join(SA_PROVIDER);
    if req.remove {
        if fs::read_link(&link).is_ok_and(|t| t == Path::new(NODE_PROVIDER)) {
            if !req.dry_run {
                remove(&link)?;
            }
            let _ = writeln!(out, "{verb}removed {}", link.display());
        }
        for (source, name) in copies {
            let dest = dir.join(name);
            if !same_dir && same_content(&source, &dest) {
                if !req.dry_run {
                    remove(&dest)?;
                }
                let _ = writeln!(out, "{verb}removed {}", dest.display());
            }
        }
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(Error::Input(format!(
            "{} is not a directory; create it (the kubelet's --image-credential-provider-bin-dir must exist)",
            dir.display()
        )));
    }
    if !same_dir {
        for (source, name) in copies {
            let dest = dir.join(name);
            if same_content(&source, &dest) {
                continue;
            }
            if !req.dry_run {
                let bytes = fs::read(&source).map_err(CommandError::file("read", &source))?;
                ecr_login_core::files::write_atomic(&dest, &bytes, 0o755)
                    .map_err(CommandError::file("write", &dest))?;
            }
            let _ = writeln!(out, "{verb}installed {}", dest.display());
        }
    }
    if req.service_account && fs::read_link(&link).ok().as_deref() != Some(Path::new(NODE_PROVIDER))
    {
        if fs::symlink_metadata(&link).is_ok() {
            return Err(CommandError::NotOurLink {
                path: link,
                target: NODE_PROVIDER,
            }
            .into());
        }
        if !req.dry_run {
            symlink(NODE_PROVIDER, &link).map_err(CommandError::file("create", &link))?;
        }
        let _ = writeln!(out, "{verb}linked {} -> {NODE_PROVIDER}", link.display());
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Kubernetes nodes that run this are Linux; Windows nodes name executables `.exe`.
#[cfg(not(unix))]
fn symlink(_: &str, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "configure --kubelet sets up Linux nodes",
    ))
}

fn same_content(a: &Path, b: &Path) -> bool {
    matches!((fs::read(a), fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

fn remove(path: &Path) -> Result<(), Error> {
    fs::remove_file(path).map_err(|e| CommandError::file("remove", path)(e).into())
}

/// The kubelet flags, and for service-account mode the RBAC rule nodes need to mint tokens
/// for STS (`ServiceAccountNodeAudienceRestriction`, on by default since 1.33).
fn next_steps(out: &mut String, config: &Path, bin_dir: &Path, service_account: bool) {
    let _ = writeln!(
        out,
        "\nkubelet flags (restart the kubelet after adding them):\n  --image-credential-provider-config={}\n  --image-credential-provider-bin-dir={}",
        config.display(),
        bin_dir.display()
    );
    if service_account {
        let _ = writeln!(
            out,
            "\nservice-account mode: let nodes request tokens for {AUDIENCE} (kubectl apply -f -):\n{}",
            rbac()
        );
    }
}

/// The ClusterRole and ClusterRoleBinding that let nodes request our audience.
pub(crate) fn rbac() -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ecr-login-kubelet-audience
rules:
- apiGroups: [\"\"]
  resources: [\"{AUDIENCE}\"]
  verbs: [\"request-serviceaccounts-token-audience\"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ecr-login-kubelet-audience
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ecr-login-kubelet-audience
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:nodes
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(sa: bool) -> Vec<Value> {
        pc::our_providers(sa, &["eks.amazonaws.com/ecr-role-arn".into()], None)
    }

    /// JSON and YAML files with another provider: ours added after it, the other bytes
    /// kept; a second run changes nothing; removing takes back exactly the original.
    #[test]
    fn merges_keep_every_other_byte() {
        let json_file = "{\n  \"apiVersion\": \"kubelet.config.k8s.io/v1\",\n  \"kind\": \"CredentialProviderConfig\",\n  \"providers\": [\n    {\"name\": \"acr-credential-provider\", \"matchImages\": [\"*.azurecr.io\"], \"defaultCacheDuration\": \"10m\", \"apiVersion\": \"credentialprovider.kubelet.k8s.io/v1\"}\n  ]\n}\n";
        let yaml_file = "# kubelet providers\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: acr-credential-provider\n    matchImages:\n      - \"*.azurecr.io\"\n    defaultCacheDuration: 10m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n\n# end\n";
        for original in [json_file, yaml_file] {
            for sa in [false, true] {
                let (added, changes) = edit(Some(original), &ours(sa), false).unwrap();
                let added = added.unwrap();
                assert_eq!(changes.len(), if sa { 2 } else { 1 }, "{changes:?}");
                assert!(added.contains("acr-credential-provider"));
                let files = vec![pc::ConfigFile {
                    path: "c".into(),
                    value: pc::decode(Path::new("c"), &added).unwrap(),
                }];
                assert_eq!(pc::problems(&files), Vec::<String>::new());
                assert_eq!(
                    edit(Some(&added), &ours(sa), false).unwrap().0,
                    None,
                    "twice"
                );
                let (removed, _) = edit(Some(&added), &[], true).unwrap();
                assert_eq!(removed.as_deref(), Some(original), "remove undoes exactly");
            }
            // From both modes back to node mode only.
            let both = edit(Some(original), &ours(true), false).unwrap().0.unwrap();
            let (node, changes) = edit(Some(&both), &ours(false), false).unwrap();
            assert_eq!(changes, [format!("removed provider \"{SA_PROVIDER}\"")]);
            assert_eq!(node, edit(Some(original), &ours(false), false).unwrap().0);
        }
    }

    #[test]
    fn a_flow_list_in_yaml_is_refused_with_what_to_do() {
        let text =
            "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n";
        let e = edit(Some(text), &ours(false), false).unwrap_err();
        assert!(e.contains("drop-in"), "{e}");
    }
}
