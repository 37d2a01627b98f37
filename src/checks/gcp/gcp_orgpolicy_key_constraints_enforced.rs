//! The organization-policy constraints that keep credentials and members inside are in effect at
//! the project: no service-account key creation or upload, no automatic Editor for default service
//! accounts, and members restricted to the organization's directory.

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

pub fn run<'a>(p: &'a GcpProject, _inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let policies = p.org_policies.require(Dataset::GcpOrgPolicies)?;
    let get = |c: &str| policies.iter().find(|x| x.constraint == c);
    let mut off = Vec::new();
    for c in BOOLEAN {
        if get(c).and_then(|x| x.enforced) != Some(true) {
            off.push(format!("{c} is not enforced"));
        }
    }
    match get("iam.allowedPolicyMemberDomains") {
        Some(x) if !x.allowed_values.is_empty() && !x.allowed_values.iter().any(|v| v == "*") => {}
        Some(x) if x.allowed_values.iter().any(|v| v == "*") => off.push("iam.allowedPolicyMemberDomains allows all".into()),
        _ => off.push("iam.allowedPolicyMemberDomains is not set".into()),
    }
    if off.is_empty() {
        cx.pass(project_resource(p), format!("{}: key creation and upload are blocked, default service accounts get no automatic grants, and members are restricted to listed directories", p.project_id));
    } else {
        cx.fail(project_resource(p), format!("{}: {}", p.project_id, off.join("; "))).with("constraints_off", off.len() as i64);
    }
    Ok(())
}
