//! People who hold privileged directory roles have signed in within the last N days.

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
    Dataset::AzureSignInActivity,
];
pub const PARAMS: &[&str] = &["inactive_days"];

pub fn run<'a>(t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let limit = cx.param("inactive_days");
    let (assignments, gap) = privileged_directory_assignments(t)?;
    let dir = Directory::new(t)?;
    let activity = t.sign_in_activity.require(Dataset::AzureSignInActivity)?;
    let mut seen = std::collections::BTreeSet::new();
    for (a, eligible) in assignments {
        let role = directory_role_name(&a.role_definition_id).unwrap_or("a privileged role");
        match dir.resolve(&a.principal_id, a.principal_type.as_deref()) {
            Resolved::NotAPerson => {}
            Resolved::Unknown(why) => {
                cx.not_evaluated(principal_resource(&a.principal_id, a.principal_name.as_deref()), format!("{} {role}: {why}", how(eligible)));
            }
            Resolved::Users(holders) => {
                for h in holders {
                    let u = h.user;
                    if !seen.insert(u.id.as_str()) || u.account_enabled == Some(false) {
                        continue;
                    }
                    let Some(act) = activity.iter().find(|s| s.user_id == u.id) else {
                        cx.not_evaluated(user_resource(u), format!("{}: no sign-in activity was returned for this user", u.user_principal_name));
                        continue;
                    };
                    // Never signed in: judged by the account's age.
                    let (last, what) = match act.latest() {
                        Some(t) => (Some(t), "last signed in"),
                        None => (u.created, "never signed in; created"),
                    };
                    let Some(last) = last else {
                        cx.not_evaluated(user_resource(u), format!("{} has never signed in and its creation time is unknown", u.user_principal_name));
                        continue;
                    };
                    let days = last.days_until(cx.now);
                    let msg = format!("{} {} {role}; {what} {days} days ago", u.user_principal_name, how(eligible));
                    let f = if days > limit { cx.fail(user_resource(u), msg) } else { cx.pass(user_resource(u), msg) };
                    f.with("days_since_sign_in", days).with("role", role).with("eligible", eligible).with("via_group", h.via_group);
                }
            }
        }
    }
    if let Some(m) = gap {
        cx.missing(crate::checks::scope_resource(ScopeKind::AzureTenant, &t.tenant_id), &m);
    }
    Ok(())
}
