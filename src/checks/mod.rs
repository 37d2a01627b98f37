//! Checks: one file per check (file stem = check id), metadata in `checks/<cloud>/<id>.toml`.
//!
//! A check is a pure function of one scope's inventory (an AWS account, …). It emits a finding per
//! resource it evaluated and returns [`Missing`] when the data it needs was not collected; the
//! engine turns that into `not_evaluated`. The registry below is the one list of all checks.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod catalogue;
pub mod compliance;
mod meta;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;

pub use meta::{CheckMeta, MetaError};

use crate::finding::{Evidence, Finding, Resource, Status};
use crate::inventory::aws::AwsAccount;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing, ScopeNode, Timestamp};

/// The kind of scope a check runs over: the engine runs it once per scope of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    AwsAccount,
    AzureTenant,
    AzureSubscription,
    GcpOrganization,
    GcpProject,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::AwsAccount => "aws_account",
            ScopeKind::AzureTenant => "azure_tenant",
            ScopeKind::AzureSubscription => "azure_subscription",
            ScopeKind::GcpOrganization => "gcp_organization",
            ScopeKind::GcpProject => "gcp_project",
        }
    }
}

/// A check's code, typed by the scope it runs over. Each cloud's context (its organization, the
/// allow-lists, cross-scope indexes) lives beside that cloud's checks.
#[derive(Clone, Copy)]
pub enum Runner {
    AwsAccount(for<'a> fn(&'a AwsAccount, &aws::AwsContext<'a>, &mut Cx<'_, 'a>) -> Result<(), Missing>),
    AzureTenant(for<'a> fn(&'a AzureTenant, &mut Cx<'_, 'a>) -> Result<(), Missing>),
    AzureSubscription(for<'a> fn(&'a AzureSubscription, &'a AzureTenant, &mut Cx<'_, 'a>) -> Result<(), Missing>),
    GcpOrganization(for<'a> fn(&'a ScopeNode, &'a GcpInventory, &mut Cx<'_, 'a>) -> Result<(), Missing>),
    GcpProject(for<'a> fn(&'a GcpProject, &'a GcpInventory, &mut Cx<'_, 'a>) -> Result<(), Missing>),
}

impl Runner {
    pub fn scope(&self) -> ScopeKind {
        match self {
            Runner::AwsAccount(_) => ScopeKind::AwsAccount,
            Runner::AzureTenant(_) => ScopeKind::AzureTenant,
            Runner::AzureSubscription(_) => ScopeKind::AzureSubscription,
            Runner::GcpOrganization(_) => ScopeKind::GcpOrganization,
            Runner::GcpProject(_) => ScopeKind::GcpProject,
        }
    }
}

/// One registry row: the check's code, its metadata text, the datasets and thresholds it reads.
pub struct Registered {
    pub id: &'static str,
    pub metadata: &'static str,
    pub runner: Runner,
    /// Everything the check reads; collection reads only the datasets of the selected checks.
    pub datasets: &'static [Dataset],
    pub params: &'static [&'static str],
}

macro_rules! azure_tenant {
    ($id:ident) => {
        Registered {
            id: stringify!($id),
            metadata: include_str!(concat!("../../checks/azure/", stringify!($id), ".toml")),
            runner: Runner::AzureTenant(azure::$id::run),
            datasets: azure::$id::DATASETS,
            params: azure::$id::PARAMS,
        }
    };
}

macro_rules! azure_subscription {
    ($id:ident) => {
        Registered {
            id: stringify!($id),
            metadata: include_str!(concat!("../../checks/azure/", stringify!($id), ".toml")),
            runner: Runner::AzureSubscription(azure::$id::run),
            datasets: azure::$id::DATASETS,
            params: azure::$id::PARAMS,
        }
    };
}

macro_rules! gcp_project {
    ($id:ident) => {
        Registered {
            id: stringify!($id),
            metadata: include_str!(concat!("../../checks/gcp/", stringify!($id), ".toml")),
            runner: Runner::GcpProject(gcp::$id::run),
            datasets: gcp::$id::DATASETS,
            params: gcp::$id::PARAMS,
        }
    };
}

macro_rules! gcp_organization {
    ($id:ident) => {
        Registered {
            id: stringify!($id),
            metadata: include_str!(concat!("../../checks/gcp/", stringify!($id), ".toml")),
            runner: Runner::GcpOrganization(gcp::$id::run),
            datasets: gcp::$id::DATASETS,
            params: gcp::$id::PARAMS,
        }
    };
}

macro_rules! aws {
    ($id:ident) => {
        Registered {
            id: stringify!($id),
            metadata: include_str!(concat!("../../checks/aws/", stringify!($id), ".toml")),
            runner: Runner::AwsAccount(aws::$id::run),
            datasets: aws::$id::DATASETS,
            params: aws::$id::PARAMS,
        }
    };
}

/// Every check, in report order.
pub static REGISTRY: &[Registered] = &[
    aws!(aws_iam_root_access_key_absent),
    aws!(aws_iam_root_mfa_enabled),
    aws!(aws_iam_root_hardware_mfa),
    aws!(aws_iam_user_console_mfa_enabled),
    aws!(aws_iam_access_key_rotated),
    aws!(aws_iam_access_key_recently_used),
    aws!(aws_iam_user_single_active_key),
    aws!(aws_iam_password_policy_strong),
    aws!(aws_iam_role_trust_not_public),
    aws!(aws_iam_role_cross_account_trust_restricted),
    aws!(aws_iam_role_oidc_trust_subject_restricted),
    aws!(aws_iam_principal_privilege_escalation),
    aws!(aws_cloudtrail_multi_region_management_events),
    aws!(aws_cloudtrail_log_file_validation),
    aws!(aws_cloudtrail_kms_encryption),
    aws!(aws_organizations_scp_protects_cloudtrail),
    aws!(aws_organizations_scp_denies_leave),
    aws!(aws_organizations_scp_restricts_root),
    aws!(aws_accessanalyzer_enabled),
    aws!(aws_accessanalyzer_no_active_findings),
    aws!(aws_ec2_instance_imdsv2_required),
    aws!(aws_ec2_account_imdsv2_default),
    azure_tenant!(azure_entra_user_mfa_registered),
    azure_tenant!(azure_entra_privileged_role_mfa_registered),
    azure_tenant!(azure_entra_privileged_role_holder_recently_active),
    azure_tenant!(azure_entra_app_credential_lifetime_limited),
    azure_subscription!(azure_rbac_guest_privileged_role_absent),
    azure_subscription!(azure_rbac_subscription_owner_count_limited),
    azure_subscription!(azure_rbac_custom_role_no_wildcard),
    azure_subscription!(azure_rbac_principal_privilege_escalation),
    azure_subscription!(azure_lighthouse_delegation_restricted),
    azure_subscription!(azure_monitor_activity_log_exported),
    gcp_project!(gcp_iam_no_public_access),
    gcp_project!(gcp_iam_members_in_allowed_domains),
    gcp_project!(gcp_iam_service_account_not_privileged),
    gcp_project!(gcp_iam_service_account_user_managed_key_absent),
    gcp_project!(gcp_iam_service_account_key_rotated),
    gcp_project!(gcp_iam_impersonation_inside_organization),
    gcp_project!(gcp_iam_principal_privilege_escalation),
    gcp_project!(gcp_logging_data_access_audit_enabled),
    gcp_project!(gcp_orgpolicy_key_constraints_enforced),
    gcp_organization!(gcp_logging_org_aggregated_sink),
];

/// A registered check with its parsed metadata.
pub struct Check {
    pub meta: CheckMeta,
    pub runner: Runner,
    pub datasets: &'static [Dataset],
    pub params: &'static [&'static str],
}

impl Check {
    pub fn scope(&self) -> ScopeKind {
        self.runner.scope()
    }
}

/// All checks, metadata parsed and validated once.
pub fn all() -> Result<&'static [Check], MetaError> {
    static CHECKS: OnceLock<Result<Vec<Check>, MetaError>> = OnceLock::new();
    CHECKS
        .get_or_init(|| {
            REGISTRY
                .iter()
                .map(|r| {
                    let meta = CheckMeta::parse(r.metadata, r.id)?;
                    for p in r.params {
                        if !meta.params.contains_key(*p) {
                            return Err(MetaError { id: r.id.to_string(), message: format!("code reads parameter {p:?} that the metadata does not declare") });
                        }
                    }
                    if r.datasets.is_empty() || r.datasets.iter().any(|d| d.cloud() != meta.cloud) {
                        return Err(MetaError { id: r.id.to_string(), message: "the registry must declare the datasets the check reads, all of its cloud".into() });
                    }
                    Ok(Check { meta, runner: r.runner, datasets: r.datasets, params: r.params })
                })
                .collect::<Result<Vec<_>, _>>()
                .and_then(|v| compliance::validate(&v).map(|()| v))
        })
        .as_deref()
        .map_err(Clone::clone)
}

pub fn find(id: &str) -> Result<Option<&'static Check>, MetaError> {
    Ok(all()?.iter().find(|c| c.meta.id == id))
}

/// What a check sees while it runs: thresholds, the scan time, and where to put findings.
/// `'a` is the inventory's lifetime: findings borrow names and ids from it.
pub struct Cx<'c, 'a> {
    pub(crate) meta: &'c CheckMeta,
    pub(crate) params: &'c BTreeMap<String, i64>,
    pub now: Timestamp,
    /// Allow-lists and limits from the configuration.
    pub settings: &'c crate::settings::Settings,
    /// The scope's id (AWS account, Azure subscription or tenant, GCP project or organization).
    pub(crate) account: &'a str,
    pub(crate) out: &'c mut Vec<Finding<'a>>,
}

impl<'a> Cx<'_, 'a> {
    /// A threshold, from the metadata default or the configuration.
    pub fn param(&self, name: &str) -> i64 {
        self.params.get(name).copied().unwrap_or_default()
    }

    pub fn pass(&mut self, resource: Resource<'a>, message: impl Into<String>) -> &mut Finding<'a> {
        self.emit(Status::Pass, resource, message.into())
    }

    pub fn fail(&mut self, resource: Resource<'a>, message: impl Into<String>) -> &mut Finding<'a> {
        self.emit(Status::Fail, resource, message.into())
    }

    /// This resource could not be judged (its data is incomplete); never a pass.
    pub fn not_evaluated(&mut self, resource: Resource<'a>, message: impl Into<String>) -> &mut Finding<'a> {
        self.emit(Status::NotEvaluated, resource, message.into())
    }

    /// A finding for data this check needed and could not have (the dataset or part of it).
    pub fn missing(&mut self, resource: Resource<'a>, missing: &Missing) -> &mut Finding<'a> {
        let (permission, licence) = match &missing.state {
            crate::inventory::CoverageState::Denied { action, .. } => (Some(action.clone()), None),
            crate::inventory::CoverageState::Unlicensed { licence, .. } => (None, Some(licence.clone())),
            _ => (None, None),
        };
        let f = self
            .emit(Status::NotEvaluated, resource, format!("not evaluated: {missing}"))
            .with("dataset", missing.dataset.to_string())
            .with("coverage", missing.state.label())
            .with("missing_permission", permission);
        if let Some(l) = licence {
            f.with("missing_licence", l);
        }
        f
    }

    fn emit(&mut self, status: Status, resource: Resource<'a>, message: String) -> &mut Finding<'a> {
        self.out.push(Finding {
            check_id: self.meta.id_static,
            status,
            severity: self.meta.severity,
            category: self.meta.category,
            cloud: self.meta.cloud,
            account: self.account,
            region: None,
            resource,
            message,
            detail: None,
            evidence: Evidence::default(),
        });
        let last = self.out.len() - 1;
        &mut self.out[last]
    }
}

/// The registered id closest to `id`, if one is close enough to be a likely typo.
pub fn did_you_mean<'c>(id: &str, known: impl Iterator<Item = &'c str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = edit_distance(id, k);
        if best.is_none_or(|(b, _)| d < b) {
            best = Some((d, k));
        }
    }
    best.filter(|(d, k)| *d <= (k.len() / 4).max(2)).map(|(_, k)| k.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Does `pattern` (an id, or a `*` pattern like `aws_iam_*`) select `id`?
pub fn id_matches(pattern: &str, id: &str) -> bool {
    crate::policy::arn::wildcard_match(pattern, id)
}

/// The resource a scope-wide finding is about: the account, subscription, tenant or project.
pub fn scope_resource(kind: ScopeKind, id: &str) -> Resource<'_> {
    Resource { id: id.into(), name: id.into(), kind: kind.as_str() }
}

