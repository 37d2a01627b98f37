//! No allow policy on the project or above it grants a role to `allUsers` or
//! `allAuthenticatedUsers`.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::{is_public, project_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    // A grant found on the levels read fails whatever sits above; a gap is no pass.
    let (levels, gap) = inv.effective_iam_known(p);
    let mut grants = Vec::new();
    for (level, policy) in &levels {
        for b in &policy.bindings {
            for m in b.members.iter().filter(|m| is_public(m)) {
                grants.push(format!("{m} has {} (set on {level})", b.role));
            }
        }
    }
    if let (true, Some(m)) = (grants.is_empty(), &gap) {
        cx.missing(project_resource(p), m);
    } else if grants.is_empty() {
        cx.pass(project_resource(p), format!("{}: no role is granted to allUsers, allAuthenticatedUsers or principalSet://goog/public:all on the project or above it", p.project_id));
    } else {
        cx.fail(project_resource(p), format!("{}: {}", p.project_id, grants.join("; "))).with("grants", grants.len() as i64);
    }
    Ok(())
}
