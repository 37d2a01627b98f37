//! Azure checklist items, judged per tenant read. Each compromised Entra principal (a user, an
//! application or service principal, a managed identity) is judged on all the evidence the
//! inventory holds, not one dataset:
//! - its sign-in: a user's `accountEnabled` and `signInSessionsValidFromDateTime`; an app's
//!   credentials on its registration and service principal, and its federated credentials;
//! - its roles: directory roles and Azure RBAC roles, active or PIM-eligible, held directly or
//!   through a group (its transitive members and PIM for Groups eligibles), each described by the
//!   privilege models ([`crate::reach::entra`], [`crate::reach::azure`]);
//! - what it can still use: app-role assignments and delegated (OAuth2) grants;
//! - ownership: what it owns (an owner can add credentials), and who owns it (an owner outside
//!   `[response] team` can add credentials back).
//!
//! Then, tenant-wide, what was left inside the window (credentials, principals, role assignments
//! and PIM eligibility, app-role assignments of the compromised principals), what was not rotated
//! since containment, and every restored user's sessions and password. Each subscription of
//! `[scope] azure_subscriptions` must have been read.
//!
//! Data that is missing is `not_evaluated`, naming it; a user whose sessions were never revoked
//! fails.

use serde_json::json;

use super::incident::{IncidentFile, Principal};
use super::{Item, Part};
use crate::finding::Status;
use crate::inventory::azure::{
    AppRoleGrant, AzureCredential, AzureRoleAssignment, AzureTenant, DelegatedGrant, DirectoryObject, DirectoryRef, DirectoryRoleAssignment, EntraServicePrincipal,
    EntraUser, Membership,
};
use crate::inventory::{Collected, Dataset, Inventory, Timestamp};
use crate::policy::azure_condition::Truth;
use crate::reach::azure::{Asker, AzureRbac};
use crate::reach::entra::{EntraRoles, Verdict};

/// What a verify with Azure principals or subscriptions reads.
pub const DATASETS: &[Dataset] = &[
    Dataset::AzureUsers,
    Dataset::AzureRegistrationDetails,
    Dataset::AzureApplications,
    Dataset::AzureServicePrincipals,
    Dataset::AzureDirectoryRoles,
    Dataset::AzureDirectoryRoleEligibility,
    Dataset::AzureDirectoryRoleDefinitions,
    Dataset::AzureGroupMembers,
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureRoleDefinitions,
    Dataset::AzureDirectoryReads,
];

struct Cx<'a> {
    items: Vec<Item>,
    tenant: &'a AzureTenant,
    inc: &'a IncidentFile,
    now: Timestamp,
    /// The principals some tenant read found (as a user, an app or a deleted object): absent
    /// from another tenant (a complete read said so), they are nothing to judge there.
    found: &'a [String],
}

impl Cx<'_> {
    fn push(&mut self, part: Part, status: Status, kind: &'static str, principal: Option<&str>, message: String, evidence: serde_json::Value) {
        self.items.push(Item {
            part,
            status,
            kind,
            principal: principal.map(str::to_string),
            resource: Some(self.tenant.tenant_id.clone()),
            message,
            evidence,
        });
    }

    /// Tenant-wide: nothing found passes; each thing found is named in the evidence under `key`.
    fn none_found(&mut self, part: Part, kind: &'static str, found: Vec<serde_json::Value>, key: &str, fail: &str, pass: &str) {
        let tenant = &self.tenant.tenant_id;
        let (status, message) = if found.is_empty() { (Status::Pass, format!("tenant {tenant}: {pass}")) } else { (Status::Fail, format!("tenant {tenant}: {} {fail}", found.len())) };
        self.push(part, status, kind, None, message, json!({ key: found }));
    }

    fn ne(&mut self, part: Part, kind: &'static str, principal: Option<&str>, why: String) {
        self.push(part, Status::NotEvaluated, kind, principal, format!("not evaluated: {why}"), json!({}));
    }
}

/// A compromised principal as read: what persistence asks of it afterwards.
struct Seen {
    query: String,
    who: String,
    app_role_assignments: Result<Vec<AppRoleGrant>, String>,
}

/// Every Azure item of the incident.
pub fn items(inc: &IncidentFile, inv: &Inventory, now: Timestamp) -> Vec<Item> {
    let principals: Vec<String> = inc.principals().into_iter().filter_map(|p| if let Principal::AzureUser(q) = p { Some(q) } else { None }).collect();
    if principals.is_empty() && inc.scope.azure_subscriptions.is_empty() {
        return Vec::new();
    }
    if inv.azure.tenants.is_empty() {
        let mut out = Vec::new();
        for q in principals.iter().map(Some).chain(principals.is_empty().then_some(None)) {
            out.push(Item {
                part: Part::Containment,
                status: Status::NotEvaluated,
                kind: "azure_tenant_read",
                principal: q.cloned(),
                resource: None,
                message: "not evaluated: no Azure tenant was read (verify with --azure)".into(),
                evidence: json!({}),
            });
        }
        out.extend(scope_items(inc, inv));
        return out;
    }
    let restored: Vec<(String, &str)> =
        inc.restored.iter().filter_map(|r| match Principal::parse(&r.principal) { Some(Principal::AzureUser(q)) => Some((q, r.reference.as_str())), _ => None }).collect();
    let mut out = scope_items(inc, inv);
    let found: Vec<String> = principals
        .iter()
        .filter(|q| {
            inv.azure.tenants.iter().any(|t| {
                t.directory_reads.get().into_iter().flatten().any(|r| r.query.eq_ignore_ascii_case(q) && !matches!(r.found, DirectoryObject::NotFound | DirectoryObject::Unreadable { .. }))
            })
        })
        .cloned()
        .collect();
    for tenant in &inv.azure.tenants {
        let mut cx = Cx { items: Vec::new(), tenant, inc, now, found: &found };
        let window = (inc.incident.start(), inc.incident.contained());
        let mut compromised_apps = Vec::new();
        let mut seen = Vec::new();
        for q in &principals {
            containment(&mut cx, q, &restored, window.1, &mut compromised_apps, &mut seen);
        }
        persistence(&mut cx, window);
        window_role_assignments(&mut cx, window);
        window_app_role_assignments(&mut cx, &seen, window);
        recovery(&mut cx, &compromised_apps, window.1);
        out.extend(cx.items);
    }
    out
}

/// Each subscription of `[scope] azure_subscriptions` must have been read (its role assignments
/// at least): one that was not is `not_evaluated`, naming it.
fn scope_items(inc: &IncidentFile, inv: &Inventory) -> Vec<Item> {
    let mut out = Vec::new();
    for id in inc.scope.azure_subscriptions.iter().map(|s| s.trim()) {
        let found = inv.azure.tenants.iter().find_map(|t| t.subscriptions.iter().find(|s| s.subscription_id.eq_ignore_ascii_case(id)).map(|s| (t, s)));
        let why = match found {
            None => format!("subscription {id} of [scope] azure_subscriptions was not read: it is in none of the tenants read (verify with --azure and a credential that can read it)"),
            Some((t, s)) => match s.role_assignments.require(Dataset::AzureRoleAssignments) {
                Ok(_) => continue,
                Err(m) => format!("subscription {id} of [scope] azure_subscriptions (tenant {}) was not read: {m}", t.tenant_id),
            },
        };
        out.push(Item {
            part: Part::Containment,
            status: Status::NotEvaluated,
            kind: "azure_subscription_read",
            principal: None,
            resource: Some(id.to_string()),
            message: format!("not evaluated: {why}"),
            evidence: json!({"subscription": id}),
        });
    }
    out
}

/// A credential that still works at `now` (no end date: it does not expire).
fn live(c: &AzureCredential, now: Timestamp) -> bool {
    c.end.is_none_or(|e| e > now)
}

fn cred_json(owner: &EntraServicePrincipal, c: &AzureCredential) -> serde_json::Value {
    json!({"owner": owner.display_name, "owner_id": owner.id, "app_id": owner.app_id, "owner_kind": owner.kind, "key_id": c.key_id, "kind": c.kind, "display_name": c.display_name, "start": c.start, "end": c.end})
}

/// Every application and service principal of the tenant, or why not.
fn apps(t: &AzureTenant) -> Result<Vec<&EntraServicePrincipal>, String> {
    let a = t.applications.require(Dataset::AzureApplications).map_err(|m| m.to_string())?;
    let s = t.service_principals.require(Dataset::AzureServicePrincipals).map_err(|m| m.to_string())?;
    Ok(a.iter().chain(s.iter()).collect())
}

/// A per-principal list as read, or why it was not (older snapshots did not read it).
fn listed<'a, T>(c: &'a Collected<Vec<T>>, what: &str) -> Result<&'a Vec<T>, String> {
    match c {
        Collected::Collected(v) => Ok(v),
        Collected::NotRequested => Err(format!("{what} was not read (a snapshot from before verify read it: verify again live)")),
        other => Err(format!("{what}: {}", other.require(Dataset::AzureDirectoryReads).err().map(|m| m.to_string()).unwrap_or_default())),
    }
}

/// Whether the user read is an outside identity (`Some(true)`), one of ours, or unknown.
/// `userType` and `creationType` decide ([`EntraUser::membership`]); the tenant's user list fills
/// what the read lacks; an `#EXT#` UPN counts only when neither says.
fn is_guest(t: &AzureTenant, id: &str, upn: &str, user_type: &Option<String>, creation_type: &Option<String>) -> Option<bool> {
    let listed = t.users.get().and_then(|u| u.iter().find(|u| u.id.eq_ignore_ascii_case(id)));
    let u = EntraUser {
        id: id.to_string(),
        user_principal_name: upn.to_string(),
        account_enabled: None,
        user_type: user_type.clone().or_else(|| listed.and_then(|l| l.user_type.clone())),
        created: None,
        creation_type: creation_type.clone().or_else(|| listed.and_then(|l| l.creation_type.clone())),
    };
    match u.membership() {
        Membership::Outside(_) => Some(true),
        Membership::Member => Some(false),
        Membership::Unknown if upn.to_ascii_uppercase().contains("#EXT#") => Some(true),
        Membership::Unknown => None,
    }
}

/// The compromised principal's items. An application's appId goes into `compromised_apps`; what
/// persistence needs of it into `seen`.
fn containment(cx: &mut Cx, q: &str, restored: &[(String, &str)], contained: Timestamp, compromised_apps: &mut Vec<String>, seen: &mut Vec<Seen>) {
    let part = Part::Containment;
    let Some(reads) = cx.tenant.directory_reads.get() else {
        let why = cx.tenant.directory_reads.require(Dataset::AzureDirectoryReads).err().map(|m| m.to_string()).unwrap_or_default();
        cx.ne(part, "azure_principal_read", Some(q), format!("{q} was not read: {why}"));
        return;
    };
    // GUIDs and UPNs ignore case.
    let Some(read) = reads.iter().find(|r| r.query.eq_ignore_ascii_case(q)) else {
        cx.ne(part, "azure_principal_read", Some(q), format!("{q} was not read in tenant {}", cx.tenant.tenant_id));
        return;
    };
    match &read.found {
        DirectoryObject::Unreadable { error } => {
            cx.ne(part, "azure_principal_read", Some(q), format!("{q} could not be read: {error}"));
        }
        // Found in another tenant read: not here, proved by this read (a GUID is looked up in the
        // app and service principal lists too, so only when both were read: an appId names a
        // multi-tenant app's service principal in every tenant that has one).
        DirectoryObject::NotFound if cx.found.iter().any(|f| f.eq_ignore_ascii_case(q)) && (!crate::inventory::azure::is_guid(q) || apps(cx.tenant).is_ok()) => {}
        DirectoryObject::NotFound => {
            let hint = if crate::inventory::azure::is_guid(q) { "" } else { " (a deleted user's UPN changes: name it by object id to find it among deleted items)" };
            cx.ne(part, "azure_principal_read", Some(q), format!("{q} is neither a user, an application, a service principal nor a deleted object of tenant {}{hint}", cx.tenant.tenant_id));
        }
        DirectoryObject::Deleted { odata_type } => {
            let what = odata_type.as_deref().map(|t| t.trim_start_matches("#microsoft.graph.")).unwrap_or("object");
            cx.push(part, Status::Pass, "azure_principal_deleted", Some(q), format!("{q} is a deleted {what}: it cannot sign in (an administrator can restore it for 30 days)"), json!({"odata_type": odata_type}));
        }
        DirectoryObject::User {
            id,
            user_principal_name,
            account_enabled,
            sessions_valid_from,
            user_type,
            creation_type,
            last_password_change,
            owned_objects,
            app_role_assignments,
            oauth2_permission_grants,
        } => {
            let who = format!("user {user_principal_name}");
            let guest = is_guest(cx.tenant, id, user_principal_name, user_type, creation_type);
            let evidence = json!({"id": id, "account_enabled": account_enabled, "sign_in_sessions_valid_from": sessions_valid_from, "user_type": user_type, "creation_type": creation_type, "last_password_change": last_password_change});
            let revoked = sessions_valid_from.is_some_and(|t| t >= contained);
            seen.push(Seen { query: q.to_string(), who: who.clone(), app_role_assignments: listed(app_role_assignments, "its app role assignments").cloned() });
            // The sign-off may name the user by object id or UPN, whichever the incident used.
            let restored = restored.iter().find(|(r, _)| r.eq_ignore_ascii_case(q) || r.eq_ignore_ascii_case(id) || r.eq_ignore_ascii_case(user_principal_name)).map(|(_, reference)| *reference);
            if let Some(reference) = restored {
                restored_user(cx, q, &who, reference, guest, revoked, *sessions_valid_from, *last_password_change, contained, evidence);
                return;
            }
            let (status, message) = match account_enabled {
                Some(false) => (Status::Pass, format!("{who} is disabled (accountEnabled false)")),
                Some(true) => (Status::Fail, format!("{who} is enabled: it can still sign in, and it is not on the sign-off list of restored principals")),
                None => (Status::NotEvaluated, format!("not evaluated: Graph did not say whether {who} is enabled")),
            };
            cx.push(part, status, "azure_user_disabled", Some(q), message, evidence.clone());
            let (status, message) = if guest == Some(true) {
                // revokeSignInSessions does not reach a guest's home-tenant sessions; disabling
                // the guest account here is what blocks them.
                match account_enabled {
                    Some(false) => (Status::Pass, format!("{who} is a guest: its sessions live in its home tenant, and the guest account here is disabled")),
                    _ => (Status::Fail, format!("{who} is a guest: revoking sessions does not reach its home tenant, so the guest account here must be disabled")),
                }
            } else if revoked {
                (Status::Pass, format!("{who}: sessions issued before {} are revoked (containment {contained})", opt_time(*sessions_valid_from)))
            } else {
                (
                    Status::Fail,
                    format!("{who}: sessions were not revoked after containment (signInSessionsValidFromDateTime {}): refresh tokens issued to the attacker still work", opt_time(*sessions_valid_from)),
                )
            };
            cx.push(part, status, "azure_user_sessions_revoked", Some(q), message, evidence);
            roles(cx, q, &who, std::slice::from_ref(id), "User");
            // A disabled user cannot sign in, so nothing it was granted can be used meanwhile.
            let usable = match account_enabled {
                Some(false) => Ok(false),
                Some(true) => Ok(true),
                None => Err(format!("Graph did not say whether {who} is enabled")),
            };
            grants(cx, q, &who, listed(app_role_assignments, "its app role assignments"), listed(oauth2_permission_grants, "its delegated permission grants"), usable);
            owned(cx, q, &who, listed(owned_objects, "what it owns (ownedObjects)"));
        }
        DirectoryObject::App { app_id, federated_credentials, owners, owned_objects, app_role_assignments, oauth2_permission_grants } => {
            compromised_apps.push(app_id.clone());
            let all = match apps(cx.tenant) {
                Ok(a) => a,
                Err(why) => {
                    cx.ne(part, "azure_app_credentials_removed", Some(q), why.clone());
                    cx.ne(part, "azure_principal_roles_removed", Some(q), format!("the service principals of {q} are unknown: {why}"));
                    return;
                }
            };
            let same: Vec<&EntraServicePrincipal> = all.into_iter().filter(|a| a.app_id.eq_ignore_ascii_case(app_id)).collect();
            let registration_here = same.iter().any(|a| a.kind == "application");
            let sps: Vec<&EntraServicePrincipal> = same.iter().copied().filter(|a| a.kind != "application").collect();
            let name = same.first().map(|a| a.display_name.clone()).unwrap_or_else(|| app_id.clone());
            let managed = sps.iter().any(|s| s.kind == "managed_identity");
            let who = if managed { format!("managed identity {name}") } else { format!("app {name}") };
            seen.push(Seen { query: q.to_string(), who: who.clone(), app_role_assignments: listed(app_role_assignments, "the app role assignments of its service principals").cloned() });
            let sp_ids: Vec<String> = sps.iter().map(|s| s.id.clone()).collect();
            let sp_disabled = !sps.is_empty() && sps.iter().all(|s| s.account_enabled == Some(false));
            // Can anything still sign in as it? A managed identity: whatever runs as it, unless its
            // service principal is disabled.
            let usable: Result<bool, String> = if managed {
                Ok(!sp_disabled)
            } else {
                credentials(cx, q, &name, app_id, &same, &sps, registration_here, sp_disabled, federated_credentials)
            };
            roles(cx, q, &who, &sp_ids, "ServicePrincipal");
            grants(cx, q, &who, listed(app_role_assignments, "the app role assignments of its service principals"), listed(oauth2_permission_grants, "the delegated permission grants of its service principals"), usable);
            owned(cx, q, &who, listed(owned_objects, "what its service principals own (ownedObjects)"));
            app_owners(cx, q, &who, listed(owners, "the owners of its registration and service principals"));
        }
    }
}

/// A user given back after sign-off: enabled is expected, but every session from before
/// containment must be dead and the password changed since. A guest's sessions and password
/// live in its home tenant, which this tenant cannot see.
#[allow(clippy::too_many_arguments)]
fn restored_user(
    cx: &mut Cx,
    q: &str,
    who: &str,
    reference: &str,
    guest: Option<bool>,
    revoked: bool,
    sessions_valid_from: Option<Timestamp>,
    last_password_change: Option<Timestamp>,
    contained: Timestamp,
    evidence: serde_json::Value,
) {
    let part = Part::Recovery;
    let (status, message) = match guest {
        Some(true) => (
            Status::NotEvaluated,
            format!("not evaluated: {who} is a guest restored after sign-off ({reference}): its sessions live in its home tenant, where revoking sessions here does not reach and which this tenant cannot see; confirm with the home tenant that they were revoked"),
        ),
        None => (Status::NotEvaluated, format!("not evaluated: {who} was restored after sign-off ({reference}), but Graph gave neither userType nor creationType: whether its sessions live here or in a home tenant is unknown")),
        Some(false) if revoked => (Status::Pass, format!("{who} was restored after sign-off ({reference}); sessions from before containment are revoked")),
        Some(false) => (
            Status::Fail,
            format!("{who} was restored after sign-off ({reference}) but its sessions were not revoked after containment (signInSessionsValidFromDateTime {})", opt_time(sessions_valid_from)),
        ),
    };
    cx.push(part, status, "azure_user_restored_with_sessions_revoked", Some(q), message, evidence.clone());
    let (status, message) = match (guest, last_password_change) {
        (Some(true), _) => (Status::NotEvaluated, format!("not evaluated: {who} is a guest: its password is its home tenant's, which this tenant cannot see")),
        (None, _) => (Status::NotEvaluated, format!("not evaluated: whether {who} is a guest, whose password lives in its home tenant, is unknown")),
        (Some(false), Some(t)) if t >= contained => (Status::Pass, format!("{who}: the password was changed after containment ({t})")),
        (Some(false), Some(t)) => {
            (Status::Fail, format!("{who} was restored after sign-off ({reference}) with the password it had before containment (lastPasswordChangeDateTime {t}): the attacker may still know it"))
        }
        (Some(false), None) => (Status::NotEvaluated, format!("not evaluated: Graph did not give when the password of {who} last changed (lastPasswordChangeDateTime)")),
    };
    cx.push(part, status, "azure_user_restored_password_changed", Some(q), message, evidence);
}

/// The app's secrets, certificates and federated credentials; returns whether it can still
/// authenticate (or why that is unknown).
#[allow(clippy::too_many_arguments)]
fn credentials(
    cx: &mut Cx,
    q: &str,
    name: &str,
    app_id: &str,
    same: &[&EntraServicePrincipal],
    sps: &[&EntraServicePrincipal],
    registration_here: bool,
    sp_disabled: bool,
    federated_credentials: &Collected<Vec<crate::inventory::azure::FederatedCredential>>,
) -> Result<bool, String> {
    let part = Part::Containment;
    let now = cx.now;
    let creds: Vec<serde_json::Value> = same.iter().flat_map(|a| a.credentials.iter().filter(|c| live(c, now)).map(|c| cred_json(a, c))).collect();
    let federated: Result<Vec<serde_json::Value>, String> = match federated_credentials {
        Collected::Collected(v) => Ok(v.iter().map(|f| json!({"name": f.name, "issuer": f.issuer, "subject": f.subject})).collect()),
        other => Err(crate::inventory::Missing { dataset: Dataset::AzureDirectoryReads, state: other.state() }.to_string()),
    };
    let evidence = json!({"app_id": app_id, "credentials": creds, "federated_credentials": federated.clone().unwrap_or_default(), "service_principal_disabled": sp_disabled});
    let (status, message, usable) = if !registration_here {
        // A multi-tenant app owned elsewhere: its secrets live in the owner's tenant.
        if sp_disabled {
            (Status::Pass, format!("app {name}: registered in another tenant; its service principal here is disabled, so none of its credentials signs in to this tenant"), Ok(false))
        } else {
            (Status::Fail, format!("app {name} is registered in another tenant, where its credentials are out of reach: disable (accountEnabled false) or delete its service principal here"), Ok(true))
        }
    } else {
        match (&federated, creds.is_empty()) {
            (Ok(f), true) if f.is_empty() => (Status::Pass, format!("app {name}: no secret, certificate or federated credential remains"), Ok(false)),
            (Ok(f), _) => {
                let mut what = Vec::new();
                if !creds.is_empty() {
                    what.push(format!("{} secret(s) or certificate(s)", creds.len()));
                }
                if !f.is_empty() {
                    what.push(format!("{} federated credential(s)", f.len()));
                }
                (Status::Fail, format!("app {name} still has {}", what.join(" and ")), Ok(!sp_disabled))
            }
            (Err(why), false) => (Status::Fail, format!("app {name} still has {} secret(s) or certificate(s) (and its federated credentials could not be read: {why})", creds.len()), Ok(!sp_disabled)),
            (Err(why), true) => (
                Status::NotEvaluated,
                format!("not evaluated: app {name} has no secret or certificate left, but its federated credentials could not be read: {why}"),
                if sp_disabled { Ok(false) } else { Err(format!("its federated credentials could not be read: {why}")) },
            ),
        }
    };
    // An app with no service principal here cannot sign in to this tenant.
    let usable = if registration_here && sps.is_empty() { Ok(false) } else { usable };
    cx.push(part, status, "azure_app_credentials_removed", Some(q), message, evidence);
    usable
}

/// The subscriptions the tenant's management-group tree (when read) holds that were not read:
/// a role there is unseen.
fn unread_in_tree(t: &AzureTenant) -> Vec<String> {
    let Some(nodes) = t.scopes.get() else { return Vec::new() };
    nodes
        .iter()
        .filter(|n| n.kind == crate::inventory::ScopeKind::AzureSubscription && !t.subscriptions.iter().any(|s| s.subscription_id.eq_ignore_ascii_case(&n.id)))
        .map(|n| format!("subscription {} of tenant {} (in the management-group tree read) was not read", n.id, t.tenant_id))
        .collect()
}

/// A role a principal holds, for the message and the evidence.
struct Hold {
    text: String,
    evidence: serde_json::Value,
}

/// How a principal comes to hold an assignment made to `pid`: directly, through groups (each
/// with whether only on activating a PIM for Groups eligibility), not at all, or unknown (why).
fn through(t: &AzureTenant, ids: &[String], kind: &str, pid: &str, ptype: Option<&str>) -> Result<Vec<(Option<String>, bool)>, String> {
    let mine = |x: &str| ids.iter().any(|i| i.eq_ignore_ascii_case(x));
    if mine(pid) {
        return Ok(vec![(None, false)]);
    }
    if let Some(g) = t.group_members.get().and_then(|gs| gs.iter().find(|g| g.group_id.eq_ignore_ascii_case(pid))) {
        let mut out = Vec::new();
        if g.all_members().iter().any(|m| mine(&m.id)) {
            out.push((Some(g.group_id.clone()), false));
        } else if g.members.is_none() && kind != "User" {
            return Err(format!("only the user members of group {pid} were read"));
        }
        match &g.eligible {
            Collected::Collected(v) if v.iter().any(|m| mine(&m.id)) => out.push((Some(g.group_id.clone()), true)),
            Collected::Collected(_) => {}
            other if out.is_empty() => {
                let why = other.require(Dataset::AzureGroupMembers).err().map(|m| m.to_string()).unwrap_or_default();
                return Err(format!("who is eligible for group {pid} through PIM for Groups was not read ({why})"));
            }
            _ => {}
        }
        // A group nested in this one (a transitive member of type group): whoever may activate
        // membership or ownership of it through PIM for Groups holds this group's roles then.
        if out.is_empty() {
            let mut unread = None;
            for h in g.all_members().iter().filter(|m| m.kind.eq_ignore_ascii_case("group")) {
                let nested = t.group_members.get().and_then(|gs| gs.iter().find(|x| x.group_id.eq_ignore_ascii_case(&h.id)));
                match nested.map(|n| &n.eligible) {
                    Some(Collected::Collected(v)) if v.iter().any(|m| mine(&m.id)) => {
                        out.push((Some(g.group_id.clone()), true));
                        break;
                    }
                    Some(Collected::Collected(_)) => {}
                    Some(other) => {
                        let why = other.require(Dataset::AzureGroupMembers).err().map(|m| m.to_string()).unwrap_or_default();
                        unread.get_or_insert(format!("group {} is a member of group {pid}, and who is eligible for it through PIM for Groups was not read ({why})", h.id));
                    }
                    None => {
                        unread.get_or_insert(format!("group {} is a member of group {pid}, and who is eligible for it through PIM for Groups (and so for {pid}'s roles) was not read", h.id));
                    }
                }
            }
            if let (true, Some(why)) = (out.is_empty(), unread) {
                return Err(why);
            }
        }
        return Ok(out);
    }
    let ptype = ptype.map(str::to_ascii_lowercase);
    match ptype.as_deref() {
        Some("group") => Err(match t.group_members.require(Dataset::AzureGroupMembers) {
            Err(m) => format!("the members of group {pid} are unknown: {m}"),
            Ok(_) => format!("the members of group {pid} are not among the groups read"),
        }),
        // Another tenant's group, a device, a user or service principal that is not this one.
        Some(_) => Ok(Vec::new()),
        None => {
            let known = t.users.get().is_some_and(|u| u.iter().any(|u| u.id.eq_ignore_ascii_case(pid)))
                || t.service_principals.get().is_some_and(|s| s.iter().any(|s| s.id.eq_ignore_ascii_case(pid)));
            if known {
                Ok(Vec::new())
            } else {
                Err(format!("principal {pid} is no user or service principal read, and its type was not given: it may be a group whose members were not read"))
            }
        }
    }
}

/// "holds directory role X at / through group G [privileged …]", "is eligible for …".
fn hold_text(eligible: bool, what: &str, name: &str, scope: &str, group: &Option<String>, privilege: &str) -> String {
    let verb = if eligible { "is eligible for" } else { "holds" };
    let via = group.as_ref().map(|g| format!(" through group {g}")).unwrap_or_default();
    format!("{verb} {what} role {name} at {scope}{via} [{privilege}]")
}

/// `azure_principal_roles_removed`: no directory role and no Azure role, active or eligible,
/// directly or through a group. Each role held is named with its scope and what the privilege
/// model says of it; a dataset not read, a group whose members are unknown, is `not_evaluated`.
fn roles(cx: &mut Cx, q: &str, who: &str, ids: &[String], kind: &'static str) {
    let t = cx.tenant;
    let mut held: Vec<Hold> = Vec::new();
    let mut gaps: Vec<String> = Vec::new();
    if ids.is_empty() {
        cx.push(Part::Containment, Status::Pass, "azure_principal_roles_removed", Some(q), format!("{who} has no service principal in tenant {}: it holds no role here", t.tenant_id), json!({"roles": []}));
        return;
    }
    // Directory roles, judged by the Entra model.
    let entra = EntraRoles::new(t);
    let lists: [(&Collected<Vec<DirectoryRoleAssignment>>, Dataset, bool); 2] =
        [(&t.directory_roles, Dataset::AzureDirectoryRoles, false), (&t.directory_role_eligibility, Dataset::AzureDirectoryRoleEligibility, true)];
    for (list, dataset, eligible) in lists {
        let list = match list.require(dataset) {
            Ok(l) => l,
            Err(m) => {
                gaps.push(m.to_string());
                continue;
            }
        };
        // An eligibility (or time-bound assignment) that ended before now is gone.
        for a in list.iter().filter(|a| a.end.is_none_or(|e| e > cx.now)) {
            let via = match through(t, ids, kind, &a.principal_id, a.principal_type.as_deref()) {
                Ok(v) => v,
                Err(why) => {
                    gaps.push(format!("directory role {} assigned to {}: {why}", a.role_definition_id, a.principal_id));
                    continue;
                }
            };
            for (group, in_group) in via {
                let eligible = eligible || in_group;
                let (name, privileged, privilege) = match entra.judge(&a.role_definition_id) {
                    Verdict::Privileged { name, source, detail } => (name, Some(true), format!("privileged ({detail}; {})", source.describe())),
                    Verdict::NotPrivileged { name, source } => (name, Some(false), format!("not privileged ({})", source.describe())),
                    Verdict::Unknown(why) => (a.role_definition_id.clone(), None, format!("privilege unknown: {why}")),
                };
                held.push(Hold {
                    text: hold_text(eligible, "directory", &name, &a.directory_scope_id, &group, &privilege),
                    evidence: json!({"kind": "directory", "role": name, "role_id": a.role_definition_id, "scope": a.directory_scope_id, "eligible": eligible, "via_group": group, "privileged": privileged, "privilege": privilege}),
                });
            }
        }
    }
    // Azure RBAC roles, judged by the RBAC model of each subscription. An assignment above the
    // subscriptions shows in each of them: named once.
    if t.subscriptions.is_empty() {
        gaps.push(format!("no subscription of tenant {} was read", t.tenant_id));
    }
    gaps.extend(unread_in_tree(t));
    let mut named: Vec<(String, String, bool, Option<String>)> = Vec::new();
    for s in &t.subscriptions {
        let rbac = AzureRbac::new(s);
        let lists: [(&Collected<Vec<AzureRoleAssignment>>, Dataset, bool); 2] = [(&s.role_assignments, Dataset::AzureRoleAssignments, false), (&s.role_eligibility, Dataset::AzureRoleEligibility, true)];
        for (list, dataset, eligible) in lists {
            let list = match list.require(dataset) {
                Ok(l) => l,
                Err(m) => {
                    gaps.push(format!("subscription {}: {m}", s.subscription_id));
                    continue;
                }
            };
            for a in list.iter().filter(|a| a.end.is_none_or(|e| e > cx.now)) {
                let via = match through(t, ids, kind, &a.principal_id, a.principal_type.as_deref()) {
                    Ok(v) => v,
                    Err(why) => {
                        gaps.push(format!("Azure role {} at {} assigned to {}: {why}", a.role_guid(), a.scope, a.principal_id));
                        continue;
                    }
                };
                for (group, in_group) in via {
                    let eligible = eligible || in_group;
                    let key = (a.role_guid(), a.scope.trim_end_matches('/').to_ascii_lowercase(), eligible, group.clone());
                    if named.contains(&key) {
                        continue;
                    }
                    named.push(key);
                    let asker = Asker { id: &ids[0], kind: Some(kind), controls: &[] };
                    let (name, privileged, privilege) = match rbac.grant(&a.role_definition_id, &a.scope, a.condition.as_deref(), asker) {
                        Ok(g) => {
                            let (p, text) = match g.privileged() {
                                Truth::True => (Some(true), format!("privileged: {}", g.summary(Truth::True))),
                                Truth::Unknown => (None, format!("privilege undecided: {} hinge on a condition", g.summary(Truth::Unknown))),
                                Truth::False => (Some(false), "not privileged by the RBAC model".to_string()),
                            };
                            (g.role.name().to_string(), p, text)
                        }
                        Err(m) => (rbac.name(&a.role_definition_id), None, format!("privilege unknown: {m}")),
                    };
                    held.push(Hold {
                        text: hold_text(eligible, "Azure", &name, &a.scope, &group, &privilege),
                        evidence: json!({"kind": "azure", "subscription": s.subscription_id, "role": name, "role_id": a.role_definition_id, "scope": a.scope, "eligible": eligible,
                                         "via_group": group, "condition": a.condition, "privileged": privileged, "privilege": privilege}),
                    });
                }
            }
        }
    }
    let evidence = json!({"principal_ids": ids, "roles": held.iter().map(|h| h.evidence.clone()).collect::<Vec<_>>(), "not_read": gaps});
    let (status, message) = if !held.is_empty() {
        let texts: Vec<&str> = held.iter().map(|h| h.text.as_str()).collect();
        (Status::Fail, format!("{who} still has {} role(s), keeping what they grant (or gaining it on activation): {}", held.len(), texts.join("; ")))
    } else if !gaps.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: {who} holds no role in what was read, but {}", gaps.join("; ")))
    } else {
        (Status::Pass, format!("{who} holds no directory role and no Azure role, active or eligible, directly or through a group ({} subscription(s) read)", t.subscriptions.len()))
    };
    cx.push(Part::Containment, status, "azure_principal_roles_removed", Some(q), message, evidence);
}

fn grant_json(g: &AppRoleGrant) -> serde_json::Value {
    json!({"id": g.id, "app_role_id": g.app_role_id, "resource_id": g.resource_id, "resource": g.resource_display_name, "principal_id": g.principal_id, "created": g.created})
}

fn delegated_json(g: &DelegatedGrant) -> serde_json::Value {
    json!({"id": g.id, "client_id": g.client_id, "consent_type": g.consent_type, "principal_id": g.principal_id, "resource_id": g.resource_id, "scope": g.scope})
}

/// `azure_principal_grants_removed`: no app-role assignment (application permission) and no
/// delegated grant that the principal can still use (`usable`: something can still sign in as it).
fn grants(cx: &mut Cx, q: &str, who: &str, roles: Result<&Vec<AppRoleGrant>, String>, delegated: Result<&Vec<DelegatedGrant>, String>, usable: Result<bool, String>) {
    let part = Part::Containment;
    let (roles, delegated) = match (roles, delegated) {
        (Ok(r), Ok(d)) => (r, d),
        (Err(why), _) | (_, Err(why)) => return cx.ne(part, "azure_principal_grants_removed", Some(q), format!("{who}: {why}")),
    };
    let evidence = json!({"app_role_assignments": roles.iter().map(grant_json).collect::<Vec<_>>(), "delegated_grants": delegated.iter().map(delegated_json).collect::<Vec<_>>()});
    let mut what = Vec::new();
    if !roles.is_empty() {
        let names: Vec<String> = roles.iter().map(|g| format!("app role {} of {}", g.app_role_id, g.resource_display_name.as_deref().unwrap_or(&g.resource_id))).collect();
        what.push(format!("{} app role assignment(s) ({})", roles.len(), names.join(", ")));
    }
    if !delegated.is_empty() {
        let names: Vec<String> = delegated.iter().map(|g| format!("\"{}\" on {}", g.scope, g.resource_id)).collect();
        what.push(format!("{} delegated permission grant(s) ({})", delegated.len(), names.join(", ")));
    }
    let (status, message) = if what.is_empty() {
        (Status::Pass, format!("{who} holds no app role assignment and no delegated permission grant"))
    } else {
        match usable {
            Ok(true) => (Status::Fail, format!("{who} can still sign in and still holds {}", what.join(" and "))),
            Ok(false) => (Status::Pass, format!("{who} still holds {}, but nothing can sign in as it any more", what.join(" and "))),
            Err(why) => (Status::NotEvaluated, format!("not evaluated: {who} still holds {}, and whether it can still sign in is unknown: {why}", what.join(" and "))),
        }
    };
    cx.push(part, status, "azure_principal_grants_removed", Some(q), message, evidence);
}

/// Does any role (directory or Azure, active or eligible) name `gid` as its principal?
/// Or is `gid` nested in (a transitive member of) a group that one names: its members hold that
/// group's roles too, and an owner of `gid` can add itself.
fn holds_a_role(t: &AzureTenant, gid: &str) -> Option<bool> {
    let mut unknown = false;
    let mut any = false;
    // Whether a role names `pid`; whether one names a group (or a principal of unknown type).
    let mut to_groups = false;
    let mut names = |pid: &str| -> bool {
        let mut hit = false;
        for list in [&t.directory_roles, &t.directory_role_eligibility] {
            match list.get() {
                Some(v) => {
                    hit |= v.iter().any(|a| a.principal_id.eq_ignore_ascii_case(pid));
                    to_groups |= v.iter().any(|a| a.principal_type.as_deref().is_none_or(|p| p.eq_ignore_ascii_case("group")));
                }
                None => unknown = true,
            }
        }
        for s in &t.subscriptions {
            for list in [&s.role_assignments, &s.role_eligibility] {
                match list.get() {
                    Some(v) => {
                        hit |= v.iter().any(|a| a.principal_id.eq_ignore_ascii_case(pid));
                        to_groups |= v.iter().any(|a| a.principal_type.as_deref().is_none_or(|p| p.eq_ignore_ascii_case("group")));
                    }
                    None => unknown = true,
                }
            }
        }
        hit
    };
    any |= names(gid);
    match t.group_members.get() {
        Some(gs) => {
            for g in gs.iter().filter(|g| g.all_members().iter().any(|m| m.kind.eq_ignore_ascii_case("group") && m.id.eq_ignore_ascii_case(gid))) {
                any |= names(&g.group_id);
            }
        }
        None => unknown |= to_groups,
    }
    if any {
        Some(true)
    } else if unknown {
        None
    } else {
        Some(false)
    }
}

fn ref_name(r: &DirectoryRef) -> String {
    let name = r.user_principal_name.as_deref().or(r.display_name.as_deref()).unwrap_or(&r.id);
    format!("{} {name} ({})", r.kind, r.id)
}

/// `azure_principal_owned_apps_removed`: the principal owns no application or service principal
/// (an owner can add credentials to it and sign in as it) and no group that holds a role (an
/// owner can add itself to it).
fn owned(cx: &mut Cx, q: &str, who: &str, objects: Result<&Vec<DirectoryRef>, String>) {
    let part = Part::Containment;
    let objects = match objects {
        Ok(o) => o,
        Err(why) => return cx.ne(part, "azure_principal_owned_apps_removed", Some(q), format!("{who}: {why}")),
    };
    let mut bad = Vec::new();
    let mut unknown = Vec::new();
    let mut untyped = Vec::new();
    for o in objects {
        let k = o.kind.trim().to_ascii_lowercase();
        let k = k.trim_start_matches("#microsoft.graph.");
        if k.is_empty() || k == "unknown" {
            // Graph gave no @odata.type: it may be an application.
            untyped.push(ref_name(o));
        } else if k == "application" || k == "serviceprincipal" {
            bad.push(ref_name(o));
        } else if k == "group" {
            match holds_a_role(cx.tenant, &o.id) {
                Some(true) => bad.push(format!("{} (which holds a role)", ref_name(o))),
                Some(false) => {}
                None => unknown.push(ref_name(o)),
            }
        }
    }
    let evidence = json!({"owned": objects});
    let (status, message) = if !bad.is_empty() {
        (Status::Fail, format!("{who} still owns {}: an owner can add credentials (or members) and come back through them", bad.join(", ")))
    } else if !unknown.is_empty() || !untyped.is_empty() {
        let mut why = Vec::new();
        if !unknown.is_empty() {
            why.push(format!("{who} owns {}, and whether those groups hold a role is unknown (role assignments or group members not read)", unknown.join(", ")));
        }
        if !untyped.is_empty() {
            why.push(format!("{who} owns {}, whose type Graph did not give (it may be an application or a service principal)", untyped.join(", ")));
        }
        (Status::NotEvaluated, format!("not evaluated: {}", why.join("; ")))
    } else {
        (Status::Pass, format!("{who} owns no application, service principal or role-holding group"))
    };
    cx.push(part, status, "azure_principal_owned_apps_removed", Some(q), message, evidence);
}

/// `azure_app_owners_trusted`: every owner of the compromised app's registration and service
/// principals is on `[response] team` (any other owner can add credentials back).
fn app_owners(cx: &mut Cx, q: &str, who: &str, owners: Result<&Vec<DirectoryRef>, String>) {
    let part = Part::Containment;
    let owners = match owners {
        Ok(o) => o,
        Err(why) => return cx.ne(part, "azure_app_owners_trusted", Some(q), format!("{who}: {why}")),
    };
    let team = &cx.inc.response;
    let outside: Vec<String> = owners
        .iter()
        .filter(|o| ![Some(o.id.as_str()), o.user_principal_name.as_deref(), o.app_id.as_deref()].into_iter().flatten().any(|n| team.includes(n)))
        .map(|o| format!("{}{}", ref_name(o), o.of.as_deref().map(|x| format!(", owner of {x}")).unwrap_or_default()))
        .collect();
    let evidence = json!({"owners": owners, "outside_team": outside});
    let (status, message) = if !outside.is_empty() {
        (Status::Fail, format!("{who} is owned by {} outside [response] team: an owner can add credentials back to it", outside.join("; ")))
    } else if owners.is_empty() {
        (Status::Pass, format!("{who} has no owner"))
    } else {
        (Status::Pass, format!("{who}: every owner ({}) is on [response] team", owners.len()))
    };
    cx.push(part, status, "azure_app_owners_trusted", Some(q), message, evidence);
}

fn opt_time(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "empty: never revoked".into())
}

fn in_window(t: Option<Timestamp>, (start, end): (Timestamp, Timestamp)) -> bool {
    t.is_some_and(|t| t >= start && t <= end)
}

fn persistence(cx: &mut Cx, window: (Timestamp, Timestamp)) {
    let part = Part::Persistence;
    let now = cx.now;
    match apps(cx.tenant) {
        Err(why) => cx.ne(part, "azure_window_credentials_removed", None, why),
        Ok(all) => {
            let found: Vec<serde_json::Value> = all.iter().flat_map(|a| a.credentials.iter().filter(|c| live(c, now) && in_window(c.start, window)).map(|c| cred_json(a, c))).collect();
            cx.none_found(part, "azure_window_credentials_removed", found, "credentials", "app secret(s) or certificate(s) that start inside the window remain", "no app secret or certificate that starts inside the window remains");
        }
    }
    let users = cx.tenant.users.require(Dataset::AzureUsers).map_err(|m| m.to_string());
    let registrations = cx.tenant.applications.require(Dataset::AzureApplications).map_err(|m| m.to_string());
    match (users, registrations) {
        (Err(why), _) | (_, Err(why)) => cx.ne(part, "azure_window_principals_absent", None, why),
        (Ok(users), Ok(registrations)) => {
            let mut found: Vec<serde_json::Value> = users.iter().filter(|u| in_window(u.created, window)).map(|u| json!({"user": u.user_principal_name, "id": u.id, "created": u.created})).collect();
            found.extend(registrations.iter().filter(|a| in_window(a.created, window)).map(|a| json!({"application": a.display_name, "app_id": a.app_id, "created": a.created})));
            cx.none_found(part, "azure_window_principals_absent", found, "principals", "user(s) or app registration(s) created inside the window remain", "no user or app registration created inside the window remains");
        }
    }
}

/// Role assignments and PIM eligibility made inside the window (ARM's `createdOn`) that still
/// stand: the attacker's grants to itself, a guest or an outside application. Each is described
/// by the RBAC model, with who holds it.
fn window_role_assignments(cx: &mut Cx, window: (Timestamp, Timestamp)) {
    let t = cx.tenant;
    let mut found = Vec::new();
    let mut unread = Vec::new();
    let mut seen: Vec<(String, bool)> = Vec::new();
    let users = t.users.get();
    for s in &t.subscriptions {
        let rbac = AzureRbac::new(s);
        let lists: [(&Collected<Vec<AzureRoleAssignment>>, Dataset, bool); 2] = [(&s.role_assignments, Dataset::AzureRoleAssignments, false), (&s.role_eligibility, Dataset::AzureRoleEligibility, true)];
        for (list, dataset, eligible) in lists {
            let list = match list.require(dataset) {
                Ok(l) => l,
                Err(m) => {
                    unread.push(format!("subscription {}: {m}", s.subscription_id));
                    continue;
                }
            };
            for a in list.iter().filter(|a| in_window(a.created, window) && a.end.is_none_or(|e| e > cx.now)) {
                // An assignment above the subscription shows in each: once.
                let key = (a.id.to_ascii_lowercase(), eligible);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let user = users.and_then(|u| u.iter().find(|u| u.id.eq_ignore_ascii_case(&a.principal_id)));
                let asker = Asker { id: &a.principal_id, kind: a.principal_type.as_deref(), controls: &[] };
                let privilege = match rbac.grant(&a.role_definition_id, &a.scope, a.condition.as_deref(), asker) {
                    Ok(g) => match g.privileged() {
                        Truth::True => format!("privileged: {}", g.summary(Truth::True)),
                        Truth::Unknown => "privilege undecided (a condition)".to_string(),
                        Truth::False => "not privileged by the RBAC model".to_string(),
                    },
                    Err(m) => format!("privilege unknown: {m}"),
                };
                found.push(json!({"subscription": s.subscription_id, "scope": a.scope, "principal_id": a.principal_id, "principal_type": a.principal_type,
                                  "principal": user.map(|u| u.user_principal_name.clone()), "guest": user.map(|u| u.is_guest()),
                                  "role": rbac.name(&a.role_definition_id), "role_definition_id": a.role_definition_id, "eligible": eligible, "privilege": privilege, "created": a.created}));
            }
        }
    }
    unread.extend(unread_in_tree(t));
    let tenant = t.tenant_id.clone();
    let (status, message) = if !found.is_empty() {
        let names: Vec<String> = found
            .iter()
            .map(|f| {
                let who = f["principal"].as_str().map(str::to_string).unwrap_or_else(|| f["principal_id"].as_str().unwrap_or_default().to_string());
                let guest = if f["guest"] == json!(true) { "guest " } else { "" };
                let how = if f["eligible"] == json!(true) { "made eligible for" } else { "given" };
                format!("{guest}{who} {how} {} at {} on {} [{}]", f["role"].as_str().unwrap_or_default(), f["scope"].as_str().unwrap_or_default(), f["created"].as_str().unwrap_or_default(), f["privilege"].as_str().unwrap_or_default())
            })
            .collect();
        (Status::Fail, format!("tenant {tenant}: {} Azure role assignment(s) or PIM eligibility(ies) made inside the window still stand: {}", found.len(), names.join("; ")))
    } else if !unread.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: the role assignments or PIM eligibility of {} could not be read", unread.join("; ")))
    } else if t.subscriptions.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: no subscription of tenant {tenant} was read"))
    } else {
        (Status::Pass, format!("tenant {tenant}: no Azure role assignment or PIM eligibility made inside the window stands ({} subscription(s) read)", t.subscriptions.len()))
    };
    cx.push(Part::Persistence, status, "azure_window_role_assignments_absent", None, message, json!({"role_assignments": found}));
}

/// App role assignments made inside the window (`createdDateTime`) to the compromised principals:
/// an application permission (for instance to Microsoft Graph) the attacker gave itself.
fn window_app_role_assignments(cx: &mut Cx, seen: &[Seen], window: (Timestamp, Timestamp)) {
    if seen.is_empty() {
        return;
    }
    let mut found = Vec::new();
    let mut unread = Vec::new();
    for s in seen {
        match &s.app_role_assignments {
            Ok(v) => found.extend(v.iter().filter(|g| in_window(g.created, window)).map(|g| {
                let mut j = grant_json(g);
                j["compromised"] = json!(s.query);
                j["who"] = json!(s.who);
                j
            })),
            Err(why) => unread.push(format!("{}: {why}", s.who)),
        }
    }
    let tenant = cx.tenant.tenant_id.clone();
    let (status, message) = if !found.is_empty() {
        let names: Vec<String> = found.iter().map(|f| format!("{} holds app role {} of {} since {}", f["who"].as_str().unwrap_or_default(), f["app_role_id"].as_str().unwrap_or_default(), f["resource"].as_str().or(f["resource_id"].as_str()).unwrap_or_default(), f["created"].as_str().unwrap_or_default())).collect();
        (Status::Fail, format!("tenant {tenant}: {} app role assignment(s) made inside the window to the compromised principals still stand: {}", found.len(), names.join("; ")))
    } else if !unread.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: {}", unread.join("; ")))
    } else {
        (Status::Pass, format!("tenant {tenant}: no app role assignment made inside the window to a compromised principal stands"))
    };
    cx.push(Part::Persistence, status, "azure_window_app_role_assignments_absent", None, message, json!({"app_role_assignments": found}));
}

fn recovery(cx: &mut Cx, compromised_apps: &[String], contained: Timestamp) {
    let part = Part::Recovery;
    let now = cx.now;
    match apps(cx.tenant) {
        Err(why) => cx.ne(part, "azure_credentials_rotated", None, why),
        Ok(all) => {
            // Managed identities' certificates are the platform's; the compromised apps are judged
            // in containment.
            let stale: Vec<serde_json::Value> = all
                .iter()
                .filter(|a| a.kind != "managed_identity" && !compromised_apps.iter().any(|c| c.eq_ignore_ascii_case(&a.app_id)))
                .flat_map(|a| a.credentials.iter().filter(|c| live(c, now) && c.start.is_none_or(|s| s < contained)).map(|c| cred_json(a, c)))
                .collect();
            cx.none_found(part, "azure_credentials_rotated", stale, "not_rotated", "app secret(s) or certificate(s) issued before containment were not rotated", "every app secret and certificate was issued after containment");
        }
    }
    let users = cx.tenant.users.require(Dataset::AzureUsers).map_err(|m| m.to_string());
    let reg = cx.tenant.registration_details.require(Dataset::AzureRegistrationDetails).map_err(|m| m.to_string());
    match (users, reg) {
        (Err(why), _) | (_, Err(why)) => cx.ne(part, "azure_users_mfa", None, why),
        (Ok(users), Ok(reg)) => {
            let mut without = Vec::new();
            let mut unknown = Vec::new();
            // Guests register MFA in their home tenant; a disabled user cannot sign in.
            for u in users.iter().filter(|u| u.account_enabled != Some(false) && !u.is_guest()) {
                match reg.iter().find(|r| r.id.eq_ignore_ascii_case(&u.id)) {
                    Some(r) if r.is_mfa_registered => {}
                    Some(_) => without.push(u.user_principal_name.clone()),
                    None => unknown.push(u.user_principal_name.clone()),
                }
            }
            let (status, message) = if !without.is_empty() {
                (Status::Fail, format!("tenant {}: enabled users without MFA registered: {}", cx.tenant.tenant_id, without.join(", ")))
            } else if !unknown.is_empty() {
                (Status::NotEvaluated, format!("not evaluated: the MFA registration of {} is not in the registration report", unknown.join(", ")))
            } else {
                (Status::Pass, format!("tenant {}: every enabled member user has MFA registered", cx.tenant.tenant_id))
            };
            cx.push(part, status, "azure_users_mfa", None, message, json!({"users": without, "unknown": unknown}));
        }
    }
}

/// What Azure verification cannot see, said in every output.
pub const NOTES: &[&str] = &[
    "Azure: Graph gives service principals no creation time, and Lighthouse delegations none either: consents to outside apps and delegations to outside tenants made inside the window are not found (read the Entra audit log for them).",
    "Azure: an app credential's start time is set by whoever adds it; one dated after containment is taken as a rotation.",
    "Azure: directory role assignments and eligibility (Graph roleAssignments, roleEligibilityScheduleInstances) and delegated permission grants carry no creation time: those made inside the window are found only where a compromised principal holds them, not tenant-wide (read the Entra audit log for the rest).",
    "Azure: federated credentials are read for the compromised apps only: one added inside the window to another app is not found.",
    "Azure: a guest's sessions, password and MFA live in its home tenant, which this tenant cannot see: a restored guest is not evaluated, never passed.",
    "Azure: what a user owns (ownedObjects) may be refused to an application-only credential (current Graph documentation lists no application permission for it); it is then not evaluated.",
    "Azure: PIM assignments and eligibility scheduled to start after the read (roleAssignmentSchedules and roleEligibilitySchedules with a future startDateTime) are not read: only the instances in force are; one the attacker scheduled for later is not found (list the schedules, or read the Entra and Azure activity logs).",
    "Azure: a restored user's authentication methods (an authenticator app or phone the attacker registered, which can reset the password through self-service password reset) are not read one by one with their creation time: review them before restoring the user.",
];

#[cfg(test)]
mod tests {
    use super::*;

    const INCIDENT: &str = r#"[incident]
id = "IR-1"
first_malicious_activity = "2026-11-28T00:00:00Z"
contained_at = "2026-11-29T12:00:00Z"

[scope]
azure_subscriptions = ["a1000000-0000-4000-8000-000000000001"]

[[compromised]]
principal = "alice@contoso.example"
[[compromised]]
principal = "A9000000-0000-4000-8000-000000000001"
"#;

    /// A snapshot written before the relationship reads existed: the user and app reads carry
    /// none of the new fields.
    fn old_snapshot() -> Inventory {
        serde_json::from_value(json!({
            "schema": crate::inventory::SCHEMA,
            "azure": {"tenants": [{
                "tenant_id": "3f2e1d0c-aaaa-4bbb-8ccc-000000000001",
                "users": {"collected": [{"id": "10000000-0000-4000-8000-000000000001", "user_principal_name": "alice@contoso.example", "account_enabled": false, "user_type": "Member"}]},
                "registration_details": {"collected": []},
                "applications": {"collected": [{"id": "40000000-0000-4000-8000-000000000001", "app_id": "a9000000-0000-4000-8000-000000000001", "display_name": "deploy", "kind": "application"}]},
                "service_principals": {"collected": [{"id": "30000000-0000-4000-8000-000000000001", "app_id": "a9000000-0000-4000-8000-000000000001", "display_name": "deploy", "kind": "service_principal", "account_enabled": true}]},
                "directory_roles": {"collected": []},
                "directory_role_eligibility": {"collected": []},
                "group_members": {"collected": []},
                "directory_reads": {"collected": [
                    {"query": "alice@contoso.example", "found": {"type": "user", "id": "10000000-0000-4000-8000-000000000001", "user_principal_name": "alice@contoso.example",
                                                                "account_enabled": false, "sessions_valid_from": "2026-11-29T13:00:00Z", "user_type": "Member"}},
                    {"query": "a9000000-0000-4000-8000-000000000001", "found": {"type": "app", "app_id": "a9000000-0000-4000-8000-000000000001", "federated_credentials": {"collected": []}}}
                ]},
                "subscriptions": [{"subscription_id": "a1000000-0000-4000-8000-000000000001", "role_assignments": {"collected": []}, "role_eligibility": {"collected": []}}]
            }]}
        }))
        .unwrap()
    }

    fn status<'a>(items: &'a [Item], kind: &str, principal: &str) -> &'a Item {
        items.iter().find(|i| i.kind == kind && i.principal.as_deref() == Some(principal)).unwrap_or_else(|| panic!("no {kind} for {principal}: {items:#?}"))
    }

    #[test]
    fn an_old_snapshot_leaves_what_it_did_not_read_not_evaluated() {
        let inc = IncidentFile::parse(INCIDENT, "t").unwrap();
        let items = items(&inc, &old_snapshot(), Timestamp::parse("2026-11-30T12:00:00Z").unwrap());
        // Read: judged (the GUID named in upper case is the same app).
        assert_eq!(status(&items, "azure_principal_roles_removed", "alice@contoso.example").status, Status::Pass);
        assert_eq!(status(&items, "azure_principal_roles_removed", "a9000000-0000-4000-8000-000000000001").status, Status::Pass);
        // Not read: not evaluated, saying so; never a pass.
        for (kind, who) in [
            ("azure_principal_grants_removed", "alice@contoso.example"),
            ("azure_principal_owned_apps_removed", "alice@contoso.example"),
            ("azure_principal_grants_removed", "a9000000-0000-4000-8000-000000000001"),
            ("azure_principal_owned_apps_removed", "a9000000-0000-4000-8000-000000000001"),
            ("azure_app_owners_trusted", "a9000000-0000-4000-8000-000000000001"),
        ] {
            let it = status(&items, kind, who);
            assert_eq!(it.status, Status::NotEvaluated, "{it:#?}");
            assert!(it.message.contains("was not read"), "{it:#?}");
        }
        let it = items.iter().find(|i| i.kind == "azure_window_app_role_assignments_absent").unwrap();
        assert_eq!(it.status, Status::NotEvaluated, "{it:#?}");
    }

    #[test]
    fn roles_of_a_group_whose_members_or_eligibles_were_not_read_are_not_evaluated() {
        let inc = IncidentFile::parse(INCIDENT, "t").unwrap();
        let mut inv = old_snapshot();
        let t = &mut inv.azure.tenants[0];
        let group = "20000000-0000-4000-8000-0000000000c1";
        t.directory_role_eligibility = Collected::Collected(vec![DirectoryRoleAssignment {
            principal_id: group.into(),
            role_definition_id: "62e90394-69f5-4237-9190-012177145e10".into(),
            directory_scope_id: "/".into(),
            principal_type: Some("group".into()),
            principal_name: None,
            end: None,
        }]);
        let now = Timestamp::parse("2026-11-30T12:00:00Z").unwrap();
        let it = status(&items(&inc, &inv, now), "azure_principal_roles_removed", "alice@contoso.example").clone();
        assert_eq!(it.status, Status::NotEvaluated, "{it:#?}");
        assert!(it.message.contains(group), "{it:#?}");
        // The group read, alice among the members: a fail naming the group; its PIM for Groups
        // eligibility not read does not hide that.
        inv.azure.tenants[0].group_members = Collected::Collected(vec![crate::inventory::azure::GroupMembers {
            group_id: group.into(),
            user_ids: Vec::new(),
            members: Some(vec![crate::inventory::azure::GroupMember { id: "10000000-0000-4000-8000-000000000001".into(), kind: "user".into(), access: None }]),
            eligible: Collected::Denied { action: "PrivilegedEligibilitySchedule.Read.AzureADGroup".into(), message: None },
        }]);
        let it = status(&items(&inc, &inv, now), "azure_principal_roles_removed", "alice@contoso.example").clone();
        assert_eq!(it.status, Status::Fail, "{it:#?}");
        assert!(it.message.contains("eligible for directory role") && it.message.contains(group), "{it:#?}");
    }

    /// A role held by group G whose (transitive) members include group H: whoever may activate
    /// membership or ownership of H through PIM for Groups, or owns H, holds G's roles on
    /// activation (or by adding itself). Both the directory role and the Azure role forms.
    #[test]
    fn a_group_nested_in_a_role_holding_group_is_a_way_to_its_roles() {
        use crate::inventory::azure::{GroupMember, GroupMembers};
        let inc = IncidentFile::parse(INCIDENT, "t").unwrap();
        let now = Timestamp::parse("2026-11-30T12:00:00Z").unwrap();
        let alice = "10000000-0000-4000-8000-000000000001";
        let (outer, nested) = ("20000000-0000-4000-8000-0000000000a1", "20000000-0000-4000-8000-0000000000B2");
        let outer_group = |eligible: Vec<GroupMember>| GroupMembers {
            group_id: outer.into(),
            user_ids: Vec::new(),
            members: Some(vec![GroupMember { id: nested.to_ascii_lowercase(), kind: "group".into(), access: None }]),
            eligible: Collected::Collected(eligible),
        };
        for directory in [true, false] {
            let mut inv = old_snapshot();
            let t = &mut inv.azure.tenants[0];
            if directory {
                t.directory_roles = Collected::Collected(vec![DirectoryRoleAssignment {
                    principal_id: outer.into(),
                    role_definition_id: "62e90394-69f5-4237-9190-012177145e10".into(),
                    directory_scope_id: "/".into(),
                    principal_type: Some("group".into()),
                    principal_name: None,
                    end: None,
                }]);
            } else {
                t.subscriptions[0].role_assignments = Collected::Collected(vec![AzureRoleAssignment {
                    id: "/subscriptions/a1000000-0000-4000-8000-000000000001/providers/Microsoft.Authorization/roleAssignments/r1".into(),
                    scope: "/subscriptions/a1000000-0000-4000-8000-000000000001".into(),
                    role_definition_id: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443f-a75c-2fe8c4bcb635".into(),
                    principal_id: outer.into(),
                    principal_type: Some("Group".into()),
                    condition: None,
                    created: None,
                    end: None,
                }]);
            }
            // The nested group's PIM for Groups eligibility was not read: not a pass.
            t.group_members = Collected::Collected(vec![outer_group(Vec::new())]);
            let it = status(&items(&inc, &inv, now), "azure_principal_roles_removed", "alice@contoso.example").clone();
            assert_eq!(it.status, Status::NotEvaluated, "{it:#?}");
            assert!(it.message.to_ascii_lowercase().contains(&nested.to_ascii_lowercase()), "{it:#?}");
            // Read, alice eligible to own it: she holds the outer group's role on activation.
            inv.azure.tenants[0].group_members = Collected::Collected(vec![
                outer_group(Vec::new()),
                GroupMembers { group_id: nested.into(), user_ids: Vec::new(), members: Some(Vec::new()), eligible: Collected::Collected(vec![GroupMember { id: alice.to_ascii_uppercase(), kind: "unknown".into(), access: Some("owner".into()) }]) },
            ]);
            let it = status(&items(&inc, &inv, now), "azure_principal_roles_removed", "alice@contoso.example").clone();
            assert_eq!(it.status, Status::Fail, "{it:#?}");
            assert!(it.message.contains("is eligible for") && it.message.contains(outer), "{it:#?}");
            // Alice owns the nested group (ownedObjects): she can add herself to it.
            let t = &mut inv.azure.tenants[0];
            t.group_members = Collected::Collected(vec![outer_group(Vec::new())]);
            t.directory_roles = if directory { t.directory_roles.clone() } else { Collected::Collected(Vec::new()) };
            let Collected::Collected(reads) = &mut t.directory_reads else { unreachable!() };
            if let DirectoryObject::User { owned_objects, .. } = &mut reads[0].found {
                *owned_objects = Collected::Collected(vec![DirectoryRef { id: nested.into(), kind: "group".into(), display_name: Some("ops".into()), user_principal_name: None, app_id: None, of: None }]);
            }
            let it = status(&items(&inc, &inv, now), "azure_principal_owned_apps_removed", "alice@contoso.example").clone();
            assert_eq!(it.status, Status::Fail, "{it:#?}");
            assert!(it.message.contains(nested), "{it:#?}");
        }
    }

    /// A subscription the management-group tree shows but no read reached (verify read only
    /// `[scope]`, or it was refused): a role the compromised principal holds there is unseen.
    #[test]
    fn a_subscription_in_the_tree_not_read_is_named() {
        let inc = IncidentFile::parse(INCIDENT, "t").unwrap();
        let now = Timestamp::parse("2026-11-30T12:00:00Z").unwrap();
        let mut inv = old_snapshot();
        let other = "B2000000-0000-4000-8000-000000000002";
        inv.azure.tenants[0].scopes = serde_json::from_value(json!({"collected": [
            {"id": "3f2e1d0c-aaaa-4bbb-8ccc-000000000001", "kind": "azure_management_group"},
            {"id": "a1000000-0000-4000-8000-000000000001", "kind": "azure_subscription", "parent": "3f2e1d0c-aaaa-4bbb-8ccc-000000000001"},
            {"id": other, "kind": "azure_subscription", "parent": "3f2e1d0c-aaaa-4bbb-8ccc-000000000001"}
        ]}))
        .unwrap();
        let all = items(&inc, &inv, now);
        for it in [status(&all, "azure_principal_roles_removed", "alice@contoso.example"), all.iter().find(|i| i.kind == "azure_window_role_assignments_absent").unwrap()] {
            assert_eq!(it.status, Status::NotEvaluated, "{it:#?}");
            assert!(it.message.contains(other), "{it:#?}");
        }
    }

    /// Two tenants read: the principal is found in one and a complete read of the other says it
    /// is not there. Nothing to judge in the other (no not_evaluated item for it); found in
    /// neither stays not evaluated.
    #[test]
    fn a_principal_absent_from_another_tenant_read_is_not_a_gap() {
        let inc = IncidentFile::parse(INCIDENT, "t").unwrap();
        let now = Timestamp::parse("2026-11-30T12:00:00Z").unwrap();
        let mut inv = old_snapshot();
        let mut other = inv.azure.tenants[0].clone();
        other.tenant_id = "3f2e1d0c-aaaa-4bbb-8ccc-000000000002".into();
        other.directory_reads = Collected::Collected(vec![
            crate::inventory::azure::DirectoryRead { query: "ALICE@contoso.example".into(), found: DirectoryObject::NotFound },
            crate::inventory::azure::DirectoryRead { query: "a9000000-0000-4000-8000-000000000001".into(), found: DirectoryObject::NotFound },
        ]);
        other.subscriptions.clear();
        inv.azure.tenants.push(other);
        let all = items(&inc, &inv, now);
        let reads: Vec<&Item> = all.iter().filter(|i| i.kind == "azure_principal_read").collect();
        assert!(reads.is_empty(), "{reads:#?}");
        // The other tenant's service principals not read: the appId may name one there.
        let saved = inv.azure.tenants[1].service_principals.clone();
        inv.azure.tenants[1].service_principals = Collected::Denied { action: "Application.Read.All".into(), message: None };
        let all = items(&inc, &inv, now);
        let reads: Vec<&Item> = all.iter().filter(|i| i.kind == "azure_principal_read").collect();
        assert_eq!(reads.len(), 1, "{reads:#?}");
        assert_eq!(reads[0].principal.as_deref(), Some("a9000000-0000-4000-8000-000000000001"));
        inv.azure.tenants[1].service_principals = saved;
        assert_eq!(status(&all, "azure_principal_roles_removed", "alice@contoso.example").status, Status::Pass);
        // Found nowhere: not evaluated.
        let Collected::Collected(r) = &mut inv.azure.tenants[0].directory_reads else { unreachable!() };
        r[0].found = DirectoryObject::NotFound;
        let all = items(&inc, &inv, now);
        assert_eq!(all.iter().filter(|i| i.kind == "azure_principal_read" && i.status == Status::NotEvaluated).count(), 2, "{all:#?}");
    }

    /// A PIM eligibility whose end has passed no longer stands; one that ends later still does.
    /// Directory and Azure roles, and the window's tenant-wide item.
    #[test]
    fn an_eligibility_that_has_ended_is_not_held() {
        let inc = IncidentFile::parse(INCIDENT, "t").unwrap();
        let now = Timestamp::parse("2026-11-30T12:00:00Z").unwrap();
        for (end, want) in [("2026-11-30T11:59:59Z", Status::Pass), ("2026-12-30T00:00:00Z", Status::Fail)] {
            let end = Some(Timestamp::parse(end).unwrap());
            let mut inv = old_snapshot();
            let t = &mut inv.azure.tenants[0];
            t.directory_role_eligibility = Collected::Collected(vec![DirectoryRoleAssignment {
                principal_id: "10000000-0000-4000-8000-000000000001".into(),
                role_definition_id: "62e90394-69f5-4237-9190-012177145e10".into(),
                directory_scope_id: "/".into(),
                principal_type: Some("user".into()),
                principal_name: None,
                end,
            }]);
            t.subscriptions[0].role_eligibility = Collected::Collected(vec![AzureRoleAssignment {
                id: "/subscriptions/a1000000-0000-4000-8000-000000000001/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/e1".into(),
                scope: "/subscriptions/a1000000-0000-4000-8000-000000000001".into(),
                role_definition_id: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443f-a75c-2fe8c4bcb635".into(),
                principal_id: "30000000-0000-4000-8000-000000000001".into(),
                principal_type: Some("ServicePrincipal".into()),
                condition: None,
                created: Some(Timestamp::parse("2026-11-28T10:00:00Z").unwrap()),
                end,
            }]);
            let all = items(&inc, &inv, now);
            assert_eq!(status(&all, "azure_principal_roles_removed", "alice@contoso.example").status, want);
            assert_eq!(status(&all, "azure_principal_roles_removed", "a9000000-0000-4000-8000-000000000001").status, want);
            assert_eq!(all.iter().find(|i| i.kind == "azure_window_role_assignments_absent").unwrap().status, want);
        }
    }

    /// An owned object whose type Graph did not give (`unknown`), or given in Graph's own
    /// spelling: never a pass.
    #[test]
    fn an_owned_object_of_unknown_type_is_not_a_pass() {
        let inc = IncidentFile::parse(INCIDENT, "t").unwrap();
        let now = Timestamp::parse("2026-11-30T12:00:00Z").unwrap();
        for (kind, want) in [("unknown", Status::NotEvaluated), ("#microsoft.graph.application", Status::Fail), ("ServicePrincipal", Status::Fail), ("device", Status::Pass)] {
            let mut inv = old_snapshot();
            let Collected::Collected(reads) = &mut inv.azure.tenants[0].directory_reads else { unreachable!() };
            if let DirectoryObject::User { owned_objects, .. } = &mut reads[0].found {
                *owned_objects = Collected::Collected(vec![DirectoryRef { id: "40000000-0000-4000-8000-0000000000f1".into(), kind: kind.into(), display_name: None, user_principal_name: None, app_id: None, of: None }]);
            }
            let it = status(&items(&inc, &inv, now), "azure_principal_owned_apps_removed", "alice@contoso.example").clone();
            assert_eq!(it.status, want, "{kind}: {it:#?}");
        }
    }
}
