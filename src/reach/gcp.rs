//! GCP privilege: what a role lets its holder do, decided by the role's permissions.
//!
//! Every GCP check that asks about privilege asks this one model: escalation, privileged service
//! accounts, impersonation. A role is known by its definition, never by its name:
//!
//! - a predefined role (`roles/…`) by the permissions IAM lists for it (`roles.list` without a
//!   parent, full view, read once per scan: `GcpInventory::predefined_roles`);
//! - a custom role (`projects/<id>/roles/…`, `organizations/<n>/roles/…`) by its definition
//!   (`GcpInventory::custom_role`), granting nothing while it is deleted or disabled.
//!
//! A role whose definition was not read is `Err(Missing)`, naming the role and what to read: its
//! holders are `not_evaluated`, never "not privileged". The only lists here are of permissions;
//! no role name decides anything.
//!
//! The questions, each from permissions:
//!
//! - **sets allow policies** of a project: `resourcemanager.projects.setIamPolicy`, or, granted on
//!   a folder or the organization above it, `resourcemanager.folders.setIamPolicy` /
//!   `resourcemanager.organizations.setIamPolicy` ([`Powers::sets_policy`]);
//! - **gets tokens or keys** for a service account ([`TOKEN_PERMISSIONS`]): `getAccessToken`,
//!   `signJwt`, `signBlob`, `serviceAccountKeys.create`, and the account's `setIamPolicy` (grants
//!   itself a role that does); `getOpenIdToken` (identity tokens) and `implicitDelegation`
//!   (delegation through the account) count as impersonation;
//! - **acts as** a service account and **runs code** with it: `iam.serviceAccounts.actAs` with a
//!   permission that creates something running code ([`RUNS_CODE_PERMISSIONS`]), or a
//!   Google-managed account that runs what a member creates without `actAs`
//!   ([`RUNS_AS_GOOGLE_MANAGED`]);
//! - **enables** a disabled service account: `iam.serviceAccounts.enable` (a disabled account
//!   gives no tokens until then; `serviceAccounts.update` does not change that state);
//! - **rewrites roles**: `iam.roles.update` (change a custom role it holds), `iam.roles.create`;
//! - **owns**: Owner's powers over a project, its allow policy and its deletion
//!   (`resourcemanager.projects.setIamPolicy` and `resourcemanager.projects.delete`); or, granted on
//!   the organization, the organization's own allow policy (its administrators set every
//!   project's policy by design);
//! - **privileged** ([`Powers::privileged`]): any `*.setIamPolicy` permission (it shares what it
//!   guards, or grants roles), a token, key, delegation or `actAs` permission, a role-administrator
//!   permission (`iam.roles.create`, `iam.roles.update`), or org-policy administration
//!   (`orgpolicy.policy.set`, which lifts guardrails).

use std::collections::HashMap;

use crate::inventory::gcp::{GcpInventory, IamPolicy};
use crate::inventory::{CoverageState, Dataset, Missing};

/// Permissions that get a token or a key for a service account, or give their holder a role
/// that does: what each lets it do, in a finding's words (`{sa}` is the account).
pub const TOKEN_PERMISSIONS: &[(&str, &str)] = &[
    ("iam.serviceAccounts.getAccessToken", "get tokens for {sa}"),
    ("iam.serviceAccounts.signJwt", "sign a token request as {sa}"),
    ("iam.serviceAccounts.signBlob", "sign a token request as {sa}"),
    ("iam.serviceAccountKeys.create", "create a key for {sa}"),
    ("iam.serviceAccounts.setIamPolicy", "grant itself the token creator role on {sa}"),
];

/// Identity tokens (OpenID Connect) for the account: they authenticate as it to services that
/// accept them (Cloud Run, Cloud Functions, IAP), not to Google APIs.
pub const OPEN_ID_TOKEN: &str = "iam.serviceAccounts.getOpenIdToken";
/// Delegation through the account: it reaches what the account can act as, not its own roles.
pub const IMPLICIT_DELEGATION: &str = "iam.serviceAccounts.implicitDelegation";
pub const ACT_AS: &str = "iam.serviceAccounts.actAs";
/// An HMAC key for a service account: it signs Cloud Storage requests as the account (no actAs
/// asked), a credential of the account's though not a token for every API.
pub const HMAC_KEY_CREATE: &str = "storage.hmacKeys.create";
pub const ENABLE: &str = "iam.serviceAccounts.enable";
pub const ROLES_UPDATE: &str = "iam.roles.update";
pub const ROLES_CREATE: &str = "iam.roles.create";
pub const ORG_POLICY_SET: &str = "orgpolicy.policy.set";
pub const PROJECTS_SET_POLICY: &str = "resourcemanager.projects.setIamPolicy";
pub const FOLDERS_SET_POLICY: &str = "resourcemanager.folders.setIamPolicy";
pub const ORGANIZATIONS_SET_POLICY: &str = "resourcemanager.organizations.setIamPolicy";
pub const PROJECTS_DELETE: &str = "resourcemanager.projects.delete";

/// Permissions that create or change something that runs code as the service account attached
/// to it (with `iam.serviceAccounts.actAs`), or that calls Google APIs with its token (a
/// scheduler job, a task, a workflow).
pub const RUNS_CODE_PERMISSIONS: &[&str] = &[
    "compute.instances.create",
    "compute.instances.setServiceAccount",
    "compute.instanceTemplates.create",
    "cloudfunctions.functions.create",
    "cloudfunctions.functions.update",
    "run.services.create",
    "run.services.update",
    "run.jobs.create",
    "run.jobs.update",
    "cloudbuild.builds.create",
    "dataflow.jobs.create",
    "dataproc.clusters.create",
    "composer.environments.create",
    "container.clusters.create",
    "notebooks.instances.create",
    "aiplatform.customJobs.create",
    "cloudscheduler.jobs.create",
    "cloudtasks.tasks.create",
    "workflows.workflows.create",
    "deploymentmanager.deployments.create",
    "appengine.versions.create",
    "batch.jobs.create",
];

/// Reading secrets and using keys: a Secret Manager secret's value, a Cloud KMS key's decrypt or
/// sign. Asked by `blast-radius` ("read secrets and keys"); tokens and keys for service accounts
/// are [`TOKEN_PERMISSIONS`].
pub const SECRETS_AND_KEYS_PERMISSIONS: &[&str] = &[
    "secretmanager.versions.access",
    "cloudkms.cryptoKeyVersions.useToDecrypt",
    "cloudkms.cryptoKeyVersions.useToDecryptViaDelegation",
    "cloudkms.cryptoKeyVersions.useToSign",
    "cloudkms.cryptoKeyVersions.destroy",
    "cloudkms.cryptoKeys.setIamPolicy",
    "secretmanager.secrets.setIamPolicy",
];

/// Changing what is logged or where logs go: deleting or redirecting sinks, excluding logs,
/// deleting log buckets or logs. A project's, folder's or organization's audit configuration is
/// part of its allow policy, so `resourcemanager.*.setIamPolicy` changes it too
/// ([`PROJECTS_SET_POLICY`], [`FOLDERS_SET_POLICY`], [`ORGANIZATIONS_SET_POLICY`]). Asked by
/// `blast-radius` ("change logging").
pub const LOGGING_PERMISSIONS: &[&str] = &[
    "logging.sinks.delete",
    "logging.sinks.update",
    "logging.exclusions.create",
    "logging.exclusions.update",
    "logging.buckets.delete",
    "logging.buckets.update",
    "logging.logs.delete",
    "logging.settings.update",
    PROJECTS_SET_POLICY,
    FOLDERS_SET_POLICY,
    ORGANIZATIONS_SET_POLICY,
];

/// Google-managed accounts that run what a project's members create, with no `actAs` asked: the
/// legacy Cloud Build account (`<number>@cloudbuild.gserviceaccount.com`) runs builds by default,
/// and the Google APIs service agent (`<number>@cloudservices.gserviceaccount.com`, Editor by
/// default) runs Deployment Manager deployments. Its domain, the permission that creates what it
/// runs, and the step in a finding's words.
pub const RUNS_AS_GOOGLE_MANAGED: &[(&str, &str, &str)] = &[
    ("cloudbuild.gserviceaccount.com", "cloudbuild.builds.create", "create a build, which runs as {sa} by default"),
    ("cloudservices.gserviceaccount.com", "deploymentmanager.deployments.create", "create a Deployment Manager deployment, which runs as {sa}"),
];

/// The Google-managed accounts among [`RUNS_AS_GOOGLE_MANAGED`] that hold a privileged role by
/// default: the Google APIs service agent is Editor. (The legacy Cloud Build account's default
/// role, `cloudbuild.builds.builder`, is judged by its permissions where it is granted.)
pub const PRIVILEGED_BY_DEFAULT: &[&str] = &["cloudservices.gserviceaccount.com"];

/// The Google-managed account kind of `email`'s domain, if it runs what members create: the
/// permission that does, and the step in a finding's words.
pub fn runs_as_google_managed(email: &str) -> Option<(&'static str, &'static str)> {
    let (_, domain) = email.rsplit_once('@')?;
    RUNS_AS_GOOGLE_MANAGED.iter().find(|(d, ..)| domain.eq_ignore_ascii_case(d)).map(|(_, p, w)| (*p, *w))
}

/// A custom role id (defined in a project or an organization), as bindings name it.
pub fn is_custom(role: &str) -> bool {
    role.starts_with("projects/") || role.starts_with("organizations/")
}

/// What one role's permissions let its holder do, computed once from its permission list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Powers<'a> {
    permissions: &'a [String],
    token: Option<(&'static str, &'static str)>,
    open_id: bool,
    delegation: bool,
    act_as: bool,
    runs_code: Option<&'static str>,
    enables: bool,
    updates_roles: bool,
    creates_roles: bool,
    /// `resourcemanager.{projects,folders,organizations}.setIamPolicy`.
    sets: [bool; 3],
    deletes_projects: bool,
    any_set_policy: Option<&'a str>,
    sets_org_policy: bool,
    hmac_keys: bool,
    /// Creates what a Google-managed account runs with no actAs asked ([`RUNS_AS_GOOGLE_MANAGED`]).
    runs_as_managed: Option<&'static str>,
    /// ... an account that is privileged by default ([`PRIVILEGED_BY_DEFAULT`]).
    runs_as_privileged: Option<&'static str>,
}

impl<'a> Powers<'a> {
    pub fn of(permissions: &'a [String]) -> Self {
        let mut p = Powers { permissions, ..Default::default() };
        for perm in permissions {
            let s = perm.as_str();
            if let Some(t) = TOKEN_PERMISSIONS.iter().find(|(t, _)| *t == s) {
                // The first in TOKEN_PERMISSIONS order, whatever the list's order.
                if p.token.is_none_or(|(cur, _)| TOKEN_PERMISSIONS.iter().position(|(x, _)| *x == t.0) < TOKEN_PERMISSIONS.iter().position(|(x, _)| *x == cur)) {
                    p.token = Some(*t);
                }
            }
            if let Some(r) = RUNS_CODE_PERMISSIONS.iter().find(|r| **r == s) {
                if p.runs_code.is_none_or(|cur| RUNS_CODE_PERMISSIONS.iter().position(|x| x == r) < RUNS_CODE_PERMISSIONS.iter().position(|x| *x == cur)) {
                    p.runs_code = Some(r);
                }
            }
            match s {
                OPEN_ID_TOKEN => p.open_id = true,
                IMPLICIT_DELEGATION => p.delegation = true,
                ACT_AS => p.act_as = true,
                ENABLE => p.enables = true,
                ROLES_UPDATE => p.updates_roles = true,
                ROLES_CREATE => p.creates_roles = true,
                PROJECTS_SET_POLICY => p.sets[0] = true,
                FOLDERS_SET_POLICY => p.sets[1] = true,
                ORGANIZATIONS_SET_POLICY => p.sets[2] = true,
                PROJECTS_DELETE => p.deletes_projects = true,
                ORG_POLICY_SET => p.sets_org_policy = true,
                HMAC_KEY_CREATE => p.hmac_keys = true,
                _ => {}
            }
            if let Some((domain, m, _)) = RUNS_AS_GOOGLE_MANAGED.iter().find(|(_, m, _)| *m == s) {
                p.runs_as_managed = Some(m);
                if PRIVILEGED_BY_DEFAULT.contains(domain) {
                    p.runs_as_privileged = Some(m);
                }
            }
            if s.ends_with(".setIamPolicy") && p.any_set_policy.is_none_or(|cur| s < cur) {
                p.any_set_policy = Some(s);
            }
        }
        p
    }

    /// The permissions, as read.
    pub fn permissions(&self) -> &'a [String] {
        self.permissions
    }

    pub fn grants(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// The first of `list` the role grants.
    pub fn first_of(&self, list: &[&'static str]) -> Option<&'static str> {
        list.iter().find(|p| self.grants(p)).copied()
    }

    /// A permission that gets a token or key for a service account the grant covers (or a role
    /// that does), with what it lets the holder do.
    pub fn token(&self) -> Option<(&'static str, &'static str)> {
        self.token
    }

    pub fn open_id_token(&self) -> bool {
        self.open_id
    }

    pub fn implicit_delegation(&self) -> bool {
        self.delegation
    }

    pub fn acts_as(&self) -> bool {
        self.act_as
    }

    /// A permission that creates something running code (as the account attached to it).
    pub fn runs_code(&self) -> Option<&'static str> {
        self.runs_code
    }

    /// `actAs` and a permission that runs code, in this one role.
    pub fn acts_as_running_code(&self) -> Option<&'static str> {
        self.runs_code.filter(|_| self.act_as)
    }

    /// The permission by which a holder may act as a service account the grant covers: a token
    /// or key, an identity token, delegation, or `actAs`.
    /// An HMAC key too, and creating what a Google-managed account runs (a build, a deployment):
    /// each acts with the credentials of an account the holder was never given.
    pub fn impersonates(&self) -> Option<&'static str> {
        self.token
            .map(|(p, _)| p)
            .or(self.open_id.then_some(OPEN_ID_TOKEN))
            .or(self.delegation.then_some(IMPLICIT_DELEGATION))
            .or(self.act_as.then_some(ACT_AS))
            .or(self.hmac_keys.then_some(HMAC_KEY_CREATE))
            .or(self.runs_as_managed)
    }

    pub fn enables_accounts(&self) -> bool {
        self.enables
    }

    /// Changes the custom roles the grant covers (`iam.roles.update`).
    pub fn rewrites_roles(&self) -> bool {
        self.updates_roles
    }

    /// The permission, granted at `levels[at]`, that sets the allow policy of the project
    /// `levels[0]` (directly, or through a folder or the organization above it). `levels` is a
    /// project's effective policy, the project first and the organization last.
    pub fn sets_policy(&self, levels: &[(&str, &IamPolicy)], at: usize) -> Option<&'static str> {
        let below = &levels[..=at.min(levels.len().saturating_sub(1))];
        if self.sets[0] {
            return Some(PROJECTS_SET_POLICY);
        }
        if self.sets[1] && below.iter().any(|(l, _)| l.starts_with("folders/")) {
            return Some(FOLDERS_SET_POLICY);
        }
        if self.sets[2] && below.iter().any(|(l, _)| l.starts_with("organizations/")) {
            return Some(ORGANIZATIONS_SET_POLICY);
        }
        None
    }

    /// Owns what it is granted on (`level`): Owner's powers over a project (its allow policy and
    /// its deletion), or, granted on the organization, the organization's own allow policy.
    pub fn owns(&self, level: &str) -> bool {
        (self.sets[0] && self.deletes_projects) || (level.starts_with("organizations/") && self.sets[2])
    }

    /// Why a holder of this role is privileged, by the permission that makes it so: any
    /// `*.setIamPolicy`, a token, key (HMAC keys included), delegation or `actAs` permission,
    /// creating what a Google-managed account privileged by default runs, role administration,
    /// or org-policy administration. `None`: none of these.
    pub fn privileged(&self) -> Option<&'a str> {
        // The strongest reason first: the resource hierarchy's policies, then impersonation, role
        // and org-policy administration, then any other resource's policy.
        let hierarchy = [PROJECTS_SET_POLICY, FOLDERS_SET_POLICY, ORGANIZATIONS_SET_POLICY];
        if let Some(i) = self.sets.iter().position(|s| *s) {
            return Some(hierarchy[i]);
        }
        if let Some(p) = self.token.map(|(p, _)| p).or(self.open_id.then_some(OPEN_ID_TOKEN)).or(self.delegation.then_some(IMPLICIT_DELEGATION)).or(self.act_as.then_some(ACT_AS)) {
            return Some(p);
        }
        if let Some(p) = self.hmac_keys.then_some(HMAC_KEY_CREATE).or(self.runs_as_privileged) {
            return Some(p);
        }
        if self.updates_roles {
            return Some(ROLES_UPDATE);
        }
        if self.creates_roles {
            return Some(ROLES_CREATE);
        }
        if self.sets_org_policy {
            return Some(ORG_POLICY_SET);
        }
        self.any_set_policy
    }
}

/// Every role definition the inventory holds, by id: the one place a GCP check learns what a
/// role grants.
pub struct Model<'a> {
    inv: &'a GcpInventory,
    roles: HashMap<&'a str, Powers<'a>>,
}

impl<'a> Model<'a> {
    pub fn new(inv: &'a GcpInventory) -> Self {
        let mut roles = HashMap::new();
        for r in inv.predefined_roles.get().into_iter().flatten() {
            roles.insert(r.name.as_str(), Powers::of(&r.permissions));
        }
        let custom = inv.projects.iter().filter_map(|p| p.custom_roles.get()).chain(inv.nodes.iter().filter_map(|n| n.custom_roles.get()));
        for r in custom.flatten() {
            if is_custom(&r.name) {
                roles.insert(r.name.as_str(), Powers::of(r.effective_permissions()));
            }
        }
        Model { inv, roles }
    }

    pub fn inventory(&self) -> &'a GcpInventory {
        self.inv
    }

    /// What `role` grants. `Err` names the role and what to read when its definition is unknown:
    /// the predefined roles or the defining project's or organization's custom roles were not
    /// read, or the role is not among them.
    pub fn permissions(&self, role: &str) -> Result<Powers<'a>, Missing> {
        if let Some(p) = self.roles.get(role) {
            return Ok(*p);
        }
        if is_custom(role) {
            // Not among those read: the inventory says why (which scope, which permission).
            return self.inv.custom_role(role).map(|r| Powers::of(r.effective_permissions()));
        }
        if role.starts_with("roles/") {
            return self.inv.predefined_role(role).map(|r| Powers::of(&r.permissions));
        }
        Err(Missing {
            dataset: Dataset::GcpPredefinedRoles,
            state: CoverageState::Partial { missing: format!("{role} is neither a predefined role (roles/…) nor a custom role of a project or organization: its permissions are unknown") },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::gcp::{CustomRole, GcpProject, PredefinedRole};
    use crate::inventory::Collected;

    fn perms(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    fn inv(predefined: Collected<Vec<PredefinedRole>>) -> GcpInventory {
        let mut inv = GcpInventory { predefined_roles: predefined, ..Default::default() };
        let mut p = GcpProject::unread("prod-app", &Collected::Collected(()), &Default::default());
        p.custom_roles = Collected::Collected(vec![
            CustomRole { name: "projects/prod-app/roles/minter".into(), permissions: perms(&["iam.serviceAccounts.signJwt"]), stage: Some("GA".into()), deleted: false },
            CustomRole { name: "projects/prod-app/roles/gone".into(), permissions: perms(&[PROJECTS_SET_POLICY]), stage: Some("GA".into()), deleted: true },
        ]);
        inv.projects.push(p);
        inv
    }

    fn role(name: &str, list: &[&str]) -> PredefinedRole {
        PredefinedRole { name: name.into(), permissions: perms(list), stage: Some("GA".into()) }
    }

    #[test]
    fn predefined_and_custom_roles_are_known_by_their_permissions_and_unknown_ones_are_missing() {
        // Real permission lists (excerpts where the role is large).
        let inv = inv(Collected::Collected(vec![
            role("roles/earthengine.appsPublisher", &["iam.serviceAccounts.enable", "iam.serviceAccounts.getIamPolicy", "iam.serviceAccounts.setIamPolicy"]),
            role("roles/backupdr.computeEngineOperator", &["compute.instances.create", "iam.serviceAccounts.actAs"]),
            role("roles/privilegedaccessmanager.projectServiceAgent", &["iam.roles.get", "resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"]),
            role("roles/viewer", &["resourcemanager.projects.get", "iam.serviceAccounts.get"]),
        ]));
        let m = Model::new(&inv);
        let p = m.permissions("roles/earthengine.appsPublisher").unwrap();
        assert_eq!(p.token().map(|t| t.0), Some("iam.serviceAccounts.setIamPolicy"));
        assert!(p.enables_accounts());
        let p = m.permissions("roles/backupdr.computeEngineOperator").unwrap();
        assert_eq!(p.acts_as_running_code(), Some("compute.instances.create"));
        assert_eq!(p.impersonates(), Some(ACT_AS));
        let p = m.permissions("roles/privilegedaccessmanager.projectServiceAgent").unwrap();
        let empty = IamPolicy::default();
        assert_eq!(p.sets_policy(&[("projects/1", &empty)], 0), Some(PROJECTS_SET_POLICY));
        assert!(!p.owns("projects/1"), "setting the policy is not owning");
        assert!(m.permissions("roles/viewer").unwrap().privileged().is_none());
        // Custom: by the definition, nothing while deleted.
        assert_eq!(m.permissions("projects/prod-app/roles/minter").unwrap().token().map(|t| t.0), Some("iam.serviceAccounts.signJwt"));
        assert!(m.permissions("projects/prod-app/roles/gone").unwrap().privileged().is_none());
        // Unknown: named, with what to read.
        let e = m.permissions("roles/iam.serviceAccountTokenCreator").unwrap_err();
        assert_eq!(e.dataset, Dataset::GcpPredefinedRoles);
        assert!(e.to_string().contains("roles/iam.serviceAccountTokenCreator"), "{e}");
        assert!(m.permissions("projects/prod-app/roles/other").unwrap_err().to_string().contains("not among"));
        assert!(m.permissions("organizations/9/roles/x").is_err());
        assert!(m.permissions("iam.serviceAccountTokenCreator").is_err(), "a malformed id is unknown, not harmless");
        // Predefined roles never read: every predefined role is unknown, naming the dataset.
        let unread = super::tests::inv(Collected::Denied { action: "iam.roles.list".into(), message: None });
        let e = Model::new(&unread).permissions("roles/viewer").unwrap_err();
        assert!(e.to_string().contains("iam.roles.list"), "{e}");
    }

    #[test]
    fn hmac_keys_and_what_google_managed_accounts_run_are_acting_as_an_account() {
        // roles/storage.hmacKeyAdmin (real permissions) and roles/deploymentmanager.editor (excerpt).
        let hmac = perms(&["storage.hmacKeys.create", "storage.hmacKeys.delete", "storage.hmacKeys.get", "storage.hmacKeys.list", "storage.hmacKeys.update"]);
        let p = Powers::of(&hmac);
        assert_eq!(p.impersonates(), Some(HMAC_KEY_CREATE));
        assert!(p.privileged().is_some());
        assert!(p.token().is_none(), "an HMAC key signs Cloud Storage requests only, not a token for every API");
        let dm = perms(&["deploymentmanager.deployments.create", "deploymentmanager.deployments.get"]);
        assert_eq!(Powers::of(&dm).impersonates(), Some("deploymentmanager.deployments.create"));
        assert!(Powers::of(&dm).privileged().is_some());
    }

    #[test]
    fn the_questions_follow_permissions() {
        let owner = perms(&[PROJECTS_SET_POLICY, PROJECTS_DELETE, "iam.serviceAccountKeys.create", ROLES_UPDATE]);
        let o = Powers::of(&owner);
        assert!(o.owns("projects/1") && o.owns("folders/2"));
        assert!(o.rewrites_roles());
        assert_eq!(o.token().map(|t| t.0), Some("iam.serviceAccountKeys.create"));
        let org_admin = perms(&[ORGANIZATIONS_SET_POLICY, FOLDERS_SET_POLICY, PROJECTS_SET_POLICY]);
        let a = Powers::of(&org_admin);
        assert!(a.owns("organizations/1") && !a.owns("folders/2"));
        // The token permission reported is the strongest, whatever the list's order.
        let mixed = perms(&["iam.serviceAccounts.setIamPolicy", "iam.serviceAccounts.getAccessToken"]);
        assert_eq!(Powers::of(&mixed).token().map(|t| t.0), Some("iam.serviceAccounts.getAccessToken"));
        // actAs alone runs nothing; a run-code permission alone acts as nobody.
        assert!(Powers::of(&perms(&[ACT_AS])).acts_as_running_code().is_none());
        assert!(Powers::of(&perms(&["cloudtasks.tasks.create"])).acts_as_running_code().is_none());
        // Privileged: any setIamPolicy, tokens, actAs, role or org-policy administration.
        for (list, why) in [
            (vec!["storage.buckets.setIamPolicy"], "storage.buckets.setIamPolicy"),
            (vec![OPEN_ID_TOKEN], OPEN_ID_TOKEN),
            (vec![ROLES_CREATE], ROLES_CREATE),
            (vec![ORG_POLICY_SET], ORG_POLICY_SET),
        ] {
            let l = perms(&list);
            assert_eq!(Powers::of(&l).privileged(), Some(why));
        }
        assert!(Powers::of(&perms(&["storage.objects.get", "iam.serviceAccounts.getIamPolicy"])).privileged().is_none());
    }

    #[test]
    fn a_folder_or_organization_permission_sets_the_policy_only_where_that_level_is_above() {
        let empty = IamPolicy::default();
        let folder = perms(&[FOLDERS_SET_POLICY]);
        let under_folder: Vec<(&str, &IamPolicy)> = vec![("projects/1", &empty), ("folders/2", &empty), ("organizations/3", &empty)];
        let under_org: Vec<(&str, &IamPolicy)> = vec![("projects/1", &empty), ("organizations/3", &empty)];
        let f = Powers::of(&folder);
        assert_eq!(f.sets_policy(&under_folder, 2), Some(FOLDERS_SET_POLICY));
        assert_eq!(f.sets_policy(&under_folder, 1), Some(FOLDERS_SET_POLICY));
        assert_eq!(f.sets_policy(&under_folder, 0), None);
        assert_eq!(f.sets_policy(&under_org, 1), None);
        let org = perms(&[ORGANIZATIONS_SET_POLICY]);
        assert_eq!(Powers::of(&org).sets_policy(&under_org, 1), Some(ORGANIZATIONS_SET_POLICY));
        assert_eq!(Powers::of(&org).sets_policy(&under_folder, 1), None);
    }

    #[test]
    fn google_managed_accounts_by_their_domain() {
        assert_eq!(runs_as_google_managed("123@cloudbuild.gserviceaccount.com").map(|r| r.0), Some("cloudbuild.builds.create"));
        assert_eq!(runs_as_google_managed("123@CloudServices.gserviceaccount.com").map(|r| r.0), Some("deploymentmanager.deployments.create"));
        assert!(runs_as_google_managed("ci@prod.iam.gserviceaccount.com").is_none());
    }
}
