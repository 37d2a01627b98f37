//! At most N people own a subscription (active or eligible Owner over the whole subscription).

use std::collections::BTreeSet;

use crate::checks::Cx;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use super::{at_subscription_or_above, subscription_assignments, Directory, Resolved, OWNER};

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureGroupMembers,
];
pub const PARAMS: &[&str] = &["max_owners"];

pub fn run<'a>(sub: &'a AzureSubscription, t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let limit = cx.param("max_owners");
    let (assignments, gap) = subscription_assignments(sub)?;
    let dir = Directory::new(t)?;
    let mut owners: BTreeSet<String> = BTreeSet::new();
    let mut unknown = Vec::new();
    for (a, _) in assignments.iter().filter(|(a, _)| a.role_guid() == OWNER && at_subscription_or_above(&a.scope, sub)) {
        match dir.resolve(&a.principal_id, a.principal_type.as_deref()) {
            Resolved::Users(h) => owners.extend(h.iter().map(|h| h.user.user_principal_name.clone())),
            // A service principal owns it as much as a person does.
            Resolved::NotAPerson => {
                owners.insert(a.principal_id.clone());
            }
            Resolved::Unknown(why) => unknown.push(why),
        }
    }
    let n = owners.len() as i64;
    let list: Vec<String> = owners.into_iter().collect();
    if n > limit {
        cx.fail(subscription_resource(sub), format!("{n} principals own the subscription (limit {limit})")).with("owners", list.join(", "));
    } else if let Some(m) = gap {
        cx.missing(subscription_resource(sub), &m);
    } else if !unknown.is_empty() {
        cx.not_evaluated(subscription_resource(sub), format!("{n} known owner(s), and some cannot be counted: {}", unknown.join("; ")));
    } else {
        cx.pass(subscription_resource(sub), format!("{n} principal(s) own the subscription (limit {limit})")).with("owners", list.join(", "));
    }
    Ok(())
}
