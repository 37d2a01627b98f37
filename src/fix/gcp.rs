//! GCP fixes: organization-policy files for `gcloud org-policies set-policy`, the audit config that
//! turns Data Access logs on, and the commands that disable the service-account keys the findings
//! name.
//!
//! An org policy goes on the organization when one was scanned (it then covers every project),
//! else on each failing project. `iam.allowedPolicyMemberDomains` needs the organization's
//! Cloud Identity customer id; without it the README says how to find it instead of guessing.

use std::collections::{BTreeMap, BTreeSet};

use super::{info, render_json, render_sh, Artifact, Asked, FixError, FixSet};
use crate::engine::Scan;
use crate::inventory::{Cloud, Collected, Inventory};
use crate::report::markdown::escape;

/// The lifetimes `iam.serviceAccountKeyExpiryHours` accepts.
const EXPIRY_HOURS: &[i64] = &[1, 8, 24, 168, 336, 720, 1440, 2160];

#[derive(Default)]
struct Need {
    /// The findings, and the projects they are in.
    asked: Asked,
    /// Service-account resources (project, email) of the findings.
    accounts: BTreeSet<(String, String)>,
}

/// The constraint an org-policy template sets.
fn constraint(template: &str) -> Option<&'static str> {
    Some(match template {
        "gcp/orgpolicy_disable_sa_key_creation" => "iam.disableServiceAccountKeyCreation",
        "gcp/orgpolicy_disable_sa_key_upload" => "iam.disableServiceAccountKeyUpload",
        "gcp/orgpolicy_no_default_sa_grants" => "iam.automaticIamGrantsForDefaultServiceAccounts",
        "gcp/orgpolicy_allowed_member_domains" => "iam.allowedPolicyMemberDomains",
        "gcp/orgpolicy_sa_key_expiry" => "iam.serviceAccountKeyExpiryHours",
        _ => return None,
    })
}

/// The largest allowed key lifetime within `days`.
fn expiry_for(days: i64) -> String {
    let hours = days.saturating_mul(24);
    let h = EXPIRY_HOURS.iter().rev().find(|h| **h <= hours).copied().unwrap_or(1);
    format!("{h}h")
}

fn safe_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_' || b == b'/' || b == b'@')
}

pub(crate) fn plan(scan: &Scan, inv: &Inventory, set: &mut FixSet) -> Result<(), FixError> {
    let mut needs: BTreeMap<String, Need> = BTreeMap::new();
    let mut key_days = 90;
    for (f, c, template) in super::failing_with_templates(scan, Cloud::Gcp) {
        if let Some(d) = c.meta.params.get("max_key_age_days") {
            key_days = *d;
        }
        let n = needs.entry(template).or_default();
        n.asked.record(f);
        if f.resource.kind == "gcp_iam_service_account" {
            n.accounts.insert((f.account.to_string(), f.resource.name.to_string()));
        }
    }
    if needs.is_empty() {
        return Ok(());
    }
    let org = inv.gcp.organization.as_ref();
    let mut readme = format!(
        "# GCP fixes: organization policies, audit configuration, key containment\n\nWritten by Portcullis {} from the scan of {}. \
         **Nothing here has been applied**: review each file, then apply it as shown.\n\n",
        env!("CARGO_PKG_VERSION"),
        scan.now
    );
    match org {
        Some(o) => readme.push_str(&format!(
            "Organization policies go on `{}`{}: they are inherited by every folder and project below it (a project can still override one).\n\n",
            escape(&o.name),
            o.domain.as_deref().map(|d| format!(" ({})", escape(d))).unwrap_or_default()
        )),
        None => readme.push_str("No organization was scanned: organization policies go on each failing project.\n\n"),
    }
    let projects_in_scope = inv.gcp.projects.len();

    for (template, need) in &needs {
        let i = info(template)?;
        let addresses = format!(
            "Addresses {} failing finding(s) of {}.",
            need.asked.findings.len(),
            need.asked.checks.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        );
        if let Some(c) = constraint(template) {
            let customer_ids: Vec<String> = org.and_then(|o| o.customer_id.clone()).into_iter().collect();
            if c == "iam.allowedPolicyMemberDomains" && customer_ids.is_empty() {
                readme.push_str(&format!(
                    "## `{c}`: not written\n\n**{}**. The organization's Cloud Identity customer id is not known from this scan (scan the organization with \
                     `--gcp-organization`, or find it with `gcloud organizations describe ORG --format='value(owner.directoryCustomerId)'`), so no \
                     policy was written rather than a wrong one. {addresses}\n\n",
                    i.title
                ));
                continue;
            }
            let parents: Vec<String> = match org {
                Some(o) => vec![o.name.clone()],
                None => need.asked.scopes.iter().map(|p| format!("projects/{p}")).collect(),
            };
            readme.push_str(&format!("## `{c}`\n\n**{}**. Prevents: {} Would affect: {} {addresses}\n\n", i.title, i.prevents, i.affects));
            for parent in parents {
                let ctx = minijinja::context! { parent => parent.clone(), customer_ids => customer_ids.clone(), expiry => expiry_for(key_days) };
                let doc = render_json(template, ctx)?;
                let slug = parent.replace('/', "-");
                let path = format!("gcp/orgpolicy/{slug}--{c}.json");
                let file = path.trim_start_matches("gcp/");
                let affects = if parent.starts_with("organizations/") {
                    format!("every project of the organization ({projects_in_scope} scanned)")
                } else {
                    format!("project `{}`", escape(parent.trim_start_matches("projects/")))
                };
                readme.push_str(&format!("- `{file}` on `{}`: affects {affects}.\n", escape(&parent)));
                if safe_word(&parent) {
                    let flag = match parent.split_once('/') {
                        Some(("organizations", n)) => format!("--organization={n}"),
                        Some((_, p)) => format!("--project={p}"),
                        None => String::new(),
                    };
                    readme.push_str(&format!(
                        "  Keep what is there now: `gcloud org-policies describe {c} {flag} --format=json > before-{slug}--{c}.json` (it fails if nothing is set). \
                         Apply: `gcloud org-policies set-policy {file}`. Roll back: `gcloud org-policies set-policy before-{slug}--{c}.json` if there was a policy, \
                         else `gcloud org-policies delete {c} {flag}` (the inherited policy applies again).\n"
                    ));
                }
                let findings = if parent.starts_with("organizations/") {
                    need.asked.findings.clone()
                } else {
                    need.asked.fingerprints_in(scan, parent.trim_start_matches("projects/"))
                };
                set.artifacts.push(Artifact {
                    path,
                    cloud: Cloud::Gcp,
                    kind: "org_policy",
                    title: format!("{c} on {parent}"),
                    templates: vec![template.clone()],
                    targets: vec![parent.clone()],
                    findings,
                    content: serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
                });
            }
            readme.push('\n');
        } else if template == "gcp/audit_config_data_access" {
            readme.push_str(&format!("## Data Access audit logs\n\n**{}**. Prevents: {} Would affect: {} {addresses}\n\n", i.title, i.prevents, i.affects));
            for p in &need.asked.scopes {
                let doc = render_json(template, minijinja::context! {})?;
                let path = format!("gcp/audit-config/{p}.json");
                let file = path.trim_start_matches("gcp/");
                readme.push_str(&format!("- `{file}`: project `{}`.\n", escape(p)));
                if safe_word(p) {
                    readme.push_str(&format!(
                        "  Apply (the audit configuration is part of the project's IAM policy: keep a copy to roll back):\n\n  ```sh\n  \
                         gcloud projects get-iam-policy {p} --format=json > {p}-iam-before.json\n  \
                         jq --slurpfile a {file} '.auditConfigs = $a[0].auditConfigs' {p}-iam-before.json > {p}-iam-after.json\n  \
                         gcloud projects set-iam-policy {p} {p}-iam-after.json\n  ```\n\n  \
                         Roll back: `gcloud projects set-iam-policy {p} {p}-iam-before.json` (remove its `etag` first if the policy changed since).\n"
                    ));
                }
                set.artifacts.push(Artifact {
                    path,
                    cloud: Cloud::Gcp,
                    kind: "audit_config",
                    title: format!("Data Access audit logs for {p}"),
                    templates: vec![template.clone()],
                    targets: vec![format!("projects/{p}")],
                    findings: need.asked.fingerprints_in(scan, p),
                    content: serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
                });
            }
            readme.push('\n');
        } else if template == "gcp/containment_disable_sa_keys" {
            // The keys, from the inventory: active user-managed keys of the accounts the findings name.
            let mut keys = Vec::new();
            for (project, email) in &need.accounts {
                let Some(p) = inv.gcp.projects.iter().find(|x| &x.project_id == project) else { continue };
                let Collected::Collected(sas) = &p.service_accounts else { continue };
                let Some(sa) = sas.iter().find(|s| &s.email == email) else { continue };
                for k in sa.keys.iter().filter(|k| k.key_type == "USER_MANAGED" && !k.disabled) {
                    let id = k.name.rsplit('/').next().unwrap_or(&k.name).to_string();
                    let why = format!("user-managed key created {}", k.valid_after.map(|t| t.to_string()).unwrap_or_else(|| "at an unknown time".into()));
                    keys.push(minijinja::context! { key => id, email => email.clone(), project => project.clone(), why => why });
                }
            }
            if keys.is_empty() {
                continue;
            }
            let n = keys.len();
            let accounts: Vec<minijinja::Value> = need.accounts.iter().map(|(p, e)| minijinja::context! { email => e.clone(), project => p.clone() }).collect();
            let script = render_sh(template, minijinja::context! { keys => keys, accounts => accounts })?;
            readme.push_str(&format!(
                "## Containment: `containment/disable-service-account-keys.sh`\n\n**{}**. Prevents: {} Would affect: {} {addresses} It disables {n} key(s); \
                 run it with credentials that hold `iam.serviceAccountKeys.disable`. Roll back per key with `gcloud iam service-accounts keys enable`.\n\n",
                i.title, i.prevents, i.affects
            ));
            set.artifacts.push(Artifact {
                path: "gcp/containment/disable-service-account-keys.sh".into(),
                cloud: Cloud::Gcp,
                kind: "commands",
                title: "Disable service-account keys".into(),
                templates: vec![template.clone()],
                targets: need.accounts.iter().map(|(p, e)| format!("projects/{p}/serviceAccounts/{e}")).collect(),
                findings: need.asked.findings.clone(),
                content: script,
            });
        }
    }
    set.readmes.insert("gcp".into(), readme);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lifetime_is_the_longest_allowed_within_the_limit() {
        assert_eq!(expiry_for(90), "2160h");
        assert_eq!(expiry_for(30), "720h");
        assert_eq!(expiry_for(10), "168h");
        assert_eq!(expiry_for(0), "1h");
    }
}
