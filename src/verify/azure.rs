//! Azure checklist items, judged per tenant read: each compromised Entra principal read by itself
//! (a user's `accountEnabled` and `signInSessionsValidFromDateTime`; an app's credentials on its
//! registration and service principal, and its federated credentials), the credentials and
//! principals created inside the window, and what was not rotated since containment.
//!
//! Data that is missing is `not_evaluated`; a user whose sessions were never revoked fails.

use serde_json::json;

use super::incident::{IncidentFile, Principal};
use super::{Item, Part};
use crate::finding::Status;
use crate::inventory::azure::{AzureCredential, AzureTenant, DirectoryObject, EntraServicePrincipal};
use crate::inventory::{Collected, Dataset, Inventory, Timestamp};

/// What a verify with Azure principals or subscriptions reads.
pub const DATASETS: &[Dataset] = &[
    Dataset::AzureUsers,
    Dataset::AzureRegistrationDetails,
    Dataset::AzureApplications,
    Dataset::AzureServicePrincipals,
    Dataset::AzureRoleAssignments,
    Dataset::AzureDirectoryReads,
];

struct Cx<'a> {
    items: Vec<Item>,
    tenant: &'a AzureTenant,
    now: Timestamp,
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
        return out;
    }
    let restored: Vec<(String, &str)> =
        inc.restored.iter().filter_map(|r| match Principal::parse(&r.principal) { Some(Principal::AzureUser(q)) => Some((q, r.reference.as_str())), _ => None }).collect();
    let mut out = Vec::new();
    for tenant in &inv.azure.tenants {
        let mut cx = Cx { items: Vec::new(), tenant, now };
        let window = (inc.incident.start(), inc.incident.contained());
        let mut compromised_apps = Vec::new();
        for q in &principals {
            if let Some(app) = containment(&mut cx, q, &restored, window.1) {
                compromised_apps.push(app);
            }
        }
        persistence(&mut cx, window);
        window_role_assignments(&mut cx, window);
        recovery(&mut cx, &compromised_apps, window.1);
        out.extend(cx.items);
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

/// The compromised principal's items; returns its appId when it is an application.
fn containment(cx: &mut Cx, q: &str, restored: &[(String, &str)], contained: Timestamp) -> Option<String> {
    let part = Part::Containment;
    let Some(reads) = cx.tenant.directory_reads.get() else {
        let why = cx.tenant.directory_reads.require(Dataset::AzureDirectoryReads).err().map(|m| m.to_string()).unwrap_or_default();
        cx.ne(part, "azure_principal_read", Some(q), format!("{q} was not read: {why}"));
        return None;
    };
    let Some(read) = reads.iter().find(|r| r.query == q) else {
        cx.ne(part, "azure_principal_read", Some(q), format!("{q} was not read in tenant {}", cx.tenant.tenant_id));
        return None;
    };
    match &read.found {
        DirectoryObject::Unreadable { error } => {
            cx.ne(part, "azure_principal_read", Some(q), format!("{q} could not be read: {error}"));
            None
        }
        DirectoryObject::NotFound => {
            let hint = if crate::inventory::azure::is_guid(q) { "" } else { " (a deleted user's UPN changes: name it by object id to find it among deleted items)" };
            cx.ne(part, "azure_principal_read", Some(q), format!("{q} is neither a user, an application, a service principal nor a deleted object of tenant {}{hint}", cx.tenant.tenant_id));
            None
        }
        DirectoryObject::Deleted { odata_type } => {
            let what = odata_type.as_deref().map(|t| t.trim_start_matches("#microsoft.graph.")).unwrap_or("object");
            cx.push(part, Status::Pass, "azure_principal_deleted", Some(q), format!("{q} is a deleted {what}: it cannot sign in (an administrator can restore it for 30 days)"), json!({"odata_type": odata_type}));
            None
        }
        DirectoryObject::User { id, user_principal_name, account_enabled, sessions_valid_from, user_type } => {
            let who = format!("user {user_principal_name}");
            let guest = user_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("guest")) || user_principal_name.to_ascii_uppercase().contains("#EXT#");
            let evidence = json!({"id": id, "account_enabled": account_enabled, "sign_in_sessions_valid_from": sessions_valid_from, "user_type": user_type});
            let revoked = sessions_valid_from.is_some_and(|t| t >= contained);
            // The sign-off may name the user by object id or UPN, whichever the incident used.
            let restored = restored.iter().find(|(r, _)| r == q || r.eq_ignore_ascii_case(id) || r.eq_ignore_ascii_case(user_principal_name)).map(|(_, reference)| *reference);
            if let Some(reference) = restored {
                // Given back after sign-off: enabled is expected, but every session from before
                // containment must be dead.
                let (status, message) = if revoked || guest {
                    (Status::Pass, format!("{who} was restored after sign-off ({reference}); sessions from before containment are revoked"))
                } else {
                    (Status::Fail, format!("{who} was restored after sign-off ({reference}) but its sessions were not revoked after containment (signInSessionsValidFromDateTime {})", opt_time(*sessions_valid_from)))
                };
                cx.push(Part::Recovery, status, "azure_user_restored_with_sessions_revoked", Some(q), message, evidence);
                return None;
            }
            let (status, message) = match account_enabled {
                Some(false) => (Status::Pass, format!("{who} is disabled (accountEnabled false)")),
                Some(true) => (Status::Fail, format!("{who} is enabled: it can still sign in, and it is not on the sign-off list of restored principals")),
                None => (Status::NotEvaluated, format!("not evaluated: Graph did not say whether {who} is enabled")),
            };
            cx.push(part, status, "azure_user_disabled", Some(q), message, evidence.clone());
            let (status, message) = if guest {
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
            None
        }
        DirectoryObject::App { app_id, federated_credentials } => {
            let all = match apps(cx.tenant) {
                Ok(a) => a,
                Err(why) => {
                    cx.ne(part, "azure_app_credentials_removed", Some(q), why);
                    return Some(app_id.clone());
                }
            };
            let same: Vec<&EntraServicePrincipal> = all.into_iter().filter(|a| a.app_id.eq_ignore_ascii_case(app_id)).collect();
            let registration_here = same.iter().any(|a| a.kind == "application");
            let sps: Vec<&&EntraServicePrincipal> = same.iter().filter(|a| a.kind != "application").collect();
            let name = same.first().map(|a| a.display_name.clone()).unwrap_or_else(|| app_id.clone());
            if sps.iter().any(|s| s.kind == "managed_identity") {
                managed_identity(cx, q, &name, &sps.iter().map(|s| s.id.clone()).collect::<Vec<_>>());
                return Some(app_id.clone());
            }
            let now = cx.now;
            let creds: Vec<serde_json::Value> = same.iter().flat_map(|a| a.credentials.iter().filter(|c| live(c, now)).map(|c| cred_json(a, c))).collect();
            let sp_disabled = !sps.is_empty() && sps.iter().all(|s| s.account_enabled == Some(false));
            let federated: Result<Vec<serde_json::Value>, String> = match federated_credentials {
                Collected::Collected(v) => Ok(v.iter().map(|f| json!({"name": f.name, "issuer": f.issuer, "subject": f.subject})).collect()),
                other => Err(crate::inventory::Missing { dataset: Dataset::AzureDirectoryReads, state: other.state() }.to_string()),
            };
            let evidence = json!({"app_id": app_id, "credentials": creds, "federated_credentials": federated.clone().unwrap_or_default(), "service_principal_disabled": sp_disabled});
            let (status, message) = if !registration_here {
                // A multi-tenant app owned elsewhere: its secrets live in the owner's tenant.
                if sp_disabled {
                    (Status::Pass, format!("app {name}: registered in another tenant; its service principal here is disabled, so none of its credentials signs in to this tenant"))
                } else {
                    (Status::Fail, format!("app {name} is registered in another tenant, where its credentials are out of reach: disable (accountEnabled false) or delete its service principal here"))
                }
            } else {
                match (&federated, creds.is_empty()) {
                    (Ok(f), true) if f.is_empty() => (Status::Pass, format!("app {name}: no secret, certificate or federated credential remains")),
                    (Ok(f), _) => {
                        let mut what = Vec::new();
                        if !creds.is_empty() {
                            what.push(format!("{} secret(s) or certificate(s)", creds.len()));
                        }
                        if !f.is_empty() {
                            what.push(format!("{} federated credential(s)", f.len()));
                        }
                        (Status::Fail, format!("app {name} still has {}", what.join(" and ")))
                    }
                    (Err(why), false) => (Status::Fail, format!("app {name} still has {} secret(s) or certificate(s) (and its federated credentials could not be read: {why})", creds.len())),
                    (Err(why), true) => (Status::NotEvaluated, format!("not evaluated: app {name} has no secret or certificate left, but its federated credentials could not be read: {why}")),
                }
            };
            cx.push(part, status, "azure_app_credentials_removed", Some(q), message, evidence);
            Some(app_id.clone())
        }
    }
}

/// A managed identity has no credential to remove: it is contained when it holds no Azure role.
fn managed_identity(cx: &mut Cx, q: &str, name: &str, ids: &[String]) {
    let mut held = Vec::new();
    let mut unread = Vec::new();
    for s in &cx.tenant.subscriptions {
        match s.role_assignments.get() {
            Some(list) => held.extend(list.iter().filter(|a| ids.iter().any(|i| i.eq_ignore_ascii_case(&a.principal_id))).map(|a| json!({"scope": a.scope, "role_definition_id": a.role_definition_id}))),
            None => unread.push(s.subscription_id.clone()),
        }
    }
    let (status, message) = if !held.is_empty() {
        (Status::Fail, format!("managed identity {name} still holds {} Azure role assignment(s): whatever runs as it keeps them", held.len()))
    } else if !unread.is_empty() || cx.tenant.subscriptions.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: managed identity {name} has no credential to remove; its role assignments could not be read in {}", if unread.is_empty() { "any subscription".to_string() } else { unread.join(", ") }))
    } else {
        (Status::Pass, format!("managed identity {name} holds no Azure role assignment in the subscriptions read"))
    };
    cx.push(Part::Containment, status, "azure_managed_identity_roles_removed", Some(q), message, json!({"role_assignments": held}));
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

/// Role assignments made inside the window (ARM's `createdOn`) that still stand: the attacker's
/// grants to itself, a guest or an outside application.
fn window_role_assignments(cx: &mut Cx, window: (Timestamp, Timestamp)) {
    let mut found = Vec::new();
    let mut unread = Vec::new();
    for s in &cx.tenant.subscriptions {
        match s.role_assignments.get() {
            Some(list) => found.extend(list.iter().filter(|a| in_window(a.created, window)).map(|a| {
                json!({"subscription": s.subscription_id, "scope": a.scope, "principal_id": a.principal_id, "principal_type": a.principal_type, "role_definition_id": a.role_definition_id, "created": a.created})
            })),
            None => unread.push(s.subscription_id.clone()),
        }
    }
    let tenant = cx.tenant.tenant_id.clone();
    let (status, message) = if !found.is_empty() {
        (Status::Fail, format!("tenant {tenant}: {} Azure role assignment(s) made inside the window still stand", found.len()))
    } else if !unread.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: the role assignments of {} could not be read", unread.join(", ")))
    } else if cx.tenant.subscriptions.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: no subscription of tenant {tenant} was read"))
    } else {
        (Status::Pass, format!("tenant {tenant}: no Azure role assignment made inside the window stands ({} subscription(s) read)", cx.tenant.subscriptions.len()))
    };
    cx.push(Part::Persistence, status, "azure_window_role_assignments_absent", None, message, json!({"role_assignments": found}));
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
];
