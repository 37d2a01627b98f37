//! Roles trusting an OIDC or web-identity provider restrict the token subject.

use super::{each_trust_policy, grants_json, ignored_conditions, role_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::trust::{analyze, subject_key, TrustGrant, Trustee};

pub const DATASETS: &[Dataset] = &[Dataset::AwsAuthorizationDetails, Dataset::AwsIdentityProviders];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let providers = acct.identity_providers.get();
    let accepted = &aws.settings.trusted.oidc_subjects;
    each_trust_policy(acct, cx, |cx, role, doc| {
        let grants = analyze(doc);
        let federated: Vec<&TrustGrant> = grants.iter().filter(|g| matches!(g.trustee, Trustee::WebIdentity { .. })).collect();
        if federated.is_empty() {
            return;
        }
        let issuers = |gs: &[&TrustGrant]| -> String {
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
        // A subject pattern the configuration lists as trusted is accepted as written.
        let allowed = |g: &TrustGrant| {
            let Trustee::WebIdentity { issuer, .. } = &g.trustee else { return false };
            let key = subject_key(issuer);
            doc.statements.get(g.statement).is_some_and(|st| {
                st.conditions.iter().any(|c| c.key_is(&key) && !c.values.is_empty() && c.values.iter().all(|v| accepted.contains(v)))
            })
        };
        let open: Vec<&TrustGrant> = federated.iter().copied().filter(|g| !g.subject_restricted() && !allowed(g)).collect();
        let registered: Vec<String> = federated
            .iter()
            .filter_map(|g| match &g.trustee {
                Trustee::WebIdentity { provider, .. } => providers.map(|p| format!("{provider}: {}", if p.oidc.iter().any(|o| o.arn == *provider) { "registered" } else { "not registered in this account" })),
                _ => None,
            })
            .collect();
        let f = if open.is_empty() {
            cx.pass(role_resource(role), format!("role {} restricts the subject of tokens from {}", role.name, issuers(&federated)))
        } else {
            let hint = match &open[0].trustee {
                Trustee::WebIdentity { issuer, .. } => subject_key(issuer),
                _ => String::new(),
            };
            cx.fail(role_resource(role), format!(
                "role {} accepts any token from {}: no condition pins the subject ({hint}), so any of the issuer's users can assume it{}",
                role.name, issuers(&open), ignored_conditions(&open)
            ))
            .with("grants", grants_json(&open))
        };
        if !registered.is_empty() {
            f.with("providers", registered);
        }
    })
}
