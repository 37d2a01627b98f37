//! AWS checks, one file each. Shared pieces: resource naming and root-user facts.

pub mod aws_accessanalyzer_enabled;
pub mod aws_accessanalyzer_no_active_findings;
pub mod aws_cloudtrail_kms_encryption;
pub mod aws_cloudtrail_log_file_validation;
pub mod aws_cloudtrail_multi_region_management_events;
pub mod aws_ec2_account_imdsv2_default;
pub mod aws_ec2_instance_imdsv2_required;
pub mod aws_iam_access_key_recently_used;
pub mod aws_iam_access_key_rotated;
pub mod aws_iam_password_policy_strong;
pub mod aws_iam_role_cross_account_trust_restricted;
pub mod aws_iam_role_oidc_trust_subject_restricted;
pub mod aws_iam_role_trust_not_public;
pub mod aws_iam_root_access_key_absent;
pub mod aws_iam_root_hardware_mfa;
pub mod aws_iam_root_mfa_enabled;
pub mod aws_iam_user_console_mfa_enabled;
pub mod aws_iam_user_single_active_key;
pub mod aws_organizations_scp_denies_leave;
pub mod aws_organizations_scp_protects_cloudtrail;
pub mod aws_organizations_scp_restricts_root;
mod scp;

use crate::checks::Cx;
use crate::finding::{EvidenceValue, Resource};
use crate::inventory::aws::{AccessKeySlot, AccountSummary, AwsAccount, AwsRegion, CredentialReportRow, IamRole, ReportTime, Trail};
use crate::inventory::{Collected, CoverageState, Dataset, Missing, Timestamp};
use crate::policy::trust::TrustGrant;

pub(crate) fn user_resource(row: &CredentialReportRow) -> Resource<'_> {
    Resource { id: row.arn.as_str().into(), name: row.user.as_str().into(), kind: "aws_iam_user" }
}

pub(crate) fn root_resource(account: &str) -> Resource<'static> {
    Resource { id: format!("arn:aws:iam::{account}:root").into(), name: "root".into(), kind: "aws_iam_root_user" }
}

pub(crate) fn role_resource(role: &IamRole) -> Resource<'_> {
    Resource { id: role.arn.as_str().into(), name: role.name.as_str().into(), kind: "aws_iam_role" }
}

/// A fact about the root user: from the credential report's `<root_account>` row when there is one,
/// else from `GetAccountSummary` (moto's report has no root row). Says which source answered.
pub(crate) fn root_fact<T>(
    acct: &AwsAccount,
    from_report: impl Fn(&CredentialReportRow) -> T,
    from_summary: impl Fn(&AccountSummary) -> Option<T>,
    summary_key: &str,
) -> Result<(T, &'static str), Missing> {
    let report = acct.credential_report.get();
    if let Some(root) = report.and_then(|r| r.root()) {
        return Ok((from_report(root), "credential report"));
    }
    match acct.account_summary.get() {
        Some(s) => match from_summary(s) {
            Some(v) => Ok((v, "account summary")),
            None => Err(Missing {
                dataset: Dataset::AwsAccountSummary,
                state: CoverageState::Failed { error: format!("the account summary has no {summary_key}") },
            }),
        },
        // Neither source answered: name the credential report if it is the gap, else the summary.
        None if report.is_none() => Err(acct.credential_report.require(Dataset::AwsCredentialReport).err().unwrap_or(Missing {
            dataset: Dataset::AwsCredentialReport,
            state: CoverageState::NotRequested,
        })),
        None => Err(acct.account_summary.require(Dataset::AwsAccountSummary).err().unwrap_or(Missing {
            dataset: Dataset::AwsAccountSummary,
            state: CoverageState::NotRequested,
        })),
    }
}

/// Active key slots of a row, with their slot number (1 or 2).
pub(crate) fn active_keys(row: &CredentialReportRow) -> impl Iterator<Item = (usize, &AccessKeySlot)> {
    row.access_keys.iter().enumerate().filter(|(_, k)| k.active).map(|(i, k)| (i + 1, k))
}

pub(crate) fn days(since: Timestamp, now: Timestamp) -> i64 {
    since.days_until(now).max(0)
}

pub(crate) fn report_time_json(t: ReportTime) -> serde_json::Value {
    serde_json::Value::from(t.as_report_str())
}

pub(crate) fn report_time(t: ReportTime) -> EvidenceValue {
    match t {
        ReportTime::At(ts) => EvidenceValue::Time(ts),
        other => EvidenceValue::Text(other.as_report_str().into()),
    }
}

/// Evidence for trust grants: principal, statement, and which conditions did or did not narrow it.
pub(crate) fn grants_json(grants: &[&TrustGrant]) -> serde_json::Value {
    serde_json::to_value(grants).unwrap_or_default()
}

/// The first condition that was read and rejected, as a clause for a message:
/// `; condition StringLike token.actions.githubusercontent.com:sub was ignored: value "repo:*" matches …`.
pub(crate) fn ignored_conditions(grants: &[&TrustGrant]) -> String {
    grants
        .iter()
        .flat_map(|g| g.unnarrowed.iter())
        .next()
        .map(|u| format!("; condition {} {} does not count: {}", u.operator, u.key, u.reason))
        .unwrap_or_default()
}

pub(crate) use crate::engine::account_resource;

/// A region of an account, for regional settings (Access Analyzer, EC2 defaults).
pub(crate) fn region_resource<'a>(account: &str, region: &'a str, kind: &'static str) -> Resource<'a> {
    Resource { id: format!("arn:aws:{kind}:{region}:{account}:settings").into(), name: region.into(), kind: "aws_region" }
}

pub(crate) fn trail_resource(t: &Trail) -> Resource<'_> {
    Resource { id: t.arn.as_str().into(), name: t.name.as_str().into(), kind: "aws_cloudtrail_trail" }
}

/// Each trail once, as seen from its home region (where its status was read); a trail whose home
/// region was not collected is taken from its shadow copy.
pub(crate) fn trails(acct: &AwsAccount) -> Vec<(&AwsRegion, &Trail)> {
    let mut out: Vec<(&AwsRegion, &Trail)> = Vec::new();
    for r in &acct.regions {
        for t in r.cloudtrail.get().into_iter().flatten() {
            match out.iter().position(|(_, o)| o.arn == t.arn) {
                Some(i) if t.home_region == r.region => out[i] = (r, t),
                Some(_) => {}
                None => out.push((r, t)),
            }
        }
    }
    out
}

/// Run `f` on each region whose dataset was read; a region whose dataset was not gets a
/// `not_evaluated` finding naming why; no region read at all is the check's `Missing`.
pub(crate) fn each_region<'a, T: 'a>(
    acct: &'a AwsAccount,
    cx: &mut Cx<'_, 'a>,
    dataset: Dataset,
    service: &'static str,
    get: impl Fn(&'a AwsRegion) -> &'a Collected<T>,
    mut f: impl FnMut(&mut Cx<'_, 'a>, &'a AwsRegion, &'a T),
) -> Result<(), Missing> {
    no_region(acct, dataset, &get)?;
    for r in &acct.regions {
        match get(r).require(dataset) {
            Ok(data) => f(cx, r, data),
            Err(m) => {
                cx.not_evaluated(region_resource(&acct.account_id, &r.region, service), format!("region {}: not evaluated: {m}", r.region))
                    .in_region(&r.region);
            }
        }
    }
    Ok(())
}

/// When no region's dataset was collected: the reason, for `not_evaluated`.
pub(crate) fn no_region<'a, T: 'a>(acct: &'a AwsAccount, dataset: Dataset, get: impl Fn(&'a AwsRegion) -> &'a Collected<T>) -> Result<(), Missing> {
    if acct.regions.iter().any(|r| get(r).get().is_some()) {
        return Ok(());
    }
    match acct.regions.first() {
        Some(r) => get(r).require(dataset).map(|_| ()),
        None => Err(Missing { dataset, state: CoverageState::NotRequested }),
    }
}
