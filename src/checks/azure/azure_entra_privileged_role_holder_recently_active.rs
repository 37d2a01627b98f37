//! People who hold privileged directory roles, or privileged Azure roles over a subscription,
//! have signed in within the last N days.

use crate::checks::Cx;
use crate::inventory::azure::AzureTenant;
use crate::inventory::{Dataset, Missing};

use super::{privileged_directory_holders, privileged_subscription_holders, user_resource};

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureDirectoryRoles,
    Dataset::AzureDirectoryRoleEligibility,
    Dataset::AzureDirectoryRoleDefinitions,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureGroupMembers,
    Dataset::AzureSignInActivity,
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureRoleDefinitions,
];
pub const PARAMS: &[&str] = &["inactive_days"];

pub fn run<'a>(t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let limit = cx.param("inactive_days");
    let activity = t.sign_in_activity.require(Dataset::AzureSignInActivity)?;
    let mut holds = privileged_directory_holders(t, cx)?;
    holds.extend(privileged_subscription_holders(t, cx)?);
    // One finding per person, named by their strongest hold.
    let mut seen = std::collections::BTreeSet::new();
    for h in holds.iter().filter(|h| seen.insert(h.user.id.as_str())) {
        let u = h.user;
        let Some(act) = activity.iter().find(|s| s.user_id == u.id) else {
            cx.not_evaluated(user_resource(u), format!("{}: no sign-in activity was returned for this user", h.describe()));
            continue;
        };
        // Never signed in: judged by the account's age.
        let (last, what) = match act.latest() {
            Some(t) => (Some(t), "last signed in"),
            None => (u.created, "never signed in; created"),
        };
        let Some(last) = last else {
            cx.not_evaluated(user_resource(u), format!("{}; never signed in, and the account's creation time is unknown", h.describe()));
            continue;
        };
        let days = last.days_until(cx.now);
        let msg = format!("{}; {what} {days} days ago", h.describe());
        let f = if days > limit { cx.fail(user_resource(u), msg) } else { cx.pass(user_resource(u), msg) };
        f.with("days_since_sign_in", days).with("role", h.role.clone()).with("eligible", h.eligible).with("via_group", h.via_group).with("privilege_source", h.privilege_source);
    }
    Ok(())
}
