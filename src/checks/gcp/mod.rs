//! GCP checks: one file per check; what several share here.
//!
//! A project's effective allow policy is its own plus every folder's and the organization's above
//! it (`GcpInventory::effective_iam`); a level that was not read makes the check `not_evaluated`.
//! Roles are matched by id, exactly: `roles/editor` is Editor, `roles/accessapproval.configEditor`
//! is not.

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

/// Owner, Editor, or a predefined role whose name says administrator (`roles/storage.admin`,
/// `roles/iam.serviceAccountAdmin`, `roles/compute.instanceAdmin.v1`). Matched on the parts of the
/// id, never as a substring of the title.
pub fn privileged_role(role: &str) -> bool {
    let Some(name) = role.strip_prefix("roles/") else { return false };
    if name == "owner" || name == "editor" {
        return true;
    }
    name.split('.').skip(1).any(|part| part == "admin" || part.ends_with("Admin"))
}

/// The domain of a `user:`, `group:` or `domain:` member (lower-case); `None` for everything else.
pub fn member_domain(member: &str) -> Option<String> {
    let (kind, rest) = member.split_once(':')?;
    let rest = rest.split('?').next().unwrap_or(rest);
    match kind {
        "user" | "group" => rest.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()),
        "domain" => Some(rest.to_ascii_lowercase()),
        _ => None,
    }
}

pub fn is_public(member: &str) -> bool {
    member == "allUsers" || member == "allAuthenticatedUsers"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileged_roles_match_ids_not_substrings() {
        for r in ["roles/owner", "roles/editor", "roles/storage.admin", "roles/iam.serviceAccountAdmin", "roles/compute.instanceAdmin.v1", "roles/resourcemanager.organizationAdmin"] {
            assert!(privileged_role(r), "{r}");
        }
        for r in ["roles/accessapproval.configEditor", "roles/viewer", "roles/storage.objectViewer", "roles/iam.securityReviewer", "roles/admin.thing.viewer", "projects/p/roles/customAdmin", "roles/editorial.viewer"] {
            assert!(!privileged_role(r), "{r}");
        }
    }

    #[test]
    fn member_domains() {
        assert_eq!(member_domain("user:Jane@Gmail.com").as_deref(), Some("gmail.com"));
        assert_eq!(member_domain("group:ops@example.com").as_deref(), Some("example.com"));
        assert_eq!(member_domain("domain:partner.io").as_deref(), Some("partner.io"));
        assert_eq!(member_domain("deleted:user:old@gmail.com?uid=123"), None);
        assert_eq!(member_domain("serviceAccount:x@p.iam.gserviceaccount.com"), None);
        assert_eq!(member_domain("allUsers"), None);
    }
}
