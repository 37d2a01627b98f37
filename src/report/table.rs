//! The summary printed on stdout: per-check counts, the most severe failures, what could not be
//! evaluated and why. Text from the inventory is sanitized: a role name must not be able to
//! send escape sequences to the terminal.

use std::fmt::Write as _;

use super::Counts;
use crate::engine::{Scan, Verdict};
use crate::finding::{Finding, Status};
use crate::inventory::CoverageState;

/// How many failing findings to list before summarizing the rest.
const MAX_FAILURES: usize = 25;

/// Replace control characters (C0, DEL, C1) and bidi overrides with visible escapes.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Sanitize each line of a text, keeping its line breaks: for whole messages and tables.
pub fn sanitize_lines(s: &str) -> String {
    s.split('\n').map(sanitize).collect::<Vec<_>>().join("\n")
}

/// The table. Every line is sanitized at the end, so no string from the input (a role name, an
/// account id, a denied action, a file path in an error) reaches the terminal raw.
pub fn render(scan: &Scan, verdict: Option<&Verdict>) -> String {
    sanitize_lines(&render_raw(scan, verdict))
}

fn render_raw(scan: &Scan, verdict: Option<&Verdict>) -> String {
    let mut out = String::new();
    // Scopes per cloud: AWS accounts; Azure tenants and subscriptions; GCP organizations and projects.
    let scopes: std::collections::BTreeSet<(crate::inventory::Cloud, &str)> =
        scan.findings.iter().filter(|f| !f.account.is_empty()).map(|f| (f.cloud, f.account)).collect();
    let count = |c: crate::inventory::Cloud| scopes.iter().filter(|(x, _)| *x == c).count();
    let what: Vec<String> = [
        (crate::inventory::Cloud::Aws, "AWS account(s)"),
        (crate::inventory::Cloud::Azure, "Azure tenant/subscription scope(s)"),
        (crate::inventory::Cloud::Gcp, "GCP scope(s)"),
    ]
    .iter()
    .filter(|(c, _)| count(*c) > 0)
    .map(|(c, label)| format!("{} {label}", count(*c)))
    .collect();
    let over = if what.is_empty() { "no scope".to_string() } else { what.join(", ") };
    let _ = writeln!(out, "Portcullis {} — {} check(s) over {over}, as of {}\n", env!("CARGO_PKG_VERSION"), scan.checks.len(), scan.now);

    let width = scan.checks.iter().map(|c| c.meta.id.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(out, "{:<width$}  {:<8}  {:>6}  {:>6}  {:>6}", "CHECK", "SEVERITY", "PASS", "FAIL", "N/E");
    let mut per_check: Vec<Counts> = vec![Counts::default(); scan.checks.len()];
    let mut total = Counts::default();
    let pos: std::collections::HashMap<&str, usize> = scan.checks.iter().enumerate().map(|(i, c)| (c.meta.id_static, i)).collect();
    for f in &scan.findings {
        if let Some(&i) = pos.get(f.check_id) {
            per_check[i].add(f);
        }
        total.add(f);
    }
    for (c, n) in scan.checks.iter().zip(&per_check) {
        let _ = writeln!(out, "{:<width$}  {:<8}  {:>6}  {:>6}  {:>6}", c.meta.id, c.meta.severity.as_str(), n.pass, n.fail, n.not_evaluated);
    }

    let mut failing: Vec<&Finding> = scan.findings.iter().filter(|f| f.status == Status::Fail).collect();
    failing.sort_by_key(|f| std::cmp::Reverse(f.severity)); // stable: check order within a severity
    if !failing.is_empty() {
        let _ = writeln!(out, "\nFailing, most severe first:");
        for f in failing.iter().take(MAX_FAILURES) {
            let _ = writeln!(out, "  {:<8}  {}  {}", f.severity.as_str().to_uppercase(), f.check_id, f.message);
        }
        if failing.len() > MAX_FAILURES {
            let _ = writeln!(out, "  … and {} more (write them all with --json or --sarif)", failing.len() - MAX_FAILURES);
        }
    }

    let gaps: Vec<&Finding> = scan.findings.iter().filter(|f| f.status == Status::NotEvaluated).collect();
    if !gaps.is_empty() {
        let _ = writeln!(out, "\nNot evaluated:");
        for f in gaps.iter().take(MAX_FAILURES) {
            let _ = writeln!(out, "  {}  {}  {}", f.check_id, if f.account.is_empty() { "-" } else { f.account }, f.message);
        }
        if gaps.len() > MAX_FAILURES {
            let _ = writeln!(out, "  … and {} more", gaps.len() - MAX_FAILURES);
        }
    }
    let denied: Vec<String> = scan
        .coverage
        .iter()
        .filter_map(|c| match &c.state {
            CoverageState::Denied { action, .. } => Some(format!("  {} {} {}: denied ({action})", c.cloud, c.scope, c.dataset)),
            CoverageState::Failed { error } => Some(format!("  {} {} {}: failed ({})", c.cloud, c.scope, c.dataset, error)),
            CoverageState::Unlicensed { licence, .. } => Some(format!("  {} {} {}: needs a licence ({licence})", c.cloud, c.scope, c.dataset)),
            CoverageState::Partial { missing } => Some(format!("  {} {} {}: partial ({missing})", c.cloud, c.scope, c.dataset)),
            _ => None,
        })
        .collect();
    if !denied.is_empty() {
        let _ = writeln!(out, "\nCoverage gaps:");
        for d in denied {
            let _ = writeln!(out, "{d}");
        }
    }
    let _ = writeln!(out, "\n{} failing, {} passing, {} not evaluated.", total.fail, total.pass, total.not_evaluated);
    if let Some(v) = verdict {
        let _ = writeln!(out, "Gate: exit {} — {}", v.code, v.reason);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn escapes_control_and_bidi_characters() {
        assert_eq!(sanitize("role\u{1b}[31mred"), "role\\u{1b}[31mred");
        assert_eq!(sanitize("a\u{202e}b\nc"), "a\\u{202e}b\\u{a}c");
        assert_eq!(sanitize("plain-name_1"), "plain-name_1");
        assert_eq!(super::sanitize_lines("a\u{1b}]0;x\u{7}\nb"), "a\\u{1b}]0;x\\u{7}\nb");
    }
}
