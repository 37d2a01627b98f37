//! No allow policy on the project or above it grants a role to `allUsers` or
//! `allAuthenticatedUsers`.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::{is_public, project_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let levels = inv.effective_iam(p)?;
    let mut grants = Vec::new();
    for (level, policy) in &levels {
        for b in &policy.bindings {
            for m in b.members.iter().filter(|m| is_public(m)) {
                grants.push(format!("{m} has {} (set on {level})", b.role));
            }
        }
    }
    if grants.is_empty() {
        cx.pass(project_resource(p), format!("{}: no role is granted to allUsers or allAuthenticatedUsers on the project or above it", p.project_id));
    } else {
        cx.fail(project_resource(p), format!("{}: {}", p.project_id, grants.join("; "))).with("grants", grants.len() as i64);
    }
    Ok(())
}
