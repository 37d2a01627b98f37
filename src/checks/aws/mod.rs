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
pub mod aws_iam_principal_privilege_escalation;
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

use std::collections::{BTreeMap, HashSet};

use crate::checks::Cx;
use crate::settings::Settings;
use crate::finding::{EvidenceValue, Resource};
use crate::inventory::aws::{
    AccessKeySlot, AccountSummary, Analyzer, AwsAccount, AwsInventory, AwsOrganization, AwsRegion, CredentialReport, CredentialReportRow,
    IamRole, ReportTime, Trail,
};
use crate::inventory::{Collected, CoverageState, Dataset, Missing, Timestamp};
use crate::policy::condition::Party;
use crate::policy::guard::Target;
use crate::policy::trust::TrustGrant;
use crate::policy::PolicyDocument;

/// What AWS checks see besides their own account: the organization, the allow-lists, and the
/// organization-wide Access Analyzers of every scanned account. Built once per scan.
pub struct AwsContext<'a> {
    pub org: &'a Collected<Option<AwsOrganization>>,
    pub settings: Settings,
    /// Region → (account, analyzer) for active ORGANIZATION analyzers: they watch every member.
    org_analyzers: BTreeMap<&'a str, Vec<(&'a str, &'a Analyzer)>>,
}

impl<'a> AwsContext<'a> {
    pub fn new(inv: &'a AwsInventory, settings: Settings) -> Self {
        let mut org_analyzers: BTreeMap<&'a str, Vec<(&'a str, &'a Analyzer)>> = BTreeMap::new();
        for a in &inv.accounts {
            for r in &a.regions {
                for an in r.access_analyzer.get().into_iter().flat_map(|x| &x.analyzers) {
                    if an.status == "ACTIVE" && an.analyzer_type == "ORGANIZATION" {
                        org_analyzers.entry(r.region.as_str()).or_default().push((a.account_id.as_str(), an));
                    }
                }
            }
        }
        AwsContext { org: &inv.organization, settings, org_analyzers }
    }

    /// The organization: `Ok(None)` if the account is in none, `Err` if it was not read.
    pub fn organization(&self) -> Result<Option<&'a AwsOrganization>, Missing> {
        self.org.require(Dataset::AwsOrganization).map(Option::as_ref)
    }

    /// The organization when it was read and exists.
    pub fn known_org(&self) -> Option<&'a AwsOrganization> {
        self.org.get().and_then(Option::as_ref)
    }

    /// Active organization analyzers in `region` of the organization `account` belongs to (they
    /// live in the management or delegated administrator account and watch every member).
    pub fn org_analyzers_for(&self, account: &str, region: &str) -> Vec<(&'a str, &'a Analyzer)> {
        let Some(org) = self.known_org().filter(|o| o.contains_account(account)) else { return Vec::new() };
        self.org_analyzers
            .get(region)
            .into_iter()
            .flatten()
            .filter(|(owner, _)| org.contains_account(owner) || *owner == org.management_account_id)
            .copied()
            .collect()
    }

    /// Why `party` is inside for `acct` (this account, a member of the organization that was read,
    /// or trusted by configuration), or `None`: an account, organization or principal we know
    /// nothing about is outside.
    pub fn inside(&self, acct: &AwsAccount, own_ids: &HashSet<&str>, party: &Party) -> Option<String> {
        let trusted = &self.settings.trusted;
        let org = self.known_org();
        match party {
            Party::Account(a) if *a == acct.account_id => Some("this account".into()),
            Party::Account(a) if org.is_some_and(|o| o.contains_account(a)) => {
                Some(format!("in organization {}", org.map(|o| o.id.as_str()).unwrap_or("")))
            }
            Party::Account(a) if trusted.aws_accounts.contains(a) => Some("trusted in the configuration".into()),
            Party::Organization(o) if org.is_some_and(|x| x.id == *o) => Some("the scanned organization".into()),
            Party::Organization(o) if trusted.aws_organizations.contains(o) => Some("trusted in the configuration".into()),
            Party::UniqueId(id) if own_ids.contains(id.as_str()) => Some("a principal of this account".into()),
            _ => None,
        }
    }

    /// The account as a guardrail target: its real identifiers, per partition.
    pub fn target(&self, acct: &AwsAccount) -> Target {
        let org = self.known_org();
        let org_path = org
            .map(|o| {
                let chain = o.ancestry(&acct.account_id);
                let mut path = format!("{}/", o.id);
                for n in chain.iter().skip(1).rev() {
                    path.push_str(&n.id);
                    path.push('/');
                }
                path
            })
            .unwrap_or_default();
        Target {
            account: acct.account_id.clone(),
            partition: partition(acct, org).to_string(),
            org_id: org.map(|o| o.id.clone()).unwrap_or_default(),
            org_path,
        }
    }

    /// The credential report with the columns a check reads, fresh enough to judge keys on.
    pub fn report(&self, acct: &'a AwsAccount, columns: &[&str]) -> Result<&'a CredentialReport, Missing> {
        let r = acct.credential_report.require(Dataset::AwsCredentialReport)?;
        r.require_columns(columns)?;
        if let Some(age) = r.age_when_read().filter(|a| *a > self.settings.max_report_age) {
            return Err(Missing {
                dataset: Dataset::AwsCredentialReport,
                state: CoverageState::Partial {
                    missing: format!(
                        "it was generated {} min before it was read, more than --max-report-age ({} min); key data may be stale",
                        age.whole_minutes(),
                        self.settings.max_report_age.whole_minutes()
                    ),
                },
            });
        }
        Ok(r)
    }

    /// `Some(why)` when none of `datasets` was collected for this account (the check has nothing
    /// to read): the engine reports it without running the check.
    pub fn none_collected(&self, acct: &AwsAccount, datasets: &[Dataset]) -> Option<Missing> {
        let mut first: Option<Missing> = None;
        for d in datasets {
            let state = match d {
                Dataset::AwsOrganization => self.org.state(),
                d if d.is_regional() => match no_region(acct, *d) {
                    Ok(()) => CoverageState::Collected,
                    Err(m) => m.state,
                },
                d => acct.state(*d),
            };
            if matches!(state, CoverageState::Collected | CoverageState::Partial { .. }) {
                return None;
            }
            first.get_or_insert(Missing { dataset: *d, state });
        }
        first
    }
}

/// `aws`, `aws-cn`, `aws-us-gov`, …: from the account's own ARNs, else the organization's.
pub(crate) fn partition<'x>(acct: &'x AwsAccount, org: Option<&'x AwsOrganization>) -> &'x str {
    let from = |arn: &'x str| crate::policy::arn::Arn::parse(arn).map(|a| a.partition).filter(|p| !p.is_empty());
    let own = acct
        .authorization_details
        .get()
        .and_then(|d| d.users.iter().map(|u| u.arn.as_str()).chain(d.roles.iter().map(|r| r.arn.as_str())).find_map(from));
    let report = acct.credential_report.get().and_then(|r| r.rows.iter().find_map(|r| from(&r.arn)));
    own.or(report).or_else(|| org.and_then(|o| o.scps.iter().find_map(|s| from(&s.arn)))).unwrap_or("aws")
}

/// Unique ids (`AROA…`, `AIDA…`) of the account's own roles and users.
pub(crate) fn own_principal_ids(acct: &AwsAccount) -> HashSet<&str> {
    acct.authorization_details
        .get()
        .map(|d| d.roles.iter().map(|r| r.id.as_str()).chain(d.users.iter().map(|u| u.id.as_str())).collect())
        .unwrap_or_default()
}

pub(crate) fn user_resource(row: &CredentialReportRow) -> Resource<'_> {
    Resource { id: row.arn.as_str().into(), name: row.user.as_str().into(), kind: "aws_iam_user" }
}

pub(crate) fn root_resource(account: &str) -> Resource<'static> {
    Resource { id: format!("arn:aws:iam::{account}:root").into(), name: "root".into(), kind: "aws_iam_root_user" }
}

pub(crate) fn role_resource(role: &IamRole) -> Resource<'_> {
    Resource { id: role.arn.as_str().into(), name: role.name.as_str().into(), kind: "aws_iam_role" }
}

/// Each role with a readable trust policy; roles whose policy is missing or unreadable, and role
/// items of the source that could not be read at all, get a `not_evaluated` finding each.
pub(crate) fn each_trust_policy<'a>(
    acct: &'a AwsAccount,
    cx: &mut Cx<'_, 'a>,
    mut f: impl FnMut(&mut Cx<'_, 'a>, &'a IamRole, &'a PolicyDocument),
) -> Result<(), Missing> {
    let details = acct.authorization_details.require(Dataset::AwsAuthorizationDetails)?;
    for role in details.roles()? {
        match &role.trust_policy {
            Some(doc) => f(cx, role, doc),
            None => {
                let why = role.trust_policy_error.as_deref().unwrap_or("no trust policy document");
                cx.not_evaluated(role_resource(role), format!("role {}: trust policy not evaluated: {why}", role.name));
            }
        }
    }
    for bad in details.invalid_in(crate::inventory::aws::AuthorizationDetails::ROLES) {
        let name = bad.name.clone().unwrap_or_else(|| bad.place.clone());
        let res = Resource { id: format!("{}:{}", acct.account_id, bad.place).into(), name: name.into(), kind: "aws_iam_role" };
        cx.not_evaluated(res, format!("role item {} could not be read: {}", bad.place, bad.error));
    }
    Ok(())
}

pub(crate) fn account_resource(account: &str) -> Resource<'_> {
    crate::checks::scope_resource(crate::checks::ScopeKind::AwsAccount, account)
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
    no_region(acct, dataset)?;
    // The region list could not be read: the regions that were read are judged, the others are a gap.
    if let Err(m) = acct.enabled_regions.require(Dataset::AwsEnabledRegions) {
        if !acct.enabled_regions.is_not_requested() {
            let read: Vec<String> = acct.regions.iter().map(|r| r.region.clone()).collect();
            cx.missing(region_resource(&acct.account_id, "other-regions", service), &m).with("regions_read", read);
        }
    }
    for r in &acct.regions {
        match get(r).require(dataset) {
            Ok(data) => f(cx, r, data),
            Err(m) => {
                cx.not_evaluated(region_resource(&acct.account_id, &r.region, service), format!("region {}: not evaluated: {m}", r.region))
                    .in_region(&r.region)
                    .with("dataset", m.dataset.to_string())
                    .with("coverage", m.state.label());
            }
        }
    }
    Ok(())
}

/// When no region's dataset was collected: the reason, for `not_evaluated`.
pub(crate) fn no_region(acct: &AwsAccount, dataset: Dataset) -> Result<(), Missing> {
    if acct.regions.iter().any(|r| r.state(dataset) == CoverageState::Collected) {
        return Ok(());
    }
    match acct.regions.first() {
        Some(r) => Err(Missing { dataset, state: r.state(dataset) }),
        None => match acct.enabled_regions.state() {
            CoverageState::Collected => Err(Missing { dataset, state: CoverageState::NotRequested }),
            other => Err(Missing { dataset, state: other }),
        },
    }
}

/// What the sources say about the root user.
pub(crate) struct RootFacts<T> {
    /// (source, value) for each source that answered: the credential report's root row (when
    /// fresh and complete) and the account summary.
    pub values: Vec<(&'static str, T)>,
    pub sources: Vec<&'static str>,
    /// Why a source was not consulted, when one was not.
    pub gap: Option<String>,
}

/// Read a root-user fact from every source that has it. Checks fail when any source shows the
/// problem: a stale report cannot hide a key that the live account summary shows, and vice versa.
pub(crate) fn root_facts<'a, T>(
    acct: &'a AwsAccount,
    aws: &AwsContext<'a>,
    columns: &[&str],
    from_report: impl Fn(&CredentialReportRow) -> T,
    from_summary: impl Fn(&AccountSummary) -> Option<T>,
    summary_key: &str,
) -> Result<RootFacts<T>, Missing> {
    let mut values = Vec::new();
    let mut report_gap: Option<Missing> = None;
    let mut summary_gap: Option<Missing> = None;
    match aws.report(acct, columns) {
        // moto's report, and some exports, have no root row: the summary has to answer.
        Ok(r) => {
            if let Some(root) = r.root() {
                values.push(("credential report", from_report(root)));
            }
        }
        Err(m) => report_gap = Some(m),
    }
    match acct.account_summary.require(Dataset::AwsAccountSummary) {
        Ok(s) => match from_summary(s) {
            Some(v) => values.push(("account summary", v)),
            None => summary_gap = Some(Missing { dataset: Dataset::AwsAccountSummary, state: CoverageState::Partial { missing: format!("it has no {summary_key}") } }),
        },
        Err(m) => summary_gap = Some(m),
    }
    if values.is_empty() {
        // Name the gap that was asked for and failed before one that was never asked for.
        let asked = |m: &Option<Missing>| m.as_ref().is_some_and(|m| !matches!(m.state, CoverageState::NotRequested));
        let pick = if asked(&report_gap) && !asked(&summary_gap) { report_gap } else { summary_gap.or(report_gap) };
        return Err(pick.unwrap_or(Missing { dataset: Dataset::AwsAccountSummary, state: CoverageState::NotRequested }));
    }
    let gaps = [report_gap, summary_gap];
    let sources = values.iter().map(|(s, _)| *s).collect();
    let gap = gaps.into_iter().flatten().find(|m| !matches!(m.state, CoverageState::NotRequested)).map(|m| m.to_string());
    Ok(RootFacts { values, sources, gap })
}
