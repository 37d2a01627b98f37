//! Roles trusting an OIDC or web-identity provider restrict the token subject.

use super::{grants_json, ignored_conditions, role_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::trust::{analyze, subject_key, Trustee};

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let details = acct.authorization_details.require(Dataset::AwsAuthorizationDetails)?;
    for role in &details.roles {
        let grants = analyze(&role.trust_policy);
        let federated: Vec<_> = grants.iter().filter(|g| matches!(g.trustee, Trustee::WebIdentity { .. })).collect();
        if federated.is_empty() {
            continue;
        }
        let issuers = |gs: &[&crate::policy::trust::TrustGrant]| -> String {
            let mut v: Vec<&str> = gs
                .iter()
                .filter_map(|g| match &g.trustee {
                    Trustee::WebIdentity { issuer, .. } => Some(issuer.as_str()),
                    _ => None,
                })
                .collect();
            v.dedup();
            v.join(", ")
        };
        let open: Vec<_> = federated.iter().copied().filter(|g| !g.subject_restricted()).collect();
        if open.is_empty() {
            cx.pass(role_resource(role), format!("role {} restricts the subject of tokens from {}", role.name, issuers(&federated)));
        } else {
            let hint = match &open[0].trustee {
                Trustee::WebIdentity { issuer, .. } => subject_key(issuer),
                _ => String::new(),
            };
            cx.fail(role_resource(role), format!(
                "role {} accepts any token from {}: no condition pins the subject ({hint}), so any of the issuer's users can assume it{}",
                role.name, issuers(&open), ignored_conditions(&open)
            ))
            .with("grants", grants_json(&open));
        }
    }
    Ok(())
}
