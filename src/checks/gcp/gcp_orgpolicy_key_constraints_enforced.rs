//! The organization-policy constraints that keep credentials and members inside are in effect at
//! the project: no service-account key creation or upload, no automatic Editor for default service
//! accounts, and members restricted to the organization's own directory.
//!
//! Enforced means enforced everywhere: a conditional rule that turns enforcement off (or allows
//! more values) where its condition holds is a carve-out, and it is named. The directories
//! `iam.allowedPolicyMemberDomains` allows are compared with the organization's own Cloud Identity
//! customer id: another customer's directory is outside, and when the organization's customer id is
//! unknown the restriction cannot be judged.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::project_resource;

pub const DATASETS: &[Dataset] = &[Dataset::GcpOrgPolicies];
pub const PARAMS: &[&str] = &[];

const BOOLEAN: &[&str] = &[
    "iam.disableServiceAccountKeyCreation",
    "iam.disableServiceAccountKeyUpload",
    "iam.automaticIamGrantsForDefaultServiceAccounts",
];

const DOMAINS: &str = "iam.allowedPolicyMemberDomains";

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let policies = p.org_policies.require(Dataset::GcpOrgPolicies)?;
    let get = |c: &str| policies.iter().find(|x| x.constraint == c);
    let mut off = Vec::new();
    let mut undecided = Vec::new();
    for c in BOOLEAN {
        match get(c) {
            Some(x) if x.enforced == Some(true) => {}
            _ => off.push(format!("{c} is not enforced")),
        }
    }
    for x in BOOLEAN.iter().chain([&DOMAINS]).filter_map(|c| get(c)) {
        off.extend(x.conditional_exceptions.iter().map(|e| format!("{} {e}", x.constraint)));
    }
    match get(DOMAINS) {
        Some(x) if x.allowed_values.iter().any(|v| v.trim() == "*") => off.push(format!("{DOMAINS} allows all")),
        Some(x) if !x.allowed_values.is_empty() => {
            let own = inv.organization.as_ref().and_then(|o| o.customer_id.as_deref()).map(str::trim).filter(|c| !c.is_empty());
            // Values are customer ids, optionally written `is:C0…`.
            let values: Vec<&str> = x.allowed_values.iter().map(|v| v.trim()).map(|v| v.strip_prefix("is:").unwrap_or(v)).collect();
            match own {
                Some(own) => {
                    let others: Vec<&str> = values.iter().copied().filter(|v| *v != own).collect();
                    if !others.is_empty() {
                        off.push(format!("{DOMAINS} also allows members of {}, not the organization's own directory ({own})", others.join(", ")));
                    }
                }
                None => undecided.push(format!("{DOMAINS} allows {}, and the organization's own customer id is unknown (scan with --gcp-organization)", values.join(", "))),
            }
        }
        _ => off.push(format!("{DOMAINS} is not set")),
    }
    if !off.is_empty() {
        cx.fail(project_resource(p), format!("{}: {}", p.project_id, off.join("; "))).with("constraints_off", off.len() as i64);
    } else if !undecided.is_empty() {
        cx.not_evaluated(project_resource(p), format!("{}: {}", p.project_id, undecided.join("; ")));
    } else {
        cx.pass(project_resource(p), format!("{}: key creation and upload are blocked, default service accounts get no automatic grants, and members are restricted to the organization's own directory", p.project_id));
    }
    Ok(())
}
