//! Post-incident verification (`portcullis verify --incident FILE`): the incident's principals,
//! window and expected fixes, judged against the inventory into a checklist of pass / fail /
//! not-evaluated items in four parts. Verification passes only when every item passes.
//!
//! Each cloud judges its own principals and scope ([`aws`], [`azure`], [`gcp`]); the structural
//! fixes are the engine's checks, run over the same inventory. What a cloud's APIs cannot show is
//! said as a note in every output, never read as a pass.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod incident;
pub mod sarif;

use serde::Serialize;

use crate::engine::ScanOptions;
use crate::finding::Status;
use crate::inventory::{Cloud, Inventory, Timestamp};
use incident::IncidentFile;

pub const SCHEMA: &str = "portcullis.verify/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Containment,
    Persistence,
    Recovery,
    Fixes,
}

impl Part {
    pub fn title(self) -> &'static str {
        match self {
            Part::Containment => "Containment: each compromised principal is locked on every layer",
            Part::Persistence => "Persistence: nothing the attacker could have left behind remains",
            Part::Recovery => "Recovery: credentials rotated, MFA on, access restored only after sign-off",
            Part::Fixes => "Structural fixes: the named checks pass everywhere in scope",
        }
    }
}

/// One checklist item.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub part: Part,
    pub status: Status,
    /// What was checked (`aws_user_access_keys_inactive`, `fix:<check id>`, …).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub message: String,
    pub evidence: serde_json::Value,
}

#[derive(Debug)]
pub struct Verification {
    pub incident: IncidentFile,
    pub items: Vec<Item>,
    pub generated_at: Timestamp,
    pub sources: Vec<String>,
    /// What this verification could not look at (the APIs do not show it).
    pub notes: Vec<String>,
    /// The blast radius of each principal the incident file names under `[blast_radius]`, or why
    /// it could not be drawn.
    pub blast: Vec<(String, Result<crate::reach::blast::BlastRadius, String>)>,
}

impl Verification {
    /// 0 only when every item passes; 1 otherwise (a `not_evaluated` item fails verification).
    pub fn exit_code(&self) -> u8 {
        if !self.items.is_empty() && self.items.iter().all(|i| i.status == Status::Pass) {
            0
        } else {
            1
        }
    }

    pub fn count(&self, s: Status) -> usize {
        self.items.iter().filter(|i| i.status == s).count()
    }
}

/// Judge the incident against the inventory.
pub fn verify(inc: IncidentFile, inv: &Inventory, opts: &ScanOptions) -> Result<Verification, crate::engine::EngineError> {
    let now = opts.now.unwrap_or_else(Timestamp::now);
    let mut items = aws::items(&inc, inv, now);
    let azure = azure::items(&inc, inv, now);
    let gcp = gcp::items(&inc, inv, now, &opts.settings.trusted);
    let mut notes = Vec::new();
    if !items.is_empty() {
        notes.extend(aws::NOTES.iter().map(|s| s.to_string()));
    }
    if !azure.is_empty() {
        notes.extend(azure::NOTES.iter().map(|s| s.to_string()));
    }
    if !gcp.is_empty() {
        notes.extend(gcp::NOTES.iter().map(|s| s.to_string()));
    }
    items.extend(azure);
    items.extend(gcp);
    items.extend(fixes(&inc, inv, opts)?);
    let blast = inc
        .blast_radius
        .principals
        .iter()
        .map(|p| {
            // Any of the three clouds, by the principal's spelling and what the inventory holds.
            let r = crate::reach::paths::aws().map_err(|e| e.to_string()).and_then(|catalogue| {
                let target = crate::reach::blast::resolve_any(inv, p).map_err(|e| e.to_string())?;
                crate::reach::blast::blast_radius_any(inv, &target, catalogue).map_err(|e| e.to_string())
            });
            (p.clone(), r)
        })
        .collect();
    Ok(Verification { incident: inc, items, generated_at: now, sources: inv.sources.clone(), notes, blast })
}

/// What the items of this incident read, beyond the AWS datasets every verify asks for.
pub fn datasets(inc: &IncidentFile) -> Vec<crate::inventory::Dataset> {
    let clouds: Vec<Cloud> = inc.principals().iter().map(|p| p.cloud()).collect();
    let mut out = Vec::new();
    if clouds.contains(&Cloud::Azure) || !inc.scope.azure_subscriptions.is_empty() {
        out.extend_from_slice(azure::DATASETS);
    }
    if clouds.contains(&Cloud::Gcp) || !inc.scope.gcp_projects.is_empty() {
        out.extend_from_slice(gcp::DATASETS);
    }
    out
}

/// Each named check, run over the inventory: it passes only when every finding in scope passes.
fn fixes(inc: &IncidentFile, inv: &Inventory, opts: &ScanOptions) -> Result<Vec<Item>, crate::engine::EngineError> {
    if inc.fixes.checks.is_empty() {
        return Ok(Vec::new());
    }
    let mut o = opts.clone();
    o.only = Some(inc.fixes.checks.clone());
    let scan = crate::engine::scan(inv, &o)?;
    // The listed accounts, subscriptions and projects; and the tenants, organizations and folders
    // above them, where tenant- and organization-wide findings are.
    let wanted = datasets(inc);
    let mut scopes: Vec<String> = inc.scope.aws_accounts.iter().chain(&inc.scope.azure_subscriptions).chain(&inc.scope.gcp_projects).map(|a| a.trim().to_string()).collect();
    if wanted.iter().any(|d| d.cloud() == Cloud::Azure) {
        scopes.extend(inv.azure.tenants.iter().map(|t| t.tenant_id.clone()));
    }
    if wanted.iter().any(|d| d.cloud() == Cloud::Gcp) {
        scopes.extend(inv.gcp.organization.iter().map(|o| o.name.clone()));
        scopes.extend(inv.gcp.nodes.iter().map(|n| n.name.clone()));
    }
    let in_scope = |account: &str| scopes.iter().any(|a| a.eq_ignore_ascii_case(account)) || account.is_empty();
    let mut out = Vec::new();
    for check in &scan.checks {
        let id = check.meta.id_static;
        let findings: Vec<_> = scan.findings.iter().filter(|f| f.check_id == id && in_scope(f.account)).collect();
        let fail: Vec<String> = findings.iter().filter(|f| f.status == Status::Fail).map(|f| format!("{}: {}", f.resource.id, f.message)).collect();
        let ne: Vec<String> = findings.iter().filter(|f| f.status == Status::NotEvaluated).map(|f| f.message.clone()).collect();
        let (status, message) = if findings.is_empty() {
            (Status::NotEvaluated, format!("not evaluated: {id} found nothing to judge in the incident's scope"))
        } else if !fail.is_empty() {
            (Status::Fail, format!("{id} still fails: {}", fail.join("; ")))
        } else if !ne.is_empty() {
            (Status::NotEvaluated, format!("{id} could not be evaluated: {}", ne.join("; ")))
        } else {
            (Status::Pass, format!("{id} passes on {} resource(s) in scope", findings.len()))
        };
        out.push(Item { part: Part::Fixes, status, kind: id, principal: None, resource: None, message, evidence: serde_json::json!({"findings": findings.len()}) });
    }
    Ok(out)
}

/// `--json`: portcullis.verify/v1.
pub fn to_json(v: &Verification) -> serde_json::Value {
    serde_json::json!({
        "schema": SCHEMA,
        "tool": {"name": "portcullis", "version": env!("CARGO_PKG_VERSION")},
        "generated_at": v.generated_at,
        "incident": v.incident,
        "sources": v.sources,
        "result": if v.exit_code() == 0 { "verified" } else { "not_verified" },
        "items": v.items,
        "notes": v.notes,
        "blast_radius": v.blast.iter().map(|(p, r)| match r {
            Ok(b) => crate::report::blast::json(b),
            Err(e) => serde_json::json!({"principal": p, "error": e}),
        }).collect::<Vec<_>>(),
    })
}

/// The checklist as text (the terminal) or Markdown (the incident ticket).
pub fn render(v: &Verification, markdown: bool) -> String {
    use std::fmt::Write;
    let clean = |s: &str| if markdown { crate::report::markdown::escape(s) } else { crate::report::table::sanitize(s) };
    let mut out = String::new();
    let verdict = if v.exit_code() == 0 { "VERIFIED" } else { "NOT VERIFIED" };
    let head = format!(
        "Incident {}: {verdict} ({} passed, {} failed, {} not evaluated)",
        clean(&v.incident.incident.id),
        v.count(Status::Pass),
        v.count(Status::Fail),
        v.count(Status::NotEvaluated)
    );
    if markdown {
        let _ = writeln!(out, "## {head}\n");
        let _ = writeln!(out, "Window {} → {}; checked {}.\n", v.incident.incident.start(), v.incident.incident.contained(), v.generated_at);
    } else {
        let _ = writeln!(out, "{head}\nWindow {} → {}; checked {}.", v.incident.incident.start(), v.incident.incident.contained(), v.generated_at);
    }
    for part in [Part::Containment, Part::Persistence, Part::Recovery, Part::Fixes] {
        let items: Vec<&Item> = v.items.iter().filter(|i| i.part == part).collect();
        if items.is_empty() {
            continue;
        }
        if markdown {
            let _ = writeln!(out, "### {}\n", part.title());
        } else {
            let _ = writeln!(out, "\n{}", part.title());
        }
        for i in items {
            let mark = match i.status {
                Status::Pass => if markdown { "- [x] ✅" } else { "  [pass]" },
                Status::Fail => if markdown { "- [ ] ❌" } else { "  [FAIL]" },
                Status::NotEvaluated => if markdown { "- [ ] ❔" } else { "  [ N/E]" },
            };
            let _ = writeln!(out, "{mark} {}", clean(&i.message));
        }
        if markdown {
            out.push('\n');
        }
    }
    if !v.blast.is_empty() {
        let _ = writeln!(out, "{}", if markdown { "### Blast radius\n" } else { "\nBlast radius" });
        for (p, r) in &v.blast {
            match r {
                Ok(b) => {
                    let text = crate::report::blast::text(b);
                    if markdown {
                        let _ = writeln!(out, "~~~text\n{}~~~\n", text.replace("~~~", "~ ~ ~"));
                    } else {
                        out.push_str(&text);
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "{} {}: {}", if markdown { "-" } else { "  -" }, clean(p), clean(e));
                }
            }
        }
    }
    if !v.notes.is_empty() {
        let _ = writeln!(out, "{}", if markdown { "### Not covered\n" } else { "\nNot covered" });
        for n in &v.notes {
            let _ = writeln!(out, "{} {}", if markdown { "-" } else { "  -" }, clean(n));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/verify.md names every item kind the code can produce, and says what each cloud cannot
    /// show in the code's own words.
    #[test]
    fn the_docs_list_every_item_and_every_note() {
        let docs = include_str!("../../docs/verify.md");
        for (cloud, src) in [("aws", include_str!("aws.rs")), ("azure", include_str!("azure.rs")), ("gcp", include_str!("gcp.rs"))] {
            let prefix = format!("\"{cloud}_");
            // The code, not its tests' fixtures.
            let mut rest = src.split("#[cfg(test)]").next().unwrap_or(src);
            while let Some(i) = rest.find(&prefix) {
                let lit = &rest[i + 1..];
                let end = lit.find('"').unwrap_or(0);
                let kind = &lit[..end];
                if kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                    assert!(docs.contains(&format!("`{kind}`")), "docs/verify.md does not list the item {kind}");
                }
                rest = &lit[end..];
            }
        }
        for note in aws::NOTES.iter().chain(azure::NOTES).chain(gcp::NOTES) {
            assert!(docs.contains(note), "docs/verify.md lacks the note: {note}");
        }
    }

    #[test]
    fn nothing_to_check_is_not_verified() {
        let v = Verification { incident: IncidentFile::parse(incident::TEMPLATE, "t").unwrap(), items: Vec::new(), generated_at: Timestamp::now(), sources: Vec::new(), notes: Vec::new(), blast: Vec::new() };
        assert_eq!(v.exit_code(), 1);
    }
}
