//! Holders of privileged directory roles, active or eligible, have MFA registered.

use crate::checks::Cx;
use crate::inventory::azure::AzureTenant;
use crate::inventory::{Dataset, Missing};

use super::{privileged_directory_holders, user_resource};

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureDirectoryRoles,
    Dataset::AzureDirectoryRoleEligibility,
    Dataset::AzureDirectoryRoleDefinitions,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureGroupMembers,
    Dataset::AzureRegistrationDetails,
];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let reg = t.registration_details.require(Dataset::AzureRegistrationDetails)?;
    let registered = |id: &str| reg.iter().find(|r| r.id == id).map(|r| r.is_mfa_registered);
    let holds = privileged_directory_holders(t, cx)?;
    // One finding per person and role, the strongest hold (active before eligible).
    let mut seen = std::collections::BTreeSet::new();
    for h in holds.iter().filter(|h| seen.insert((h.user.id.as_str(), h.role.as_str()))) {
        let f = match registered(&h.user.id) {
            Some(true) => cx.pass(user_resource(h.user), format!("{} and has MFA registered", h.describe())),
            Some(false) => cx.fail(user_resource(h.user), format!("{} and has no MFA method registered", h.describe())),
            None => cx.not_evaluated(user_resource(h.user), format!("{} and is not in the registration report", h.describe())),
        };
        f.with("role", h.role.clone()).with("eligible", h.eligible).with("via_group", h.via_group).with("privilege_source", h.privilege_source);
    }
    Ok(())
}
