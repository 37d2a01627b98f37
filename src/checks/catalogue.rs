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
    s.push_str(&format!("{}\n\n", m.description.trim()));
    for model in privilege_models(c) {
        s.push_str(&format!("**Where privilege comes from.** {model}\n\n"));
    }
    s.push_str(&format!("**Why it matters.** {}\n\n**How to fix.** {}\n", m.risk.trim(), m.remediation.trim()));
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

/// The one privilege model per cloud that a check asks, by the datasets it reads: no check keeps
/// its own list of privileged roles.
fn privilege_models(c: &Check) -> Vec<&'static str> {
    use crate::inventory::Dataset;
    let reads = |d: Dataset| c.datasets.contains(&d);
    let mut out = Vec::new();
    if reads(Dataset::AwsAuthorizationDetails) && c.meta.category == crate::finding::Category::Privilege {
        out.push(
            "the AWS policy evaluator: the principal's identity policies, groups, permissions boundary, the SCPs above its account and the resource policies read, with conditions decided three-valued; an undecided condition or a policy not read leaves the principal not evaluated.",
        );
    }
    if reads(Dataset::AzureRoleDefinitions) {
        out.push(
            "the Azure RBAC model: each role definition read whole (every permission block's actions, notActions, dataActions and notDataActions), built-in and custom alike, with role-assignment conditions evaluated; a holder of a role whose definition was not read is not evaluated, naming the role.",
        );
    }
    if reads(Dataset::AzureDirectoryRoleDefinitions) {
        out.push(
            "the Entra directory-role model: a role is privileged when Microsoft marks it so (`isPrivileged` of the role definition, or Microsoft's published list of privileged built-in roles when only Graph v1.0 was read, said so in the finding), and a custom directory role by the privileged resource actions it allows; an unknown role definition leaves its holders not evaluated.",
        );
    }
    if reads(Dataset::GcpPredefinedRoles) || reads(Dataset::GcpCustomRoles) {
        out.push(
            "the GCP role model: a role's permissions decide (the predefined roles' `includedPermissions` and the custom roles' definitions, read from IAM), never its name; a holder of a role whose permissions were not read is not evaluated.",
        );
    }
    out
}
