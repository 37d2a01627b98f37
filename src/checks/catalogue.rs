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
        s.push_str(&check_markdown(&c.meta));
    }
    s
}

/// One check in Markdown: the catalogue section, and the SARIF rule's help text.
pub fn check_markdown(m: &CheckMeta) -> String {
    let mut s = format!("## {}\n\n**{}** — {} / {} / severity **{}** / resource `{}`\n\n", m.id, m.title, m.cloud, m.service, m.severity, m.resource_type);
    s.push_str(&format!("{}\n\n**Risk.** {}\n\n**Remediation.** {}\n", m.description.trim(), m.risk.trim(), m.remediation.trim()));
    if !m.params.is_empty() {
        let p: Vec<String> = m.params.iter().map(|(k, v)| format!("`{k}` = {v}")).collect();
        s.push_str(&format!("\n**Thresholds.** {}\n", p.join(", ")));
    }
    let mut maps: Vec<String> = m.compliance.iter().map(|(fw, ids)| format!("{fw} {}", ids.join(", "))).collect();
    if !m.mitre.is_empty() {
        maps.push(format!("MITRE ATT&CK {}", m.mitre.join(", ")));
    }
    if !maps.is_empty() {
        s.push_str(&format!("\n**Mappings.** {}\n", maps.join("; ")));
    }
    if !m.references.is_empty() {
        s.push_str("\n**References.**\n");
        for r in &m.references {
            s.push_str(&format!("- <{r}>\n"));
        }
    }
    s
}
