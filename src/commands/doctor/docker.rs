//! Docker's config: does each ECR registry reach ecr-login (`credHelpers`, else
//! `credsStore`)? Docker Desktop's `credsStore: desktop` with no `credHelpers` entry is the
//! classic "no basic auth credentials"; an inline `auths` token for an ECR host is a stale
//! `docker login` that shadows us wherever no helper answers; and when `configure --store`
//! set things up, the daemon's Docker Desktop repair state says whether it keeps them so.

use super::json_file::{self, JsonFileError};
use super::report::Check;
use crate::renew::state::State;
use ecr_login_core::config::Config;
use ecr_login_core::duration::human;
use ecr_login_core::host::{Authority, Registry};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// The helper name Docker's config gives ecr-login (doctor's one import from `configure`).
pub(crate) use crate::edit::docker_config::HELPER;

const CONFIGURE: &str = "docker-credential-ecr-login configure";

/// Docker's config file as read, once.
#[derive(Debug, Default)]
pub(crate) struct DockerConfig {
    pub(crate) path: Option<PathBuf>,
    /// Why it cannot be used, if it cannot (`None` with no file: there is none).
    problem: Option<String>,
    pub(crate) exists: bool,
    pub(crate) creds_store: Option<String>,
    pub(crate) helpers: Map<String, Value>,
    pub(crate) auths: Map<String, Value>,
}

/// How Docker reaches a credential helper for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// `credHelpers` sends it to ecr-login.
    Helper,
    /// No `credHelpers` entry; `credsStore` is ecr-login.
    Store,
    /// `credHelpers` sends it to another helper.
    OtherHelper(String),
    /// No `credHelpers` entry; `credsStore` is another helper.
    OtherStore(String),
    /// Neither: Docker uses the inline `auths` only.
    Nowhere,
    /// The file cannot be read, so nobody can tell.
    Unknown,
}

impl DockerConfig {
    pub(crate) fn load() -> DockerConfig {
        let path = match ecr_login_core::paths::docker_config() {
            Ok(p) => p,
            Err(e) => {
                return DockerConfig {
                    problem: Some(e.to_string()),
                    ..DockerConfig::default()
                };
            }
        };
        let read = json_file::read(&path);
        let mut out = DockerConfig {
            exists: !matches!(read, Ok(None)),
            ..DockerConfig::default()
        };
        match read {
            Ok(Some(Value::Object(map))) => out = DockerConfig::of(&map, out.exists),
            Ok(None | Some(Value::Null)) => {}
            Ok(Some(_)) => out.problem = Some(format!("{} is not a JSON object", path.display())),
            Err(e @ JsonFileError::NotJson { .. }) => {
                out.problem = Some(format!("{e}; Docker cannot read it either"));
            }
            Err(e) => out.problem = Some(e.to_string()),
        }
        out.path = Some(path);
        out
    }

    /// The members doctor reads, from the config's JSON object.
    fn of(map: &Map<String, Value>, exists: bool) -> DockerConfig {
        let member = |k: &str| match map.get(k) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        DockerConfig {
            exists,
            helpers: member("credHelpers"),
            auths: member("auths"),
            creds_store: map
                .get("credsStore")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            ..DockerConfig::default()
        }
    }

    /// Whether ecr-login is the `credsStore` (other registries' logins then come to it).
    pub(crate) fn store_is_ours(&self) -> bool {
        self.creds_store.as_deref() == Some(HELPER)
    }

    fn shown(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "the Docker config".into(), |p| p.display().to_string())
    }

    /// How Docker reaches a helper for `server` (`host` or `host:port`, as in image names).
    pub(crate) fn reach(&self, server: &str) -> Reach {
        if self.problem.is_some() {
            return Reach::Unknown;
        }
        match self.helpers.get(server).and_then(Value::as_str) {
            Some(HELPER) => Reach::Helper,
            Some(other) => Reach::OtherHelper(other.to_string()),
            None => match self.creds_store.as_deref() {
                Some(HELPER) => Reach::Store,
                Some(other) => Reach::OtherStore(other.to_string()),
                None => Reach::Nowhere,
            },
        }
    }

    pub(crate) fn checks(&self, servers: &[String], reach: &[Reach]) -> Vec<Check> {
        let mut out = vec![self.file_check()];
        for (server, reach) in servers.iter().zip(reach) {
            out.push(route(server, reach, &self.shown()));
        }
        for server in servers {
            if let Some(key) = inline_login(&self.auths, server) {
                out.push(
                    Check::warn(
                        "docker.auths",
                        format!(
                            "auths[\"{key}\"] in {} holds a login token for {server} (a docker login from before a helper was set up; ECR tokens last 12 h): Docker uses it wherever no helper answers, and podman and skopeo read it first",
                            self.shown()
                        ),
                    )
                    .fix(format!("docker logout {server}"))
                    .registry(server),
                );
            }
        }
        out
    }

    fn file_check(&self) -> Check {
        if let Some(problem) = &self.problem {
            let fix = match &self.path {
                Some(p) => format!("fix or move {}", p.display()),
                None => "set HOME, or DOCKER_CONFIG to the directory of config.json".into(),
            };
            return Check::fail("docker.config", problem.clone()).fix(fix);
        }
        if !self.exists {
            return Check::warn(
                "docker.config",
                format!(
                    "{} does not exist: Docker sends no registry to a credential helper",
                    self.shown()
                ),
            )
            .fix(format!("{CONFIGURE} --store"));
        }
        let store = self
            .creds_store
            .as_deref()
            .map_or_else(|| "no credsStore".into(), |s| format!("credsStore \"{s}\""));
        let ours = self
            .helpers
            .values()
            .filter(|v| v.as_str() == Some(HELPER))
            .count();
        Check::pass(
            "docker.config",
            format!(
                "{}: {store}; credHelpers for {} host{} ({ours} to ecr-login)",
                self.shown(),
                self.helpers.len(),
                if self.helpers.len() == 1 { "" } else { "s" }
            ),
        )
    }
}

fn route(server: &str, reach: &Reach, file: &str) -> Check {
    let both = format!("{CONFIGURE} --store\n(or for this registry alone: {CONFIGURE} {server})");
    let public = Registry::parse(server).is_some_and(|r| r.is_public());
    let broken = |detail: String| {
        // ECR Public without us still pulls, anonymously (with lower rate limits).
        let check = if public {
            Check::warn("docker.route", format!("{detail}; pulls go anonymous"))
        } else {
            Check::fail("docker.route", detail)
        };
        check.registry(server)
    };
    match reach {
        Reach::Helper => Check::pass(
            "docker.route",
            format!("{server}: credHelpers sends it to ecr-login"),
        )
        .registry(server),
        Reach::Store => Check::pass(
            "docker.route",
            format!("{server}: credsStore (every registry) sends it to ecr-login"),
        )
        .registry(server),
        Reach::OtherHelper(h) => broken(format!(
            "{server}: credHelpers in {file} sends it to docker-credential-{h}, not ecr-login"
        ))
        .fix(format!("{CONFIGURE} {server}")),
        Reach::OtherStore(s) => broken(format!(
            "{server}: credsStore is \"{s}\" and no credHelpers entry sends it to ecr-login: Docker asks docker-credential-{s}, which has no ECR token (\"no basic auth credentials\")"
        ))
        .fix(both),
        Reach::Nowhere => broken(format!(
            "{server}: neither credHelpers nor credsStore in {file} sends it to ecr-login: Docker only has the logins in auths"
        ))
        .fix(both),
        Reach::Unknown => Check::skip(
            "docker.route",
            format!("{server}: cannot tell, the Docker config cannot be read"),
        )
        .registry(server),
    }
}

/// The `auths` key holding a login token for `server`, if one does.
pub(crate) fn inline_login(auths: &Map<String, Value>, server: &str) -> Option<String> {
    let want = Authority::parse(server).ok()?;
    auths
        .iter()
        .filter(|(key, _)| Authority::parse(key).is_ok_and(|a| a == want))
        .find(|(_, entry)| {
            ["auth", "identitytoken", "registrytoken"].iter().any(|f| {
                entry
                    .get(f)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            })
        })
        .map(|(key, _)| key.clone())
}

/// What the daemon does about Docker Desktop resetting `credsStore` (`configure --store`
/// recorded the Docker config it set up).
pub(crate) fn desktop(
    config: &Config,
    state: Option<&State>,
    running: bool,
    now: i64,
) -> Vec<Check> {
    if let Some(report) = state.and_then(|s| s.store.as_ref()) {
        let ago = human(now.saturating_sub(report.at_ms));
        return vec![if report.flapping {
            Check::warn("docker.desktop", format!("{ago} ago: {}", report.message))
                .fix(format!("{CONFIGURE} --store"))
        } else {
            Check::pass(
                "docker.desktop",
                format!("the daemon repaired it {ago} ago: {}", report.message),
            )
        }];
    }
    let Some(path) = &config.store.docker_config else {
        return Vec::new();
    };
    let path = path.display();
    vec![if !config.store.repair {
        Check::skip(
            "docker.desktop",
            format!(
                "[store] repair = false: nothing puts credsStore in {path} back when Docker Desktop resets it"
            ),
        )
    } else if running {
        Check::pass(
            "docker.desktop",
            format!(
                "the daemon keeps credsStore in {path} on ecr-login (Docker Desktop resets it when it starts)"
            ),
        )
    } else {
        Check::warn(
            "docker.desktop",
            format!("nothing puts credsStore in {path} back when Docker Desktop resets it: the daemon is not running"),
        )
        .fix(super::local::start_hint())
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> DockerConfig {
        let Value::Object(map) = serde_json::from_str(text).unwrap() else {
            panic!()
        };
        DockerConfig::of(&map, true)
    }

    #[test]
    fn credhelpers_win_over_credsstore_as_in_docker() {
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        for (text, want) in [
            (
                r#"{"credsStore":"desktop"}"#,
                Reach::OtherStore("desktop".into()),
            ),
            (r#"{"credsStore":"ecr-login"}"#, Reach::Store),
            (
                format!(r#"{{"credsStore":"desktop","credHelpers":{{"{host}":"ecr-login"}}}}"#)
                    .as_str(),
                Reach::Helper,
            ),
            (
                format!(r#"{{"credsStore":"ecr-login","credHelpers":{{"{host}":"gcloud"}}}}"#)
                    .as_str(),
                Reach::OtherHelper("gcloud".into()),
            ),
            ("{}", Reach::Nowhere),
        ] {
            assert_eq!(config(text).reach(host), want, "{text}");
        }
    }

    #[test]
    fn inline_tokens_are_found_by_host_not_empty_entries() {
        let c = config(
            r#"{"auths":{"https://123456789012.dkr.ecr.us-east-1.amazonaws.com":{"auth":"QVdTOng="},"public.ecr.aws":{}}}"#,
        );
        assert_eq!(
            inline_login(&c.auths, "123456789012.dkr.ecr.us-east-1.amazonaws.com").as_deref(),
            Some("https://123456789012.dkr.ecr.us-east-1.amazonaws.com")
        );
        assert_eq!(inline_login(&c.auths, "public.ecr.aws"), None);
    }
}
