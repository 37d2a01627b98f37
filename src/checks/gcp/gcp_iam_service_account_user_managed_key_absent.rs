//! Service accounts have no active user-managed keys (only Google-managed ones).

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::{live_user_managed, service_account_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpServiceAccounts];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(p: &'a GcpProject, _inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    for sa in p.service_accounts.require(Dataset::GcpServiceAccounts)? {
        let keys: Vec<&str> = sa.keys.iter().filter(|k| live_user_managed(k)).map(|k| k.name.rsplit('/').next().unwrap_or(&k.name)).collect();
        if keys.is_empty() {
            cx.pass(service_account_resource(p, sa), format!("{} has no active user-managed key", sa.email));
        } else {
            cx.fail(service_account_resource(p, sa), format!("{} has {} active user-managed key(s): {}", sa.email, keys.len(), keys.join(", ")))
                .with("disabled_account", sa.disabled);
        }
    }
    Ok(())
}
