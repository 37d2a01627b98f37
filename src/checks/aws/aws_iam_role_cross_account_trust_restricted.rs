//! Roles trusting another account carry an ExternalId, an organization condition, or name the
//! trusted principals.

use super::{grants_json, ignored_conditions, role_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::trust::analyze;

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let details = acct.authorization_details.require(Dataset::AwsAuthorizationDetails)?;
    let own = acct.account_id.as_str();
    for role in &details.roles {
        let grants = analyze(&role.trust_policy);
        let foreign: Vec<_> = grants.iter().filter(|g| g.accounts().iter().any(|a| a != own)).collect();
        if foreign.is_empty() {
            continue;
        }
        let open: Vec<_> = foreign.iter().copied().filter(|g| g.cross_account_guard().is_none()).collect();
        let mut accounts: Vec<String> = foreign.iter().flat_map(|g| g.accounts()).filter(|a| a != own).collect();
        accounts.sort();
        accounts.dedup();
        if open.is_empty() {
            let guards: Vec<String> = foreign.iter().filter_map(|g| g.cross_account_guard()).collect();
            cx.pass(role_resource(role), format!("role {} trusts account(s) {} restricted by {}", role.name, accounts.join(", "), guards.join(", ")))
                .with("trusted_accounts", accounts);
        } else {
            let whole: Vec<String> = open.iter().flat_map(|g| g.accounts()).filter(|a| a != own).collect();
            cx.fail(role_resource(role), format!(
                "role {} trusts every principal of account(s) {} with no sts:ExternalId, organization or principal condition{}",
                role.name, whole.join(", "), ignored_conditions(&open)
            ))
            .with("trusted_accounts", accounts)
            .with("grants", grants_json(&open));
        }
    }
    Ok(())
}
