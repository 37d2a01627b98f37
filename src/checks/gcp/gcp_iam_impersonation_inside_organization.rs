//! Only principals inside the organization may act as its service accounts: any role whose
//! permissions get a token or key for an account, an identity token, delegation through it, or
//! `actAs` (asked of the GCP privilege model, `crate::reach::gcp::Powers::impersonates`), granted
//! on the project (or above) or on the service account itself. An outside holder of a role whose
//! permissions were not read is not evaluated, naming the role.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject, IamPolicy};
use crate::inventory::{Dataset, Missing};

use super::{project_resource, service_account_resource};
use crate::reach::gcp::Model;
use crate::reach::gcp_member::{Inside, Insiders};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy, Dataset::GcpServiceAccounts, Dataset::GcpCustomRoles, Dataset::GcpPredefinedRoles];
pub const PARAMS: &[&str] = &[];

/// The members of the policy's impersonation grants that are not proven inside: the outside
/// ones, and those the scan cannot place (identity pools whose providers were not read).
fn outsiders(policy: &IamPolicy, insiders: &Insiders, model: &Model) -> (Vec<String>, Vec<String>) {
    let (mut out, mut unknown) = (Vec::new(), Vec::new());
    for b in &policy.bindings {
        // What the role lets its holder do to the accounts it covers, by its permissions.
        let grant = match model.permissions(&b.role) {
            Ok(p) => match p.impersonates() {
                Some(perm) => Ok(perm),
                None => continue,
            },
            Err(missing) => Err(missing),
        };
        for m in b.members.iter() {
            match (insiders.judge(m), &grant) {
                (Inside::Yes(_), _) => {}
                (Inside::No(why), Ok(perm)) => out.push(format!("{m} has {} (it grants {perm}) ({why})", b.role)),
                (Inside::Unknown(why), Ok(perm)) => unknown.push(format!("{m} has {} (it grants {perm}): {why}", b.role)),
                (Inside::No(why) | Inside::Unknown(why), Err(missing)) => {
                    unknown.push(format!("{m} ({why}) has {}, whose permissions are unknown: {missing}", b.role))
                }
            }
        }
    }
    (out, unknown)
}

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let insiders = Insiders::from_settings(inv, &cx.settings.trusted);
    let model = Model::new(inv);
    let (levels, gap) = inv.effective_iam_known(p);
    let (mut found, mut undecided) = (Vec::new(), Vec::new());
    for (level, policy) in &levels {
        let at = if *level == p.name { String::new() } else { format!(" (inherited from {level})") };
        let (out, unknown) = outsiders(policy, &insiders, &model);
        found.extend(out.into_iter().map(|o| format!("{o}{at}")));
        undecided.extend(unknown.into_iter().map(|o| format!("{o}{at}")));
    }
    match &gap {
        // What the levels read show fails; the rest is not a pass.
        Some(m) if found.is_empty() => {
            cx.missing(project_resource(p), m);
        }
        _ => judge(cx, project_resource(p), &p.project_id, "every service account of the project", found, undecided),
    }
    for sa in p.service_accounts.require(Dataset::GcpServiceAccounts)? {
        match &sa.iam_policy {
            crate::inventory::Collected::Collected(pol) => {
                let (out, unknown) = outsiders(pol, &insiders, &model);
                judge(cx, service_account_resource(p, sa), &sa.email, "it", out, unknown);
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

/// Fail on an outsider; otherwise not evaluated while some member cannot be placed; else pass.
fn judge<'a>(cx: &mut Cx<'_, 'a>, res: crate::finding::Resource<'a>, name: &str, what: &str, found: Vec<String>, undecided: Vec<String>) {
    if !found.is_empty() {
        cx.fail(res, format!("{name}: principals outside the organization may act as {what}: {}", found.join("; ")));
    } else if !undecided.is_empty() {
        cx.not_evaluated(res, format!("{name}: cannot tell whether these principals are inside the organization: {}", undecided.join("; ")));
    } else {
        cx.pass(res, format!("{name}: only principals inside the organization may act as {what}"));
    }
}
