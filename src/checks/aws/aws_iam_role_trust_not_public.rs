//! No role trusts every AWS principal: some condition must pin the caller's account or
//! organization (an `sts:ExternalId` does not: it is not a secret).

use super::{each_trust_policy, grants_json, ignored_conditions, role_resource, AwsContext};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::trust::analyze;

pub const DATASETS: &[Dataset] = &[Dataset::AwsAuthorizationDetails];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, _aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    each_trust_policy(acct, cx, |cx, role, doc| {
        let grants = analyze(doc);
        let open: Vec<_> = grants.iter().filter(|g| g.is_public()).collect();
        if open.is_empty() {
            cx.pass(role_resource(role), format!("role {} is not assumable by arbitrary AWS principals", role.name));
        } else {
            cx.fail(role_resource(role), format!("role {} can be assumed by any AWS principal in any account (statement {}){}", role.name, open[0].statement, ignored_conditions(&open)))
                .with("grants", grants_json(&open));
        }
    })
}
