//! Active user-managed service-account keys are younger than N days.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::{live_user_managed, service_account_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpServiceAccounts];
pub const PARAMS: &[&str] = &["max_key_age_days"];

pub fn run<'a>(p: &'a GcpProject, _inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let limit = cx.param("max_key_age_days");
    for sa in p.service_accounts.require(Dataset::GcpServiceAccounts)? {
        for k in sa.keys.iter().filter(|k| live_user_managed(k)) {
            let id = k.name.rsplit('/').next().unwrap_or(&k.name);
            let f = match k.valid_after {
                None => cx.not_evaluated(service_account_resource(p, sa), format!("key {id} of {}: its creation time was not returned", sa.email)),
                Some(created) => {
                    let age = created.days_until(cx.now);
                    let msg = format!("key {id} of {} is {age} days old (limit {limit})", sa.email);
                    if age > limit {
                        cx.fail(service_account_resource(p, sa), msg)
                    } else {
                        cx.pass(service_account_resource(p, sa), msg)
                    }
                }
            };
            f.detail(id.to_string()).with("origin", k.key_origin.clone());
        }
    }
    Ok(())
}
