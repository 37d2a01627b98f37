//! AWS part of the inventory. Datasets mirror the bulk APIs they come from (authorization details,
//! credential report, account summary, …) so that a file export and a live collection fill the same
//! structs. Policy documents are kept parsed ([`PolicyDocument`]), conditions included.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Cloud, Collected, CoverageEntry, CoverageState, Dataset, MergeError, Missing, ScopeKind, ScopeNode, Timestamp};
use crate::policy::PolicyDocument;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AwsInventory {
    /// The organization seen from its management account: tree, SCPs and their targets.
    /// `Collected(None)`: the read worked and the account is not in an organization.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub organization: Collected<Option<AwsOrganization>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AwsAccount>,
}

impl AwsInventory {
    pub fn is_empty(&self) -> bool {
        self.organization.is_not_requested() && self.accounts.is_empty()
    }

    pub(crate) fn coverage(&self, out: &mut Vec<CoverageEntry>) {
        if !self.organization.is_not_requested() {
            let scope = match self.organization.get() {
                Some(Some(o)) => o.management_account_id.clone(),
                _ => "organization".to_string(),
            };
            push(out, scope, Dataset::AwsOrganization, &self.organization);
        }
        for a in &self.accounts {
            // Destructured: a dataset added to the struct does not compile until it is covered here.
            let AwsAccount {
                account_id: id, name: _, authorization_details, credential_report, account_summary, password_policy,
                identity_providers, mfa_devices, user_credentials, trail_events, enabled_regions, regions,
            } = a;
            let mut e = entry(id.clone(), Dataset::AwsAuthorizationDetails, authorization_details);
            if let Some(d) = authorization_details.get().filter(|d| !d.missing_sections.is_empty()) {
                e.state = CoverageState::Partial { missing: format!("no {} section", d.missing_sections.join(", ")) };
            }
            out.push(e);
            let mut e = entry(id.clone(), Dataset::AwsCredentialReport, credential_report);
            if let Some(r) = credential_report.get().filter(|r| !r.missing_columns.is_empty()) {
                e.state = CoverageState::Partial { missing: format!("no column {}", r.missing_columns.join(", ")) };
            }
            out.push(e);
            push(out, id.clone(), Dataset::AwsAccountSummary, account_summary);
            push(out, id.clone(), Dataset::AwsPasswordPolicy, password_policy);
            push(out, id.clone(), Dataset::AwsIdentityProviders, identity_providers);
            push(out, id.clone(), Dataset::AwsMfaDevices, mfa_devices);
            if !user_credentials.is_not_requested() {
                push(out, id.clone(), Dataset::AwsUserCredentials, user_credentials);
            }
            if !trail_events.is_not_requested() {
                push(out, id.clone(), Dataset::AwsTrailEvents, trail_events);
            }
            if !enabled_regions.is_not_requested() {
                push(out, id.clone(), Dataset::AwsEnabledRegions, enabled_regions);
            }
            for r in regions {
                let AwsRegion { region, cloudtrail, access_analyzer, ec2_metadata, ec2_metadata_defaults } = r;
                let scope = format!("{id}/{region}");
                let mut e = entry(scope.clone(), Dataset::AwsCloudTrail, cloudtrail);
                // A trail whose status or selectors could not be read is a gap in the list.
                let unread: Vec<String> = cloudtrail.get().into_iter().flatten().filter_map(|t| t.status_error.as_ref().map(|why| format!("trail {}: {why}", t.name))).collect();
                if !unread.is_empty() {
                    e.state = CoverageState::Partial { missing: unread.join("; ") };
                }
                out.push(e);
                push(out, scope.clone(), Dataset::AwsAccessAnalyzer, access_analyzer);
                push(out, scope.clone(), Dataset::AwsEc2Metadata, ec2_metadata);
                push(out, scope, Dataset::AwsEc2MetadataDefaults, ec2_metadata_defaults);
            }
        }
    }

    /// Forget every dataset not in `keep`.
    pub fn retain_datasets(&mut self, keep: &BTreeSet<Dataset>) {
        if !keep.contains(&Dataset::AwsOrganization) {
            self.organization = Collected::NotRequested;
        }
        for a in &mut self.accounts {
            a.retain_datasets(keep);
        }
    }

    pub(crate) fn merge(&mut self, other: AwsInventory) -> Result<(), MergeError> {
        self.organization.merge(other.organization, "organization", Dataset::AwsOrganization)?;
        super::merge_keyed(&mut self.accounts, other.accounts, |a| a.account_id.clone(), AwsAccount::merge)
    }
}

fn push<T>(out: &mut Vec<CoverageEntry>, scope: String, dataset: Dataset, c: &Collected<T>) {
    out.push(entry(scope, dataset, c));
}

fn entry<T>(scope: String, dataset: Dataset, c: &Collected<T>) -> CoverageEntry {
    CoverageEntry { cloud: Cloud::Aws, scope, service: dataset.service().to_string(), dataset, state: c.state() }
}

/// One AWS account and what was read from it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AwsAccount {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub authorization_details: Collected<AuthorizationDetails>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub credential_report: Collected<CredentialReport>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub account_summary: Collected<AccountSummary>,
    /// `Collected(None)` means the read worked and the account has no password policy.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub password_policy: Collected<Option<PasswordPolicy>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub identity_providers: Collected<IdentityProviders>,
    /// Virtual MFA devices (`ListVirtualMFADevices`): tells a root virtual device from hardware.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub mfa_devices: Collected<Vec<VirtualMfaDevice>>,
    /// Credentials of named users, read user by user (`verify`: the compromised and restored
    /// users), fresher and more detailed than the credential report.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub user_credentials: Collected<Vec<UserCredentials>>,
    /// CloudTrail's record (`LookupEvents`) of the IAM changes made inside an incident's window.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub trail_events: Collected<Vec<TrailEvent>>,
    /// The regions enabled for this account (`ec2:DescribeRegions`, read with its own credentials)
    /// when every region was asked for. A failed read means regions may be missing from `regions`.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub enabled_regions: Collected<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<AwsRegion>,
}

impl AwsAccount {
    /// Every requested dataset of an account records the same gap (regional ones too, and the region
    /// list when every region was asked for), so each check names the real cause.
    pub fn unread(account_id: &str, regions: &[String], gap: &Collected<()>, want: &std::collections::BTreeSet<Dataset>) -> AwsAccount {
        fn gap_for<T>(gap: &Collected<()>, d: Dataset, want: &std::collections::BTreeSet<Dataset>) -> Collected<T> {
            if want.contains(&d) { gap.gap() } else { Collected::NotRequested }
        }
        let mut a = AwsAccount::new(account_id);
        // Destructure so that a new dataset cannot be forgotten here.
        let AwsAccount {
            account_id: _, name: _, authorization_details, credential_report, account_summary, password_policy,
            identity_providers, mfa_devices, user_credentials, trail_events, enabled_regions, regions: region_list,
        } = &mut a;
        *authorization_details = gap_for(gap, Dataset::AwsAuthorizationDetails, want);
        *credential_report = gap_for(gap, Dataset::AwsCredentialReport, want);
        *account_summary = gap_for(gap, Dataset::AwsAccountSummary, want);
        *password_policy = gap_for(gap, Dataset::AwsPasswordPolicy, want);
        *identity_providers = gap_for(gap, Dataset::AwsIdentityProviders, want);
        *mfa_devices = gap_for(gap, Dataset::AwsMfaDevices, want);
        *user_credentials = gap_for(gap, Dataset::AwsUserCredentials, want);
        *trail_events = gap_for(gap, Dataset::AwsTrailEvents, want);
        if regions.is_empty() && want.iter().any(|d| d.is_regional()) {
            *enabled_regions = gap.gap();
        }
        *region_list = regions
            .iter()
            .map(|r| {
                let mut x = AwsRegion::new(r.clone());
                let AwsRegion { region: _, cloudtrail, access_analyzer, ec2_metadata, ec2_metadata_defaults } = &mut x;
                *cloudtrail = gap_for(gap, Dataset::AwsCloudTrail, want);
                *access_analyzer = gap_for(gap, Dataset::AwsAccessAnalyzer, want);
                *ec2_metadata = gap_for(gap, Dataset::AwsEc2Metadata, want);
                *ec2_metadata_defaults = gap_for(gap, Dataset::AwsEc2MetadataDefaults, want);
                x
            })
            .collect();
        a
    }

    pub fn new(account_id: impl Into<String>) -> Self {
        AwsAccount {
            account_id: account_id.into(),
            name: None,
            authorization_details: Collected::NotRequested,
            credential_report: Collected::NotRequested,
            account_summary: Collected::NotRequested,
            password_policy: Collected::NotRequested,
            identity_providers: Collected::NotRequested,
            mfa_devices: Collected::NotRequested,
            user_credentials: Collected::NotRequested,
            trail_events: Collected::NotRequested,
            enabled_regions: Collected::NotRequested,
            regions: Vec::new(),
        }
    }

    /// The coverage of one of this account's own (not regional) datasets.
    pub fn state(&self, d: Dataset) -> CoverageState {
        match d {
            Dataset::AwsAuthorizationDetails => self.authorization_details.state(),
            Dataset::AwsCredentialReport => self.credential_report.state(),
            Dataset::AwsAccountSummary => self.account_summary.state(),
            Dataset::AwsPasswordPolicy => self.password_policy.state(),
            Dataset::AwsIdentityProviders => self.identity_providers.state(),
            Dataset::AwsMfaDevices => self.mfa_devices.state(),
            Dataset::AwsUserCredentials => self.user_credentials.state(),
            Dataset::AwsTrailEvents => self.trail_events.state(),
            Dataset::AwsEnabledRegions => self.enabled_regions.state(),
            _ => CoverageState::NotRequested,
        }
    }

    /// Forget every dataset not in `keep` (it becomes `not_requested`). Destructured, so that a new
    /// dataset field does not compile until it is handled here.
    pub fn retain_datasets(&mut self, keep: &BTreeSet<Dataset>) {
        fn clear<T>(c: &mut Collected<T>, d: Dataset, keep: &BTreeSet<Dataset>) {
            if !keep.contains(&d) {
                *c = Collected::NotRequested;
            }
        }
        let AwsAccount {
            account_id: _, name: _, authorization_details, credential_report, account_summary, password_policy,
            identity_providers, mfa_devices, user_credentials, trail_events, enabled_regions, regions,
        } = self;
        clear(authorization_details, Dataset::AwsAuthorizationDetails, keep);
        clear(credential_report, Dataset::AwsCredentialReport, keep);
        clear(account_summary, Dataset::AwsAccountSummary, keep);
        clear(password_policy, Dataset::AwsPasswordPolicy, keep);
        clear(identity_providers, Dataset::AwsIdentityProviders, keep);
        clear(mfa_devices, Dataset::AwsMfaDevices, keep);
        clear(user_credentials, Dataset::AwsUserCredentials, keep);
        clear(trail_events, Dataset::AwsTrailEvents, keep);
        if !keep.iter().any(|d| d.is_regional()) {
            *enabled_regions = Collected::NotRequested;
        }
        for r in regions {
            let AwsRegion { region: _, cloudtrail, access_analyzer, ec2_metadata, ec2_metadata_defaults } = r;
            clear(cloudtrail, Dataset::AwsCloudTrail, keep);
            clear(access_analyzer, Dataset::AwsAccessAnalyzer, keep);
            clear(ec2_metadata, Dataset::AwsEc2Metadata, keep);
            clear(ec2_metadata_defaults, Dataset::AwsEc2MetadataDefaults, keep);
        }
    }

    fn merge(&mut self, o: AwsAccount) -> Result<(), MergeError> {
        let id = self.account_id.clone();
        // Destructured: a dataset added to the struct does not compile until it is merged here.
        let AwsAccount {
            account_id: _, name, authorization_details, credential_report, account_summary, password_policy,
            identity_providers, mfa_devices, user_credentials, trail_events, enabled_regions, regions,
        } = o;
        if self.name.is_none() {
            self.name = name;
        }
        self.authorization_details.merge(authorization_details, &id, Dataset::AwsAuthorizationDetails)?;
        self.credential_report.merge(credential_report, &id, Dataset::AwsCredentialReport)?;
        self.account_summary.merge(account_summary, &id, Dataset::AwsAccountSummary)?;
        self.password_policy.merge(password_policy, &id, Dataset::AwsPasswordPolicy)?;
        self.identity_providers.merge(identity_providers, &id, Dataset::AwsIdentityProviders)?;
        self.mfa_devices.merge(mfa_devices, &id, Dataset::AwsMfaDevices)?;
        self.user_credentials.merge(user_credentials, &id, Dataset::AwsUserCredentials)?;
        self.trail_events.merge(trail_events, &id, Dataset::AwsTrailEvents)?;
        self.enabled_regions.merge(enabled_regions, &id, Dataset::AwsEnabledRegions)?;
        super::merge_keyed(&mut self.regions, regions, |r| r.region.clone(), |m, r| {
            let scope = format!("{id}/{}", r.region);
            let AwsRegion { region: _, cloudtrail, access_analyzer, ec2_metadata, ec2_metadata_defaults } = r;
            m.cloudtrail.merge(cloudtrail, &scope, Dataset::AwsCloudTrail)?;
            m.access_analyzer.merge(access_analyzer, &scope, Dataset::AwsAccessAnalyzer)?;
            m.ec2_metadata.merge(ec2_metadata, &scope, Dataset::AwsEc2Metadata)?;
            m.ec2_metadata_defaults.merge(ec2_metadata_defaults, &scope, Dataset::AwsEc2MetadataDefaults)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// IAM: GetAccountAuthorizationDetails

/// Users, groups, roles and managed policies of one account (`GetAccountAuthorizationDetails`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AuthorizationDetails {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<IamUser>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<IamGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<IamRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<ManagedPolicy>,
    /// Items that could not be read (a user that is not an object, …), by place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<InvalidItem>,
    /// Sections the source did not contain (`RoleDetailList`, …): an absent section is unknown,
    /// not empty (an export made with `--filter` has only the lists it asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_sections: Vec<String>,
    /// AWS managed policies the source listed but that nothing in the account uses (no user, group
    /// or role has them attached or as its boundary, and their attachment count is 0): left out of
    /// `policies`, because they grant nothing here, and an organization's scan would otherwise keep
    /// the same AWS documents once per account. A policy whose attachment count is unknown is kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unused_aws_managed_omitted: u32,
}

/// An item of the authorization details that could not be read; the checks that read its section
/// report it as not evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InvalidItem {
    /// `UserDetailList`, `RoleDetailList`, …
    pub section: String,
    /// Where in the source, e.g. `RoleDetailList[3]`.
    pub place: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub error: String,
}

impl AuthorizationDetails {
    /// Items of `section` that could not be read.
    pub fn invalid_in<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a InvalidItem> + 'a {
        self.invalid.iter().filter(move |i| i.section == section)
    }

    pub const USERS: &'static str = "UserDetailList";
    pub const GROUPS: &'static str = "GroupDetailList";
    pub const ROLES: &'static str = "RoleDetailList";
    pub const POLICIES: &'static str = "Policies";

    /// A section's items, or why they are unknown.
    pub fn section<'a, T>(&'a self, name: &str, items: &'a [T]) -> Result<&'a [T], Missing> {
        if self.missing_sections.iter().any(|s| s == name) {
            return Err(Missing {
                dataset: Dataset::AwsAuthorizationDetails,
                state: CoverageState::Partial { missing: format!("the authorization details have no {name} section") },
            });
        }
        Ok(items)
    }

    pub fn roles(&self) -> Result<&[IamRole], Missing> {
        self.section(Self::ROLES, &self.roles)
    }

    pub fn users(&self) -> Result<&[IamUser], Missing> {
        self.section(Self::USERS, &self.users)
    }

    /// Every policy ARN a user, group or role has attached or as its permissions boundary.
    pub fn policies_in_use(&self) -> std::collections::BTreeSet<&str> {
        let users = self.users.iter().flat_map(|u| u.attached_policies.iter().map(|p| p.arn.as_str()).chain(u.permissions_boundary.as_deref()));
        let groups = self.groups.iter().flat_map(|g| g.attached_policies.iter().map(|p| p.arn.as_str()));
        let roles = self.roles.iter().flat_map(|r| r.attached_policies.iter().map(|p| p.arn.as_str()).chain(r.permissions_boundary.as_deref()));
        users.chain(groups).chain(roles).collect()
    }

    /// Whether a policy the source listed may be left out: an AWS managed policy that nothing in
    /// the account uses. `attachment_count` is the source's figure, `None` when it had none (then
    /// the policy is kept: a missing count is not zero).
    pub fn is_unused_aws_managed(arn: &str, attachment_count: Option<u32>, in_use: &std::collections::BTreeSet<&str>) -> bool {
        attachment_count == Some(0)
            && !in_use.contains(arn)
            && crate::policy::arn::Arn::parse(arn).is_some_and(|a| a.account == "aws" && a.service == "iam")
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IamUser {
    pub name: String,
    pub id: String,
    pub arn: String,
    #[serde(default = "root_path", skip_serializing_if = "is_root_path")]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IamGroup {
    pub name: String,
    pub id: String,
    pub arn: String,
    #[serde(default = "root_path", skip_serializing_if = "is_root_path")]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline_policies: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IamRole {
    pub name: String,
    pub id: String,
    pub arn: String,
    #[serde(default = "root_path", skip_serializing_if = "is_root_path")]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// The trust policy (`AssumeRolePolicyDocument`), parsed with its conditions. `None` when the
    /// source had none or it could not be parsed (`trust_policy_error` says which): that role's
    /// trust is then not evaluated, never read as "trusts no one".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policy: Option<PolicyDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policy_error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_region: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_profiles: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InlinePolicy {
    pub name: String,
    /// `None` when the document could not be parsed (`error` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<PolicyDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManagedPolicy {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub arn: String,
    #[serde(default = "root_path", skip_serializing_if = "is_root_path")]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version_id: Option<String>,
    /// `AttachmentCount` as the source gave it; `None` when it had none (unknown, not zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_count: Option<u32>,
    #[serde(default = "yes")]
    pub is_attachable: bool,
    /// The default version's document; other versions are not kept (they grant nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<PolicyDocument>,
    /// Why `document` is missing, when the source had one that could not be parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_error: Option<String>,
}

impl ManagedPolicy {
    pub fn is_aws_managed(&self) -> bool {
        crate::policy::arn::Arn::parse(&self.arn).is_some_and(|a| a.account == "aws")
    }
}

fn root_path() -> String {
    "/".to_string()
}

/// An IAM path as the sources give it; absent means `/`.
pub fn iam_path(p: Option<&str>) -> String {
    p.unwrap_or("/").to_string()
}

/// The version of a managed policy that grants: the one flagged as default, or the one
/// `DefaultVersionId` names. Shared by the export reader and the live collector.
pub fn default_version<V>(
    versions: impl IntoIterator<Item = V>,
    default_id: Option<&str>,
    is_default: impl Fn(&V) -> bool,
    id: impl Fn(&V) -> Option<&str>,
) -> Option<V> {
    versions.into_iter().find(|v| is_default(v) || (default_id.is_some() && id(v) == default_id))
}
fn is_root_path(p: &str) -> bool {
    p == "/"
}
fn yes() -> bool {
    true
}

// ---------------------------------------------------------------------------------------------
// IAM: credential report, account summary, password policy, identity providers

/// The IAM credential report: one row per user plus `<root_account>` (real AWS; moto omits it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CredentialReport {
    /// When AWS generated the report (reports can be up to 4 hours old).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<Timestamp>,
    #[serde(default)]
    pub rows: Vec<CredentialReportRow>,
    /// When a live scan read it (`GetCredentialReport`); with `generated_at`, how stale it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
    /// Documented columns the source did not have (a legacy or trimmed report). Their values are
    /// unknown: checks that read them are not evaluated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_columns: Vec<String>,
}

/// Every column of the IAM credential report, as AWS documents it.
pub const REPORT_COLUMNS: [&str; 22] = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
    "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
    "cert_2_active", "cert_2_last_rotated",
];

impl CredentialReport {
    /// The report, if it has every column in `columns`.
    pub fn require_columns(&self, columns: &[&str]) -> Result<&Self, Missing> {
        let absent: Vec<&str> = columns.iter().copied().filter(|c| self.missing_columns.iter().any(|m| m == c)).collect();
        if absent.is_empty() {
            return Ok(self);
        }
        Err(Missing {
            dataset: Dataset::AwsCredentialReport,
            state: CoverageState::Partial { missing: format!("the credential report has no column {}", absent.join(", ")) },
        })
    }

    /// How long before it was read the report was generated (live scans only).
    pub fn age_when_read(&self) -> Option<time::Duration> {
        Some(self.read_at?.0 - self.generated_at?.0)
    }

    pub fn root(&self) -> Option<&CredentialReportRow> {
        self.rows.iter().find(|r| r.is_root())
    }

    pub fn users(&self) -> impl Iterator<Item = &CredentialReportRow> {
        self.rows.iter().filter(|r| !r.is_root())
    }
}

pub const ROOT_USER: &str = "<root_account>";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialReportRow {
    pub user: String,
    pub arn: String,
    #[serde(default)]
    pub user_creation_time: ReportTime,
    /// `None` where AWS reports `not_supported` (the root row).
    #[serde(default)]
    pub password_enabled: Option<bool>,
    #[serde(default)]
    pub password_last_used: ReportTime,
    #[serde(default)]
    pub password_last_changed: ReportTime,
    #[serde(default)]
    pub password_next_rotation: ReportTime,
    #[serde(default)]
    pub mfa_active: bool,
    #[serde(default)]
    pub access_keys: [AccessKeySlot; 2],
    #[serde(default)]
    pub certificates: [CertificateSlot; 2],
}

impl CredentialReportRow {
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER
    }
}

/// `access_key_N_*` columns of one row. Neither the report nor authorization details carries the
/// key id, so a key is named by its slot.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AccessKeySlot {
    #[serde(default)]
    pub active: bool,
    /// Creation or last rotation of the key in this slot.
    #[serde(default)]
    pub last_rotated: ReportTime,
    #[serde(default)]
    pub last_used_date: ReportTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_service: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CertificateSlot {
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub last_rotated: ReportTime,
}

/// A date column of the credential report, with AWS's documented non-date values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportTime {
    At(Timestamp),
    /// `N/A`: the credential does not exist or was never used.
    #[default]
    NotApplicable,
    /// `no_information`: never used since AWS started tracking (before 2015 for passwords, 2015-04-22 for keys).
    NoInformation,
    /// `not_supported`: the column does not apply to this row (root password fields).
    NotSupported,
}

impl ReportTime {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "N/A" | "" => Ok(ReportTime::NotApplicable),
            "no_information" => Ok(ReportTime::NoInformation),
            "not_supported" => Ok(ReportTime::NotSupported),
            other => Timestamp::parse(other)
                .map(ReportTime::At)
                .map_err(|_| format!("expected a date, N/A, no_information or not_supported, found {other:?}")),
        }
    }

    pub fn at(self) -> Option<Timestamp> {
        match self {
            ReportTime::At(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_report_str(&self) -> String {
        match self {
            ReportTime::At(t) => t.to_rfc3339(),
            ReportTime::NotApplicable => "N/A".into(),
            ReportTime::NoInformation => "no_information".into(),
            ReportTime::NotSupported => "not_supported".into(),
        }
    }
}

impl Serialize for ReportTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_report_str())
    }
}

impl<'de> Deserialize<'de> for ReportTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ReportTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `GetAccountSummary`: counts and flags, kept as AWS names them (`AccountMFAEnabled`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct AccountSummary(pub BTreeMap<String, i64>);

impl AccountSummary {
    fn flag(&self, key: &str) -> Option<bool> {
        self.0.get(key).map(|v| *v > 0)
    }
    pub fn root_mfa_enabled(&self) -> Option<bool> {
        self.flag("AccountMFAEnabled")
    }
    pub fn root_access_keys_present(&self) -> Option<bool> {
        self.flag("AccountAccessKeysPresent")
    }
}

/// `GetAccountPasswordPolicy`. Fields AWS omits are `None`/false as AWS defines them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PasswordPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_password_length: Option<u32>,
    #[serde(default)]
    pub require_symbols: bool,
    #[serde(default)]
    pub require_numbers: bool,
    #[serde(default)]
    pub require_uppercase_characters: bool,
    #[serde(default)]
    pub require_lowercase_characters: bool,
    #[serde(default)]
    pub allow_users_to_change_password: bool,
    #[serde(default)]
    pub expire_passwords: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_password_age: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reuse_prevention: Option<u32>,
    #[serde(default)]
    pub hard_expiry: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IdentityProviders {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc: Vec<OidcProvider>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saml: Vec<SamlProvider>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OidcProvider {
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SamlProvider {
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
}

/// A virtual MFA device and the user it is assigned to (`ListVirtualMFADevices`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VirtualMfaDevice {
    pub serial_number: String,
    /// ARN of the user it is enabled for; the root user's ARN ends in `:root`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Timestamp>,
}

// ---------------------------------------------------------------------------------------------
// Organizations

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AwsOrganization {
    pub id: String,
    pub management_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_set: Option<String>,
    /// Root, OUs and accounts, with parent links.
    #[serde(default)]
    pub nodes: Vec<ScopeNode>,
    #[serde(default)]
    pub scps: Vec<ServiceControlPolicy>,
    /// Node id → position in `nodes`, built on the first lookup: checks ask once per account and
    /// trusted account, so a linear search would make an organization scan quadratic.
    #[serde(skip)]
    pub(crate) index: NodeIndex,
}

/// A cache, not data: two organizations with the same nodes are equal whether built or not.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeIndex(std::sync::OnceLock<std::collections::HashMap<String, usize>>);

impl PartialEq for NodeIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl AwsOrganization {
    /// Look a node up by id. The index is built once, so fill `nodes` before the first lookup;
    /// a stale index answers `None` rather than a wrong node.
    pub fn node(&self, id: &str) -> Option<&ScopeNode> {
        let index = self.index.0.get_or_init(|| self.nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i)).collect());
        index.get(id).and_then(|&i| self.nodes.get(i)).filter(|n| n.id == id)
    }

    /// Whether the account is a member of this organization (any state).
    pub fn contains_account(&self, account_id: &str) -> bool {
        self.node(account_id).is_some_and(|n| n.kind == ScopeKind::AwsAccount)
    }

    /// The account, then each parent up to the root: the targets whose SCPs apply to it.
    pub fn ancestry(&self, account_id: &str) -> Vec<&ScopeNode> {
        let mut out = Vec::new();
        let mut cur = self.node(account_id);
        while let Some(n) = cur {
            if out.iter().any(|m: &&ScopeNode| m.id == n.id) || out.len() > 64 {
                break; // a malformed snapshot with a parent cycle
            }
            out.push(n);
            cur = n.parent.as_deref().and_then(|p| self.node(p));
        }
        out
    }

    /// The SCPs in force for an account: attached to it, to an OU above it, or to the root.
    /// Empty for the management account, which SCPs never restrict.
    pub fn effective_scps(&self, account_id: &str) -> Vec<(&ServiceControlPolicy, &ScopeNode)> {
        if account_id == self.management_account_id {
            return Vec::new();
        }
        let chain = self.ancestry(account_id);
        let mut out = Vec::new();
        for scp in &self.scps {
            if let Some(at) = chain.iter().find(|n| scp.targets.contains(&n.id)) {
                out.push((scp, *at));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceControlPolicy {
    pub id: String,
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub aws_managed: bool,
    pub document: PolicyDocument,
    /// Ids of the roots, OUs and accounts the policy is attached to.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// One named user's credentials, read directly (`ListAccessKeys`, `GetLoginProfile`, …). Each
/// part is its own `Collected`: one refused call leaves the others readable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserCredentials {
    pub user: String,
    /// `false`: IAM says the user does not exist (deleted).
    pub exists: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
    #[serde(default)]
    pub access_keys: Collected<Vec<UserCredential>>,
    /// `Some(created)` when the user has a console password (a login profile).
    #[serde(default)]
    pub login_profile: Collected<Option<Timestamp>>,
    #[serde(default)]
    pub signing_certificates: Collected<Vec<UserCredential>>,
    /// CodeCommit, Keyspaces and Bedrock credentials.
    #[serde(default)]
    pub service_specific: Collected<Vec<UserCredential>>,
    /// MFA device serial numbers or ARNs.
    #[serde(default)]
    pub mfa_devices: Collected<Vec<String>>,
    /// The same devices with the date each was enabled for the user (`ListMFADevices`'
    /// `EnableDate`): `id` is the serial number or ARN, `created` the enable date. Not requested
    /// in snapshots made before it was read: then the dates are unknown.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub mfa_enabled: Collected<Vec<UserCredential>>,
}

/// One CloudTrail management event, as `LookupEvents` returns it. Only identifiers are kept from
/// the request (never response elements, which can carry secrets).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrailEvent {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// Who made the call: the identity's ARN, else the user name CloudTrail gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// `userName`, `roleName` and the like from the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserCredential {
    pub id: String,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Regional datasets

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AwsRegion {
    pub region: String,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub cloudtrail: Collected<Vec<Trail>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub access_analyzer: Collected<AccessAnalyzer>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub ec2_metadata: Collected<Ec2Metadata>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub ec2_metadata_defaults: Collected<Ec2MetadataDefaults>,
}

impl AwsRegion {
    pub fn state(&self, d: Dataset) -> CoverageState {
        match d {
            Dataset::AwsCloudTrail => self.cloudtrail.state(),
            Dataset::AwsAccessAnalyzer => self.access_analyzer.state(),
            Dataset::AwsEc2Metadata => self.ec2_metadata.state(),
            Dataset::AwsEc2MetadataDefaults => self.ec2_metadata_defaults.state(),
            _ => CoverageState::NotRequested,
        }
    }

    pub fn new(region: impl Into<String>) -> Self {
        AwsRegion {
            region: region.into(),
            cloudtrail: Collected::NotRequested,
            access_analyzer: Collected::NotRequested,
            ec2_metadata: Collected::NotRequested,
            ec2_metadata_defaults: Collected::NotRequested,
        }
    }
}

/// A trail as seen from one region (`DescribeTrails` with shadow trails, plus its status and selectors).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    #[serde(default)]
    pub multi_region: bool,
    #[serde(default)]
    pub organization_trail: bool,
    #[serde(default)]
    pub log_file_validation: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// `GetTrailStatus.IsLogging`; `None` if the status could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<bool>,
    /// Management events the trail records: "All", "ReadOnly", "WriteOnly" or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_events: Option<String>,
    /// Why `logging` or `management_events` is unknown (the status or selector read failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AccessAnalyzer {
    #[serde(default)]
    pub analyzers: Vec<Analyzer>,
    /// Active external-access findings.
    #[serde(default)]
    pub findings: Vec<AnalyzerFinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Analyzer {
    pub arn: String,
    pub name: String,
    /// ACCOUNT, ORGANIZATION, ACCOUNT_UNUSED_ACCESS, …
    pub analyzer_type: String,
    pub status: String,
}

impl Analyzer {
    /// An active analyzer that reports external access (`ACCOUNT` or `ORGANIZATION`; the unused-
    /// access types do not).
    pub fn watches_external_access(&self) -> bool {
        self.status == "ACTIVE" && (self.analyzer_type == "ACCOUNT" || self.analyzer_type == "ORGANIZATION")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AnalyzerFinding {
    pub id: String,
    pub resource: String,
    pub resource_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    #[serde(default)]
    pub is_public: bool,
    /// The analyzer that reported it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub analyzer: String,
    /// Conditions that limit the access, as Access Analyzer reports them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Ec2Metadata {
    #[serde(default)]
    pub instances: Vec<Ec2Instance>,
}

/// The region's account-level defaults for new instances (`GetInstanceMetadataDefaults`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Ec2MetadataDefaults {
    /// "required", "optional" or unset (`None`: no account default; the AMI decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_tokens: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ec2Instance {
    pub instance_id: String,
    pub state: String,
    /// "required" (IMDSv2 only) or "optional" (IMDSv1 allowed).
    pub http_tokens: String,
    /// "enabled" or "disabled".
    pub http_endpoint: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attached(arn: &str) -> Vec<AttachedPolicy> {
        vec![AttachedPolicy { name: arn.rsplit('/').next().unwrap_or(arn).to_string(), arn: arn.to_string() }]
    }

    #[test]
    fn only_aws_managed_policies_nothing_uses_may_be_left_out() {
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        let boundary = "arn:aws-cn:iam::aws:policy/ReadOnlyAccess";
        let details = AuthorizationDetails {
            groups: vec![IamGroup { name: "g".into(), id: "G".into(), arn: "arn:aws:iam::1:group/g".into(), path: "/".into(), created: None, attached_policies: attached(admin), inline_policies: vec![] }],
            roles: vec![IamRole {
                name: "r".into(),
                id: "R".into(),
                arn: "arn:aws:iam::1:role/r".into(),
                path: "/".into(),
                created: None,
                trust_policy: None,
                trust_policy_error: None,
                attached_policies: vec![],
                inline_policies: vec![],
                permissions_boundary: Some(boundary.into()),
                last_used: None,
                last_used_region: None,
                instance_profiles: vec![],
                tags: BTreeMap::new(),
            }],
            ..Default::default()
        };
        let in_use = details.policies_in_use();
        let unused = |arn: &str, count| AuthorizationDetails::is_unused_aws_managed(arn, count, &in_use);
        // In use (through a group; as a boundary), even when the count says 0: kept.
        assert!(!unused(admin, Some(0)));
        assert!(!unused(boundary, Some(0)));
        // AWS managed, not referenced, counted 0: left out, in any partition.
        assert!(unused("arn:aws:iam::aws:policy/SecurityAudit", Some(0)));
        assert!(unused("arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess", Some(0)));
        // A count that is missing or not zero is not "unused"; the account's own policies stay.
        assert!(!unused("arn:aws:iam::aws:policy/SecurityAudit", None));
        assert!(!unused("arn:aws:iam::aws:policy/SecurityAudit", Some(2)));
        assert!(!unused("arn:aws:iam::123456789012:policy/unused-local", Some(0)));
        assert!(!unused("not an arn", Some(0)));
    }
}
