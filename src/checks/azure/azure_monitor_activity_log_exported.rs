//! The subscription's activity log (Administrative, Security, Policy and Alert) is exported by a
//! diagnostic setting to a workspace, storage account, event hub or partner.

use crate::checks::Cx;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;

pub const DATASETS: &[Dataset] = &[Dataset::AzureDiagnosticSettings];
pub const PARAMS: &[&str] = &[];

pub const REQUIRED: &[&str] = &["Administrative", "Security", "Policy", "Alert"];

pub fn run<'a>(sub: &'a AzureSubscription, _t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let settings = sub.diagnostic_settings.require(Dataset::AzureDiagnosticSettings)?;
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !settings.iter().any(|s| s.exports(c))).collect();
    let names: Vec<&str> = settings.iter().map(|s| s.name.as_str()).collect();
    if settings.is_empty() {
        cx.fail(subscription_resource(sub), "no diagnostic setting exports the activity log");
    } else if missing.is_empty() {
        cx.pass(subscription_resource(sub), format!("the activity log's {} categories are exported", REQUIRED.join(", "))).with("settings", names.join(", "));
    } else {
        cx.fail(subscription_resource(sub), format!("no diagnostic setting exports the {} categories", missing.join(", ")))
            .with("settings", names.join(", "));
    }
    Ok(())
}
