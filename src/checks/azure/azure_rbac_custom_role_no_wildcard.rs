//! No custom role usable at subscription scope or above grants every action (`*`).

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use super::at_subscription_or_above;

pub const DATASETS: &[Dataset] = &[Dataset::AzureRoleDefinitions];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(sub: &'a AzureSubscription, _t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let defs = sub.role_definitions.require(Dataset::AzureRoleDefinitions)?;
    let mut custom = 0;
    for d in defs.iter().filter(|d| d.is_custom()) {
        custom += 1;
        let broad: Vec<&str> = d.assignable_scopes.iter().filter(|s| at_subscription_or_above(s, sub) || is_other_subscription(s)).map(String::as_str).collect();
        let res = Resource { id: d.id.as_str().into(), name: d.role_name.as_str().into(), kind: "azure_role_definition" };
        let every: Vec<&str> = d.actions.iter().map(|a| a.trim()).filter(|a| every_provider(a)).collect();
        if !every.is_empty() && !broad.is_empty() {
            cx.fail(res, format!("custom role {:?} grants {} on every resource provider and is assignable at {}", d.role_name, every.join(", "), broad.join(", ")))
                .with("not_actions", d.not_actions.join(", "));
        } else {
            cx.pass(res, format!("custom role {:?} does not grant `*` at subscription scope or above", d.role_name));
        }
    }
    if custom == 0 {
        cx.pass(subscription_resource(sub), "no custom role definitions");
    }
    Ok(())
}

/// An action with a wildcard in its provider part (`*`, `*/write`, `Microsoft.*/…`): it reaches
/// every resource provider, or any of them, `Microsoft.Authorization` included.
/// `Microsoft.Compute/*` is broad but bounded to one provider.
fn every_provider(action: &str) -> bool {
    action.split('/').next().is_some_and(|provider| provider.contains('*'))
}

/// A whole subscription (any), which is subscription scope too.
fn is_other_subscription(scope: &str) -> bool {
    let parts: Vec<&str> = scope.trim_matches('/').split('/').collect();
    parts.len() == 2 && parts[0].eq_ignore_ascii_case("subscriptions")
}

#[cfg(test)]
mod tests {
    use super::every_provider;

    #[test]
    fn wildcards_where_the_provider_goes() {
        for a in ["*", "*/write", "*/*", "*/read", "*/action", "*/delete", "*/roleAssignments/write", "Microsoft.*/write"] {
            assert!(every_provider(a), "{a}");
        }
        for a in ["Microsoft.Compute/*", "Microsoft.Storage/storageAccounts/*/read", "Microsoft.Web/sites/start/action"] {
            assert!(!every_provider(a), "{a}");
        }
    }
}
