//! Holders of privileged directory roles, active or eligible, have MFA registered.

use crate::checks::Cx;
use crate::inventory::azure::AzureTenant;
use crate::checks::ScopeKind;
use crate::inventory::{Dataset, Missing};

use super::{directory_role_name, how, principal_resource, privileged_directory_assignments, user_resource, Directory, Resolved};

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureDirectoryRoles,
    Dataset::AzureDirectoryRoleEligibility,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureGroupMembers,
    Dataset::AzureRegistrationDetails,
];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let (assignments, gap) = privileged_directory_assignments(t)?;
    let dir = Directory::new(t)?;
    let reg = t.registration_details.require(Dataset::AzureRegistrationDetails)?;
    let registered = |id: &str| reg.iter().find(|r| r.id == id).map(|r| r.is_mfa_registered);
    // One finding per person and role, the strongest path first (active before eligible).
    let mut seen = std::collections::BTreeSet::new();
    let mut sorted = assignments;
    sorted.sort_by_key(|(_, eligible)| *eligible);
    for (a, eligible) in sorted {
        let role = directory_role_name(&a.role_definition_id).unwrap_or("a privileged role");
        match dir.resolve(&a.principal_id, a.principal_type.as_deref()) {
            Resolved::NotAPerson => {}
            Resolved::Unknown(why) => {
                cx.not_evaluated(principal_resource(&a.principal_id, a.principal_name.as_deref()), format!("{} {role}: {why}", how(eligible)));
            }
            Resolved::Users(holders) => {
                for h in holders {
                    if !seen.insert((h.user.id.as_str(), role)) || h.user.account_enabled == Some(false) {
                        continue;
                    }
                    let via = h.via_group.map(|g| format!(" through group {g}")).unwrap_or_default();
                    let f = match registered(&h.user.id) {
                        Some(true) => cx.pass(user_resource(h.user), format!("{} {} {role}{via} and has MFA registered", h.user.user_principal_name, how(eligible))),
                        Some(false) => cx.fail(user_resource(h.user), format!("{} {} {role}{via} and has no MFA method registered", h.user.user_principal_name, how(eligible))),
                        None => cx.not_evaluated(
                            user_resource(h.user),
                            format!("{} {} {role}{via} and is not in the registration report", h.user.user_principal_name, how(eligible)),
                        ),
                    };
                    f.with("role", role).with("eligible", eligible).with("via_group", h.via_group);
                }
            }
        }
    }
    if let Some(m) = gap {
        // Active holders are judged; eligible ones could not be read.
        cx.missing(crate::checks::scope_resource(ScopeKind::AzureTenant, &t.tenant_id), &m);
    }
    Ok(())
}
