//! No service account holds a privileged role on the project, directly or through a folder or the
//! organization. Privileged is decided by the role's permissions, through the GCP privilege model
//! ([`crate::reach::gcp::Powers::privileged`]): any `*.setIamPolicy`, a token, key, delegation or
//! `actAs` permission, role administration (`iam.roles.create`, `iam.roles.update`) or org-policy
//! administration (`orgpolicy.policy.set`). A service account holding a role whose permissions
//! were not read leaves the project not evaluated, naming the role.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};
use crate::reach::gcp::Model;

use super::project_resource;

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy, Dataset::GcpCustomRoles, Dataset::GcpPredefinedRoles];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let levels = inv.effective_iam(p)?;
    let model = Model::new(inv);
    let mut found = Vec::new();
    let mut unknown: Vec<(String, Missing)> = Vec::new();
    for (level, policy) in &levels {
        let at = if *level == p.name { String::new() } else { format!(" (inherited from {level})") };
        for b in &policy.bindings {
            let accounts: Vec<&str> = b.members.iter().filter_map(|m| m.strip_prefix("serviceAccount:")).collect();
            if accounts.is_empty() {
                continue;
            }
            match model.permissions(&b.role) {
                Ok(powers) => {
                    if let Some(why) = powers.privileged() {
                        found.extend(accounts.iter().map(|a| format!("{a} has {} (it grants {why}){at}", b.role)));
                    }
                }
                Err(m) => unknown.extend(accounts.iter().map(|a| (format!("{a} has {}{at}, whose permissions are unknown: {m}", b.role), m.clone()))),
            }
        }
    }
    if !found.is_empty() {
        let mut msg = format!("{}: {}", p.project_id, found.join("; "));
        if !unknown.is_empty() {
            msg.push_str(&format!("; also undecided: {}", unknown.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>().join("; ")));
        }
        cx.fail(project_resource(p), msg).with("grants", found.len() as i64);
    } else if let Some((_, m)) = unknown.first() {
        let text = unknown.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>().join("; ");
        let f = cx.not_evaluated(project_resource(p), format!("{}: whether these service accounts are privileged is unknown: {text}", p.project_id));
        let permission = match &m.state {
            crate::inventory::CoverageState::Denied { action, .. } => Some(action.clone()),
            _ => None,
        };
        f.with("dataset", m.dataset.to_string()).with("coverage", m.state.label()).with("missing_permission", permission);
    } else {
        cx.pass(project_resource(p), format!("{}: no service account holds a role whose permissions are privileged (setIamPolicy, tokens, keys, actAs, role or org-policy administration)", p.project_id));
    }
    Ok(())
}
