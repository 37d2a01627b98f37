//! Azure fixes: custom Azure Policy definitions with their assignments (as the REST bodies `az rest`
//! puts), the Entra app-management policy that caps credential lifetimes, and the commands that
//! remove the app credentials the findings name.
//!
//! Policies are defined and assigned on each subscription whose findings ask for them: a
//! subscription-scope definition needs no management-group rights, and the README says how to
//! move it up to a management group.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{info, render_json, render_sh, Artifact, Asked, FixError, FixSet};
use crate::engine::Scan;
use crate::finding::{EvidenceValue, Status};
use crate::inventory::{Cloud, Collected, Inventory};
use crate::report::markdown::escape;
use crate::settings::Trusted;

const API: &str = "2023-04-01";

#[derive(Default)]
struct Need {
    /// The findings, and the subscription or tenant ids they are in.
    asked: Asked,
    /// (tenant, object id, evidence credential list) for credential findings.
    credentials: Vec<(String, String, Vec<String>)>,
}

pub(crate) fn plan(scan: &Scan, inv: &Inventory, trusted: &Trusted, set: &mut FixSet) -> Result<(), FixError> {
    let mut needs: BTreeMap<String, Need> = BTreeMap::new();
    let mut max_days = 180;
    for (f, c, template) in super::failing_with_templates(scan, Cloud::Azure) {
        if let Some(d) = c.meta.params.get("max_lifetime_days") {
            max_days = *d;
        }
        let n = needs.entry(template).or_default();
        n.asked.record(f);
        let listed = f.evidence.0.iter().find(|(k, _)| *k == "problem_credentials").map(|(_, v)| match v {
            EvidenceValue::Json(j) => j.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
            _ => Vec::new(),
        });
        if let Some(keys) = listed {
            n.credentials.push((f.account.to_string(), f.resource.id.to_string(), keys));
        }
    }
    if needs.is_empty() {
        return Ok(());
    }
    let mut readme = format!(
        "# Azure fixes: Azure Policy, the Entra app-management policy, credential containment\n\nWritten by Portcullis {} from the scan of {}. \
         **Nothing here has been applied**: review each file, then apply it as shown (with `az login` as someone who may write policy \
         definitions and assignments on the subscription, or the Graph permission `Policy.ReadWrite.ApplicationConfiguration` for the \
         app-management policy).\n\n",
        env!("CARGO_PKG_VERSION"),
        scan.now
    );
    let sub_name = |id: &str| {
        inv.azure.tenants.iter().flat_map(|t| t.subscriptions.iter()).find(|s| s.subscription_id == id).and_then(|s| s.display_name.clone())
    };
    for (template, need) in &needs {
        let i = info(template)?;
        let addresses = format!(
            "Addresses {} failing finding(s) of {}.",
            need.asked.findings.len(),
            need.asked.checks.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        );
        let name = template.trim_start_matches("azure/");
        if name.starts_with("policy_") {
            let tenants: Vec<String> = trusted.azure_tenants.iter().map(|t| t.trim().to_ascii_lowercase()).collect();
            let definition = render_json(template, minijinja::context! { allowed_tenants => tenants })?;
            let def_name = format!("portcullis-{}", name.trim_start_matches("policy_").replace('_', "-"));
            readme.push_str(&format!("## `{def_name}`\n\n**{}**. Prevents: {} Would affect: {} {addresses}\n\n", i.title, i.prevents, i.affects));
            for sub in &need.asked.scopes {
                if !crate::inventory::azure::is_guid(sub) {
                    continue; // tenant-scope findings have no subscription to assign on
                }
                let def_path = format!("azure/policy/{def_name}.definition.json");
                let asg_path = format!("azure/policy/{sub}/{def_name}.assignment.json");
                let def_id = format!("/subscriptions/{sub}/providers/Microsoft.Authorization/policyDefinitions/{def_name}");
                let assignment = json!({
                    "properties": {
                        "displayName": definition["properties"]["displayName"],
                        "policyDefinitionId": def_id,
                        "enforcementMode": "Default",
                        "description": "Assigned from a Portcullis fix; see its README.",
                    }
                });
                let label = sub_name(sub).map(|n| format!(" ({})", escape(&n))).unwrap_or_default();
                let base = format!("https://management.azure.com/subscriptions/{sub}/providers/Microsoft.Authorization");
                readme.push_str(&format!(
                    "Subscription `{sub}`{label}:\n\n```sh\naz rest --method put --url '{base}/policyDefinitions/{def_name}?api-version={API}' --body @policy/{def_name}.definition.json\n\
                     az rest --method put --url '{base}/policyAssignments/{def_name}?api-version={API}' --body @policy/{sub}/{def_name}.assignment.json\n```\n\n\
                     Roll back:\n\n```sh\naz rest --method delete --url '{base}/policyAssignments/{def_name}?api-version={API}'\n\
                     az rest --method delete --url '{base}/policyDefinitions/{def_name}?api-version={API}'\n```\n\n"
                ));
                let findings = need.asked.fingerprints_in(scan, sub);
                if !set.artifacts.iter().any(|a| a.path == def_path) {
                    set.artifacts.push(Artifact {
                        path: def_path.clone(),
                        cloud: Cloud::Azure,
                        kind: "policy_definition",
                        title: format!("Azure Policy definition {def_name}"),
                        templates: vec![template.clone()],
                        targets: Vec::new(),
                        findings: Vec::new(),
                        content: serde_json::to_string_pretty(&definition).unwrap_or_default() + "\n",
                    });
                }
                if let Some(d) = set.artifacts.iter_mut().find(|a| a.path == def_path) {
                    d.targets.push(format!("/subscriptions/{sub}"));
                    d.findings.extend(findings.iter().cloned());
                }
                set.artifacts.push(Artifact {
                    path: asg_path,
                    cloud: Cloud::Azure,
                    kind: "policy_assignment",
                    title: format!("Azure Policy assignment {def_name} on {sub}"),
                    templates: vec![template.clone()],
                    targets: vec![format!("/subscriptions/{sub}")],
                    findings,
                    content: serde_json::to_string_pretty(&assignment).unwrap_or_default() + "\n",
                });
            }
            readme.push_str(
                "To govern every subscription at once, create the definition and the assignment on a management group instead \
                 (`/providers/Microsoft.Management/managementGroups/<id>/providers/Microsoft.Authorization/…`, the definition id changing to match).\n\n",
            );
        } else if name == "entra_app_management_policy" {
            let body = render_json(template, minijinja::context! { max_lifetime => format!("P{max_days}D") })?;
            readme.push_str(&format!(
                "## `entra/app-management-policy.json`\n\n**{}**. Prevents: {} Would affect: {} {addresses}\n\n```sh\n\
                 az rest --method get --url https://graph.microsoft.com/v1.0/policies/defaultAppManagementPolicy > app-management-policy-before.json\n\
                 az rest --method patch --url https://graph.microsoft.com/v1.0/policies/defaultAppManagementPolicy --body @entra/app-management-policy.json\n```\n\n\
                 Roll back: patch the saved `app-management-policy-before.json` back (or `{{\"isEnabled\": false}}`).\n\n",
                i.title, i.prevents, i.affects
            ));
            set.artifacts.push(Artifact {
                path: "azure/entra/app-management-policy.json".into(),
                cloud: Cloud::Azure,
                kind: "entra_policy",
                title: "Entra default app-management policy".into(),
                templates: vec![template.clone()],
                targets: need.asked.scopes.iter().map(|t| format!("tenants/{t}")).collect(),
                findings: need.asked.findings.clone(),
                content: serde_json::to_string_pretty(&body).unwrap_or_default() + "\n",
            });
        } else if name == "containment_entra_users" {
            // One entry per principal finding: guests with a role at a scope, stale privileged users.
            let mut principals = Vec::new();
            let mut targets = Vec::new();
            for f in scan.findings.iter().filter(|f| f.status == Status::Fail && need.asked.checks.contains(f.check_id)) {
                let scope = f.evidence.0.iter().find(|(k, _)| *k == "scope").and_then(|(_, v)| match v {
                    EvidenceValue::Text(t) => Some(t.to_string()),
                    _ => None,
                });
                let scope = scope.filter(|_| f.check_id == "azure_rbac_guest_privileged_role_absent");
                targets.push(f.resource.id.to_string());
                principals.push(minijinja::context! { id => f.resource.id.to_string(), name => f.resource.name.to_string(), why => f.message.clone(), scope => scope });
            }
            if principals.is_empty() {
                continue;
            }
            let n = principals.len();
            let script = render_sh(template, minijinja::context! { principals => principals })?;
            readme.push_str(&format!(
                "## Containment: `containment/contain-entra-users.sh`\n\n**{}**. Prevents: {} Would affect: {} {addresses} It lists {n} principal(s), every call \
                 commented out: uncomment those you mean.\n\n",
                i.title, i.prevents, i.affects
            ));
            set.artifacts.push(Artifact {
                path: "azure/containment/contain-entra-users.sh".into(),
                cloud: Cloud::Azure,
                kind: "commands",
                title: "Containment for Entra users".into(),
                templates: vec![template.clone()],
                targets,
                findings: need.asked.findings.clone(),
                content: script,
            });
        } else if name == "containment_remove_app_credentials" {
            let mut creds = Vec::new();
            for (tenant, object, listed) in &need.credentials {
                let Some(t) = inv.azure.tenants.iter().find(|t| &t.tenant_id == tenant) else { continue };
                let all = [&t.applications, &t.service_principals];
                let Some(app) = all.iter().find_map(|c| match c {
                    Collected::Collected(v) => v.iter().find(|a| &a.id == object),
                    _ => None,
                }) else {
                    continue;
                };
                for c in app.credentials.iter().filter(|c| listed.contains(&format!("{}:{}", c.kind, c.key_id))) {
                    let why = match c.end {
                        None => "never expires".to_string(),
                        Some(end) if end < scan.now => format!("expired {end}"),
                        Some(end) => format!("valid until {end}"),
                    };
                    creds.push(minijinja::context! {
                        sp => app.kind != "application", app_id => app.app_id.clone(), key_id => c.key_id.clone(),
                        cert => c.kind == "certificate", display => app.display_name.clone(), object => app.id.clone(), why => format!("{} {why}", c.kind),
                    });
                }
            }
            if creds.is_empty() {
                continue;
            }
            let n = creds.len();
            let script = render_sh(template, minijinja::context! { credentials => creds })?;
            readme.push_str(&format!(
                "## Containment: `containment/remove-app-credentials.sh`\n\n**{}**. Prevents: {} Would affect: {} {addresses} It removes {n} credential(s); \
                 removal cannot be rolled back (add a new credential instead).\n\n",
                i.title, i.prevents, i.affects
            ));
            set.artifacts.push(Artifact {
                path: "azure/containment/remove-app-credentials.sh".into(),
                cloud: Cloud::Azure,
                kind: "commands",
                title: "Remove app credentials".into(),
                templates: vec![template.clone()],
                targets: need.credentials.iter().map(|(_, o, _)| o.clone()).collect(),
                findings: need.asked.findings.clone(),
                content: script,
            });
        }
    }
    set.readmes.insert("azure".into(), readme);
    Ok(())
}

/// A policy definition as Azure Policy reads one: `policyRule` with `if` and `then`, a valid effect.
pub fn definition_problems(v: &Value) -> Vec<String> {
    const EFFECTS: &[&str] = &["append", "audit", "auditifnotexists", "deny", "denyaction", "deployifnotexists", "disabled", "manual", "modify", "addtonetworkgroup", "mutate"];
    let mut out = Vec::new();
    let p = &v["properties"];
    let rule = &p["policyRule"];
    if !rule["if"].is_object() {
        out.push("policyRule.if is not an object".to_string());
    }
    match rule["then"]["effect"].as_str() {
        Some(e) if EFFECTS.contains(&e.to_ascii_lowercase().as_str()) || (e.starts_with("[parameters('") && e.ends_with("')]")) => {}
        other => out.push(format!("policyRule.then.effect {other:?} is not an Azure Policy effect")),
    }
    if rule["then"]["effect"].as_str().is_some_and(|e| e.eq_ignore_ascii_case("auditIfNotExists") || e.eq_ignore_ascii_case("deployIfNotExists")) && !rule["then"]["details"]["type"].is_string() {
        out.push("an IfNotExists effect needs then.details.type".to_string());
    }
    if !matches!(p["mode"].as_str(), Some("All" | "Indexed")) {
        out.push(format!("mode {} is not All or Indexed", p["mode"]));
    }
    if p["policyType"] != "Custom" || !p["displayName"].is_string() {
        out.push("a custom definition needs policyType Custom and a displayName".to_string());
    }
    if let Some(params) = p["parameters"].as_object() {
        for (k, d) in params {
            if !matches!(d["type"].as_str(), Some("String" | "Array" | "Object" | "Boolean" | "Integer" | "Float" | "DateTime")) {
                out.push(format!("parameter {k}: type {}", d["type"]));
            }
        }
    }
    // Every [parameters('x')] used is declared.
    let text = rule.to_string();
    for part in text.split("parameters('").skip(1) {
        let name = part.split('\'').next().unwrap_or_default();
        if p["parameters"].get(name).is_none() {
            out.push(format!("parameters('{name}') is not declared"));
        }
    }
    out
}
