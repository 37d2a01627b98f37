//! The terminal: the summary printed on stdout (per-check counts, the failing findings grouped by
//! resource with the most severe first, what could not be evaluated and why) and the totals and
//! gate lines, which go to stderr whatever else is written.
//!
//! Every string from the inventory passes through [`sanitize`] on its way in, so a role name cannot
//! send escape sequences to the terminal; colour codes are added by this module only, around text
//! it wrote itself. Long lines wrap to the terminal's width with a hanging indent.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::Counts;
use crate::engine::{Scan, Verdict};
use crate::finding::{Finding, Severity, Status};
use crate::inventory::{Cloud, CoverageState};

/// How many resources "Fix these first" lists, and how many findings of each.
const MAX_RESOURCES: usize = 12;
const MAX_PER_RESOURCE: usize = 8;
/// How many not-evaluated findings and coverage gaps are listed.
const MAX_GAPS: usize = 25;

/// Replace control characters (C0, DEL, C1), bidi overrides, isolates and marks with visible escapes.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Sanitize each line of a text, keeping its line breaks: for whole messages and tables.
pub fn sanitize_lines(s: &str) -> String {
    s.split('\n').map(sanitize).collect::<Vec<_>>().join("\n")
}

/// How the terminal is written: with colour or not, wrapped to a width or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub color: bool,
    /// Columns to wrap at; `None` leaves lines whole (output piped to a file or a program).
    pub width: Option<usize>,
}

impl Term {
    pub const PLAIN: Term = Term { color: false, width: None };

    /// For stdout (`stderr = false`) or stderr: colour when `--color always`, or `auto` on a terminal
    /// without `NO_COLOR` (any non-empty value) and not `TERM=dumb`; wrapping at the terminal's
    /// width, else at `COLUMNS` when set.
    pub fn detect(choice: crate::cli::ColorChoice, stderr: bool) -> Term {
        let term = if stderr { console::Term::stderr() } else { console::Term::stdout() };
        let tty = term.is_term();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let color = match choice {
            crate::cli::ColorChoice::Always => true,
            crate::cli::ColorChoice::Never => false,
            crate::cli::ColorChoice::Auto => tty && !no_color && !dumb,
        };
        let width = if tty { term.size_checked().map(|(_, w)| usize::from(w)) } else { None }
            .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()))
            .filter(|w| *w >= 40);
        Term { color, width }
    }

    fn paint(&self, sgr: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// A severity label padded to `width` columns, coloured.
    fn severity(&self, s: Severity, upper: bool, width: usize) -> String {
        let label = if upper { s.as_str().to_uppercase() } else { s.as_str().to_string() };
        let padded = format!("{label:<width$}");
        let sgr = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "34",
            Severity::Info => "2",
        };
        self.paint(sgr, &padded)
    }

    fn count(&self, status: Status, n: usize, width: usize) -> String {
        let text = format!("{n:>width$}");
        match (status, n) {
            (_, 0) => text,
            (Status::Fail, _) => self.paint("31", &text),
            (Status::NotEvaluated, _) => self.paint("33", &text),
            (Status::Pass, _) => self.paint("32", &text),
        }
    }

    /// `text` (already sanitized, no colour) wrapped to the width, the first line after `indent`
    /// columns already used, the others indented by `indent` spaces.
    fn wrapped(&self, text: &str, indent: usize) -> String {
        match self.width {
            Some(w) if w > indent + 20 => wrap(text, w - indent).join(&format!("\n{}", " ".repeat(indent))),
            _ => text.to_string(),
        }
    }
}

/// Split text into lines of at most `width` display columns, at spaces where possible; a word
/// longer than a line (an ARN) is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let w = |s: &str| console::measure_text_width(s);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let need = if line.is_empty() { w(&word) } else { w(&line) + 1 + w(&word) };
            if need <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A single word wider than the line: cut it.
            let mut head = String::new();
            let mut rest = word.chars();
            for c in rest.by_ref() {
                if w(&head) + w(&c.to_string()) > width {
                    lines.push(std::mem::take(&mut head));
                    head.push(c);
                    break;
                }
                head.push(c);
            }
            word = head + rest.as_str();
            if w(&word) <= width {
                line = word;
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Scopes per cloud, as the header line says them.
fn scope_text(scan: &Scan) -> String {
    let scopes: std::collections::BTreeSet<(Cloud, &str)> = scan.findings.iter().filter(|f| !f.account.is_empty()).map(|f| (f.cloud, f.account)).collect();
    let count = |c: Cloud| scopes.iter().filter(|(x, _)| *x == c).count();
    let what: Vec<String> = [(Cloud::Aws, "AWS account(s)"), (Cloud::Azure, "Azure tenant/subscription scope(s)"), (Cloud::Gcp, "GCP scope(s)")]
        .iter()
        .filter(|(c, _)| count(*c) > 0)
        .map(|(c, label)| format!("{} {label}", count(*c)))
        .collect();
    if what.is_empty() {
        "no scope".to_string()
    } else {
        what.join(", ")
    }
}

/// The summary for stdout.
pub fn render(scan: &Scan, term: Term) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} — {} check(s) over {}, as of {}\n",
        term.bold("Portcullis"),
        env!("CARGO_PKG_VERSION"),
        scan.checks.len(),
        scope_text(scan),
        scan.now
    );

    let width = scan.checks.iter().map(|c| c.meta.id.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(out, "{}", term.bold(&format!("{:<width$}  {:<8}  {:>6}  {:>6}  {:>6}", "CHECK", "SEVERITY", "PASS", "FAIL", "N/E")));
    let mut per_check: Vec<Counts> = vec![Counts::default(); scan.checks.len()];
    let pos: HashMap<&str, usize> = scan.checks.iter().enumerate().map(|(i, c)| (c.meta.id_static, i)).collect();
    let mut severity: HashMap<&str, Severity> = HashMap::new();
    for f in &scan.findings {
        if let Some(&i) = pos.get(f.check_id) {
            per_check[i].add(f);
        }
        severity.insert(f.check_id, f.severity);
    }
    for (c, n) in scan.checks.iter().zip(&per_check) {
        let sev = severity.get(c.meta.id_static).copied().unwrap_or(c.meta.severity);
        let _ = writeln!(
            out,
            "{:<width$}  {}  {}  {}  {}",
            c.meta.id,
            term.severity(sev, false, 8),
            term.count(Status::Pass, n.pass, 6),
            term.count(Status::Fail, n.fail, 6),
            term.count(Status::NotEvaluated, n.not_evaluated, 6)
        );
    }

    fix_first(scan, term, &mut out);
    not_evaluated(scan, term, &mut out);
    out
}

/// "Fix these first": failing findings grouped by resource, the resources with the most severe
/// failures (then the most failures) first.
fn fix_first(scan: &Scan, term: Term, out: &mut String) {
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for f in scan.findings.iter().filter(|f| f.status == Status::Fail) {
        let key = (f.account, f.resource.id.as_ref());
        let i = *index.entry(key).or_insert_with(|| {
            groups.push((f.resource.id.as_ref(), Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(f);
    }
    if groups.is_empty() {
        return;
    }
    for (_, fs) in &mut groups {
        fs.sort_by_key(|f| std::cmp::Reverse(f.severity)); // stable: check order within a severity
    }
    groups.sort_by_key(|(_, fs)| (std::cmp::Reverse(fs[0].severity), std::cmp::Reverse(fs.len())));
    let failing: usize = groups.iter().map(|(_, fs)| fs.len()).sum();
    let title = format!("Fix these first ({failing} failing finding(s) on {} resource(s), most severe first):", groups.len());
    let _ = writeln!(out, "\n{}", term.bold(&term.wrapped(&title, 0)));
    for (_, fs) in groups.iter().take(MAX_RESOURCES) {
        let f0 = fs[0];
        let scope = if f0.account.is_empty() { String::new() } else { format!(" in {} {}", f0.cloud, sanitize(f0.account)) };
        let head = format!("{}  ({}{scope}): {} failing", sanitize(&f0.resource.name), f0.resource.kind, fs.len());
        let _ = writeln!(out, "  {}", term.wrapped(&head, 4));
        for f in fs.iter().take(MAX_PER_RESOURCE) {
            let _ = writeln!(out, "    {}  {}", term.severity(f.severity, true, 8), f.check_id);
            let _ = writeln!(out, "              {}", term.wrapped(&sanitize(&f.message), 14));
        }
        if fs.len() > MAX_PER_RESOURCE {
            let _ = writeln!(out, "    … and {} more on this resource", fs.len() - MAX_PER_RESOURCE);
        }
    }
    if groups.len() > MAX_RESOURCES {
        let more = format!("… and {} more resource(s) with failing findings (all of them: --html, --json or --sarif)", groups.len() - MAX_RESOURCES);
        let _ = writeln!(out, "  {}", term.wrapped(&more, 2));
    }
    let _ = writeln!(out, "  Why it matters and how to fix it:\n    portcullis checks explain {}", groups[0].1[0].check_id);
}

/// What could not be evaluated and why, then the datasets that could not be read.
fn not_evaluated(scan: &Scan, term: Term, out: &mut String) {
    let gaps: Vec<&Finding> = scan.findings.iter().filter(|f| f.status == Status::NotEvaluated).collect();
    if !gaps.is_empty() {
        let _ = writeln!(out, "\n{}", term.bold(&format!("Not evaluated ({}):", gaps.len())));
        for f in gaps.iter().take(MAX_GAPS) {
            let scope = if f.account.is_empty() { "-".to_string() } else { sanitize(f.account) };
            let _ = writeln!(out, "  {}  {}  {}", f.check_id, scope, sanitize(&f.resource.name));
            let _ = writeln!(out, "      {}", term.wrapped(&sanitize(&f.message), 6));
        }
        if gaps.len() > MAX_GAPS {
            let _ = writeln!(out, "  … and {} more", gaps.len() - MAX_GAPS);
        }
    }
    let denied: Vec<String> = scan
        .coverage
        .iter()
        .filter_map(|c| {
            let what = match &c.state {
                CoverageState::Denied { action, .. } => format!("denied ({})", sanitize(action)),
                CoverageState::Failed { error } => format!("failed ({})", sanitize(error)),
                CoverageState::Unlicensed { licence, .. } => format!("needs a licence ({})", sanitize(licence)),
                CoverageState::Partial { missing } => format!("partial ({})", sanitize(missing)),
                _ => return None,
            };
            Some(format!("{} {} {}: {what}", c.cloud, sanitize(&c.scope), c.dataset))
        })
        .collect();
    if !denied.is_empty() {
        let _ = writeln!(out, "\n{}", term.bold(&format!("Coverage gaps ({}):", denied.len())));
        for d in denied.iter().take(MAX_GAPS) {
            let _ = writeln!(out, "  {}", term.wrapped(d, 4));
        }
        if denied.len() > MAX_GAPS {
            let _ = writeln!(out, "  … and {} more (all of them: --json)", denied.len() - MAX_GAPS);
        }
    }
}

/// The totals and the gate's verdict: always written to stderr, whatever stdout carries.
pub fn summary(scan: &Scan, verdict: Option<&Verdict>, term: Term) -> String {
    let mut total = Counts::default();
    for f in &scan.findings {
        total.add(f);
    }
    let mut out = format!(
        "{} failing, {} passing, {} not evaluated.\n",
        term.count(Status::Fail, total.fail, 0),
        term.count(Status::Pass, total.pass, 0),
        term.count(Status::NotEvaluated, total.not_evaluated, 0)
    );
    if let Some(t) = scan.triage.summary() {
        out.push_str(&format!("{}.\n", sanitize(&t)));
    }
    if let Some(v) = verdict {
        let line = format!("Gate: exit {} — {}", v.code, sanitize(&v.reason));
        out.push_str(&if v.code == 0 { line } else { term.paint("1", &line) });
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_and_bidi_characters() {
        assert_eq!(sanitize("role\u{1b}[31mred"), "role\\u{1b}[31mred");
        assert_eq!(sanitize("a\u{202e}b\nc"), "a\\u{202e}b\\u{a}c");
        assert_eq!(sanitize("plain-name_1"), "plain-name_1");
        assert_eq!(sanitize_lines("a\u{1b}]0;x\u{7}\nb"), "a\\u{1b}]0;x\\u{7}\nb");
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("the quick brown fox jumps", 10), vec!["the quick", "brown fox", "jumps"]);
        let arn = "arn:aws:iam::111122223333:role/very-long-role-name";
        let lines = wrap(&format!("role {arn} trusts"), 20);
        assert!(lines.iter().all(|l| console::measure_text_width(l) <= 20), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("role{arn}trusts"));
        assert_eq!(wrap("", 10), vec![""]);
        // Wide characters count double.
        assert!(wrap("日本語のロール名前です", 10).iter().all(|l| console::measure_text_width(l) <= 10));
    }

    #[test]
    fn colour_only_around_our_own_text() {
        let t = Term { color: true, width: Some(60) };
        assert_eq!(t.severity(Severity::High, true, 6), "\x1b[31mHIGH  \x1b[0m");
        assert_eq!(Term::PLAIN.severity(Severity::High, true, 6), "HIGH  ");
        let wrapped = t.wrapped(&sanitize("x\u{1b}[2J ".repeat(20).as_str()), 4);
        assert!(!wrapped.contains('\u{1b}'), "{wrapped:?}");
    }
}
