//! The subscription's activity log (Administrative, Security, Policy and Alert) is exported by a
//! diagnostic setting to a workspace, storage account, event hub or partner inside the tenant.
//!
//! A destination counts when its subscription is one of the tenant's (listed for the tenant, or in
//! the management-group tree that was read; a subscription only named on the command line that
//! the listing did not show is not placed). A destination in a subscription the scan cannot
//! place in the tenant (another tenant's, through Lighthouse or a cross-tenant setting) is outside:
//! it does not count, and it is named. A destination in another subscription of the tenant counts,
//! and is named too.

use crate::checks::Cx;
use crate::inventory::azure::{AzureSubscription, AzureTenant, DiagnosticSetting};
use crate::inventory::{Dataset, Missing, ScopeKind};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;

pub const DATASETS: &[Dataset] = &[Dataset::AzureDiagnosticSettings];
pub const PARAMS: &[&str] = &[];

pub const REQUIRED: &[&str] = &["Administrative", "Security", "Policy", "Alert"];

/// The subscription a destination resource id lives in (`/subscriptions/<id>/…`), lower-case.
fn subscription_of(id: &str) -> Option<String> {
    let mut parts = id.trim().trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some(k), Some(sub)) if k.eq_ignore_ascii_case("subscriptions") && !sub.is_empty() => Some(sub.to_ascii_lowercase()),
        _ => None,
    }
}

fn destinations(s: &DiagnosticSetting) -> impl Iterator<Item = &str> {
    [&s.workspace_id, &s.storage_account_id, &s.event_hub_authorization_rule_id, &s.marketplace_partner_id].into_iter().flatten().map(String::as_str)
}

pub fn run<'a>(sub: &'a AzureSubscription, t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let settings = sub.diagnostic_settings.require(Dataset::AzureDiagnosticSettings)?;
    // Placed in the tenant: in its management-group tree, or listed for it (the listing names each
    // subscription with its tenant; a subscription only named on the command line is not placed).
    let tree = t.scopes.get().into_iter().flatten().filter(|n| n.kind == ScopeKind::AzureSubscription).map(|n| n.id.to_ascii_lowercase());
    let listed = t.subscriptions.iter().filter(|s| s.display_name.is_some() || s.state.is_some()).map(|s| s.subscription_id.to_ascii_lowercase());
    let here = sub.subscription_id.to_ascii_lowercase();
    let ours: std::collections::BTreeSet<String> = listed.chain(tree).chain([here.clone()]).collect();
    let (mut outside, mut elsewhere) = (Vec::new(), Vec::new());
    // The settings whose destinations are inside the tenant, with only those destinations.
    let mut inside: Vec<DiagnosticSetting> = Vec::new();
    for s in settings {
        let mut kept = s.clone();
        for d in destinations(s) {
            match subscription_of(d) {
                Some(other) if ours.contains(&other) => {
                    if other != here {
                        elsewhere.push(format!("{} sends to {d}, in subscription {other}", s.name));
                    }
                }
                _ => {
                    outside.push(format!("{} sends to {d}, which is not in a subscription of tenant {}", s.name, t.tenant_id));
                    for f in [&mut kept.workspace_id, &mut kept.storage_account_id, &mut kept.event_hub_authorization_rule_id, &mut kept.marketplace_partner_id] {
                        if f.as_deref() == Some(d) {
                            *f = None;
                        }
                    }
                }
            }
        }
        inside.push(kept);
    }
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !inside.iter().any(|s| s.exports(c))).collect();
    let names: Vec<&str> = settings.iter().map(|s| s.name.as_str()).collect();
    let mut notes = String::new();
    if !elsewhere.is_empty() {
        notes.push_str(&format!("; {}", elsewhere.join("; ")));
    }
    if !outside.is_empty() {
        notes.push_str(&format!("; outside the tenant: {}", outside.join("; ")));
    }
    if settings.is_empty() {
        cx.fail(subscription_resource(sub), "no diagnostic setting exports the activity log");
    } else if missing.is_empty() {
        cx.pass(subscription_resource(sub), format!("the activity log's {} categories are exported inside the tenant{notes}", REQUIRED.join(", "))).with("settings", names.join(", "));
    } else {
        cx.fail(subscription_resource(sub), format!("no diagnostic setting exports the {} categories to a destination inside the tenant{notes}", missing.join(", ")))
            .with("settings", names.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::subscription_of;

    #[test]
    fn destinations_name_their_subscription() {
        assert_eq!(subscription_of("/subscriptions/ABC/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w").as_deref(), Some("abc"));
        assert_eq!(subscription_of("subscriptions/abc/x").as_deref(), Some("abc"));
        assert_eq!(subscription_of("/providers/Microsoft.Datadog/monitors/x"), None);
    }
}
