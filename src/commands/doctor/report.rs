//! The report: its checks, grouped by link, and how they are shown, for people (flutter
//! doctor's shape: a mark, the check, what it found, and under it the fix; aligned, wrapped
//! at 100 columns, coloured only on a terminal) and for scripts (one JSON document).

use ecr_login_core::printable;
use serde::Serialize;
use std::io::IsTerminal;

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Pass,
    Warn,
    Fail,
    /// Not applicable here, or not tried (offline, or an earlier link failed).
    Skip,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Check {
    /// Stable, for scripts: `group.check`, e.g. `docker.route`.
    pub(crate) name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) registry: Option<String>,
    pub(crate) status: Status,
    pub(crate) detail: String,
    /// The command or edit that fixes it; lines are alternatives or steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fix: Option<String>,
}

impl Check {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name,
            registry: None,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(crate) fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Pass, detail)
    }

    pub(crate) fn warn(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Warn, detail)
    }

    pub(crate) fn fail(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Fail, detail)
    }

    pub(crate) fn skip(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Skip, detail)
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    pub(crate) fn fix_opt(mut self, fix: Option<String>) -> Check {
        self.fix = fix;
        self
    }

    pub(crate) fn registry(mut self, registry: &str) -> Check {
        self.registry = Some(registry.to_string());
        self
    }
}

/// Checks under one heading: one link of the chain.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) title: String,
    pub(crate) checks: Vec<Check>,
}

impl Group {
    pub(crate) fn new(title: impl Into<String>, checks: Vec<Check>) -> Group {
        Group {
            title: title.into(),
            checks,
        }
    }
}

/// No line is wider than this.
const WIDTH: usize = 100;

/// Whether to colour: only on a terminal, and never with `NO_COLOR` set (no-color.org).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Colour,
}

impl Style {
    pub(crate) fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if !no_color && std::io::stdout().is_terminal() {
            Style::Colour
        } else {
            Style::Plain
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Style::Plain => text.to_string(),
            Style::Colour => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

fn mark(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Pass => ("✓", "32"),
        Status::Warn => ("!", "33"),
        Status::Fail => ("✗", "31"),
        Status::Skip => ("-", "2"),
    }
}

/// What people see of a check's name: the part after its group.
fn label(check: &Check) -> &str {
    check
        .name
        .split_once('.')
        .map_or(check.name, |(_, rest)| rest)
}

pub(crate) fn human(version: &str, groups: &[Group], style: Style) -> String {
    let mut out = format!("docker-credential-ecr-login doctor (ecr-login {version})\n");
    let width = groups
        .iter()
        .flat_map(|g| &g.checks)
        .map(|c| label(c).chars().count())
        .max()
        .unwrap_or(0);
    // "  ✓ label  detail": the detail column.
    let column = 4 + width + 2;
    for group in groups.iter().filter(|g| !g.checks.is_empty()) {
        out.push('\n');
        out.push_str(&style.paint("1", &printable::line(&group.title)));
        out.push('\n');
        for check in &group.checks {
            let (symbol, colour) = mark(check.status);
            let name = label(check);
            let pad = " ".repeat(width - name.chars().count() + 2);
            let lead = format!("  {} {name}{pad}", style.paint(colour, symbol));
            let indent = " ".repeat(column);
            // Details and fixes quote files, variables and arguments: their control
            // characters are shown, never sent to the terminal.
            let detail = printable::lines(&check.detail);
            for (i, line) in wrap(&detail, WIDTH - column).iter().enumerate() {
                out.push_str(if i == 0 { &lead } else { &indent });
                out.push_str(line);
                out.push('\n');
            }
            let fix = check.fix.as_deref().map(printable::lines);
            for fix in fix.iter().flat_map(|f| f.lines()) {
                let cont = " ".repeat(column + 2);
                for (i, line) in wrap(fix, WIDTH - column - 2).iter().enumerate() {
                    if i == 0 {
                        out.push_str(&indent);
                        out.push_str(&style.paint("1", "→ "));
                    } else {
                        out.push_str(&cont);
                    }
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    let count = |s: Status| {
        groups
            .iter()
            .flat_map(|g| &g.checks)
            .filter(|c| c.status == s)
            .count()
    };
    let (fails, warns) = (count(Status::Fail), count(Status::Warn));
    out.push('\n');
    out.push_str(&match (fails, warns) {
        (0, 0) => "No issues found.\n".to_string(),
        _ => format!(
            "{} failed, {} warning{}.\n",
            fails,
            warns,
            if warns == 1 { "" } else { "s" }
        ),
    });
    out
}

#[derive(Serialize)]
struct Document<'a> {
    version: &'a str,
    checks: Vec<&'a Check>,
}

pub(crate) fn json(version: &str, groups: &[Group]) -> String {
    let doc = Document {
        version,
        checks: groups.iter().flat_map(|g| &g.checks).collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("checks always serialise");
    text.push('\n');
    text
}

/// `text` in lines of at most `width` characters, broken at spaces; a word longer than a
/// line (a path) is broken where it must be.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let used = line.chars().count();
                let need = if used == 0 {
                    word.len()
                } else {
                    used + 1 + word.len()
                };
                if need <= width {
                    if used > 0 {
                        line.push(' ');
                    }
                    line.extend(word.iter());
                    break;
                }
                if used > 0 {
                    lines.push(std::mem::take(&mut line));
                    continue;
                }
                let rest = word.split_off(width);
                lines.push(word.iter().collect());
                word = rest;
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_spaces_and_long_words_break() {
        assert_eq!(wrap("a bb ccc dddd", 10), ["a bb ccc", "dddd"]);
        let long = "x".repeat(25);
        assert_eq!(
            wrap(&long, 10),
            ["x".repeat(10), "x".repeat(10), "x".repeat(5)]
        );
        assert_eq!(wrap("one\ntwo", 80), ["one", "two"]);
        assert_eq!(wrap("", 80), [""]);
    }

    #[test]
    fn no_line_is_wider_than_100_columns_and_fixes_sit_under_their_check() {
        let groups = vec![Group::new(
            "Docker config",
            vec![
                Check::fail("docker.route", "word ".repeat(60)).fix(format!(
                    "docker-credential-ecr-login configure {}",
                    "h".repeat(120)
                )),
                Check::pass("docker.config", "fine"),
            ],
        )];
        let text = human("0.1.0", &groups, Style::Plain);
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "{line:?}");
        }
        assert!(text.contains("  ✗ route   word word"), "{text}");
        assert!(
            text.contains("\n            → docker-credential-ecr-login configure"),
            "{text}"
        );
        assert!(text.contains("  ✓ config  fine"), "{text}");
        assert!(text.ends_with("1 failed, 0 warnings.\n"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn json_has_the_documented_shape() {
        let groups = vec![Group::new(
            "x",
            vec![
                Check::warn("docker.auths", "stale")
                    .fix("docker logout h")
                    .registry("h"),
                Check::pass("cache.dir", "ok"),
            ],
        )];
        assert_eq!(
            json("0.1.0", &groups),
            "{\n  \"version\": \"0.1.0\",\n  \"checks\": [\n    {\n      \"name\": \"docker.auths\",\n      \"registry\": \"h\",\n      \"status\": \"warn\",\n      \"detail\": \"stale\",\n      \"fix\": \"docker logout h\"\n    },\n    {\n      \"name\": \"cache.dir\",\n      \"status\": \"pass\",\n      \"detail\": \"ok\"\n    }\n  ]\n}\n"
        );
    }
}
