//! No principal that is not an administrator can make itself one, by any path of the escalation
//! catalogue ([`crate::reach::paths`]), as [`crate::reach::escalation`] decides it.

use super::{account_resource, AwsContext};
use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::aws::{AuthorizationDetails, AwsAccount};
use crate::inventory::{Dataset, Missing};
use crate::reach::aws::GatherError;
use crate::reach::blast::hit_json;
use crate::reach::escalation::{describe, AccountView, Actor, Hit, Verdict};
use crate::reach::paths;

pub const DATASETS: &[Dataset] = &[Dataset::AwsAuthorizationDetails, Dataset::AwsOrganization];
pub const PARAMS: &[&str] = &[];

/// How many paths a finding's evidence details.
const EVIDENCE_PATHS: usize = 3;

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let details = acct.authorization_details.require(Dataset::AwsAuthorizationDetails)?;
    let catalogue = match paths::aws() {
        Ok(c) => c,
        Err(e) => {
            cx.not_evaluated(account_resource(&acct.account_id), format!("the escalation catalogue could not be read: {e}"));
            return Ok(());
        }
    };
    let view = match AccountView::new(aws.org, acct) {
        Ok(v) => v,
        Err(GatherError::Missing(m)) => return Err(m),
        Err(e) => {
            cx.not_evaluated(account_resource(&acct.account_id), e.to_string());
            return Ok(());
        }
    };
    for actor in view.actors() {
        if actor.role.is_some_and(|r| r.path.starts_with("/aws-service-role/")) {
            continue; // only the service can use a service-linked role
        }
        let kind = if actor.user.is_some() { "user" } else { "role" };
        let res = Resource { id: actor.arn().into(), name: actor.name().into(), kind: if actor.user.is_some() { "aws_iam_user" } else { "aws_iam_role" } };
        let name = actor.name();
        match view.escalations(actor, catalogue) {
            Verdict::Admin => {
                cx.pass(res, format!("{kind} {name} is an administrator already (nothing to escalate to)"));
            }
            Verdict::None => {
                cx.pass(res, format!("{kind} {name} has none of the {} catalogued escalation paths", catalogue.len()));
            }
            Verdict::NotEvaluated(gaps) => {
                cx.not_evaluated(res, format!("{kind} {name}: escalation not evaluated: {}", gaps.join("; ")));
            }
            Verdict::Paths(hits) => {
                let found: Vec<&Hit> = hits.iter().filter(|h| h.found).collect();
                // The paths found (else the undecided ones), at most EVIDENCE_PATHS of them: the
                // message counts the rest.
                let shown: Vec<&Hit> = if found.is_empty() { hits.iter().collect() } else { found.clone() };
                let evidence = serde_json::Value::Array(shown.iter().take(EVIDENCE_PATHS).map(|h| hit_json(h)).collect());
                if let Some(first) = found.first() {
                    let more = match found.len() {
                        1 => String::new(),
                        n => format!(" (and {} more path{})", n - 1, if n == 2 { "" } else { "s" }),
                    };
                    let caveat = caveat(&view, actor);
                    cx.fail(res, format!("{kind} {name} can make itself an administrator: {}{more}{caveat}", describe(first))).with("paths", evidence);
                } else {
                    let mut conditions: Vec<&str> = hits.iter().flat_map(|h| h.undecided.iter().map(String::as_str)).collect();
                    conditions.sort_unstable();
                    conditions.dedup();
                    cx.not_evaluated(
                        res,
                        format!("{kind} {name} may make itself an administrator ({}), depending on what the inventory cannot decide: {}", describe(&hits[0]), conditions.join(", ")),
                    )
                    .with("paths", evidence);
                }
            }
        }
    }
    for section in [AuthorizationDetails::USERS, AuthorizationDetails::ROLES] {
        for bad in details.invalid_in(section) {
            let name = bad.name.clone().unwrap_or_else(|| bad.place.clone());
            let kind = if section == AuthorizationDetails::USERS { "aws_iam_user" } else { "aws_iam_role" };
            let res = Resource { id: format!("{}:{}", acct.account_id, bad.place).into(), name: name.into(), kind };
            cx.not_evaluated(res, format!("item {} could not be read: {}", bad.place, bad.error));
        }
    }
    Ok(())
}

/// What could still block a path found: a boundary or SCP the inventory does not hold.
fn caveat(view: &AccountView, actor: &Actor) -> String {
    let gaps: Vec<&str> = view.scp_gaps.iter().chain(actor.gathered.limit_gaps.iter()).map(String::as_str).collect();
    if gaps.is_empty() {
        String::new()
    } else {
        format!(", unless a policy the inventory lacks denies a step ({})", gaps.join("; "))
    }
}
