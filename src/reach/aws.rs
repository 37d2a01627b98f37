//! The policies that bear on an AWS user's or role's requests, gathered from the inventory for
//! [`crate::policy::eval`]: inline and managed policies (its own and its groups'), its permissions
//! boundary, and the SCPs on its account's path in the organization.
//!
//! What the inventory lacks is said, not assumed away: a policy whose document is missing, or an
//! organization that was not read, is a gap, and an answer that rests on gaps is not a verdict.

use std::collections::HashMap;

use crate::inventory::aws::{AuthorizationDetails, AwsAccount, AwsOrganization, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy};
use crate::inventory::{Collected, Missing};
use crate::policy::eval::{Caller, Named, Policies};

/// Everything [`crate::policy::eval::evaluate`] needs for one principal.
#[derive(Debug, Clone)]
pub struct Gathered<'a> {
    pub caller: Caller<'a>,
    pub policies: Policies<'a>,
    /// What is missing among the policies that can grant: an identity policy named but unreadable,
    /// a group the details do not hold. Empty when the inventory holds every one.
    pub gaps: Vec<String>,
    /// What is missing among the policies that only limit (the boundary, the SCPs): they can hide
    /// a denial, never a grant.
    pub limit_gaps: Vec<String>,
}

/// Gather the policies of the user or role `arn` in `account`. `Err` when the account's
/// authorization details are not available, or the principal is not in them.
pub fn gather<'a>(org: &'a Collected<Option<AwsOrganization>>, account: &'a AwsAccount, arn: &str) -> Result<Gathered<'a>, GatherError> {
    let idx = AccountIndex::new(account)?;
    let (scps, scp_gaps) = scp_levels(org, &account.account_id);
    let mut g = if let Some(u) = idx.details.users().map_err(GatherError::Missing)?.iter().find(|u| u.arn == arn) {
        idx.user(u)
    } else if let Some(r) = idx.details.roles().map_err(GatherError::Missing)?.iter().find(|r| r.arn == arn) {
        idx.role(r)
    } else {
        return Err(GatherError::NoSuchPrincipal(arn.to_string()));
    };
    g.policies.scps = scps;
    g.limit_gaps.extend(scp_gaps);
    Ok(g)
}

/// One account's authorization details, indexed to gather many principals: groups by name and
/// managed policies by ARN.
pub struct AccountIndex<'a> {
    pub account: &'a AwsAccount,
    pub details: &'a AuthorizationDetails,
    pub groups: HashMap<&'a str, &'a IamGroup>,
    pub policies: HashMap<&'a str, &'a ManagedPolicy>,
}

impl<'a> AccountIndex<'a> {
    pub fn new(account: &'a AwsAccount) -> Result<AccountIndex<'a>, GatherError> {
        let details = match &account.authorization_details {
            Collected::Collected(d) => d,
            other => return Err(GatherError::Unavailable(other.state().label())),
        };
        let groups = details.groups.iter().map(|g| (g.name.as_str(), g)).collect();
        let policies = details.policies.iter().map(|p| (p.arn.as_str(), p)).collect();
        Ok(AccountIndex { account, details, groups, policies })
    }

    /// A user's own and its groups' policies and its boundary (no SCPs: see [`scp_levels`]).
    pub fn user(&self, u: &'a IamUser) -> Gathered<'a> {
        let mut gaps = Vec::new();
        let mut identity = Vec::new();
        inline(&u.inline_policies, &mut identity, &mut gaps);
        self.managed(u.attached_policies.iter().map(|p| p.arn.as_str()), &mut identity, &mut gaps);
        for g in &u.groups {
            match self.groups.get(g.as_str()) {
                Some(group) => self.group_policies(group, &mut identity, &mut gaps),
                None => gaps.push(format!("group {g} is not in the authorization details")),
            }
        }
        let mut limit_gaps = Vec::new();
        let boundary = self.boundary(u.permissions_boundary.as_deref(), &mut limit_gaps);
        let caller = Caller { arn: &u.arn, account: &self.account.account_id, is_user: true };
        Gathered { caller, policies: Policies { identity, boundary, ..Default::default() }, gaps, limit_gaps }
    }

    /// A role's policies and its boundary (no SCPs: see [`scp_levels`]).
    pub fn role(&self, r: &'a IamRole) -> Gathered<'a> {
        let mut gaps = Vec::new();
        let mut identity = Vec::new();
        inline(&r.inline_policies, &mut identity, &mut gaps);
        self.managed(r.attached_policies.iter().map(|p| p.arn.as_str()), &mut identity, &mut gaps);
        let mut limit_gaps = Vec::new();
        let boundary = self.boundary(r.permissions_boundary.as_deref(), &mut limit_gaps);
        let caller = Caller { arn: &r.arn, account: &self.account.account_id, is_user: false };
        Gathered { caller, policies: Policies { identity, boundary, ..Default::default() }, gaps, limit_gaps }
    }

    /// A group's inline and managed policies.
    pub fn group_policies(&self, group: &'a IamGroup, out: &mut Vec<Named<'a>>, gaps: &mut Vec<String>) {
        inline(&group.inline_policies, out, gaps);
        self.managed(group.attached_policies.iter().map(|p| p.arn.as_str()), out, gaps);
    }

    fn boundary(&self, arn: Option<&'a str>, gaps: &mut Vec<String>) -> Option<Named<'a>> {
        let mut one = Vec::new();
        self.managed(arn.into_iter(), &mut one, gaps);
        one.pop()
    }

    fn managed(&self, arns: impl Iterator<Item = &'a str>, out: &mut Vec<Named<'a>>, gaps: &mut Vec<String>) {
        for arn in arns {
            match self.policies.get(arn).map(|p| (p, p.document.as_ref())) {
                Some((p, Some(d))) => out.push(Named { name: &p.arn, document: d }),
                Some((p, None)) => gaps.push(format!("managed policy {} has no readable document", p.arn)),
                None => gaps.push(format!("managed policy {arn} is not in the authorization details")),
            }
        }
    }
}

/// Why a principal's policies could not be gathered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GatherError {
    #[error("the account's authorization details are {0}")]
    Unavailable(&'static str),
    #[error("{}", .0.state.label())]
    Missing(Missing),
    #[error("{0} is not a user or role in the authorization details")]
    NoSuchPrincipal(String),
}

fn inline<'a>(list: &'a [InlinePolicy], out: &mut Vec<Named<'a>>, gaps: &mut Vec<String>) {
    for p in list {
        match &p.document {
            Some(d) => out.push(Named { name: &p.name, document: d }),
            None => gaps.push(format!("inline policy {} could not be read", p.name)),
        }
    }
}

/// The SCPs on the account's path, root first, one list per level that has any. `None` when none
/// apply: the management account, or an account outside any organization. An organization that
/// was not read is a gap, and no SCP is assumed.
pub fn scp_levels<'a>(org: &'a Collected<Option<AwsOrganization>>, account_id: &str) -> (Option<std::borrow::Cow<'a, [Vec<Named<'a>>]>>, Vec<String>) {
    let org = match org {
        Collected::Collected(Some(o)) => o,
        Collected::Collected(None) => return (None, Vec::new()),
        other => return (None, vec![format!("the organization's SCPs are {}", other.state().label())]),
    };
    if account_id == org.management_account_id {
        return (None, Vec::new());
    }
    let chain = org.ancestry(account_id);
    if chain.is_empty() {
        return (None, vec![format!("account {account_id} is not in the organization's tree")]);
    }
    // AWS requires at least one SCP on every level; a level with none here is read as
    // unrestricted rather than as denying everything.
    let levels: Vec<Vec<Named<'a>>> = chain
        .iter()
        .rev()
        .map(|n| org.scps.iter().filter(|s| s.targets.contains(&n.id)).map(|s| Named { name: &s.name, document: &s.document }).collect::<Vec<_>>())
        .filter(|l: &Vec<Named<'a>>| !l.is_empty())
        .collect();
    (Some(levels.into()), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::eval::{evaluate, Context, Decision, Layer, Request};

    fn demo() -> crate::inventory::Inventory {
        crate::demo::inventory().expect("the demo loads")
    }

    fn decide(g: &Gathered, action: &str, resource: &str, ctx: &Context) -> (Decision, Vec<Layer>) {
        let e = evaluate(&g.caller, &Request { action, resource, context: ctx }, &g.policies);
        (e.decision, e.missing)
    }

    #[test]
    fn a_user_gets_its_groups_policies_and_its_accounts_scp_levels() {
        let inv = demo();
        let acct = inv.aws.accounts.iter().find(|a| a.account_id == "111122223333").expect("demo account");
        let g = gather(&inv.aws.organization, acct, "arn:aws:iam::111122223333:user/alice").expect("alice");
        assert!(g.caller.is_user);
        assert_eq!(g.policies.identity.iter().map(|n| n.name).collect::<Vec<_>>(), ["arn:aws:iam::aws:policy/AdministratorAccess"], "through the Admins group");
        let levels = g.policies.scps.as_ref().expect("a member account: SCPs apply");
        let names: Vec<Vec<&str>> = levels.iter().map(|l| l.iter().map(|n| n.name).collect()).collect();
        assert_eq!(
            names,
            vec![vec!["FullAWSAccess", "deny-leave-organization"], vec!["FullAWSAccess", "protect-audit-trail"], vec!["FullAWSAccess"]],
            "root first, then the Workloads OU, then the account"
        );
        assert!(g.gaps.is_empty() && g.limit_gaps.is_empty(), "{:?} {:?}", g.gaps, g.limit_gaps);
        assert_eq!(decide(&g, "iam:CreateUser", "arn:aws:iam::111122223333:user/x", &Context::new()).0, Decision::Allowed);
        // The root's deny reaches an administrator of a member account.
        assert_eq!(decide(&g, "organizations:LeaveOrganization", "*", &Context::new()).0, Decision::ExplicitlyDenied);
        // The OU's trail guard holds in us-east-1 only: undecided until the region is known.
        let trail = "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail";
        assert_eq!(decide(&g, "cloudtrail:StopLogging", trail, &Context::new()).0, Decision::Undecided);
        assert_eq!(decide(&g, "cloudtrail:StopLogging", trail, &Context::new().with("aws:RequestedRegion", &["us-east-1"])).0, Decision::ExplicitlyDenied);
        assert_eq!(decide(&g, "cloudtrail:StopLogging", trail, &Context::new().with("aws:RequestedRegion", &["eu-west-1"])).0, Decision::Allowed);
    }

    #[test]
    fn a_policy_the_inventory_lacks_is_a_gap() {
        let inv = demo();
        let acct = inv.aws.accounts.iter().find(|a| a.account_id == "111122223333").expect("demo account");
        // The Support service-linked role holds AWSSupportServiceRolePolicy, which the export's
        // Policies list does not include.
        let arn = "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport";
        let g = gather(&inv.aws.organization, acct, arn).expect("the support role");
        assert!(g.policies.identity.is_empty());
        assert_eq!(g.gaps, vec!["managed policy arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy is not in the authorization details".to_string()]);
        assert_eq!(
            gather(&inv.aws.organization, acct, "arn:aws:iam::111122223333:user/nobody").unwrap_err(),
            GatherError::NoSuchPrincipal("arn:aws:iam::111122223333:user/nobody".into())
        );
    }

    #[test]
    fn no_scp_applies_to_the_management_account_and_an_unread_organization_is_a_gap() {
        let mut inv = demo();
        let mgmt = match &inv.aws.organization {
            Collected::Collected(Some(o)) => o.management_account_id.clone(),
            _ => panic!("the demo has an organization"),
        };
        let mut acct = inv.aws.accounts.iter().find(|a| a.account_id == "111122223333").cloned().expect("demo account");
        acct.account_id = mgmt;
        let g = gather(&inv.aws.organization, &acct, "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole").expect("role");
        assert!(g.policies.scps.is_none() && g.gaps.is_empty() && g.limit_gaps.is_empty());
        assert_eq!(decide(&g, "organizations:LeaveOrganization", "*", &Context::new()).0, Decision::Allowed);
        inv.aws.organization = Collected::Denied { action: "organizations:ListPolicies".into(), message: None };
        let acct = inv.aws.accounts.iter().find(|a| a.account_id == "111122223333").expect("demo account");
        let g = gather(&inv.aws.organization, acct, "arn:aws:iam::111122223333:role/BreakGlassRole").expect("role");
        assert!(g.policies.scps.is_none());
        assert_eq!(g.limit_gaps.len(), 1, "{:?}", g.limit_gaps);
        assert!(g.limit_gaps[0].starts_with("the organization's SCPs are"), "{:?}", g.limit_gaps);
    }
}
