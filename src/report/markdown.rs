//! Markdown for pull-request comments and CI step summaries (`$GITHUB_STEP_SUMMARY`): counts, the
//! failing findings most severe first, what could not be evaluated and why, the gate's verdict.
//!
//! It stays under GitHub's 65,536-character comment limit: rows are added while they fit, and the
//! last line says how many were left out and where to find them. Every string from the inventory
//! is escaped: no Markdown or HTML of a resource name is rendered, no `@mention` pings anyone.

use std::fmt::Write as _;

use super::Counts;
use crate::engine::{Scan, Verdict};
use crate::finding::{Finding, Severity, Status};
use crate::inventory::CoverageState;

/// GitHub's limit for a comment body (and a step summary is read the same way).
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept for the closing lines (what was left out, the totals, the gate).
const RESERVE: usize = 1_500;

/// Text as it may appear inside a table cell: no cell breaks, no line breaks, no markup, no HTML,
/// no mentions, no control or bidi characters.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::table::sanitize(s).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("&#64;"),
            c => out.push(c),
        }
    }
    out
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
    }
}

/// Expired and unmatched suppressions, baseline caveats, and the findings resolved since the
/// baseline (at most 20 named).
fn triage_notes(out: &mut String, t: &crate::gate::Triage) {
    use crate::gate::SuppressionState;
    for (i, s) in t.suppressions.iter().enumerate() {
        let what = match s.state {
            SuppressionState::Expired => format!("expired on {}: it no longer applies", escape(&s.rule.expires)),
            SuppressionState::Unmatched => "matched no failing finding".to_string(),
            SuppressionState::Applied => continue,
        };
        let _ = writeln!(out, "- ⚠️ Suppression #{} (`{}` on `{}`) {what}.", i + 1, escape(&s.rule.check), escape(&s.rule.resource));
    }
    if let Some(b) = &t.baseline {
        for n in &b.notes {
            let _ = writeln!(out, "- ⚠️ Baseline: {}.", escape(n));
        }
        if !b.resolved.is_empty() {
            let _ = writeln!(out, "\n<details><summary>{} resolved since the baseline</summary>\n", b.resolved.len());
            for e in b.resolved.iter().take(20) {
                let _ = writeln!(out, "- `{}` {}: {}", escape(&e.check_id), escape(&e.resource), escape(&e.message));
            }
            if b.resolved.len() > 20 {
                let _ = writeln!(out, "- … and {} more (all of them: --json)", b.resolved.len() - 20);
            }
            let _ = writeln!(out, "\n</details>");
        }
    }
}

/// Render the report. `sources` describes what was scanned (the inventory's sources).
pub fn render(scan: &Scan, sources: &[String], verdict: Option<&Verdict>) -> String {
    render_limited(scan, sources, verdict, GITHUB_COMMENT_LIMIT)
}

pub fn render_limited(scan: &Scan, sources: &[String], verdict: Option<&Verdict>, limit: usize) -> String {
    let mut total = Counts::default();
    for f in &scan.findings {
        total.add(f);
    }
    let triage = &scan.triage;
    // With a baseline or suppressions, what the gate counts comes first: new, then unchanged,
    // then suppressed; most severe first within each.
    let mut failing: Vec<(&Finding, Option<&'static str>)> =
        scan.findings.iter().filter(|f| f.status == Status::Fail).map(|f| (f, if triage.is_empty() { None } else { triage.label(&f.fingerprint()) })).collect();
    let rank = |l: Option<&str>| match l {
        Some("new") | None => 0,
        Some("unchanged") => 1,
        _ => 2,
    };
    failing.sort_by_key(|(f, l)| (rank(*l), std::cmp::Reverse(f.severity)));
    let by_sev = |s: Severity| failing.iter().filter(|(f, _)| f.severity == s).count();
    let sev: Vec<String> = Severity::ALL.iter().filter(|s| by_sev(**s) > 0).map(|s| format!("{} {}", by_sev(*s), icon(*s))).collect();

    let mut out = String::new();
    let _ = writeln!(out, "## Portcullis: {} failing, {} passing, {} not evaluated\n", total.fail, total.pass, total.not_evaluated);
    if !sev.is_empty() {
        let _ = writeln!(out, "Failing by severity: {}.\n", sev.join(", "));
    }
    let _ = writeln!(out, "{} check(s), as of {}.", scan.checks.len(), scan.now);
    for s in sources {
        let _ = writeln!(out, "- {}", escape(s));
    }
    if let Some(v) = verdict {
        let _ = writeln!(out, "\n**Gate:** exit {} ({})", v.code, escape(&v.reason));
    }
    if let Some(t) = triage.summary() {
        let _ = writeln!(out, "\n**Triage:** {}.", escape(&t));
    }
    triage_notes(&mut out, triage);

    let mut left_out: Vec<String> = Vec::new();
    let budget = limit.saturating_sub(RESERVE);
    if !failing.is_empty() {
        let _ = writeln!(out, "\n### Failing, most severe first\n\n| Severity | Check | Scope | Resource | Finding |\n|---|---|---|---|---|");
        let mut shown = 0;
        for (f, label) in &failing {
            let row = format!(
                "| {}{} | `{}` | {} | {} | {} |\n",
                icon(f.severity),
                label.map(|l| format!(" ({l})")).unwrap_or_default(),
                f.check_id,
                escape(f.account),
                escape(&f.resource.name),
                escape(&f.message)
            );
            if out.len() + row.len() > budget {
                break;
            }
            out.push_str(&row);
            shown += 1;
        }
        if shown < failing.len() {
            left_out.push(format!("{} failing finding(s)", failing.len() - shown));
        }
    }
    let gaps: Vec<&Finding> = scan.findings.iter().filter(|f| f.status == Status::NotEvaluated).collect();
    if !gaps.is_empty() && out.len() < budget {
        let _ = writeln!(out, "\n### Not evaluated\n\n| Check | Scope | Why |\n|---|---|---|");
        let mut shown = 0;
        for f in &gaps {
            let row = format!("| `{}` | {} | {} |\n", f.check_id, escape(f.account), escape(&f.message));
            if out.len() + row.len() > budget {
                break;
            }
            out.push_str(&row);
            shown += 1;
        }
        if shown < gaps.len() {
            left_out.push(format!("{} not-evaluated finding(s)", gaps.len() - shown));
        }
    } else if !gaps.is_empty() {
        left_out.push(format!("{} not-evaluated finding(s)", gaps.len()));
    }
    let coverage: Vec<String> = scan
        .coverage
        .iter()
        .filter_map(|c| {
            let what = match &c.state {
                CoverageState::Denied { action, .. } => format!("denied: missing permission `{}`", escape(action)),
                CoverageState::Unlicensed { licence, .. } => format!("needs a licence: {}", escape(licence)),
                CoverageState::Failed { error } => format!("failed: {}", escape(error)),
                CoverageState::Partial { missing } => format!("partial: {}", escape(missing)),
                _ => return None,
            };
            Some(format!("| {} | {} | `{}` | {what} |\n", c.cloud, escape(&c.scope), c.dataset))
        })
        .collect();
    if !coverage.is_empty() && out.len() < budget {
        let _ = writeln!(out, "\n### Coverage gaps\n\n| Cloud | Scope | Dataset | State |\n|---|---|---|---|");
        let mut shown = 0;
        for row in &coverage {
            if out.len() + row.len() > budget {
                break;
            }
            out.push_str(row);
            shown += 1;
        }
        if shown < coverage.len() {
            left_out.push(format!("{} coverage gap(s)", coverage.len() - shown));
        }
    } else if !coverage.is_empty() {
        left_out.push(format!("{} coverage gap(s)", coverage.len()));
    }
    // Compliance: one row per framework, then the failing requirements and the uncovered ones.
    let frameworks = super::compliance::for_scan(scan);
    if !frameworks.is_empty() && out.len() < budget {
        let mut section = String::from(
            "\n### Compliance\n\n| Framework | Requirements | Covered | Failing | Not evaluated | Passing | Not run |\n|---|---|---|---|---|---|---|\n",
        );
        for v in &frameworks {
            let s = &v.summary;
            let _ = writeln!(section, "| {} | {} | {} | {} | {} | {} | {} |", escape(&v.name), s.requirements, s.covered, s.fail, s.not_evaluated, s.pass, s.not_run);
        }
        for v in &frameworks {
            let failing: Vec<&str> = v.requirements.iter().filter(|r| r.status == super::compliance::RequirementStatus::Fail).map(|r| r.id.as_str()).collect();
            if !failing.is_empty() {
                let _ = writeln!(section, "\n{} failing: {}.", escape(&v.name), escape(&failing.join(", ")));
            }
            let uncovered = super::compliance::uncovered(v);
            if !uncovered.is_empty() {
                let _ = writeln!(section, "\n{} not covered by any check: {}.", escape(&v.name), escape(&uncovered.join(", ")));
            }
        }
        if out.len() + section.len() <= budget {
            out.push_str(&section);
        } else {
            left_out.push("the compliance summary".to_string());
        }
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "\n_Left out to stay under GitHub's {limit}-character limit: {}. Every finding is in the JSON and SARIF outputs._",
            left_out.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn nothing_from_the_inventory_renders_as_markup() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(escape("@acme/admins"), "&#64;acme/admins");
        assert_eq!(escape("[x](javascript:alert(1))"), "\\[x\\](javascript:alert(1))");
        assert_eq!(escape("line\nbreak"), "line\\\\u{a}break");
        assert_eq!(escape("a\u{202e}b"), "a\\\\u{202e}b");
    }
}
