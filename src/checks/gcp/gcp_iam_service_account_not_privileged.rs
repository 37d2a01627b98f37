//! No service account holds Owner, Editor or an administrator role on the project, directly or
//! through a folder or the organization.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::{privileged_role, project_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let levels = inv.effective_iam(p)?;
    let mut found = Vec::new();
    for (level, policy) in &levels {
        for b in policy.bindings.iter().filter(|b| privileged_role(&b.role)) {
            for m in b.members.iter().filter(|m| m.starts_with("serviceAccount:")) {
                let at = if *level == p.name { String::new() } else { format!(" (inherited from {level})") };
                found.push(format!("{} has {}{at}", m.trim_start_matches("serviceAccount:"), b.role));
            }
        }
    }
    if found.is_empty() {
        cx.pass(project_resource(p), format!("{}: no service account holds Owner, Editor or an admin role", p.project_id));
    } else {
        cx.fail(project_resource(p), format!("{}: {}", p.project_id, found.join("; "))).with("grants", found.len() as i64);
    }
    Ok(())
}
