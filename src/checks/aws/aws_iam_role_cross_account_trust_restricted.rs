//! Roles that other accounts can assume trust only accounts proven inside (this account, the
//! organization that was read, or the configured allow-list), or require an `sts:ExternalId`.
//!
//! Who a grant reaches is read from its principal and from every condition that names the caller
//! (`aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`,
//! `aws:userid`, …) with IAM's operator semantics. A named role or user in another account is as
//! outside as that account's root. Without organization data no other account is known to be inside.

use std::collections::HashSet;

use super::{each_trust_policy, grants_json, ignored_conditions, own_principal_ids, role_resource, AwsContext};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::condition::Party;
use crate::policy::trust::{analyze, NarrowingKind, Outsiders, TrustGrant};

pub const DATASETS: &[Dataset] = &[Dataset::AwsAuthorizationDetails, Dataset::AwsOrganization];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let own_ids = own_principal_ids(acct);
    each_trust_policy(acct, cx, |cx, role, doc| {
        let grants = analyze(doc);
        // A role any principal can assume is the public-trust check's finding, not this one's.
        if grants.iter().any(|g| g.is_public()) {
            return;
        }
        let inside = |p: &Party| aws.inside(acct, &own_ids, p).is_some();
        let mut trusted: Vec<String> = Vec::new();
        let mut ok: Vec<String> = Vec::new();
        let mut open: Vec<(Vec<Party>, &TrustGrant)> = Vec::new();
        for g in &grants {
            let foreign = g.foreign_parties(&acct.account_id);
            if foreign.is_empty() {
                continue;
            }
            trusted.extend(foreign.iter().map(Party::to_string));
            match g.outsiders(inside) {
                Outsiders::Anyone => {}
                Outsiders::None => ok.extend(foreign.iter().map(|p| format!("{p} ({})", why_inside(aws, acct, &own_ids, p)))),
                Outsiders::Parties(p) if g.has(NarrowingKind::ExternalId) => ok.extend(p.iter().map(|p| format!("{p} (sts:ExternalId)"))),
                Outsiders::Parties(p) => open.push((p, g)),
            }
        }
        if trusted.is_empty() {
            return;
        }
        trusted.sort();
        trusted.dedup();
        ok.sort();
        ok.dedup();
        if open.is_empty() {
            if !ok.is_empty() {
                cx.pass(role_resource(role), format!("role {} trusts {}", role.name, ok.join(", "))).with("trusted", trusted);
            }
            return;
        }
        let mut bad: Vec<String> = open.iter().flat_map(|(p, _)| p.iter().map(Party::to_string)).collect();
        bad.sort();
        bad.dedup();
        let grants_open: Vec<&TrustGrant> = open.iter().map(|(_, g)| *g).collect();
        let context = match aws.org.get() {
            Some(Some(o)) => format!("outside organization {}", o.id),
            Some(None) => "(this account is in no organization)".to_string(),
            None => "(no organization data was read, so no other account is known to be inside; list trusted ones under [trust] in portcullis.toml)".to_string(),
        };
        cx.fail(
            role_resource(role),
            format!("role {} trusts {} {context} with no sts:ExternalId{}", role.name, bad.join(", "), ignored_conditions(&grants_open)),
        )
        .with("trusted", trusted)
        .with("outside", bad)
        .with("grants", grants_json(&grants_open));
    })
}

fn why_inside(aws: &AwsContext<'_>, acct: &AwsAccount, own_ids: &HashSet<&str>, p: &Party) -> String {
    aws.inside(acct, own_ids, p).unwrap_or_else(|| "restricted by another condition to principals inside".into())
}
