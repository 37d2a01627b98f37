//! No role trusts every AWS principal without a condition that restricts the caller.

use super::{grants_json, ignored_conditions, role_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::trust::analyze;

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let details = acct.authorization_details.require(Dataset::AwsAuthorizationDetails)?;
    for role in &details.roles {
        let grants = analyze(&role.trust_policy);
        let open: Vec<_> = grants.iter().filter(|g| g.is_public()).collect();
        if open.is_empty() {
            cx.pass(role_resource(role), format!("role {} is not assumable by arbitrary AWS principals", role.name));
        } else {
            cx.fail(role_resource(role), format!("role {} can be assumed by any AWS principal in any account (statement {}){}", role.name, open[0].statement, ignored_conditions(&open)))
                .with("grants", grants_json(&open));
        }
    }
    Ok(())
}
