//! GCP checks: one file per check; what several share here.
//!
//! A project's effective allow policy is its own plus every folder's and the organization's above
//! it (`GcpInventory::effective_iam`); a level that was not read makes the check `not_evaluated`.
//! What a role grants is asked of the GCP privilege model (`crate::reach::gcp`), by the role's
//! permissions: no check keeps a list of role names.

pub mod gcp_iam_impersonation_inside_organization;
pub mod gcp_iam_members_in_allowed_domains;
pub mod gcp_iam_principal_privilege_escalation;
pub mod gcp_iam_no_public_access;
pub mod gcp_iam_service_account_key_rotated;
pub mod gcp_iam_service_account_not_privileged;
pub mod gcp_iam_service_account_user_managed_key_absent;
pub mod gcp_logging_data_access_audit_enabled;
pub mod gcp_logging_org_aggregated_sink;
pub mod gcp_orgpolicy_key_constraints_enforced;

use std::borrow::Cow;

use crate::finding::Resource;
use crate::inventory::gcp::{GcpProject, ServiceAccount, ServiceAccountKey};

pub fn project_resource(p: &GcpProject) -> Resource<'_> {
    Resource { id: Cow::Owned(format!("//cloudresourcemanager.googleapis.com/projects/{}", p.project_id)), name: p.project_id.as_str().into(), kind: "gcp_resourcemanager_project" }
}

pub fn service_account_resource<'a>(p: &GcpProject, sa: &'a ServiceAccount) -> Resource<'a> {
    Resource {
        id: Cow::Owned(format!("//iam.googleapis.com/projects/{}/serviceAccounts/{}", p.project_id, sa.email)),
        name: sa.email.as_str().into(),
        kind: "gcp_iam_service_account",
    }
}

/// A key the user holds (downloaded or uploaded) and that still works.
pub fn live_user_managed(k: &ServiceAccountKey) -> bool {
    k.key_type.eq_ignore_ascii_case("USER_MANAGED") && !k.disabled
}

pub use crate::reach::gcp_member::is_public;
