//! The inventory: one serde model for everything Portcullis knows about the clouds it scanned.
//!
//! Sources (live collectors, exported files, snapshots) fill it; checks only read it. Every dataset a
//! source can provide is wrapped in [`Collected`], so "we could not read this" is a value a check must
//! handle, never an empty list that looks clean. Coverage is derived from those wrappers
//! ([`Inventory::coverage`]), so it cannot drift from the data.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod shard;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use aws::AwsInventory;
pub use azure::AzureInventory;
pub use gcp::GcpInventory;

/// Version tag written into, and required from, every snapshot.
pub const SCHEMA: &str = "portcullis.inventory/v1";

/// Everything collected in one run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Inventory {
    pub schema: String,
    /// When the data was collected (or exported). Checks measure ages against the scan time, not this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<Timestamp>,
    /// Human-readable description of each source that went into this inventory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "AwsInventory::is_empty")]
    pub aws: AwsInventory,
    #[serde(default, skip_serializing_if = "AzureInventory::is_empty")]
    pub azure: AzureInventory,
    #[serde(default, skip_serializing_if = "GcpInventory::is_empty")]
    pub gcp: GcpInventory,
    /// Resources that come from a Terraform plan: their address, planned action, the `.tf` file
    /// and line, and attributes known only after apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terraform: Vec<crate::import::terraform::PlannedResource>,
    /// Set on a shard's snapshot (`collect --shard I/N`): which share it is and what it listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<shard::ShardInfo>,
    /// What a person should know about how this inventory was put together (a shard that never
    /// arrived); printed by the command, not stored.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            schema: SCHEMA.to_string(),
            generated_at: None,
            sources: Vec::new(),
            aws: AwsInventory::default(),
            azure: AzureInventory::default(),
            gcp: GcpInventory::default(),
            terraform: Vec::new(),
            shard: None,
            warnings: Vec::new(),
        }
    }
}

impl Inventory {
    /// One coverage entry per (cloud, scope, dataset), in inventory order.
    pub fn coverage(&self) -> Vec<CoverageEntry> {
        let mut out = Vec::new();
        self.aws.coverage(&mut out);
        self.azure.coverage(&mut out);
        self.gcp.coverage(&mut out);
        out
    }

    /// Forget every dataset not in `keep` (it becomes `not_requested`).
    pub fn retain_datasets(&mut self, keep: &std::collections::BTreeSet<Dataset>) {
        self.aws.retain_datasets(keep);
        self.azure.retain_datasets(keep);
        self.gcp.retain_datasets(keep);
    }

    /// Fold another partial inventory (another source) into this one.
    pub fn merge(&mut self, other: Inventory) -> Result<(), MergeError> {
        self.generated_at = match (self.generated_at, other.generated_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.sources.extend(other.sources);
        self.warnings.extend(other.warnings);
        self.aws.merge(other.aws)?;
        self.azure.merge(other.azure)?;
        self.gcp.merge(other.gcp)?;
        self.terraform.extend(other.terraform);
        Ok(())
    }
}

/// Merge two lists of scopes matched by key: a scope in both has its datasets merged one by one.
pub(crate) fn merge_keyed<T>(
    mine: &mut Vec<T>,
    other: Vec<T>,
    key: impl Fn(&T) -> String,
    merge: impl Fn(&mut T, T) -> Result<(), MergeError>,
) -> Result<(), MergeError> {
    for item in other {
        let k = key(&item);
        match mine.iter_mut().find(|m| key(m) == k) {
            Some(m) => merge(m, item)?,
            None => mine.push(item),
        }
    }
    Ok(())
}

/// Two sources both claimed the same dataset for the same scope.
#[derive(Debug, thiserror::Error)]
#[error("two sources provide {dataset} for {scope}; give each dataset once")]
pub struct MergeError {
    pub scope: String,
    pub dataset: Dataset,
}

/// The outcome of reading one dataset for one scope.
///
/// Serialized externally tagged: `{"collected": …}`, `{"denied": {"action": …}}`,
/// `{"failed": {"error": …}}` or `"not_requested"` (the default when a field is absent).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Collected<T> {
    Collected(T),
    /// The cloud refused the read; `action` names the permission that was missing.
    Denied {
        action: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The read failed for another reason (network, throttling past retries, malformed answer).
    Failed { error: String },
    /// The cloud refused the read because the tenant lacks a licence (Entra ID P1/P2); `licence`
    /// names it.
    Unlicensed {
        licence: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// No source was asked for this dataset.
    #[default]
    NotRequested,
}

impl<T> Collected<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            Collected::Collected(v) => Some(v),
            _ => None,
        }
    }

    /// The data, or the reason it is missing, ready for a check to turn into `not_evaluated`.
    pub fn require(&self, dataset: Dataset) -> Result<&T, Missing> {
        match self {
            Collected::Collected(v) => Ok(v),
            other => Err(Missing { dataset, state: other.state() }),
        }
    }

    pub fn state(&self) -> CoverageState {
        match self {
            Collected::Collected(_) => CoverageState::Collected,
            Collected::Denied { action, message } => {
                CoverageState::Denied { action: action.clone(), message: message.clone() }
            }
            Collected::Failed { error } => CoverageState::Failed { error: error.clone() },
            Collected::Unlicensed { licence, message } => {
                CoverageState::Unlicensed { licence: licence.clone(), message: message.clone() }
            }
            Collected::NotRequested => CoverageState::NotRequested,
        }
    }

    /// The same gap, for a dataset of another type (a value becomes `NotRequested`): when one
    /// cause (a refused AssumeRole, a deadline) keeps several datasets from being read.
    pub fn gap<U>(&self) -> Collected<U> {
        match self {
            Collected::Denied { action, message } => Collected::Denied { action: action.clone(), message: message.clone() },
            Collected::Failed { error } => Collected::Failed { error: error.clone() },
            Collected::Unlicensed { licence, message } => Collected::Unlicensed { licence: licence.clone(), message: message.clone() },
            _ => Collected::NotRequested,
        }
    }

    pub fn is_not_requested(&self) -> bool {
        matches!(self, Collected::NotRequested)
    }

    /// Merge two views of one dataset: a collected value wins over any gap; two values conflict.
    pub(crate) fn merge(&mut self, other: Collected<T>, scope: &str, dataset: Dataset) -> Result<(), MergeError> {
        match (&*self, &other) {
            (Collected::Collected(_), Collected::Collected(_)) => {
                Err(MergeError { scope: scope.to_string(), dataset })
            }
            (Collected::Collected(_), _) | (_, Collected::NotRequested) => Ok(()),
            _ => {
                *self = other;
                Ok(())
            }
        }
    }
}

/// Why a check could not read what it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub dataset: Dataset,
    pub state: CoverageState,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.dataset;
        match &self.state {
            CoverageState::Denied { action, message } => {
                write!(f, "reading {} was denied: missing permission {action}", d.describe())?;
                if let Some(m) = message {
                    write!(f, " ({m})")?;
                }
                Ok(())
            }
            CoverageState::Failed { error } => write!(f, "reading {} failed: {error}", d.describe()),
            CoverageState::Unlicensed { licence, message } => {
                write!(f, "reading {} needs a licence the tenant does not have: {licence}", d.describe())?;
                if let Some(m) = message {
                    write!(f, " ({m})")?;
                }
                Ok(())
            }
            CoverageState::Partial { missing } => write!(f, "{} is incomplete: {missing}", d.describe()),
            CoverageState::NotRequested => {
                write!(f, "no source provided {} (give {})", d.describe(), d.how_to_provide())
            }
            // A check only reports Missing for data it does not have; say so plainly if misused.
            CoverageState::Collected => write!(f, "{} is incomplete", d.describe()),
        }
    }
}

/// Coverage of one dataset, flattened for reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageEntry {
    pub cloud: Cloud,
    /// Account id, subscription id or project id; regional datasets add `/region`.
    pub scope: String,
    pub service: String,
    pub dataset: Dataset,
    #[serde(flatten)]
    pub state: CoverageState,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CoverageState {
    Collected,
    Denied {
        action: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Failed { error: String },
    /// The tenant lacks the licence the read needs.
    Unlicensed {
        licence: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// Read, but incomplete: a section, column or page is missing, or the data is too old.
    Partial { missing: String },
    NotRequested,
}

impl CoverageState {
    pub fn label(&self) -> &'static str {
        match self {
            CoverageState::Collected => "collected",
            CoverageState::Denied { .. } => "denied",
            CoverageState::Failed { .. } => "failed",
            CoverageState::Unlicensed { .. } => "unlicensed",
            CoverageState::Partial { .. } => "partial",
            CoverageState::NotRequested => "not_requested",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
    Gcp,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Gcp => "gcp",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every dataset a source can provide. Checks name the datasets they read; collectors fetch only
/// the datasets the selected checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    AwsAuthorizationDetails,
    AwsCredentialReport,
    AwsAccountSummary,
    AwsPasswordPolicy,
    AwsIdentityProviders,
    AwsMfaDevices,
    AwsUserCredentials,
    AwsTrailEvents,
    AwsEnabledRegions,
    AwsOrganization,
    AwsCloudTrail,
    AwsAccessAnalyzer,
    AwsEc2Metadata,
    AwsEc2MetadataDefaults,
    AzureScopes,
    AzureUsers,
    AzureSignInActivity,
    AzureRegistrationDetails,
    AzureApplications,
    AzureServicePrincipals,
    AzureDirectoryRoles,
    AzureDirectoryRoleEligibility,
    AzureDirectoryRoleDefinitions,
    AzureGroupMembers,
    AzureDirectoryReads,
    AzureRoleAssignments,
    AzureRoleEligibility,
    AzureRoleDefinitions,
    AzurePolicyAssignments,
    AzureDiagnosticSettings,
    AzureLighthouse,
    GcpHierarchy,
    GcpAssetSearch,
    GcpIamPolicy,
    GcpServiceAccounts,
    GcpOrgPolicies,
    GcpLogging,
    GcpCustomRoles,
    GcpPredefinedRoles,
}

impl Dataset {
    pub const ALL: [Dataset; 39] = {
        use Dataset::*;
        [
            AwsAuthorizationDetails, AwsCredentialReport, AwsAccountSummary, AwsPasswordPolicy, AwsIdentityProviders,
            AwsMfaDevices, AwsUserCredentials, AwsTrailEvents, AwsEnabledRegions, AwsOrganization, AwsCloudTrail, AwsAccessAnalyzer, AwsEc2Metadata,
            AwsEc2MetadataDefaults, AzureScopes, AzureUsers, AzureSignInActivity, AzureRegistrationDetails,
            AzureApplications, AzureServicePrincipals, AzureDirectoryRoles, AzureDirectoryRoleEligibility, AzureDirectoryRoleDefinitions,
            AzureGroupMembers, AzureDirectoryReads, AzureRoleAssignments, AzureRoleEligibility, AzureRoleDefinitions, AzurePolicyAssignments,
            AzureDiagnosticSettings, AzureLighthouse, GcpHierarchy, GcpAssetSearch, GcpIamPolicy, GcpServiceAccounts, GcpOrgPolicies,
            GcpLogging, GcpCustomRoles, GcpPredefinedRoles,
        ]
    };

    /// AWS datasets read once per region.
    pub fn is_regional(self) -> bool {
        use Dataset::*;
        matches!(self, AwsCloudTrail | AwsAccessAnalyzer | AwsEc2Metadata | AwsEc2MetadataDefaults)
    }

    pub fn cloud(self) -> Cloud {
        use Dataset::*;
        match self {
            AwsAuthorizationDetails | AwsCredentialReport | AwsAccountSummary | AwsPasswordPolicy
            | AwsIdentityProviders | AwsMfaDevices | AwsUserCredentials | AwsTrailEvents | AwsEnabledRegions | AwsOrganization | AwsCloudTrail | AwsAccessAnalyzer
            | AwsEc2Metadata | AwsEc2MetadataDefaults => Cloud::Aws,
            AzureScopes | AzureUsers | AzureSignInActivity | AzureRegistrationDetails | AzureApplications
            | AzureServicePrincipals | AzureDirectoryRoles | AzureDirectoryRoleEligibility | AzureDirectoryRoleDefinitions | AzureGroupMembers | AzureDirectoryReads
            | AzureRoleAssignments | AzureRoleEligibility | AzureRoleDefinitions | AzurePolicyAssignments
            | AzureDiagnosticSettings | AzureLighthouse => Cloud::Azure,
            GcpHierarchy | GcpAssetSearch | GcpIamPolicy | GcpServiceAccounts | GcpOrgPolicies | GcpLogging | GcpCustomRoles | GcpPredefinedRoles => Cloud::Gcp,
        }
    }

    /// The cloud service this dataset comes from (the `service` of a coverage entry).
    pub fn service(self) -> &'static str {
        use Dataset::*;
        match self {
            AwsAuthorizationDetails | AwsCredentialReport | AwsAccountSummary | AwsPasswordPolicy
            | AwsIdentityProviders | AwsMfaDevices | AwsUserCredentials => "iam",
            AwsOrganization => "organizations",
            AwsCloudTrail | AwsTrailEvents => "cloudtrail",
            AwsAccessAnalyzer => "accessanalyzer",
            AwsEc2Metadata | AwsEc2MetadataDefaults | AwsEnabledRegions => "ec2",
            AzureScopes => "managementgroups",
            AzureUsers | AzureSignInActivity | AzureRegistrationDetails | AzureApplications | AzureServicePrincipals
            | AzureDirectoryRoles | AzureDirectoryRoleEligibility | AzureDirectoryRoleDefinitions | AzureGroupMembers | AzureDirectoryReads => "entra",
            AzureRoleAssignments | AzureRoleEligibility | AzureRoleDefinitions | AzurePolicyAssignments => "authorization",
            AzureDiagnosticSettings => "monitor",
            AzureLighthouse => "managedservices",
            GcpHierarchy | GcpIamPolicy => "resourcemanager",
            GcpAssetSearch => "cloudasset",
            GcpOrgPolicies => "orgpolicy",
            GcpServiceAccounts | GcpCustomRoles | GcpPredefinedRoles => "iam",
            GcpLogging => "logging",
        }
    }

    /// A short human description, used in `not_evaluated` messages.
    pub fn describe(self) -> &'static str {
        use Dataset::*;
        match self {
            AwsAuthorizationDetails => "the IAM authorization details (users, groups, roles, policies)",
            AwsCredentialReport => "the IAM credential report",
            AwsAccountSummary => "the IAM account summary",
            AwsPasswordPolicy => "the IAM account password policy",
            AwsIdentityProviders => "the IAM OIDC and SAML providers",
            AwsMfaDevices => "the IAM virtual MFA devices",
            AwsUserCredentials => "the named IAM users' credentials (read user by user)",
            AwsTrailEvents => "the CloudTrail events of the incident window (IAM changes)",
            AwsEnabledRegions => "the list of enabled regions",
            AwsOrganization => "the AWS Organizations structure and SCPs",
            AwsCloudTrail => "the CloudTrail trails",
            AwsAccessAnalyzer => "the IAM Access Analyzer analyzers and findings",
            AwsEc2Metadata => "the EC2 instance metadata options",
            AwsEc2MetadataDefaults => "the EC2 account-level instance metadata defaults",
            AzureScopes => "the Azure management groups and subscriptions",
            AzureUsers => "the Entra ID users",
            AzureSignInActivity => "the Entra ID users' sign-in activity",
            AzureRegistrationDetails => "the Entra ID authentication-method registrations",
            AzureApplications => "the Entra ID app registrations and their credentials",
            AzureServicePrincipals => "the Entra ID service principals and managed identities",
            AzureDirectoryRoles => "the Entra ID directory role assignments",
            AzureDirectoryRoleEligibility => "the Entra ID eligible (PIM) directory role assignments",
            AzureDirectoryRoleDefinitions => "the Entra ID directory role definitions",
            AzureGroupMembers => "the members of groups that hold privileged roles",
            AzureDirectoryReads => "the incident's Entra principals (read one by one)",
            AzureRoleAssignments => "the Azure role assignments",
            AzureRoleEligibility => "the Azure eligible (PIM) role assignments",
            AzureRoleDefinitions => "the Azure role definitions",
            AzurePolicyAssignments => "the Azure Policy assignments",
            AzureDiagnosticSettings => "the subscription diagnostic settings",
            AzureLighthouse => "the Azure Lighthouse delegations",
            GcpHierarchy => "the GCP organization, folders and projects",
            GcpAssetSearch => "the Cloud Asset Inventory search of IAM policies",
            GcpIamPolicy => "the GCP IAM policies",
            GcpServiceAccounts => "the GCP service accounts and keys",
            GcpOrgPolicies => "the GCP organization policies",
            GcpLogging => "the GCP log sinks",
            GcpCustomRoles => "the GCP custom role definitions",
            GcpPredefinedRoles => "the GCP predefined role definitions",
        }
    }

    /// How a user can supply this dataset: file flags and the read permissions a live scan needs.
    pub fn how_to_provide(self) -> &'static str {
        use Dataset::*;
        match self {
            AwsAuthorizationDetails => {
                "--aws-authorization-details FILE, or a live scan with iam:GetAccountAuthorizationDetails"
            }
            AwsCredentialReport => {
                "--aws-credential-report FILE, or a live scan with iam:GenerateCredentialReport and iam:GetCredentialReport"
            }
            AwsAccountSummary => "--aws-account-summary FILE, or a live scan with iam:GetAccountSummary",
            AwsPasswordPolicy => {
                "--aws-password-policy FILE, or a live scan with iam:GetAccountPasswordPolicy"
            }
            AwsIdentityProviders => {
                "a live scan with iam:ListOpenIDConnectProviders and iam:ListSAMLProviders"
            }
            AwsMfaDevices => "a live scan with iam:ListVirtualMFADevices",
            AwsTrailEvents => "a live verify (--aws) with cloudtrail:LookupEvents",
            AwsUserCredentials => {
                "a live verify (--aws) with iam:ListAccessKeys, iam:GetLoginProfile, iam:ListSigningCertificates, iam:ListServiceSpecificCredentials and iam:ListMFADevices"
            }
            AwsEnabledRegions => "a live scan with ec2:DescribeRegions, or --aws-regions r1,r2",
            AwsOrganization => "a live scan (--aws) of the management account with organizations:Describe*/List*",
            AwsCloudTrail => "a live scan with cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus and cloudtrail:GetEventSelectors",
            AwsAccessAnalyzer => "a live scan with access-analyzer:ListAnalyzers and access-analyzer:ListFindings",
            AwsEc2Metadata => "a live scan with ec2:DescribeInstances",
            AwsEc2MetadataDefaults => "a live scan with ec2:GetInstanceMetadataDefaults",
            AzureScopes => "a live Azure scan (--azure) with Microsoft.Management/managementGroups/read",
            AzureUsers => "a live Azure scan (--azure) with the Graph permission User.Read.All",
            AzureSignInActivity => {
                "a live Azure scan (--azure) with the Graph permission AuditLog.Read.All in a tenant with Entra ID P1"
            }
            AzureRegistrationDetails => {
                "a live Azure scan (--azure) with the Graph permission AuditLog.Read.All in a tenant with Entra ID P1"
            }
            AzureApplications | AzureServicePrincipals => {
                "a live Azure scan (--azure) with the Graph permission Application.Read.All"
            }
            AzureDirectoryRoles => "a live Azure scan (--azure) with the Graph permission RoleManagement.Read.Directory",
            AzureDirectoryRoleEligibility => {
                "a live Azure scan (--azure) with the Graph permission RoleEligibilitySchedule.Read.Directory in a tenant with Entra ID P2"
            }
            AzureDirectoryRoleDefinitions => "a live Azure scan (--azure) with the Graph permission RoleManagement.Read.Directory",
            AzureGroupMembers => "a live Azure scan (--azure) with the Graph permission GroupMember.Read.All",
            AzureDirectoryReads => "a live verify (--azure) with the Graph permissions User.Read.All and Application.Read.All",
            AzureRoleAssignments => "a live Azure scan (--azure) with Microsoft.Authorization/roleAssignments/read",
            AzureRoleEligibility => {
                "a live Azure scan (--azure) with Microsoft.Authorization/roleEligibilityScheduleInstances/read"
            }
            AzureRoleDefinitions => "a live Azure scan (--azure) with Microsoft.Authorization/roleDefinitions/read",
            AzurePolicyAssignments => "a live Azure scan (--azure) with Microsoft.Authorization/policyAssignments/read",
            AzureDiagnosticSettings => "a live Azure scan (--azure) with Microsoft.Insights/diagnosticSettings/read",
            AzureLighthouse => "a live Azure scan (--azure) with Microsoft.ManagedServices/registrationAssignments/read",
            GcpHierarchy => "a live GCP scan (--gcp) with resourcemanager.folders.list and resourcemanager.projects.list",
            GcpAssetSearch => "a live GCP scan (--gcp) with cloudasset.assets.searchAllIamPolicies and the Cloud Asset API enabled",
            GcpIamPolicy => "a live GCP scan (--gcp) with resourcemanager.*.getIamPolicy (or the Cloud Asset search)",
            GcpServiceAccounts => "a live GCP scan (--gcp) with iam.serviceAccounts.list and iam.serviceAccountKeys.list",
            GcpOrgPolicies => "a live GCP scan (--gcp) with orgpolicy.policies.getEffectivePolicy",
            GcpLogging => "a live GCP scan (--gcp) with logging.sinks.list",
            GcpCustomRoles => "a live GCP scan (--gcp) with iam.roles.list",
            GcpPredefinedRoles => "a live GCP scan (--gcp): IAM roles.list without a parent (the predefined roles, with their permissions)",
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The serde name, so messages and JSON agree.
        let v = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        f.write_str(v.as_str().unwrap_or("dataset"))
    }
}

/// A node of a cloud's scope tree (AWS org root/OU/account, Azure tenant/management group/
/// subscription, GCP organization/folder/project). Kept as a flat list with parent links.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeNode {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub kind: ScopeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Lifecycle state as the cloud reports it (ACTIVE, SUSPENDED, Enabled, DELETE_REQUESTED …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    AwsOrganizationRoot,
    AwsOrganizationalUnit,
    AwsAccount,
    AzureTenant,
    AzureManagementGroup,
    AzureSubscription,
    GcpOrganization,
    GcpFolder,
    GcpProject,
}

/// A point in time, serialized as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Now, to the whole second: reports and snapshots print times without fractions.
    pub fn now() -> Self {
        let t = OffsetDateTime::now_utc();
        Timestamp(t.replace_nanosecond(0).unwrap_or(t))
    }

    /// Milliseconds since the Unix epoch (OCSF's `timestamp_t`).
    pub fn unix_millis(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    pub fn parse(s: &str) -> Result<Self, time::error::Parse> {
        let s = s.trim();
        if let Some(t) = Self::parse_utc_seconds(s) {
            return Ok(t);
        }
        OffsetDateTime::parse(s, &Rfc3339).map(|t| Timestamp(t.to_offset(time::UtcOffset::UTC)))
    }

    /// Fast path for the forms AWS writes millions of: `2024-01-31T12:00:00Z` and
    /// `2024-01-31T12:00:00+00:00`. Anything else (fractions, other offsets, invalid dates) goes
    /// through the full RFC 3339 parser.
    fn parse_utc_seconds(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let utc = match b.len() {
            20 => b[19] == b'Z',
            25 => &b[19..] == b"+00:00",
            _ => false,
        };
        if !utc || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
        };
        let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
        let date = time::Date::from_calendar_date(i32::try_from(num(0..4)?).ok()?, month, u8::try_from(num(8..10)?).ok()?).ok()?;
        let clock = time::Time::from_hms(u8::try_from(num(11..13)?).ok()?, u8::try_from(num(14..16)?).ok()?, u8::try_from(num(17..19)?).ok()?).ok()?;
        Some(Timestamp(time::PrimitiveDateTime::new(date, clock).assume_utc()))
    }

    /// Whole days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).whole_days()
    }

    /// From seconds and nanoseconds since the Unix epoch (what the AWS SDK's `DateTime` holds).
    pub fn from_unix(secs: i64, nanos: u32) -> Option<Self> {
        let t = OffsetDateTime::from_unix_timestamp(secs).ok()?;
        Some(Timestamp(t + time::Duration::nanoseconds(i64::from(nanos))))
    }

    pub fn to_rfc3339(self) -> String {
        // Rfc3339 formatting only fails for years outside 0..=9999, which parsing never produces.
        self.0.format(&Rfc3339).unwrap_or_else(|_| self.0.to_string())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s)
            .map_err(|e| serde::de::Error::custom(format!("invalid RFC 3339 timestamp {s:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collected_serializes_externally_tagged_and_defaults_to_not_requested() {
        let c: Collected<u32> = Collected::Denied { action: "iam:GetCredentialReport".into(), message: None };
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, r#"{"denied":{"action":"iam:GetCredentialReport"}}"#);
        let back: Collected<u32> = serde_json::from_str(&j).unwrap();
        assert_eq!(back, c);
        let nr: Collected<u32> = serde_json::from_str(r#""not_requested""#).unwrap();
        assert!(nr.is_not_requested());
    }

    #[test]
    fn require_names_the_missing_permission() {
        let c: Collected<u32> = Collected::Denied { action: "iam:GetCredentialReport".into(), message: None };
        let m = c.require(Dataset::AwsCredentialReport).unwrap_err();
        assert!(m.to_string().contains("missing permission iam:GetCredentialReport"), "{m}");
        let nr: Collected<u32> = Collected::NotRequested;
        let m = nr.require(Dataset::AwsCredentialReport).unwrap_err();
        assert!(m.to_string().contains("--aws-credential-report"), "{m}");
    }

    #[test]
    fn merge_prefers_collected_and_rejects_two_values() {
        let mut a: Collected<u32> = Collected::NotRequested;
        a.merge(Collected::Collected(1), "s", Dataset::AwsCredentialReport).unwrap();
        assert_eq!(a, Collected::Collected(1));
        a.merge(Collected::Failed { error: "x".into() }, "s", Dataset::AwsCredentialReport).unwrap();
        assert_eq!(a, Collected::Collected(1));
        assert!(a.merge(Collected::Collected(2), "s", Dataset::AwsCredentialReport).is_err());
    }

    #[test]
    fn timestamps_parse_aws_spellings_and_normalize_to_utc() {
        let t = Timestamp::parse("2014-09-08T21:28:13+00:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2014-09-08T21:28:13Z");
        let t2 = Timestamp::parse("2014-09-08T23:28:13.123+02:00").unwrap();
        assert_eq!(t2.0.unix_timestamp(), t.0.unix_timestamp());
        assert!(Timestamp::parse("yesterday").is_err());
        // Fast path and full parser agree; invalid dates are still rejected.
        assert_eq!(Timestamp::parse("2024-02-29T23:59:59Z").unwrap().to_rfc3339(), "2024-02-29T23:59:59Z");
        assert!(Timestamp::parse("2023-02-29T00:00:00Z").is_err());
        assert!(Timestamp::parse("2023-13-01T00:00:00Z").is_err());
        assert!(Timestamp::parse("2023-01-01T24:00:00Z").is_err());
        assert!(Timestamp::parse("2023-01-01T00:00:00+01:00").unwrap() < Timestamp::parse("2023-01-01T00:00:00Z").unwrap());
        assert!(Timestamp::parse("2023-0a-01T00:00:00Z").is_err());
        assert_eq!(t.days_until(Timestamp::parse("2014-09-18T21:28:13Z").unwrap()), 10);
    }

    #[test]
    fn dataset_display_matches_serde_name() {
        assert_eq!(Dataset::AwsCredentialReport.to_string(), "aws_credential_report");
    }
}
