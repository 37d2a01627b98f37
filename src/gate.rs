//! The gate: `--fail-on`, `--baseline` and `--suppressions` → which failing findings count, and
//! the exit code (DESIGN §5).
//!
//! - A **baseline** is an earlier findings JSON or SARIF of Portcullis. A failing finding whose
//!   fingerprint failed there too is `unchanged`; any other failing finding is `new`. A finding that
//!   failed in the baseline is `resolved` only when this scan ran its check over its scope and the
//!   finding now passes or its resource is gone. A scope or check this scan did not cover is "not
//!   rescanned", and a finding now not evaluated is not resolved either: not seeing a problem is not
//!   proof it went away.
//! - A **suppression** names a check (id or pattern), a resource pattern, a reason, who approved it
//!   and when it expires. It applies to failing findings only; an expired one stops applying and
//!   is reported, and so is one that matched nothing.
//! - The **verdict**: 1 if a counted failing finding (not suppressed; new, when a baseline is given)
//!   is at or above `--fail-on`; else 3 if a selected check was not evaluated and
//!   `--allow-incomplete` was not given; else 0.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checks::{self, did_you_mean, id_matches};
use crate::engine::{Findings, Scan};
use crate::finding::{Severity, Status};
use crate::inventory::Timestamp;

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct GateError {
    pub origin: String,
    pub message: String,
}

fn gate_err(origin: &str, message: impl Into<String>) -> GateError {
    GateError { origin: origin.to_string(), message: message.into() }
}

// ---------------------------------------------------------------- baseline

/// One failing finding of a baseline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub check_id: String,
    pub account: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub message: String,
}

/// A previous run's failing findings, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub origin: String,
    /// `findings JSON` or `SARIF`.
    pub format: &'static str,
    pub tool_version: Option<String>,
    pub generated_at: Option<String>,
    pub failing: BTreeMap<String, BaselineEntry>,
    /// The scopes (accounts, subscriptions, projects) the baseline's findings were about.
    pub scopes: BTreeSet<String>,
    /// Checks the baseline ran (from its findings or its SARIF rules).
    pub checks: BTreeSet<String>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, GateError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| gate_err(&origin, format!("cannot read the baseline: {}", crate::import::io_reason(&e))))?;
        Baseline::parse(&text, &origin)
    }

    /// A findings JSON (`portcullis.findings/v1`) or a SARIF 2.1.0 log written by Portcullis. Read
    /// into small typed records (evidence and everything else skipped), so the baseline of a large
    /// organization costs little memory.
    pub fn parse(text: &str, origin: &str) -> Result<Baseline, GateError> {
        let sniff: raw::Sniff =
            serde_json::from_str(text).map_err(|e| gate_err(origin, format!("the baseline is not a JSON object ({e}); give a findings JSON (--json) or SARIF (--sarif) of an earlier scan")))?;
        let typed = |e: serde_path_to_error::Error<serde_json::Error>| gate_err(origin, format!("{}: {}", e.path(), e.inner()));
        let mut b = Baseline { origin: origin.to_string(), ..Baseline::default() };
        if let Some(schema) = sniff.schema {
            if schema != crate::report::json::SCHEMA {
                return Err(gate_err(origin, format!("baseline schema {schema:?} is not {} (written by another tool, or a newer Portcullis?)", crate::report::json::SCHEMA)));
            }
            let doc: raw::FindingsDoc = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(typed)?;
            b.format = "findings JSON";
            b.tool_version = doc.tool.and_then(|t| t.version);
            b.generated_at = doc.generated_at;
            for f in doc.findings {
                let account = f.account.unwrap_or_default();
                b.checks.insert(f.check_id.clone());
                if !account.is_empty() {
                    b.scopes.insert(account.clone());
                }
                if f.status == "fail" {
                    let entry = BaselineEntry {
                        fingerprint: f.fingerprint.clone(),
                        check_id: f.check_id,
                        account,
                        resource: f.resource.and_then(|r| r.id).unwrap_or_default(),
                        severity: f.severity.and_then(|s| s.parse().ok()),
                        message: f.message.unwrap_or_default(),
                    };
                    b.failing.insert(f.fingerprint, entry);
                }
            }
            return Ok(b);
        }
        if sniff.version.as_deref() == Some("2.1.0") && sniff.runs.is_some() {
            let doc: raw::SarifDoc = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(typed)?;
            b.format = "SARIF";
            let ours: Vec<raw::SarifRun> = doc.runs.into_iter().filter(|r| r.tool.driver.name.eq_ignore_ascii_case("portcullis")).collect();
            if ours.is_empty() {
                return Err(gate_err(origin, "the SARIF baseline has no run of Portcullis (written by another tool?)"));
            }
            for run in ours {
                b.tool_version = b.tool_version.or(run.tool.driver.semantic_version);
                b.checks.extend(run.tool.driver.rules.into_iter().flatten().filter_map(|r| r.id));
                for (i, r) in run.results.into_iter().flatten().enumerate() {
                    let fingerprint = r.partial_fingerprints.and_then(|mut p| p.remove("portcullisFindingFingerprint/v1"));
                    let (Some(fingerprint), Some(check_id)) = (fingerprint, r.rule_id) else {
                        return Err(gate_err(origin, format!("results[{i}] lacks ruleId or the portcullisFindingFingerprint/v1 partial fingerprint")));
                    };
                    let (account, severity) = r.properties.map(|p| (p.account.unwrap_or_default(), p.severity)).unwrap_or_default();
                    if !account.is_empty() {
                        b.scopes.insert(account.clone());
                    }
                    let resource = r
                        .locations
                        .into_iter()
                        .flatten()
                        .flat_map(|l| l.logical_locations.into_iter().flatten())
                        .find_map(|l| l.fully_qualified_name)
                        .unwrap_or_default();
                    let entry = BaselineEntry {
                        fingerprint: fingerprint.clone(),
                        check_id,
                        account,
                        resource,
                        severity: severity.and_then(|s| s.parse().ok()),
                        message: r.message.and_then(|m| m.text).unwrap_or_default(),
                    };
                    b.failing.insert(fingerprint, entry);
                }
            }
            return Ok(b);
        }
        Err(gate_err(origin, "not a Portcullis findings JSON (schema portcullis.findings/v1) or SARIF 2.1.0 log"))
    }
}

/// The few fields of a findings JSON or SARIF log a baseline needs; serde skips the rest.
mod raw {
    use std::collections::BTreeMap;

    use serde::de::IgnoredAny;
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Sniff {
        pub schema: Option<String>,
        pub version: Option<String>,
        pub runs: Option<IgnoredAny>,
    }

    #[derive(Deserialize)]
    pub struct FindingsDoc {
        pub tool: Option<Tool>,
        pub generated_at: Option<String>,
        pub findings: Vec<Finding>,
    }

    #[derive(Deserialize)]
    pub struct Tool {
        pub version: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Finding {
        pub check_id: String,
        pub status: String,
        pub fingerprint: String,
        pub account: Option<String>,
        pub severity: Option<String>,
        pub message: Option<String>,
        pub resource: Option<Resource>,
    }

    #[derive(Deserialize)]
    pub struct Resource {
        pub id: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct SarifDoc {
        pub runs: Vec<SarifRun>,
    }

    #[derive(Deserialize)]
    pub struct SarifRun {
        pub tool: SarifTool,
        pub results: Option<Vec<SarifResult>>,
    }

    #[derive(Deserialize)]
    pub struct SarifTool {
        pub driver: Driver,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Driver {
        pub name: String,
        pub semantic_version: Option<String>,
        pub rules: Option<Vec<Rule>>,
    }

    #[derive(Deserialize)]
    pub struct Rule {
        pub id: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SarifResult {
        pub rule_id: Option<String>,
        pub partial_fingerprints: Option<BTreeMap<String, String>>,
        pub properties: Option<Properties>,
        pub message: Option<Message>,
        pub locations: Option<Vec<Location>>,
    }

    #[derive(Deserialize)]
    pub struct Properties {
        pub account: Option<String>,
        pub severity: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Message {
        pub text: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Location {
        pub logical_locations: Option<Vec<LogicalLocation>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct LogicalLocation {
        pub fully_qualified_name: Option<String>,
    }
}

/// A failing finding against the baseline. SARIF's `baselineState` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineState {
    New,
    Unchanged,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
        }
    }
}

/// How this scan compares with its baseline.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    pub file: String,
    pub format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    pub new: usize,
    pub unchanged: usize,
    /// Failing in the baseline, and now passing or gone from a scope and check this scan covered.
    pub resolved: Vec<BaselineEntry>,
    /// Failing in the baseline, but this scan did not run that check over that scope.
    pub not_rescanned: usize,
    /// Failing in the baseline, and now not evaluated: unknown, not resolved.
    pub now_not_evaluated: usize,
    /// What makes the comparison weaker than it looks (another version, another scope, …).
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------- suppressions

/// One accepted risk.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Check id or pattern (`aws_iam_access_key_*`).
    pub check: String,
    /// Resource id pattern (`*` matches any run of characters): an ARN, Azure id or GCP name.
    pub resource: String,
    /// Limit to one account, subscription or project (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub reason: String,
    pub approved_by: String,
    /// The last day it applies (`2027-03-31`, UTC), or an RFC 3339 time.
    pub expires: String,
    /// Parsed `expires` (end of that day for a date).
    #[serde(skip)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionFile {
    #[serde(default)]
    suppress: Vec<Suppression>,
}

#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub origin: String,
    pub entries: Vec<Suppression>,
}

impl Suppressions {
    pub fn load(path: &Path) -> Result<Suppressions, GateError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| gate_err(&origin, format!("cannot read: {}", crate::import::io_reason(&e))))?;
        Suppressions::parse(&text, &origin)
    }

    /// `[[suppress]]` tables; every field but `account` is required, check ids must exist.
    pub fn parse(text: &str, origin: &str) -> Result<Suppressions, GateError> {
        let file: SuppressionFile = toml::from_str(text).map_err(|e| gate_err(origin, e.to_string().trim_end().to_string()))?;
        let all = checks::all().map_err(|e| gate_err(origin, e.to_string()))?;
        let mut entries = file.suppress;
        for (i, s) in entries.iter_mut().enumerate() {
            let at = format!("[[suppress]] #{} (check {:?})", i + 1, s.check);
            let c = s.check.trim();
            if c.is_empty() || c.chars().all(|ch| ch == '*') {
                return Err(gate_err(origin, format!("{at}: name a check (an id or a pattern like aws_iam_access_key_*), not every check")));
            }
            if !all.iter().any(|k| id_matches(c, &k.meta.id)) {
                let hint = did_you_mean(c, all.iter().map(|k| k.meta.id.as_str())).map(|n| format!(" (did you mean {n}?)")).unwrap_or_default();
                return Err(gate_err(origin, format!("{at}: unknown check id {c:?}{hint}")));
            }
            for (name, v) in [("resource", &s.resource), ("reason", &s.reason), ("approved_by", &s.approved_by)] {
                if v.trim().is_empty() {
                    return Err(gate_err(origin, format!("{at}: `{name}` must not be empty")));
                }
            }
            s.expires_at = Some(parse_expiry(&s.expires).ok_or_else(|| gate_err(origin, format!("{at}: expires = {:?} is not a date (2027-03-31) or RFC 3339 time", s.expires)))?);
        }
        Ok(Suppressions { origin: origin.to_string(), entries })
    }
}

/// `2027-03-31` → the end of that day (UTC); or an RFC 3339 time.
fn parse_expiry(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.len() == 10 {
        return Timestamp::parse(&format!("{s}T23:59:59Z")).ok();
    }
    Timestamp::parse(s).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionState {
    /// In force, and it matched at least one failing finding.
    Applied,
    /// In force, but no failing finding matched it: stale, or a typo in its pattern.
    Unmatched,
    /// Past its date: it no longer hides anything.
    Expired,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuppressionReport {
    #[serde(flatten)]
    pub rule: Suppression,
    pub state: SuppressionState,
    /// Failing findings it hides (or, expired, would have hidden).
    pub matched: usize,
}

// ---------------------------------------------------------------- triage

/// What the gate knows about one failing finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    pub baseline: Option<BaselineState>,
    /// Index into [`Triage::suppressions`] of the rule that hides it.
    pub suppressed_by: Option<usize>,
}

/// Baseline states and suppressions of a scan's failing findings, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Triage {
    pub marks: HashMap<String, Mark>,
    pub baseline: Option<BaselineReport>,
    pub suppressions: Vec<SuppressionReport>,
    pub suppressions_file: Option<String>,
}

impl Triage {
    pub fn mark(&self, fingerprint: &str) -> Mark {
        self.marks.get(fingerprint).copied().unwrap_or_default()
    }

    pub fn suppression(&self, fingerprint: &str) -> Option<&SuppressionReport> {
        self.mark(fingerprint).suppressed_by.and_then(|i| self.suppressions.get(i))
    }

    pub fn is_empty(&self) -> bool {
        self.baseline.is_none() && self.suppressions_file.is_none()
    }

    /// Compare the scan's findings with a baseline and apply suppressions (at the scan's `now`).
    pub fn build(scan: &Scan, baseline: Option<&Baseline>, suppressions: Option<&Suppressions>) -> Triage {
        let mut t = Triage { suppressions_file: suppressions.map(|s| s.origin.clone()), ..Triage::default() };
        let now = scan.now;
        if let Some(s) = suppressions {
            t.suppressions = s
                .entries
                .iter()
                .map(|r| SuppressionReport {
                    rule: r.clone(),
                    state: if r.expires_at.is_some_and(|e| e < now) { SuppressionState::Expired } else { SuppressionState::Unmatched },
                    matched: 0,
                })
                .collect();
        }
        let mut current: HashMap<String, Status> = HashMap::new();
        let mut new = 0;
        let mut unchanged = 0;
        for f in scan.findings.iter() {
            let fp = f.fingerprint();
            if f.status != Status::Fail {
                current.entry(fp).or_insert(f.status);
                continue;
            }
            let mut mark = Mark::default();
            if let Some(b) = baseline {
                let state = if b.failing.contains_key(&fp) { BaselineState::Unchanged } else { BaselineState::New };
                match state {
                    BaselineState::New => new += 1,
                    BaselineState::Unchanged => unchanged += 1,
                }
                mark.baseline = Some(state);
            }
            for (i, r) in t.suppressions.iter_mut().enumerate() {
                let hit = id_matches(r.rule.check.trim(), f.check_id)
                    && id_matches(r.rule.resource.trim(), &f.resource.id)
                    && r.rule.account.as_deref().is_none_or(|a| a.trim() == f.account);
                if hit {
                    r.matched += 1;
                    if r.state != SuppressionState::Expired {
                        r.state = SuppressionState::Applied;
                        mark.suppressed_by.get_or_insert(i);
                    }
                }
            }
            current.insert(fp.clone(), Status::Fail);
            if mark != Mark::default() {
                t.marks.insert(fp, mark);
            }
        }
        if let Some(b) = baseline {
            t.baseline = Some(compare(scan, b, &current, new, unchanged));
        }
        t
    }

    /// A short word for a failing finding's state: `suppressed`, `new` or `unchanged`.
    pub fn label(&self, fingerprint: &str) -> Option<&'static str> {
        let m = self.mark(fingerprint);
        if m.suppressed_by.is_some() {
            return Some("suppressed");
        }
        m.baseline.map(BaselineState::as_str)
    }

    /// One line: "3 new, 40 unchanged, 2 resolved since the baseline; 1 suppressed".
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(b) = &self.baseline {
            parts.push(format!("{} new, {} unchanged, {} resolved since the baseline", b.new, b.unchanged, b.resolved.len()));
        }
        if self.suppressions_file.is_some() {
            let count = |st: SuppressionState| self.suppressions.iter().filter(|s| s.state == st).count();
            let hidden = self.marks.values().filter(|m| m.suppressed_by.is_some()).count();
            let mut s = format!("{hidden} suppressed");
            if count(SuppressionState::Expired) > 0 {
                s.push_str(&format!(", {} expired suppression(s)", count(SuppressionState::Expired)));
            }
            if count(SuppressionState::Unmatched) > 0 {
                s.push_str(&format!(", {} unmatched suppression(s)", count(SuppressionState::Unmatched)));
            }
            parts.push(s);
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// Would this failing finding make the gate fail (threshold aside)?
    pub fn counts(&self, fingerprint: &str) -> bool {
        let m = self.mark(fingerprint);
        m.suppressed_by.is_none() && m.baseline != Some(BaselineState::Unchanged)
    }
}

fn compare(scan: &Scan, b: &Baseline, current: &HashMap<String, Status>, new: usize, unchanged: usize) -> BaselineReport {
    // The (check, scope) pairs this scan evaluated: only there can a baseline finding be resolved.
    let ran: BTreeSet<(&str, &str)> = scan.findings.iter().map(|f| (f.check_id, f.account)).collect();
    let gaps: BTreeSet<(&str, &str)> = scan.findings.iter().filter(|f| f.status == Status::NotEvaluated).map(|f| (f.check_id, f.account)).collect();
    let mut resolved = Vec::new();
    let (mut not_rescanned, mut now_ne) = (0, 0);
    for e in b.failing.values() {
        match current.get(&e.fingerprint) {
            Some(Status::Fail) => {}
            Some(Status::NotEvaluated) => now_ne += 1,
            Some(Status::Pass) => resolved.push(e.clone()),
            None => {
                // Gone: resolved only if the check ran over that scope and saw it evaluated.
                let key = (e.check_id.as_str(), e.account.as_str());
                let gap = gaps.contains(&key);
                if ran.contains(&key) && !gap {
                    resolved.push(e.clone());
                } else if gap {
                    now_ne += 1;
                } else {
                    not_rescanned += 1;
                }
            }
        }
    }
    let mut notes = Vec::new();
    let version = env!("CARGO_PKG_VERSION");
    match &b.tool_version {
        Some(v) if v != version => notes.push(format!(
            "the baseline was written by Portcullis {v}, this is {version}: findings of checks added or changed since then count as new"
        )),
        None => notes.push("the baseline does not say which Portcullis version wrote it".into()),
        _ => {}
    }
    let scopes: BTreeSet<&str> = scan.findings.iter().map(|f| f.account).filter(|a| !a.is_empty()).collect();
    if !b.scopes.is_empty() && !scopes.is_empty() && b.scopes.iter().all(|s| !scopes.contains(s.as_str())) {
        let show = |v: Vec<&str>| if v.len() > 5 { format!("{} and {} more", v[..5].join(", "), v.len() - 5) } else { v.join(", ") };
        notes.push(format!(
            "the baseline covers other scopes ({}) than this scan ({}): nothing in it can match, so every failing finding is new",
            show(b.scopes.iter().map(String::as_str).collect()),
            show(scopes.into_iter().collect())
        ));
    }
    let unknown: Vec<&str> = b.checks.iter().map(String::as_str).filter(|c| checks::find(c).ok().flatten().is_none()).collect();
    if !unknown.is_empty() {
        notes.push(format!("the baseline names checks this version does not have: {}", unknown.join(", ")));
    }
    if not_rescanned > 0 {
        notes.push(format!("{not_rescanned} baseline finding(s) are in checks or scopes this scan did not cover: not counted as resolved"));
    }
    if now_ne > 0 {
        notes.push(format!("{now_ne} baseline finding(s) could not be evaluated now: not counted as resolved"));
    }
    BaselineReport {
        file: b.origin.clone(),
        format: b.format,
        tool_version: b.tool_version.clone(),
        generated_at: b.generated_at.clone(),
        new,
        unchanged,
        resolved,
        not_rescanned,
        now_not_evaluated: now_ne,
        notes,
    }
}

// ---------------------------------------------------------------- verdict

/// The `--fail-on` gate and its exit code.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gate {
    pub fail_on: Option<Severity>,
    pub allow_incomplete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// 0 clean, 1 failing findings at or above the threshold, 3 incomplete.
    pub code: u8,
    pub reason: String,
}

impl Gate {
    /// Failing findings decide first (1): a known failure matters more than a gap. Then gaps (3).
    /// Suppressed findings never count; with a baseline, only new ones do.
    pub fn verdict(&self, findings: &Findings<'_>, triage: &Triage) -> Verdict {
        let Some(threshold) = self.fail_on else {
            return Verdict { code: 0, reason: "no --fail-on given".into() };
        };
        let (mut failing, mut unchanged, mut suppressed) = (0usize, 0usize, 0usize);
        for f in findings.iter().filter(|f| f.status == Status::Fail && f.severity >= threshold) {
            let m = if triage.marks.is_empty() { Mark::default() } else { triage.mark(&f.fingerprint()) };
            if m.suppressed_by.is_some() {
                suppressed += 1;
            } else if m.baseline == Some(BaselineState::Unchanged) {
                unchanged += 1;
            } else {
                failing += 1;
            }
        }
        let mut quiet = Vec::new();
        if unchanged > 0 {
            quiet.push(format!("{unchanged} unchanged since the baseline"));
        }
        if suppressed > 0 {
            quiet.push(format!("{suppressed} suppressed"));
        }
        let what = if quiet.is_empty() { String::new() } else { format!("; not counted: {}", quiet.join(", ")) };
        let new = if triage.baseline.is_some() { "new " } else { "" };
        if failing > 0 {
            return Verdict { code: 1, reason: format!("{failing} {new}failing finding(s) at or above {threshold}{what}") };
        }
        let missing: BTreeSet<&str> = findings.iter().filter(|f| f.status == Status::NotEvaluated).map(|f| f.check_id).collect();
        if !missing.is_empty() && !self.allow_incomplete {
            let list: Vec<&str> = missing.iter().copied().collect();
            return Verdict {
                code: 3,
                reason: format!("{} check(s) could not be fully evaluated ({}); pass --allow-incomplete to accept", list.len(), list.join(", ")),
            };
        }
        Verdict { code: 0, reason: format!("no {new}failing finding at or above {threshold}{what}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_need_every_field_and_known_checks() {
        let ok = "[[suppress]]\ncheck = \"aws_iam_access_key_rotated\"\nresource = \"arn:aws:iam::111122223333:user/ci-*\"\nreason = \"vendor key\"\napproved_by = \"sec@acme.example\"\nexpires = \"2027-01-31\"\n";
        let s = Suppressions::parse(ok, "s.toml").unwrap();
        assert_eq!(s.entries[0].expires_at, Some(Timestamp::parse("2027-01-31T23:59:59Z").unwrap()));
        for (bad, want) in [
            (ok.replace("reason = \"vendor key\"\n", ""), "missing field `reason`"),
            (ok.replace("reason = \"vendor key\"", "reason = \" \""), "`reason` must not be empty"),
            (ok.replace("approved_by = \"sec@acme.example\"\n", ""), "missing field `approved_by`"),
            (ok.replace("expires = \"2027-01-31\"\n", ""), "missing field `expires`"),
            (ok.replace("2027-01-31", "next year"), "is not a date"),
            (ok.replace("aws_iam_access_key_rotated", "aws_iam_acess_key_rotated"), "did you mean aws_iam_access_key_rotated?"),
            (ok.replace("aws_iam_access_key_rotated", "*"), "not every check"),
            (ok.replace("resource =", "resorce ="), "unknown field `resorce`"),
        ] {
            let e = Suppressions::parse(&bad, "s.toml").unwrap_err().to_string();
            assert!(e.starts_with("s.toml: ") && e.contains(want), "{e}");
        }
    }

    #[test]
    fn baselines_are_recognised_or_refused() {
        assert!(Baseline::parse("{\"schema\": \"other/v9\", \"findings\": []}", "b.json").unwrap_err().to_string().contains("other/v9"));
        assert!(Baseline::parse("{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"Trivy\"}}}]}", "b.sarif").unwrap_err().to_string().contains("no run of Portcullis"));
        assert!(Baseline::parse("[1, 2]", "b.json").is_err());
        assert!(Baseline::parse("not json", "b.json").unwrap_err().to_string().contains("not a JSON object"));
        let e = Baseline::parse(r#"{"schema":"portcullis.findings/v1","findings":[{"check_id":"c","status":"fail"}]}"#, "b.json").unwrap_err().to_string();
        assert!(e.contains("findings[0]") && e.contains("fingerprint"), "{e}");
        let e = Baseline::parse(r#"{"schema":"portcullis.findings/v1","findings":{}}"#, "b.json").unwrap_err().to_string();
        assert!(e.starts_with("b.json: findings"), "{e}");
        let b = Baseline::parse(
            r#"{"schema":"portcullis.findings/v1","tool":{"version":"0.0.1"},"findings":[
                {"check_id":"aws_iam_access_key_rotated","status":"fail","account":"111122223333","fingerprint":"aa","severity":"high","resource":{"id":"arn"}},
                {"check_id":"aws_iam_access_key_rotated","status":"pass","account":"111122223333","fingerprint":"bb"}]}"#,
            "b.json",
        )
        .unwrap();
        assert_eq!(b.failing.len(), 1);
        assert_eq!(b.failing["aa"].severity, Some(Severity::High));
        assert!(b.scopes.contains("111122223333"));
    }
}
