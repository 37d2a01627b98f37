//! Roles trusting another account are safe from the confused deputy and from "anyone in that
//! account". Judged against the organization when it was read: an account inside the organization
//! is trusted ground; one outside it needs an `sts:ExternalId`. Without the organization, the
//! previous rule holds: an ExternalId, an organization or principal condition, or a named principal.

use super::{grants_json, ignored_conditions, role_resource};
use crate::checks::Cx;
use crate::inventory::aws::{AwsAccount, AwsOrganization};
use crate::inventory::{Dataset, Missing};
use crate::policy::trust::{analyze, NarrowingKind, TrustGrant};

pub const PARAMS: &[&str] = &[];

/// Why one trusted account is acceptable, or `None`.
fn accepted(g: &TrustGrant, account: &str, org: Option<Option<&AwsOrganization>>) -> Option<String> {
    if g.has(NarrowingKind::ExternalId) {
        return Some("sts:ExternalId".into());
    }
    if g.has(NarrowingKind::PrincipalOrgId) || g.has(NarrowingKind::PrincipalOrgPaths) {
        return g.cross_account_guard();
    }
    match org {
        Some(Some(o)) if o.contains_account(account) => Some(format!("account in organization {}", o.id)),
        // The organization is known (or known to be absent): outside it, only an ExternalId will do.
        Some(_) => None,
        None => g.cross_account_guard(),
    }
}

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let details = acct.authorization_details.require(Dataset::AwsAuthorizationDetails)?;
    let own = acct.account_id.as_str();
    let org = cx.aws_organization().ok();
    for role in &details.roles {
        let grants = analyze(&role.trust_policy);
        let foreign: Vec<&TrustGrant> = grants.iter().filter(|g| g.accounts().iter().any(|a| a != own)).collect();
        if foreign.is_empty() {
            continue;
        }
        let mut ok: Vec<String> = Vec::new();
        let mut open: Vec<(String, &TrustGrant)> = Vec::new();
        for g in &foreign {
            for a in g.accounts().into_iter().filter(|a| a != own) {
                match accepted(g, &a, org) {
                    Some(why) => ok.push(format!("{a} ({why})")),
                    None => open.push((a, g)),
                }
            }
        }
        ok.sort();
        ok.dedup();
        let mut accounts: Vec<String> = foreign.iter().flat_map(|g| g.accounts()).filter(|a| a != own).collect();
        accounts.sort();
        accounts.dedup();
        if open.is_empty() {
            cx.pass(role_resource(role), format!("role {} trusts {}", role.name, ok.join(", "))).with("trusted_accounts", accounts);
            continue;
        }
        let mut bad: Vec<String> = open.iter().map(|(a, _)| a.clone()).collect();
        bad.sort();
        bad.dedup();
        let open_grants: Vec<&TrustGrant> = open.iter().map(|(_, g)| *g).collect();
        let msg = match org {
            Some(Some(o)) => format!(
                "role {} trusts account(s) {} outside organization {} with no sts:ExternalId{}",
                role.name, bad.join(", "), o.id, ignored_conditions(&open_grants)
            ),
            Some(None) => format!(
                "role {} trusts account(s) {} (this account is in no organization) with no sts:ExternalId{}",
                role.name, bad.join(", "), ignored_conditions(&open_grants)
            ),
            None => format!(
                "role {} trusts every principal of account(s) {} with no sts:ExternalId, organization or principal condition{}",
                role.name, bad.join(", "), ignored_conditions(&open_grants)
            ),
        };
        cx.fail(role_resource(role), msg).with("trusted_accounts", accounts).with("grants", grants_json(&open_grants));
    }
    Ok(())
}
