//! Azure part of the inventory: tenant → management groups → subscriptions, Entra ID principals and
//! their credentials, role assignments, Lighthouse delegations, Azure Policy assignments and
//! subscription diagnostic settings. Filled by the Azure collector (a later wave); the shapes follow
//! the ARM and Microsoft Graph responses they come from.
//!
//! Entra is split into one dataset per Graph permission (users, registration details,
//! applications, service principals, directory roles), so a tenant that grants some of them is
//! evaluated for what it grants and reported as a gap for the rest. The scope tree is `Collected`
//! too: a failed management-group read is not an empty tree.

use serde::{Deserialize, Serialize};

use super::{merge_keyed, Cloud, Collected, CoverageEntry, Dataset, MergeError, ScopeKind, ScopeNode, Timestamp};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AzureInventory {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<AzureTenant>,
}

impl AzureInventory {
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    pub(crate) fn coverage(&self, out: &mut Vec<CoverageEntry>) {
        for t in &self.tenants {
            let AzureTenant {
                tenant_id,
                scopes,
                users,
                sign_in_activity,
                registration_details,
                applications,
                service_principals,
                directory_roles,
                directory_role_eligibility,
                directory_role_definitions,
                group_members,
                directory_reads,
                subscriptions,
            } = t;
            entry(out, tenant_id, Dataset::AzureScopes, scopes);
            entry(out, tenant_id, Dataset::AzureUsers, users);
            entry(out, tenant_id, Dataset::AzureSignInActivity, sign_in_activity);
            entry(out, tenant_id, Dataset::AzureRegistrationDetails, registration_details);
            entry(out, tenant_id, Dataset::AzureApplications, applications);
            entry(out, tenant_id, Dataset::AzureServicePrincipals, service_principals);
            entry(out, tenant_id, Dataset::AzureDirectoryRoles, directory_roles);
            entry(out, tenant_id, Dataset::AzureDirectoryRoleEligibility, directory_role_eligibility);
            entry(out, tenant_id, Dataset::AzureDirectoryRoleDefinitions, directory_role_definitions);
            entry(out, tenant_id, Dataset::AzureGroupMembers, group_members);
            entry(out, tenant_id, Dataset::AzureDirectoryReads, directory_reads);
            for s in subscriptions {
                let AzureSubscription {
                    subscription_id: id,
                    display_name: _,
                    state: _,
                    role_assignments,
                    role_eligibility,
                    role_definitions,
                    policy_assignments,
                    diagnostic_settings,
                    lighthouse,
                } = s;
                entry(out, id, Dataset::AzureRoleAssignments, role_assignments);
                entry(out, id, Dataset::AzureRoleEligibility, role_eligibility);
                entry(out, id, Dataset::AzureRoleDefinitions, role_definitions);
                entry(out, id, Dataset::AzurePolicyAssignments, policy_assignments);
                entry(out, id, Dataset::AzureDiagnosticSettings, diagnostic_settings);
                entry(out, id, Dataset::AzureLighthouse, lighthouse);
            }
        }
    }

    /// The merge rule of every cloud: scopes matched by id, each dataset merged on its own (a
    /// value wins over a gap; two values for one dataset conflict).
    pub(crate) fn merge(&mut self, other: AzureInventory) -> Result<(), MergeError> {
        merge_keyed(&mut self.tenants, other.tenants, |t| t.tenant_id.clone(), AzureTenant::merge)
    }

    /// Forget every dataset not in `keep`.
    pub(crate) fn retain_datasets(&mut self, keep: &std::collections::BTreeSet<Dataset>) {
        fn drop<T>(c: &mut Collected<T>, d: Dataset, keep: &std::collections::BTreeSet<Dataset>) {
            if !keep.contains(&d) {
                *c = Collected::NotRequested;
            }
        }
        for t in &mut self.tenants {
            drop(&mut t.scopes, Dataset::AzureScopes, keep);
            drop(&mut t.users, Dataset::AzureUsers, keep);
            drop(&mut t.sign_in_activity, Dataset::AzureSignInActivity, keep);
            drop(&mut t.registration_details, Dataset::AzureRegistrationDetails, keep);
            drop(&mut t.applications, Dataset::AzureApplications, keep);
            drop(&mut t.service_principals, Dataset::AzureServicePrincipals, keep);
            drop(&mut t.directory_roles, Dataset::AzureDirectoryRoles, keep);
            drop(&mut t.directory_role_eligibility, Dataset::AzureDirectoryRoleEligibility, keep);
            drop(&mut t.directory_role_definitions, Dataset::AzureDirectoryRoleDefinitions, keep);
            drop(&mut t.group_members, Dataset::AzureGroupMembers, keep);
            drop(&mut t.directory_reads, Dataset::AzureDirectoryReads, keep);
            for s in &mut t.subscriptions {
                drop(&mut s.role_assignments, Dataset::AzureRoleAssignments, keep);
                drop(&mut s.role_eligibility, Dataset::AzureRoleEligibility, keep);
                drop(&mut s.role_definitions, Dataset::AzureRoleDefinitions, keep);
                drop(&mut s.policy_assignments, Dataset::AzurePolicyAssignments, keep);
                drop(&mut s.diagnostic_settings, Dataset::AzureDiagnosticSettings, keep);
                drop(&mut s.lighthouse, Dataset::AzureLighthouse, keep);
            }
        }
    }
}

fn entry<T>(out: &mut Vec<CoverageEntry>, scope: &str, dataset: Dataset, c: &Collected<T>) {
    out.push(CoverageEntry {
        cloud: Cloud::Azure,
        scope: scope.to_string(),
        service: dataset.service().to_string(),
        dataset,
        state: c.state(),
    });
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureTenant {
    pub tenant_id: String,
    /// The tenant root management group, the management groups under it and the subscriptions,
    /// with parent links.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub scopes: Collected<Vec<ScopeNode>>,
    /// Graph `User.Read.All`.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub users: Collected<Vec<EntraUser>>,
    /// Graph `signInActivity` (`AuditLog.Read.All`, and an Entra ID P1 licence): the last sign-in
    /// of each user, by object id. Its own dataset: a tenant without the licence still has users.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub sign_in_activity: Collected<Vec<SignInActivity>>,
    /// Graph `AuditLog.Read.All` (`userRegistrationDetails`): who registered which MFA methods.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub registration_details: Collected<Vec<RegistrationDetail>>,
    /// Graph `Application.Read.All`: app registrations and their credentials.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub applications: Collected<Vec<EntraServicePrincipal>>,
    /// Graph `Application.Read.All`: service principals and managed identities.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub service_principals: Collected<Vec<EntraServicePrincipal>>,
    /// Graph `RoleManagement.Read.Directory`: active directory role assignments.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub directory_roles: Collected<Vec<DirectoryRoleAssignment>>,
    /// Graph `RoleEligibilitySchedule.Read.Directory` (Entra ID P2): who may activate a directory role.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub directory_role_eligibility: Collected<Vec<DirectoryRoleAssignment>>,
    /// Graph `RoleManagement.Read.Directory` (`roleManagement/directory/roleDefinitions`, read in
    /// bulk): every built-in and custom directory role, with its permissions and, when read from
    /// the beta endpoint, Microsoft's own `isPrivileged`.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub directory_role_definitions: Collected<Vec<DirectoryRoleDefinition>>,
    /// Graph `GroupMember.Read.All`: the transitive user members of each group that holds a
    /// privileged directory or Azure role (a role given to a group is held by its members).
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub group_members: Collected<Vec<GroupMembers>>,
    /// The principals an incident names, each read by itself (`verify`): fresher than the lists,
    /// and with what lists do not give (`signInSessionsValidFromDateTime`, federated credentials).
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub directory_reads: Collected<Vec<DirectoryRead>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<AzureSubscription>,
}

impl AzureTenant {
    /// Every requested tenant-wide dataset no source provided records `gap`.
    pub fn fill_gaps(&mut self, gap: &Collected<()>, want: &std::collections::BTreeSet<Dataset>) {
        fn g<T>(c: &mut Collected<T>, gap: &Collected<()>, d: Dataset, want: &std::collections::BTreeSet<Dataset>) {
            if want.contains(&d) && c.is_not_requested() {
                *c = gap.gap();
            }
        }
        let AzureTenant {
            tenant_id: _, scopes, users, sign_in_activity, registration_details, applications, service_principals,
            directory_roles, directory_role_eligibility, directory_role_definitions, group_members, directory_reads, subscriptions: _,
        } = self;
        g(scopes, gap, Dataset::AzureScopes, want);
        g(users, gap, Dataset::AzureUsers, want);
        g(sign_in_activity, gap, Dataset::AzureSignInActivity, want);
        g(registration_details, gap, Dataset::AzureRegistrationDetails, want);
        g(applications, gap, Dataset::AzureApplications, want);
        g(service_principals, gap, Dataset::AzureServicePrincipals, want);
        g(directory_roles, gap, Dataset::AzureDirectoryRoles, want);
        g(directory_role_eligibility, gap, Dataset::AzureDirectoryRoleEligibility, want);
        g(directory_role_definitions, gap, Dataset::AzureDirectoryRoleDefinitions, want);
        g(group_members, gap, Dataset::AzureGroupMembers, want);
        g(directory_reads, gap, Dataset::AzureDirectoryReads, want);
    }

    pub fn new(tenant_id: impl Into<String>) -> Self {
        AzureTenant {
            tenant_id: tenant_id.into(),
            scopes: Collected::NotRequested,
            users: Collected::NotRequested,
            sign_in_activity: Collected::NotRequested,
            registration_details: Collected::NotRequested,
            applications: Collected::NotRequested,
            service_principals: Collected::NotRequested,
            directory_roles: Collected::NotRequested,
            directory_role_eligibility: Collected::NotRequested,
            directory_role_definitions: Collected::NotRequested,
            group_members: Collected::NotRequested,
            directory_reads: Collected::NotRequested,
            subscriptions: Vec::new(),
        }
    }

    fn merge(&mut self, o: AzureTenant) -> Result<(), MergeError> {
        let id = self.tenant_id.clone();
        let AzureTenant {
            tenant_id: _,
            scopes,
            users,
            sign_in_activity,
            registration_details,
            applications,
            service_principals,
            directory_roles,
            directory_role_eligibility,
            directory_role_definitions,
            group_members,
            directory_reads,
            subscriptions,
        } = o;
        self.scopes.merge(scopes, &id, Dataset::AzureScopes)?;
        self.users.merge(users, &id, Dataset::AzureUsers)?;
        self.sign_in_activity.merge(sign_in_activity, &id, Dataset::AzureSignInActivity)?;
        self.registration_details.merge(registration_details, &id, Dataset::AzureRegistrationDetails)?;
        self.applications.merge(applications, &id, Dataset::AzureApplications)?;
        self.service_principals.merge(service_principals, &id, Dataset::AzureServicePrincipals)?;
        self.directory_roles.merge(directory_roles, &id, Dataset::AzureDirectoryRoles)?;
        self.directory_role_eligibility.merge(directory_role_eligibility, &id, Dataset::AzureDirectoryRoleEligibility)?;
        self.directory_role_definitions.merge(directory_role_definitions, &id, Dataset::AzureDirectoryRoleDefinitions)?;
        self.group_members.merge(group_members, &id, Dataset::AzureGroupMembers)?;
        self.directory_reads.merge(directory_reads, &id, Dataset::AzureDirectoryReads)?;
        merge_keyed(&mut self.subscriptions, subscriptions, |s| s.subscription_id.clone(), AzureSubscription::merge)
    }

    /// The subscription's chain of scopes from the tenant root down (`/providers/Microsoft.Management/
    /// managementGroups/<id>` …, then `/subscriptions/<id>`), when the tree was read and the chain is
    /// whole. `None` when it is not known: the tree was not read, the subscription is not in it, a
    /// parent link points at a group the tree does not hold, the chain loops, or it ends at a group
    /// that is not the tenant root group (which bears the tenant's id).
    /// A shorter chain would hide the grants of the groups that were lost.
    pub fn ancestors(&self, subscription_id: &str) -> Option<Vec<String>> {
        let nodes = self.scopes.get()?;
        let mut chain = Vec::new();
        let mut cur = nodes.iter().find(|n| n.kind == ScopeKind::AzureSubscription && n.id.eq_ignore_ascii_case(subscription_id))?;
        // Every subscription sits under the tenant root group at least: one placed nowhere was not
        // placed by the read.
        cur.parent.as_ref()?;
        while let Some(p) = &cur.parent {
            let next = nodes.iter().find(|n| n.id.eq_ignore_ascii_case(p) && n.kind != ScopeKind::AzureSubscription)?;
            chain.push(format!("/providers/Microsoft.Management/managementGroups/{}", next.id));
            if chain.len() > 16 {
                return None; // Azure allows six levels below the root: a longer chain is a loop.
            }
            cur = next;
        }
        if !cur.id.eq_ignore_ascii_case(&self.tenant_id) {
            return None; // the chain stops at a group with no parent that is not the root group
        }
        chain.reverse();
        Some(chain)
    }
}

/// A user's last sign-ins (`signInActivity`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignInActivity {
    pub user_id: String,
    /// Last interactive sign-in (successful or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_non_interactive_sign_in: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_sign_in: Option<Timestamp>,
}

impl SignInActivity {
    /// The latest sign-in of any kind, if the user ever signed in.
    pub fn latest(&self) -> Option<Timestamp> {
        [self.last_sign_in, self.last_non_interactive_sign_in, self.last_successful_sign_in].into_iter().flatten().max()
    }
}

/// One user's registered authentication methods (`userRegistrationDetails`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegistrationDetail {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub is_mfa_registered: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods_registered: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntraUser {
    pub id: String,
    pub user_principal_name: String,
    /// Absent in the answer is `None`: unknown, not disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    /// "Member" or "Guest".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// `creationType`: how the account was made. Absent (null) for an ordinary work account;
    /// `Invitation` for a B2B invited external user, `SelfServiceSignUp` / `EmailVerified` for
    /// self-service sign-ups, `LocalAccount` for an Azure AD B2C local account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_type: Option<String>,
}

/// Whether a user is one of the tenant's own people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// `userType` Member, made as an ordinary account of this tenant.
    Member,
    /// An identity from outside the tenant, and why (`userType` Guest, invited, self-signed-up).
    Outside(&'static str),
    /// Neither `userType` nor `creationType` says.
    Unknown,
}

impl EntraUser {
    /// Microsoft's documented semantics, never the principal name's shape:
    /// - `userType` `Guest` is a guest, whatever the UPN (an invited user's UPN need not carry
    ///   `#EXT#`, and a guest can be given any UPN).
    /// - `creationType` `Invitation` (a B2B collaboration user, even one made `userType`
    ///   `Member`: an "external member" still signs in at its home tenant), `SelfServiceSignUp`,
    ///   `EmailVerified` or `LocalAccount` is an outside identity.
    /// - `userType` `Member` with no such `creationType` is one of ours, even with an `#EXT#` UPN:
    ///   an external user converted to an internal member (`convertExternalToInternalMemberUser`)
    ///   keeps the UPN it had, and signs in here. (Should Microsoft keep `creationType`
    ///   `Invitation` on a converted user, it is reported as outside: a false alarm, never a
    ///   missed guest.)
    /// - With neither property the answer is `Unknown`, which checks report as `not_evaluated`.
    pub fn membership(&self) -> Membership {
        let is = |v: &Option<String>, x: &str| v.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case(x));
        if is(&self.user_type, "Guest") {
            return Membership::Outside("userType Guest");
        }
        if is(&self.creation_type, "Invitation") {
            return Membership::Outside("creationType Invitation: an invited external user");
        }
        if is(&self.creation_type, "SelfServiceSignUp") || is(&self.creation_type, "EmailVerified") {
            return Membership::Outside("creationType of a self-service sign-up");
        }
        if is(&self.creation_type, "LocalAccount") {
            return Membership::Outside("creationType LocalAccount: a B2C local account");
        }
        if is(&self.user_type, "Member") {
            return Membership::Member;
        }
        Membership::Unknown
    }

    /// An outside identity for certain (see [`EntraUser::membership`]).
    pub fn is_guest(&self) -> bool {
        matches!(self.membership(), Membership::Outside(_))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntraServicePrincipal {
    /// Object id (of the application or the service principal).
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    /// "application", "service_principal" or "managed_identity".
    pub kind: String,
    /// The tenant that owns the application (service principals only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_tenant_id: Option<String>,
    #[serde(default)]
    pub credentials: Vec<AzureCredential>,
    /// `accountEnabled` of a service principal: `Some(false)` cannot sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    /// `createdDateTime` (applications; Graph v1.0 gives none for service principals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
}

/// One principal an incident names, read by itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirectoryRead {
    /// As the incident names it: an object id (or an application's appId) or a UPN, lowercase.
    pub query: String,
    pub found: DirectoryObject,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DirectoryObject {
    /// `GET /users/{id | upn}`.
    User {
        id: String,
        user_principal_name: String,
        /// Absent is unknown, never "disabled".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account_enabled: Option<bool>,
        /// `signInSessionsValidFromDateTime`: refresh tokens and session cookies issued before it
        /// are invalid (set by `revokeSignInSessions`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sessions_valid_from: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_type: Option<String>,
        /// `creationType` (`Invitation` for a B2B guest, …): with `userType`, whether the user is
        /// an outside identity (see [`EntraUser::membership`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        creation_type: Option<String>,
        /// `lastPasswordChangeDateTime`: when the password was last changed or set. Absent is
        /// unknown (older snapshots, or not returned).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_password_change: Option<Timestamp>,
        /// `GET /users/{id}/ownedObjects`: the applications, service principals and groups the
        /// user owns (an owner of an app can add credentials to it). Not requested in older
        /// snapshots.
        #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
        owned_objects: Collected<Vec<DirectoryRef>>,
        /// `GET /users/{id}/appRoleAssignments`: app roles granted to the user (directly or
        /// through a group it is a direct member of).
        #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
        app_role_assignments: Collected<Vec<AppRoleGrant>>,
        /// `GET /users/{id}/oauth2PermissionGrants`: delegated permissions the user consented to
        /// for client applications (`principalId` = the user).
        #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
        oauth2_permission_grants: Collected<Vec<DelegatedGrant>>,
    },
    /// An application or service principal (matched by object id or appId in the lists), with
    /// the federated identity credentials of its app registration in this tenant.
    App {
        /// The appId.
        app_id: String,
        federated_credentials: Collected<Vec<FederatedCredential>>,
        /// The owners of its app registration (`GET /applications/{id}/owners`) and of its
        /// service principals (`GET /servicePrincipals/{id}/owners`), together; each names the
        /// object it owns in `of`. An owner can add credentials back. Not requested in older
        /// snapshots.
        #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
        owners: Collected<Vec<DirectoryRef>>,
        /// `GET /servicePrincipals/{id}/ownedObjects`: what its service principals own (other
        /// applications, service principals, groups).
        #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
        owned_objects: Collected<Vec<DirectoryRef>>,
        /// `GET /servicePrincipals/{id}/appRoleAssignments`: the application permissions its
        /// service principals hold (app roles of other APIs, such as Microsoft Graph's).
        #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
        app_role_assignments: Collected<Vec<AppRoleGrant>>,
        /// `GET /servicePrincipals/{id}/oauth2PermissionGrants`: delegated permissions granted
        /// to it as a client (`clientId` = its service principal).
        #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
        oauth2_permission_grants: Collected<Vec<DelegatedGrant>>,
    },
    /// In `/directory/deletedItems`: soft-deleted, restorable for 30 days by an administrator, and
    /// unable to sign in meanwhile.
    Deleted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        odata_type: Option<String>,
    },
    /// Neither a user, an application, a service principal nor a deleted item of this tenant.
    NotFound,
    /// The read failed (denied, throttled past the retries): nothing is known.
    Unreadable { error: String },
}

/// A directory object another one points at (an owner, an owned object), as Graph's
/// `directoryObject` collections give it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirectoryRef {
    pub id: String,
    /// `user`, `servicePrincipal`, `application`, `group`, … (from `@odata.type`); `unknown`
    /// when absent.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// For an owner: the object id of what it owns (the app registration or a service principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

/// An app role assignment (`appRoleAssignment`): `principal_id` holds app role `app_role_id` of
/// the API whose service principal is `resource_id`. Granted to a service principal, it is an
/// application permission.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppRoleGrant {
    pub id: String,
    pub app_role_id: String,
    pub resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_display_name: Option<String>,
    pub principal_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
}

/// A delegated permission grant (`oAuth2PermissionGrant`): client service principal `client_id`
/// may act as the signed-in user (`consent_type` `Principal`: only as `principal_id`;
/// `AllPrincipals`: as anyone) on the API `resource_id`, for `scope`. Graph gives no creation time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DelegatedGrant {
    pub id: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    pub resource_id: String,
    #[serde(default)]
    pub scope: String,
}

/// A workload identity federation trust on an app registration: tokens of this issuer and
/// subject sign in as the app, with no secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
}

/// A client secret (`passwordCredentials`) or certificate (`keyCredentials`). The secret value is
/// never read or kept; only its metadata.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureCredential {
    pub key_id: String,
    /// "secret" or "certificate".
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

/// An active or eligible directory role assignment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirectoryRoleAssignment {
    pub principal_id: String,
    /// The role template id (the same in every tenant for built-in roles).
    pub role_definition_id: String,
    #[serde(default = "tenant_root")]
    pub directory_scope_id: String,
    /// "user", "group", "servicePrincipal" (from the expanded principal's `@odata.type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// When an eligibility ends (`None`: permanent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

fn tenant_root() -> String {
    "/".to_string()
}

/// The principals that belong to a group, directly or through nested groups, and those eligible
/// to join it through Privileged Identity Management for Groups.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupMembers {
    pub group_id: String,
    /// The user members, as snapshots before every member type was read kept them (then
    /// `members` is absent, and who else belongs is unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_ids: Vec<String>,
    /// Every transitive member, of every type (`transitiveMembers`: users, service principals,
    /// devices, contacts). `None`: only `user_ids` were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<GroupMember>>,
    /// PIM for Groups (`identityGovernance/privilegedAccess/group/eligibilityScheduleInstances`):
    /// who may activate membership or ownership of the group (an eligible owner can add
    /// themselves). Not read is a gap: such a principal holds the group's roles on activation.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub eligible: Collected<Vec<GroupMember>>,
}

/// One member of a group (or one principal eligible for it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupMember {
    pub id: String,
    /// `user`, `servicePrincipal`, `device`, `orgContact`, `group` (from `@odata.type`);
    /// for eligibility, where Graph gives no type, `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For eligibility: `member` or `owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

impl GroupMembers {
    /// Every member: the full list, or the legacy user ids as users.
    pub fn all_members(&self) -> Vec<GroupMember> {
        match &self.members {
            Some(m) => m.clone(),
            None => self.user_ids.iter().map(|id| GroupMember { id: id.clone(), kind: "user".into(), access: None }).collect(),
        }
    }
}

/// A directory (Entra) role definition, built-in or custom
/// (`roleManagement/directory/roleDefinitions`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirectoryRoleDefinition {
    /// The id role assignments refer to (for built-in roles, the template id).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    pub display_name: String,
    /// Absent: unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_built_in: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Microsoft's own verdict (`isPrivileged`), which only Graph beta returns. `None`: not
    /// returned (read from v1.0), never "not privileged".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_privileged: Option<bool>,
    /// Every `rolePermissions[].allowedResourceActions`, together.
    #[serde(default)]
    pub allowed_resource_actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureSubscription {
    pub subscription_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Active role assignments that apply to the subscription: at it, under it (resource groups,
    /// resources) and inherited from the management groups and the tenant root above it.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub role_assignments: Collected<Vec<AzureRoleAssignment>>,
    /// Privileged Identity Management eligible assignments (`roleEligibilityScheduleInstances`):
    /// an eligible Owner is an Owner the moment they activate.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub role_eligibility: Collected<Vec<AzureRoleAssignment>>,
    /// Built-in and custom role definitions usable in the subscription.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub role_definitions: Collected<Vec<AzureRoleDefinition>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub policy_assignments: Collected<Vec<AzurePolicyAssignment>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub diagnostic_settings: Collected<Vec<DiagnosticSetting>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub lighthouse: Collected<Vec<LighthouseDelegation>>,
}

impl AzureSubscription {
    /// A subscription none of whose requested datasets could be read, each recording `gap`.
    pub fn unread(id: &str, gap: &Collected<()>, want: &std::collections::BTreeSet<Dataset>) -> Self {
        fn g<T>(gap: &Collected<()>, d: Dataset, want: &std::collections::BTreeSet<Dataset>) -> Collected<T> {
            if want.contains(&d) { gap.gap() } else { Collected::NotRequested }
        }
        let mut s = AzureSubscription::new(id);
        let AzureSubscription {
            subscription_id: _, display_name: _, state: _, role_assignments, role_eligibility, role_definitions,
            policy_assignments, diagnostic_settings, lighthouse,
        } = &mut s;
        *role_assignments = g(gap, Dataset::AzureRoleAssignments, want);
        *role_eligibility = g(gap, Dataset::AzureRoleEligibility, want);
        *role_definitions = g(gap, Dataset::AzureRoleDefinitions, want);
        *policy_assignments = g(gap, Dataset::AzurePolicyAssignments, want);
        *diagnostic_settings = g(gap, Dataset::AzureDiagnosticSettings, want);
        *lighthouse = g(gap, Dataset::AzureLighthouse, want);
        s
    }

    pub fn new(id: impl Into<String>) -> Self {
        AzureSubscription {
            subscription_id: id.into(),
            display_name: None,
            state: None,
            role_assignments: Collected::NotRequested,
            role_eligibility: Collected::NotRequested,
            role_definitions: Collected::NotRequested,
            policy_assignments: Collected::NotRequested,
            diagnostic_settings: Collected::NotRequested,
            lighthouse: Collected::NotRequested,
        }
    }

    /// The resource id of the subscription (`/subscriptions/<id>`).
    pub fn scope(&self) -> String {
        format!("/subscriptions/{}", self.subscription_id)
    }

    fn merge(&mut self, o: AzureSubscription) -> Result<(), MergeError> {
        let id = self.subscription_id.clone();
        let AzureSubscription {
            subscription_id: _,
            display_name,
            state,
            role_assignments,
            role_eligibility,
            role_definitions,
            policy_assignments,
            diagnostic_settings,
            lighthouse,
        } = o;
        if self.display_name.is_none() {
            self.display_name = display_name;
        }
        if self.state.is_none() {
            self.state = state;
        }
        self.role_assignments.merge(role_assignments, &id, Dataset::AzureRoleAssignments)?;
        self.role_eligibility.merge(role_eligibility, &id, Dataset::AzureRoleEligibility)?;
        self.role_definitions.merge(role_definitions, &id, Dataset::AzureRoleDefinitions)?;
        self.policy_assignments.merge(policy_assignments, &id, Dataset::AzurePolicyAssignments)?;
        self.diagnostic_settings.merge(diagnostic_settings, &id, Dataset::AzureDiagnosticSettings)?;
        self.lighthouse.merge(lighthouse, &id, Dataset::AzureLighthouse)
    }
}

/// An active or eligible Azure RBAC role assignment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureRoleAssignment {
    pub id: String,
    /// Where it is assigned: `/`, a management group, the subscription, a resource group or a resource.
    pub scope: String,
    /// The full role definition id (`…/providers/Microsoft.Authorization/roleDefinitions/<guid>`).
    pub role_definition_id: String,
    pub principal_id: String,
    /// "User", "Group", "ServicePrincipal", "ForeignGroup", "Device".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    /// An ABAC condition narrowing the assignment (kept, not evaluated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When an eligibility ends (`None`: permanent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

impl AzureRoleAssignment {
    /// The role definition's GUID (the last segment of its id), lower-case.
    pub fn role_guid(&self) -> String {
        role_guid(&self.role_definition_id)
    }
}

/// The GUID at the end of a role definition id (or the id itself when it is a bare GUID).
pub fn role_guid(id: &str) -> String {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id).to_ascii_lowercase()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureRoleDefinition {
    pub id: String,
    pub role_name: String,
    /// "BuiltInRole" or "CustomRole".
    pub role_type: String,
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    /// Data-plane actions (`dataActions`: Key Vault secrets and keys, storage blobs, …), every
    /// block's together; absent in older snapshots (read as none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_data_actions: Vec<String>,
    /// The role's permission blocks, whole (the collector keeps every block): `notActions` take
    /// back only the `actions` of their own block, so the flat lists above (every block's,
    /// together) can understate what the role grants. Empty: the flat lists are the one block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permission_blocks: Vec<RolePermissions>,
}

/// One permission block of a role definition.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RolePermissions {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_data_actions: Vec<String>,
    /// An ABAC condition on the block (built-in roles such as Key Vault Data Access Administrator
    /// carry one that limits which roles they may assign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl RolePermissions {
    pub fn grants(&self, action: &str) -> bool {
        Self::grants_lists(&self.actions, &self.not_actions, action)
    }

    /// Does the block grant the data action (its `dataActions` match, its `notDataActions` do not)?
    pub fn grants_data(&self, action: &str) -> bool {
        Self::grants_lists(&self.data_actions, &self.not_data_actions, action)
    }
}

impl AzureRoleDefinition {
    pub fn is_custom(&self) -> bool {
        self.role_type.eq_ignore_ascii_case("CustomRole")
    }

    /// The role's blocks: the kept ones, or the flat lists as one.
    pub fn blocks(&self) -> Vec<RolePermissions> {
        if self.permission_blocks.is_empty() {
            vec![RolePermissions {
                actions: self.actions.clone(),
                not_actions: self.not_actions.clone(),
                data_actions: self.data_actions.clone(),
                not_data_actions: self.not_data_actions.clone(),
                condition: None,
            }]
        } else {
            self.permission_blocks.clone()
        }
    }

    /// Does some block grant `action` (its actions match it and its notActions do not)?
    pub fn grants(&self, action: &str) -> bool {
        if self.permission_blocks.is_empty() {
            RolePermissions::grants_lists(&self.actions, &self.not_actions, action)
        } else {
            self.permission_blocks.iter().any(|b| b.grants(action))
        }
    }
}

impl RolePermissions {
    pub fn grants_lists(actions: &[String], not_actions: &[String], action: &str) -> bool {
        use crate::policy::arn::wildcard_match_ci;
        actions.iter().any(|a| wildcard_match_ci(a.trim(), action)) && !not_actions.iter().any(|n| wildcard_match_ci(n.trim(), action))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzurePolicyAssignment {
    pub id: String,
    pub scope: String,
    pub policy_definition_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// "Default" or "DoNotEnforce".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement_mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticSetting {
    pub id: String,
    pub name: String,
    /// Activity-log categories (Administrative, Security, Policy, …) that are enabled.
    #[serde(default)]
    pub enabled_categories: Vec<String>,
    /// Enabled category groups (`allLogs`, `audit`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled_category_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_hub_authorization_rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_partner_id: Option<String>,
}

impl DiagnosticSetting {
    /// Does the setting send the category anywhere?
    pub fn exports(&self, category: &str) -> bool {
        let has_destination = self.workspace_id.is_some()
            || self.storage_account_id.is_some()
            || self.event_hub_authorization_rule_id.is_some()
            || self.marketplace_partner_id.is_some();
        has_destination
            && (self.enabled_categories.iter().any(|c| c.eq_ignore_ascii_case(category))
                || self.enabled_category_groups.iter().any(|g| g.eq_ignore_ascii_case("allLogs")))
    }
}

/// An Azure Lighthouse registration assignment: another tenant managing this subscription (or a
/// resource group in it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LighthouseDelegation {
    pub id: String,
    /// The delegated scope: the subscription or a resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub managed_by_tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by_tenant_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_name: Option<String>,
    /// What the managing tenant's principals hold here, permanently or on activation.
    #[serde(default)]
    pub authorizations: Vec<LighthouseAuthorization>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LighthouseAuthorization {
    pub principal_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// The role GUID.
    pub role_definition_id: String,
    /// An eligible (just-in-time) authorization rather than a standing one.
    #[serde(default)]
    pub eligible: bool,
    /// Roles this principal may assign to managed identities (User Access Administrator only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delegated_role_definition_ids: Vec<String>,
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex: tenant, subscription and object ids.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36 && b.iter().enumerate().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

#[cfg(test)]
mod ancestors_tests {
    use super::*;

    fn tenant(nodes: &[(&str, ScopeKind, Option<&str>)]) -> AzureTenant {
        let mut t = AzureTenant::new("tenant-1");
        t.scopes = Collected::Collected(nodes.iter().map(|(id, kind, parent)| ScopeNode { id: id.to_string(), name: None, kind: *kind, parent: parent.map(str::to_string), state: None }).collect());
        t
    }

    #[test]
    fn a_whole_chain_runs_from_the_root_group() {
        let t = tenant(&[("tenant-1", ScopeKind::AzureManagementGroup, None), ("prod", ScopeKind::AzureManagementGroup, Some("tenant-1")), ("s1", ScopeKind::AzureSubscription, Some("prod"))]);
        let chain = t.ancestors("S1").unwrap();
        assert_eq!(chain, ["/providers/Microsoft.Management/managementGroups/tenant-1", "/providers/Microsoft.Management/managementGroups/prod"]);
    }

    #[test]
    fn a_missing_parent_is_unknown_never_a_shorter_chain() {
        use ScopeKind::{AzureManagementGroup as Mg, AzureSubscription as Sub};
        // The parent group of `prod` was not read.
        let lost = tenant(&[("tenant-1", Mg, None), ("prod", Mg, Some("corp")), ("s1", Sub, Some("prod"))]);
        assert_eq!(lost.ancestors("s1"), None);
        // `prod` has no parent link and is not the root group.
        let orphan = tenant(&[("tenant-1", Mg, None), ("prod", Mg, None), ("s1", Sub, Some("prod"))]);
        assert_eq!(orphan.ancestors("s1"), None);
        // The subscription itself is placed nowhere, in a tree with groups or without.
        let unplaced = tenant(&[("tenant-1", Mg, None), ("s1", Sub, None)]);
        assert_eq!(unplaced.ancestors("s1"), None);
        assert_eq!(tenant(&[("s1", Sub, None)]).ancestors("s1"), None);
        // A loop.
        let cycle = tenant(&[("a", Mg, Some("b")), ("b", Mg, Some("a")), ("s1", Sub, Some("a"))]);
        assert_eq!(cycle.ancestors("s1"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(upn: &str, user_type: Option<&str>, creation_type: Option<&str>) -> EntraUser {
        EntraUser {
            id: "1".into(),
            user_principal_name: upn.into(),
            account_enabled: Some(true),
            user_type: user_type.map(str::to_string),
            created: None,
            creation_type: creation_type.map(str::to_string),
        }
    }

    #[test]
    fn guests_are_decided_by_user_type_and_creation_type_never_by_the_upn() {
        // A guest whose UPN has no #EXT#.
        assert!(matches!(user("ivan@contoso.example", Some("guest"), None).membership(), Membership::Outside(_)));
        assert!(matches!(user("ivan@contoso.example", None, Some("Invitation")).membership(), Membership::Outside(_)));
        // An external member (B2B, userType Member) still signs in at home.
        assert!(matches!(user("x@contoso.example", Some("Member"), Some("invitation")).membership(), Membership::Outside(_)));
        assert!(matches!(user("x@contoso.example", Some("Member"), Some("SelfServiceSignUp")).membership(), Membership::Outside(_)));
        // A converted member keeps its #EXT# UPN and is ours.
        assert_eq!(user("nora_fabrikam.example#EXT#@contoso.example", Some("Member"), None).membership(), Membership::Member);
        // Neither property: unknown, not a member.
        assert_eq!(user("someone#EXT#@contoso.example", None, None).membership(), Membership::Unknown);
    }
}
