//! `--html`: one self-contained file a person opens offline. Rendered from `templates/report/`
//! with minijinja, autoescaping on; the CSS and JavaScript are inline and the charts inline SVG.
//!
//! Defence in depth against hostile inventory text (a role named `<img src=x onerror=…>`):
//! 1. every value is HTML-escaped by the template engine, after control and bidi characters are
//!    made visible (a right-to-left override cannot reorder what a reader sees);
//! 2. no inventory text is ever placed in a URL, a script or a style: links come from check metadata
//!    (validated `https://` references) or are in-page anchors built from check ids;
//! 3. a Content-Security-Policy admits only this file's own script and style (by SHA-256) and no
//!    network at all (`default-src 'none'`), so even an injected element could neither run nor load.
//!
//! Without JavaScript the page still reads: every finding is in the table, most severe first, and
//! each one's evidence sits in a `<details>`; the script only adds filtering, sorting and grouping.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::compliance::{self, FrameworkView};
use super::json::CheckText;
use super::table::sanitize;
use super::Counts;
use crate::engine::{Scan, Verdict};
use crate::finding::{Finding, Severity, Status};
use crate::inventory::{Cloud, CoverageState};

const TEMPLATE: &str = include_str!("../../templates/report/report.html.j2");
const SCRIPT: &str = include_str!("../../templates/report/report.js");
const STYLE: &str = include_str!("../../templates/report/report.css");

/// How many not-evaluated findings the coverage section lists (the table has them all).
const MAX_LISTED: usize = 300;
/// How many findings are rendered as HTML rows; the script pages through the rest from the data.
pub const STATIC_ROWS: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("the HTML report template failed")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Io(#[from] io::Error),
}

#[derive(Serialize)]
struct Row<'a> {
    n: usize,
    severity: &'static str,
    sev_rank: u8,
    status: &'static str,
    status_label: &'static str,
    cloud: &'static str,
    account: &'a str,
    region: Option<&'a str>,
    category: &'static str,
    check: &'static str,
    title: &'a str,
    risk: &'a str,
    remediation: &'a str,
    resource_id: &'a str,
    resource_name: &'a str,
    resource_type: &'static str,
    message: &'a str,
    /// Evidence as key / pretty value pairs.
    evidence: Vec<(&'static str, String)>,
    compliance: Vec<String>,
    /// Fix artifacts (paths under `--fixes DIR`) that address it.
    fixes: &'a [String],
    fingerprint: String,
    /// `new`, `unchanged` or `suppressed`, with a baseline or suppressions.
    state: Option<&'static str>,
}

#[derive(Serialize)]
struct Bar {
    label: String,
    value: usize,
    /// Bar length in the chart's 0–200 units.
    width: usize,
    /// `critical`, `high`, … for the severity chart's colours; `bar` otherwise.
    class: &'static str,
}

#[derive(Serialize)]
struct Chart {
    title: &'static str,
    bars: Vec<Bar>,
    /// How many more labels there were than the chart shows.
    more: usize,
    height: usize,
}

#[derive(Serialize)]
struct Gap {
    cloud: &'static str,
    scope: String,
    dataset: String,
    state: &'static str,
    missing: String,
}

#[derive(Serialize)]
struct CheckInfo<'a> {
    id: &'static str,
    title: &'a str,
    cloud: &'static str,
    service: &'a str,
    severity: &'static str,
    category: &'static str,
    description: &'a str,
    risk: &'a str,
    remediation: &'a str,
    references: &'a [String],
    compliance: Vec<String>,
    fixes: &'a [String],
    counts: Counts,
}

/// Everything the template sees.
#[derive(Serialize)]
struct Page<'a> {
    /// `verify --html`: the incident checklist, shown first.
    verification: Option<VerifyView>,
    version: &'static str,
    scanned_at: String,
    sources: &'a [String],
    check_count: usize,
    scope_counts: Vec<(String, usize)>,
    total: Counts,
    /// The gate's exit code and reason, when a gate was asked for.
    verdict: Option<(u8, String)>,
    /// Baseline and suppressions: a summary line, warnings, and what was resolved (the first 200).
    triage: Option<String>,
    triage_notes: Vec<String>,
    resolved: Vec<(String, String, String)>,
    resolved_total: usize,
    charts: Vec<Chart>,
    gaps: Vec<Gap>,
    /// Findings that could not be evaluated (the first few hundred) and how many there are.
    not_evaluated: Vec<(&'static str, &'a str, &'a str, &'a str)>,
    not_evaluated_total: usize,
    /// The first rows, rendered into the page for reading without JavaScript (and printing).
    rows: Vec<Row<'a>>,
    /// Every finding, for the script: compact JSON escaped for a `<script type="application/json">`.
    data: minijinja::Value,
    finding_count: usize,
    checks: Vec<CheckInfo<'a>>,
    frameworks: Vec<FrameworkView>,
    accounts: Vec<String>,
    check_ids: Vec<&'static str>,
    categories: Vec<String>,
    clouds: Vec<String>,
    /// The page's own script and style, passed as safe strings (the only ones).
    script: minijinja::Value,
    style: minijinja::Value,
    script_hash: String,
    style_hash: String,
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 4,
        Severity::High => 3,
        Severity::Medium => 2,
        Severity::Low => 1,
        Severity::Info => 0,
    }
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Fail => "fail",
        Status::NotEvaluated => "not evaluated",
        Status::Pass => "pass",
    }
}

fn evidence_text(v: &crate::finding::EvidenceValue) -> String {
    use crate::finding::EvidenceValue as E;
    match v {
        E::Null => "—".into(),
        E::Bool(b) => b.to_string(),
        E::Int(i) => i.to_string(),
        E::Time(t) => t.to_string(),
        E::Text(t) => t.to_string(),
        E::Json(j) => serde_json::to_string(j).unwrap_or_default(),
    }
}

/// Bars for the given labels: sorted by count (at most `max`, the rest counted in `more`) unless
/// they come in their own order (severities).
fn chart(title: &'static str, mut items: Vec<(String, usize)>, max: usize, keep_order: bool) -> Chart {
    if !keep_order {
        items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    let more = items.len().saturating_sub(max);
    items.truncate(max);
    let top = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = items
        .into_iter()
        .map(|(label, value)| {
            let class = if keep_order { Severity::ALL.iter().find(|s| s.as_str() == label).map_or("bar", |s| s.as_str()) } else { "bar" };
            let label = if label.chars().count() > 21 { label.chars().take(20).chain(['…']).collect() } else { label };
            Bar { width: (value * 200).div_ceil(top).max(usize::from(value > 0)), label, value, class }
        })
        .collect();
    let height = bars.len() * 22 + 4;
    Chart { title, bars, more, height }
}

/// Expired and unmatched suppressions and baseline caveats, as sentences.
fn triage_notes(t: &crate::gate::Triage) -> Vec<String> {
    use crate::gate::SuppressionState;
    let mut v: Vec<String> = t
        .suppressions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let what = match s.state {
                SuppressionState::Expired => format!("expired on {}: it no longer applies", s.rule.expires),
                SuppressionState::Unmatched => "matched no failing finding".into(),
                SuppressionState::Applied => return None,
            };
            Some(format!("Suppression #{} ({} on {}) {what}.", i + 1, s.rule.check, s.rule.resource))
        })
        .collect();
    if let Some(b) = &t.baseline {
        v.extend(b.notes.iter().map(|n| format!("Baseline: {n}.")));
    }
    v
}

/// The verification section: the incident, its verdict, and each part's items.
#[derive(Serialize)]
struct VerifyView {
    id: String,
    verified: bool,
    window: (String, String),
    counts: (usize, usize, usize),
    parts: Vec<(&'static str, Vec<VerifyItem>)>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct VerifyItem {
    status: &'static str,
    label: &'static str,
    kind: &'static str,
    subject: String,
    message: String,
    evidence: String,
}

fn verify_view(v: &crate::verify::Verification) -> VerifyView {
    use crate::verify::Part;
    let parts = [Part::Containment, Part::Persistence, Part::Recovery, Part::Fixes]
        .into_iter()
        .map(|p| {
            let items: Vec<VerifyItem> = v
                .items
                .iter()
                .filter(|i| i.part == p)
                .map(|i| VerifyItem {
                    status: i.status.as_str(),
                    label: status_label(i.status),
                    kind: i.kind,
                    subject: i.principal.clone().or_else(|| i.resource.clone()).unwrap_or_default(),
                    message: i.message.clone(),
                    evidence: if i.evidence.as_object().is_some_and(|o| o.is_empty()) { String::new() } else { serde_json::to_string(&i.evidence).unwrap_or_default() },
                })
                .collect();
            (p.title(), items)
        })
        .filter(|(_, items)| !items.is_empty())
        .collect();
    VerifyView {
        id: v.incident.incident.id.clone(),
        verified: v.exit_code() == 0,
        window: (v.incident.incident.start().to_string(), v.incident.incident.contained().to_string()),
        counts: (v.count(Status::Pass), v.count(Status::Fail), v.count(Status::NotEvaluated)),
        parts,
        notes: v.notes.clone(),
    }
}

/// Render the report. `sources` describes what was scanned (the inventory's sources).
pub fn render(scan: &Scan, sources: &[String], verdict: Option<&Verdict>) -> Result<String, HtmlError> {
    render_with(scan, sources, verdict, None)
}

/// The report with a verification section first (`verify --html`): `scan` holds the structural
/// fixes' checks.
pub fn render_with(scan: &Scan, sources: &[String], verdict: Option<&Verdict>, verification: Option<&crate::verify::Verification>) -> Result<String, HtmlError> {
    let text = CheckText::index(scan);
    // Most severe failures first, then what could not be evaluated, then passes.
    let mut order: Vec<&Finding> = scan.findings.iter().collect();
    order.sort_by_key(|f| {
        let s = match f.status {
            Status::Fail => 0,
            Status::NotEvaluated => 1,
            Status::Pass => 2,
        };
        (s, std::cmp::Reverse(f.severity))
    });
    // One SHA-256 per finding, shared by the rows, the data and the fix lookup.
    let fingerprints: Vec<String> = order.iter().map(|f| f.fingerprint()).collect();
    let data = table_data(scan, &order, &fingerprints, &text);
    let rows: Vec<Row> = order
        .iter()
        .take(STATIC_ROWS)
        .enumerate()
        .map(|(n, f)| {
            let t = text.get(f.check_id);
            Row {
                n,
                severity: f.severity.as_str(),
                sev_rank: rank(f.severity),
                status: f.status.as_str(),
                status_label: status_label(f.status),
                cloud: f.cloud.as_str(),
                account: f.account,
                region: f.region,
                category: f.category.as_str(),
                check: f.check_id,
                title: t.map_or("", |t| t.title),
                risk: t.map_or("", |t| t.risk),
                remediation: t.map_or("", |t| t.remediation),
                resource_id: &f.resource.id,
                resource_name: &f.resource.name,
                resource_type: f.resource.kind,
                message: &f.message,
                evidence: f.evidence.0.iter().map(|(k, v)| (*k, evidence_text(v))).collect(),
                compliance: t.map(|t| t.compliance.iter().map(|(fw, ids)| format!("{fw}: {}", ids.join(", "))).collect()).unwrap_or_default(),
                fixes: scan.fixes.get(&fingerprints[n]).map_or(&[][..], Vec::as_slice),
                fingerprint: fingerprints[n].clone(),
                state: scan.triage.label(&fingerprints[n]),
            }
        })
        .collect();

    let mut total = Counts::default();
    let mut per_check: HashMap<&str, Counts> = HashMap::new();
    let (mut by_sev, mut by_cloud, mut by_cat, mut by_account) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for f in &scan.findings {
        total.add(f);
        per_check.entry(f.check_id).or_default().add(f);
        if f.status == Status::Fail {
            *by_sev.entry(f.severity).or_insert(0usize) += 1;
            *by_cloud.entry(f.cloud.as_str().to_string()).or_insert(0usize) += 1;
            *by_cat.entry(f.category.as_str().to_string()).or_insert(0usize) += 1;
            let acct = if f.account.is_empty() { "—".to_string() } else { format!("{} {}", f.cloud, f.account) };
            *by_account.entry(acct).or_insert(0usize) += 1;
        }
    }
    // Severity in its own order (critical first), every level shown.
    let sev: Vec<(String, usize)> = Severity::ALL.iter().map(|s| (s.as_str().to_string(), by_sev.get(s).copied().unwrap_or(0))).collect();
    let charts = vec![
        chart("Failing by severity", sev, 5, true),
        chart("Failing by cloud", by_cloud.into_iter().collect(), 3, false),
        chart("Failing by category", by_cat.into_iter().collect(), 7, false),
        chart("Failing by account", by_account.into_iter().collect(), 10, false),
    ];

    let gaps: Vec<Gap> = scan
        .coverage
        .iter()
        .filter_map(|c| {
            let (state, missing) = match &c.state {
                CoverageState::Denied { action, .. } => ("denied", format!("permission {action}")),
                CoverageState::Unlicensed { licence, .. } => ("unlicensed", format!("licence {licence}")),
                CoverageState::Failed { error } => ("failed", error.clone()),
                CoverageState::Partial { missing } => ("partial", missing.clone()),
                _ => return None,
            };
            Some(Gap { cloud: c.cloud.as_str(), scope: c.scope.clone(), dataset: c.dataset.to_string(), state, missing })
        })
        .collect();

    let checks: Vec<CheckInfo> = scan
        .checks
        .iter()
        .map(|c| {
            let m = &c.meta;
            CheckInfo {
                id: m.id_static,
                title: &m.title,
                cloud: m.cloud.as_str(),
                service: &m.service,
                severity: m.severity.as_str(),
                category: m.category.as_str(),
                description: m.description.trim(),
                risk: m.risk.trim(),
                remediation: m.remediation.trim(),
                references: &m.references,
                compliance: text.get(m.id_static).map(|t| t.compliance.iter().map(|(fw, ids)| format!("{fw}: {}", ids.join(", "))).collect()).unwrap_or_default(),
                fixes: &m.fix,
                counts: per_check.get(m.id_static).copied().unwrap_or_default(),
            }
        })
        .collect();

    let frameworks: Vec<FrameworkView> = compliance::for_scan(scan);

    let scopes: std::collections::BTreeSet<(Cloud, &str)> = scan.findings.iter().filter(|f| !f.account.is_empty()).map(|f| (f.cloud, f.account)).collect();
    let scope_counts: Vec<(String, usize)> = [Cloud::Aws, Cloud::Azure, Cloud::Gcp]
        .iter()
        .map(|c| (c.as_str().to_string(), scopes.iter().filter(|(x, _)| x == c).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let filter_values = |f: &dyn Fn(&Finding) -> String| -> Vec<String> {
        let set: std::collections::BTreeSet<String> = scan.findings.iter().map(f).filter(|s| !s.is_empty()).collect();
        set.into_iter().collect()
    };

    let mut env = minijinja::Environment::new();
    env.set_formatter(|out, state, value| {
        // Control and bidi characters become visible escapes before HTML escaping.
        match value.as_str() {
            Some(s) if !value.is_safe() => minijinja::escape_formatter(out, state, &minijinja::Value::from(sanitize(s))),
            _ => minijinja::escape_formatter(out, state, value),
        }
    });
    env.add_template("report.html.j2", TEMPLATE)?;
    let tmpl = env.get_template("report.html.j2")?;
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()));
    let ctx = Page {
        verification: verification.map(verify_view),
        version: env!("CARGO_PKG_VERSION"),
        scanned_at: scan.now.to_string(),
        sources,
        check_count: scan.checks.len(),
        scope_counts,
        total,
        verdict: verdict.map(|v| (v.code, v.reason.clone())),
        triage: scan.triage.summary(),
        triage_notes: triage_notes(&scan.triage),
        resolved: scan
            .triage
            .baseline
            .iter()
            .flat_map(|b| b.resolved.iter().take(200))
            .map(|e| (e.check_id.clone(), e.resource.clone(), e.message.clone()))
            .collect(),
        resolved_total: scan.triage.baseline.as_ref().map_or(0, |b| b.resolved.len()),
        charts,
        gaps,
        not_evaluated: scan
            .findings
            .iter()
            .filter(|f| f.status == Status::NotEvaluated)
            .take(MAX_LISTED)
            .map(|f| (f.check_id, f.account, f.resource.name.as_ref(), f.message.as_str()))
            .collect(),
        not_evaluated_total: total.not_evaluated,
        rows,
        data: minijinja::Value::from_safe_string(data),
        finding_count: scan.findings.len(),
        checks,
        frameworks,
        accounts: filter_values(&|f| f.account.to_string()),
        check_ids: scan.checks.iter().map(|c| c.meta.id_static).collect(),
        categories: filter_values(&|f| f.category.as_str().to_string()),
        clouds: filter_values(&|f| f.cloud.as_str().to_string()),
        script: minijinja::Value::from_safe_string(SCRIPT.to_string()),
        style: minijinja::Value::from_safe_string(STYLE.to_string()),
        script_hash: hash(SCRIPT),
        style_hash: hash(STYLE),
    };
    Ok(tmpl.render(minijinja::value::Serde(&ctx))?)
}

/// The findings as the script reads them: string tables for what repeats (checks, accounts) and one
/// array per finding, in display order. Escaped so that no `<`, `>` or `&` appears in the text: it
/// cannot close its `<script>` element or open a comment, whatever the inventory holds.
fn table_data(scan: &Scan, order: &[&Finding], fingerprints: &[String], text: &HashMap<&'static str, CheckText>) -> String {
    let check_ids: Vec<&'static str> = scan.checks.iter().map(|c| c.meta.id_static).collect();
    let check_pos: HashMap<&str, usize> = check_ids.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut accounts: Vec<&str> = Vec::new();
    let mut account_pos: HashMap<&str, usize> = HashMap::new();
    let findings: Vec<serde_json::Value> = order
        .iter()
        .zip(fingerprints)
        .map(|(f, fp)| {
            let a = *account_pos.entry(f.account).or_insert_with(|| {
                accounts.push(f.account);
                accounts.len() - 1
            });
            // Control and bidi characters made visible here, as the template's formatter does.
            let evidence: Vec<(&str, String)> = f.evidence.0.iter().map(|(k, v)| (*k, sanitize(&evidence_text(v)))).collect();
            serde_json::json!([
                check_pos.get(f.check_id).copied(),
                f.severity.as_str(),
                f.status.as_str(),
                f.cloud.as_str(),
                a,
                f.category.as_str(),
                sanitize(&f.resource.id),
                sanitize(&f.resource.name),
                f.resource.kind,
                f.region.map(sanitize),
                sanitize(&f.message),
                evidence,
                fp,
                scan.fixes.get(fp).map(|p| p.iter().map(|x| sanitize(x)).collect::<Vec<_>>()).unwrap_or_default(),
                scan.triage.label(fp),
            ])
        })
        .collect();
    let checks: Vec<serde_json::Value> = check_ids
        .iter()
        .map(|id| {
            let t = text.get(id);
            serde_json::json!({
                "id": id,
                "title": t.map_or("", |t| t.title),
                "risk": t.map_or("", |t| t.risk),
                "remediation": t.map_or("", |t| t.remediation),
                "compliance": t.map(|t| t.compliance.iter().map(|(fw, ids)| format!("{fw}: {}", ids.join(", "))).collect::<Vec<_>>()).unwrap_or_default(),
            })
        })
        .collect();
    let accounts: Vec<String> = accounts.into_iter().map(sanitize).collect();
    let doc = serde_json::json!({"checks": checks, "accounts": accounts, "findings": findings});
    script_safe_json(&doc.to_string())
}

/// JSON that can sit inside a `<script>` element: `<`, `>`, `&` and the line separators become
/// `\u` escapes (valid JSON, parsed back to the same strings).
fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 20);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

pub fn write(scan: &Scan, sources: &[String], verdict: Option<&Verdict>, out: impl Write) -> Result<(), HtmlError> {
    write_with(scan, sources, verdict, None, out)
}

pub fn write_with(scan: &Scan, sources: &[String], verdict: Option<&Verdict>, verification: Option<&crate::verify::Verification>, out: impl Write) -> Result<(), HtmlError> {
    let page = render_with(scan, sources, verdict, verification)?;
    let mut w = io::BufWriter::new(out);
    w.write_all(page.as_bytes())?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_templates_never_bypass_escaping() {
        // `|safe` (or a raw block) on inventory text would undo the autoescaping; only the page's
        // own script and style are passed as safe strings, from Rust.
        for (name, text) in [("report.html.j2", super::TEMPLATE)] {
            for bad in ["|safe", "| safe", "{% raw", "autoescape false", "|urlize"] {
                assert!(!text.contains(bad), "{name} contains {bad}");
            }
            assert!(!text.contains("style=\""), "{name}: inline style attributes are blocked by the page's CSP");
        }
        assert!(!super::SCRIPT.contains("</script") && !super::STYLE.contains("</style"));
        let json = super::script_safe_json("{\"a\":\"</script><!--&\u{2028}\"}");
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&') && !json.contains('\u{2028}'));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["a"], "</script><!--&\u{2028}");
        for bad in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "fetch(", "XMLHttpRequest"] {
            assert!(!super::SCRIPT.contains(bad), "report.js uses {bad}");
        }
    }
}
