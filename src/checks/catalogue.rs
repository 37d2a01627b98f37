//! The checks catalogue (docs/checks.md), generated from the metadata. A test keeps it current.

use super::{Check, CheckMeta};

pub fn markdown(checks: &[Check]) -> String {
    let mut s = String::from(
        "# Checks catalogue\n\n<!-- Generated from checks/<cloud>/<id>.toml by `UPDATE_DOCS=1 cargo test --test registry`. Do not edit by hand. -->\n\n",
    );
    s.push_str("| id | severity | category | title |\n|---|---|---|---|\n");
    for c in checks {
        let m = &c.meta;
        s.push_str(&format!("| [`{}`](#{}) | {} | {} | {} |\n", m.id, m.id, m.severity, m.category.as_str(), m.title));
    }
    for c in checks {
        s.push('\n');
        s.push_str(&check_markdown(c));
    }
    s
}

/// One check in Markdown: the catalogue section, the SARIF rule's help and `checks explain` all
/// print this one text.
pub fn check_markdown(c: &Check) -> String {
    let m: &CheckMeta = &c.meta;
    let reads: Vec<String> = c.datasets.iter().map(|d| format!("`{d}`")).collect();
    let mut s = format!(
        "## {}\n\n**{}** — {} / {} / severity **{}** / resource `{}`\n\nRuns once per `{}`; reads {}.\n\n",
        m.id, m.title, m.cloud, m.service, m.severity, m.resource_type, c.scope().as_str(), reads.join(", ")
    );
    let planned: Vec<String> = crate::import::terraform::TYPES.iter().filter(|t| t.checks.contains(&m.id.as_str())).map(|t| format!("`{}`", t.rtype)).collect();
    if !planned.is_empty() {
        s.push_str(&format!("Runs on a Terraform plan alone (`--terraform-plan`), judging {}.\n\n", planned.join(", ")));
    }
    s.push_str(&format!("{}\n\n**Why it matters.** {}\n\n**How to fix.** {}\n", m.description.trim(), m.risk.trim(), m.remediation.trim()));
    if !m.params.is_empty() {
        s.push_str(&format!("\n**Thresholds** (override in portcullis.toml under `[checks.{}]`):\n\n", m.id));
        for (k, v) in &m.params {
            s.push_str(&format!("- {k} = {v}\n"));
        }
    }
    let mut maps: Vec<String> = m.compliance.iter().map(|(fw, ids)| format!("{fw}: {}", ids.join(", "))).collect();
    if !m.mitre.is_empty() {
        maps.push(format!("MITRE ATT&CK: {}", m.mitre.join(", ")));
    }
    if !maps.is_empty() {
        s.push_str("\n**Mappings.**\n\n");
        for line in maps {
            s.push_str(&format!("- {line}\n"));
        }
    }
    if !m.fix.is_empty() {
        s.push_str(&format!(
            "\n**Fixes** (`scan --fixes DIR` writes them for failing findings): {}.\n",
            m.fix.iter().map(|f| format!("`templates/fixes/{}/{f}`", m.cloud)).collect::<Vec<_>>().join(", ")
        ));
    }
    if !m.references.is_empty() {
        s.push_str("\n**References.**\n\n");
        for r in &m.references {
            s.push_str(&format!("- <{r}>\n"));
        }
    }
    s
}
