//! Only principals inside the organization may act as its service accounts: the token creator,
//! service account user and workload identity user roles, granted on the project (or above) or on
//! the service account itself.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject, IamPolicy};
use crate::inventory::{Dataset, Missing};

use super::{is_public, member_domain, project_resource, service_account_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy, Dataset::GcpServiceAccounts];
pub const PARAMS: &[&str] = &[];

const IMPERSONATION: &[&str] = &[
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountUser",
    "roles/iam.workloadIdentityUser",
    "roles/iam.serviceAccountOpenIdTokenCreator",
];

/// Is the member proven inside: an allowed domain, a service account or workload identity pool of
/// a project the scan read, or a Google service agent? Anything else is outside.
fn inside(member: &str, inv: &GcpInventory, allowed: &[String]) -> bool {
    if is_public(member) {
        return false;
    }
    if let Some(d) = member_domain(member) {
        return allowed.iter().any(|a| d == *a || d.ends_with(&format!(".{a}")));
    }
    let known_project = |id_or_number: &str| inv.projects.iter().any(|p| p.project_id == id_or_number || p.name == format!("projects/{id_or_number}"));
    if let Some(email) = member.strip_prefix("serviceAccount:") {
        let Some((local, domain)) = email.rsplit_once('@') else { return false };
        if let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") {
            // Google's service agents (service-<number>@gcp-sa-….iam.gserviceaccount.com).
            return project.starts_with("gcp-sa-") || known_project(project);
        }
        return match domain {
            "developer.gserviceaccount.com" => known_project(local.trim_end_matches("-compute")),
            "cloudservices.gserviceaccount.com" => known_project(local),
            _ => false,
        };
    }
    if let Some(rest) = member.strip_prefix("principal://").or_else(|| member.strip_prefix("principalSet://")) {
        // iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/…
        let parts: Vec<&str> = rest.split('/').collect();
        return parts.len() > 2 && parts[1] == "projects" && known_project(parts[2]);
    }
    member.starts_with("deleted:")
}

fn outsiders(policy: &IamPolicy, inv: &GcpInventory, allowed: &[String]) -> Vec<String> {
    policy
        .bindings
        .iter()
        .filter(|b| IMPERSONATION.contains(&b.role.as_str()))
        .flat_map(|b| b.members.iter().filter(|m| !inside(m, inv, allowed)).map(move |m| format!("{m} has {}", b.role)))
        .collect()
}

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let mut allowed: Vec<String> = cx.settings.trusted.gcp_domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
    allowed.extend(inv.organization.as_ref().and_then(|o| o.domain.clone()).map(|d| d.to_ascii_lowercase()));
    if allowed.is_empty() {
        cx.not_evaluated(project_resource(p), format!("{}: the organization's domain is unknown (scan with --gcp-organization) and [trust] gcp_domains is empty", p.project_id));
        return Ok(());
    }
    let levels = inv.effective_iam(p)?;
    let mut found = Vec::new();
    for (level, policy) in &levels {
        let at = if *level == p.name { String::new() } else { format!(" (inherited from {level})") };
        found.extend(outsiders(policy, inv, &allowed).into_iter().map(|o| format!("{o}{at}")));
    }
    if found.is_empty() {
        cx.pass(project_resource(p), format!("{}: only principals inside the organization may act as its service accounts", p.project_id));
    } else {
        cx.fail(project_resource(p), format!("{}: principals outside may act as every service account of the project: {}", p.project_id, found.join("; ")));
    }
    for sa in p.service_accounts.require(Dataset::GcpServiceAccounts)? {
        match &sa.iam_policy {
            crate::inventory::Collected::Collected(pol) => {
                let out = outsiders(pol, inv, &allowed);
                if out.is_empty() {
                    cx.pass(service_account_resource(p, sa), format!("{}: no outside principal may act as it", sa.email));
                } else {
                    cx.fail(service_account_resource(p, sa), format!("{}: {}", sa.email, out.join("; ")));
                }
            }
            other => {
                if let Err(m) = other.require(Dataset::GcpServiceAccounts) {
                    cx.missing(service_account_resource(p, sa), &m);
                }
            }
        }
    }
    Ok(())
}
