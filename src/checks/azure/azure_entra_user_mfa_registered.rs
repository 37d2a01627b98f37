//! Enabled member users have an MFA method registered.

use crate::checks::Cx;
use crate::inventory::azure::AzureTenant;
use crate::inventory::{Dataset, Missing};

use super::user_resource;

pub const DATASETS: &[Dataset] = &[Dataset::AzureUsers, Dataset::AzureRegistrationDetails];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let users = t.users.require(Dataset::AzureUsers)?;
    let reg = t.registration_details.require(Dataset::AzureRegistrationDetails)?;
    let by_id: std::collections::BTreeMap<&str, _> = reg.iter().map(|r| (r.id.as_str(), r)).collect();
    for u in users.iter().filter(|u| !u.is_guest()) {
        match u.account_enabled {
            Some(false) => continue, // cannot sign in
            None => {
                cx.not_evaluated(user_resource(u), format!("{}: the directory did not say whether the account is enabled", u.user_principal_name));
                continue;
            }
            Some(true) => {}
        }
        match by_id.get(u.id.as_str()) {
            Some(r) if r.is_mfa_registered => {
                cx.pass(user_resource(u), format!("{} has MFA registered", u.user_principal_name)).with("methods", r.methods_registered.join(", "));
            }
            Some(r) => {
                cx.fail(user_resource(u), format!("{} is enabled and has no MFA method registered", u.user_principal_name))
                    .with("methods", r.methods_registered.join(", "));
            }
            None => {
                cx.not_evaluated(user_resource(u), format!("{} is not in the authentication-methods registration report", u.user_principal_name));
            }
        }
    }
    Ok(())
}
