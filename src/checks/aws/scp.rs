//! Shared by the SCP checks: find the account in the organization and judge its effective SCPs.

use super::{account_resource, AwsContext};
use crate::checks::Cx;
use crate::inventory::aws::{AwsAccount, AwsOrganization};
use crate::inventory::Missing;
use crate::policy::guard::{DenyFound, Target};
use crate::policy::PolicyDocument;

/// Where an account stands for SCP checks.
pub(crate) enum Standing<'a> {
    /// A member account: SCPs apply.
    Member(&'a AwsOrganization),
    /// Emitted a finding already (standalone, management account, or unknown to the org).
    Done,
}

pub(crate) fn standing<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>, what: &str, standalone_fails: bool) -> Result<Standing<'a>, Missing> {
    let res = || account_resource(&acct.account_id);
    let Some(org) = aws.organization()? else {
        if standalone_fails {
            cx.fail(res(), format!("account {} is not in an AWS Organization: no SCP can {what}", acct.account_id));
        }
        return Ok(Standing::Done);
    };
    if acct.account_id == org.management_account_id {
        // SCPs never restrict the management account: the check does not apply (its description
        // says so); reporting a gap here would make every organization scan incomplete.
        return Ok(Standing::Done);
    }
    if !org.contains_account(&acct.account_id) {
        cx.not_evaluated(res(), format!("account {} is not in the organization {} that was read", acct.account_id, org.id));
        return Ok(Standing::Done);
    }
    Ok(Standing::Member(org))
}

/// For each action, the counting Deny statements found in the account's effective SCPs.
/// Returns (action, [(policy name, attached at, statement)]) and the non-counting ones for messages.
pub(crate) struct Judged {
    pub covered: Vec<(String, Vec<String>)>,
    pub uncovered: Vec<String>,
    pub not_counted: Vec<String>,
}

pub(crate) fn judge(org: &AwsOrganization, target: &Target, actions: &[&str], find: impl Fn(&PolicyDocument, &str, &Target) -> Vec<DenyFound>) -> Judged {
    let scps = org.effective_scps(&target.account);
    let mut j = Judged { covered: Vec::new(), uncovered: Vec::new(), not_counted: Vec::new() };
    for action in actions {
        let mut by = Vec::new();
        for (scp, at) in &scps {
            for d in find(&scp.document, action, target) {
                let place = at.name.clone().unwrap_or_else(|| at.id.clone());
                if d.counts() {
                    let ex = if d.exemptions.is_empty() { String::new() } else { format!(" except {}", d.exemptions.join(", ")) };
                    by.push(format!("{} (at {place}){ex}", scp.name));
                } else {
                    j.not_counted.push(format!("{} (at {place}) denies only when {}", scp.name, d.limiting_conditions.join(" and ")));
                }
            }
        }
        if by.is_empty() {
            j.uncovered.push(action.to_string());
        } else {
            by.dedup();
            j.covered.push((action.to_string(), by));
        }
    }
    j.not_counted.sort();
    j.not_counted.dedup();
    j
}

impl Judged {
    pub fn evidence_covered(&self) -> serde_json::Value {
        serde_json::Value::Object(self.covered.iter().map(|(a, by)| (a.clone(), serde_json::Value::from(by.clone()))).collect())
    }

    pub fn not_counted_clause(&self) -> String {
        if self.not_counted.is_empty() {
            String::new()
        } else {
            format!("; not counted: {}", self.not_counted.join("; "))
        }
    }
}
