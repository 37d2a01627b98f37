//! Blast radius of one Entra principal (a user, a service principal or a managed identity): the
//! Azure roles it holds across the tenant's subscriptions and management groups and the directory
//! roles it holds in the tenant, active and PIM-eligible, directly and through groups (PIM for
//! Groups included); what they let it do, by risk; the identities it can become; its escalation
//! paths. What a role lets its holder do is asked of the one Azure RBAC model
//! ([`crate::reach::azure`]) and the one Entra model ([`crate::reach::entra`]); nothing here
//! names a role.
//!
//! What was not read (a subscription's assignments or eligibility, a role's definition, a group's
//! members, the directory roles) is a gap, listed: never "holds nothing".

use std::collections::{BTreeMap, BTreeSet};

use super::azure::{covers, subscription_chain, Asker, AzureRbac, Capability, Held, CHANGE_LOGGING, MANAGE_SUBSCRIPTION, RUN_CODE, SECRETS_AND_KEYS, WRITE_ROLE_ASSIGNMENTS, WRITE_ROLE_DEFINITIONS};
use super::blast::{BlastError, BlastRadius, Hold, Identity, Permission};
use super::entra::{EntraRoles, Verdict};
use crate::inventory::azure::{is_guid, role_guid, AzureInventory, AzureRoleAssignment, AzureSubscription, AzureTenant, DirectoryObject};
use crate::inventory::{Dataset, ScopeKind};
use crate::policy::azure_condition::Truth;

/// What an Entra principal's blast radius reads: who it is, the groups it is in (and may activate
/// through PIM for Groups), the directory roles and their definitions, and each subscription's
/// role assignments, eligibility and definitions, with the tree of management groups.
pub const DATASETS: &[Dataset] = &[
    Dataset::AzureDirectoryReads,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureApplications,
    Dataset::AzureGroupMembers,
    Dataset::AzureDirectoryRoles,
    Dataset::AzureDirectoryRoleEligibility,
    Dataset::AzureDirectoryRoleDefinitions,
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureRoleDefinitions,
    Dataset::AzureScopes,
];

/// Resource actions that add a credential to an application or a service principal: whoever may
/// do it signs in as that app.
pub const APP_CREDENTIAL_ACTIONS: &[(&str, &str)] = &[
    ("microsoft.directory/applications/credentials/update", "application"),
    ("microsoft.directory/servicePrincipals/credentials/update", "service principal"),
];

/// The tenant and object id of the Entra principal `q` names: an object id or appId (any case),
/// or a UPN (any case), looked up in the users, service principals and applications read (and in
/// the principals a `verify` read one by one).
pub fn resolve(inv: &AzureInventory, q: &str) -> Result<(String, String), BlastError> {
    let q = q.trim();
    let mut unread = Vec::new();
    for t in &inv.tenants {
        if let Some(id) = find(t, q, &mut unread) {
            return Ok((t.tenant_id.clone(), id));
        }
    }
    if inv.tenants.is_empty() {
        return Err(BlastError::Unknown { principal: q.to_string(), why: "no Azure tenant was read (give --azure, or an --inventory that holds one)".into() });
    }
    if unread.is_empty() {
        Err(BlastError::NotFound(q.to_string()))
    } else {
        Err(BlastError::Unknown { principal: q.to_string(), why: format!("it is not among what was read, and {}", unread.join("; ")) })
    }
}

fn find(t: &AzureTenant, q: &str, unread: &mut Vec<String>) -> Option<String> {
    match t.users.require(Dataset::AzureUsers) {
        Ok(users) => {
            if let Some(u) = users.iter().find(|u| u.id.eq_ignore_ascii_case(q) || u.user_principal_name.eq_ignore_ascii_case(q)) {
                return Some(u.id.to_ascii_lowercase());
            }
        }
        Err(m) => unread.push(format!("tenant {}: {m}", t.tenant_id)),
    }
    match t.service_principals.require(Dataset::AzureServicePrincipals) {
        Ok(sps) => {
            if let Some(s) = sps.iter().find(|s| s.id.eq_ignore_ascii_case(q) || s.app_id.eq_ignore_ascii_case(q)) {
                return Some(s.id.to_ascii_lowercase());
            }
            // An app registration's object id names the app: its service principal here acts.
            if let Some(app) = t.applications.get().and_then(|a| a.iter().find(|a| a.id.eq_ignore_ascii_case(q))) {
                if let Some(s) = sps.iter().find(|s| s.app_id.eq_ignore_ascii_case(&app.app_id)) {
                    return Some(s.id.to_ascii_lowercase());
                }
            }
        }
        Err(m) => {
            if is_guid(q) {
                unread.push(format!("tenant {}: {m}", t.tenant_id));
            }
        }
    }
    // A principal read by itself (verify): its object id.
    for r in t.directory_reads.get().into_iter().flatten().filter(|r| r.query.eq_ignore_ascii_case(q)) {
        if let DirectoryObject::User { id, .. } = &r.found {
            return Some(id.to_ascii_lowercase());
        }
    }
    None
}

/// One grant, as found: what it is, where, how held.
struct Found<'a> {
    sub: &'a AzureSubscription,
    a: &'a AzureRoleAssignment,
    eligible: bool,
    via_group: Option<String>,
}

/// The blast radius of the principal with object id `id` in `tenant`.
pub fn blast_radius(inv: &AzureInventory, tenant: &str, id: &str) -> Result<BlastRadius, BlastError> {
    let t = inv.tenants.iter().find(|t| t.tenant_id.eq_ignore_ascii_case(tenant)).ok_or_else(|| BlastError::NotFound(id.to_string()))?;
    let id = id.to_ascii_lowercase();
    let mut gaps: Vec<String> = Vec::new();
    let gap = |gaps: &mut Vec<String>, g: String| {
        if !gaps.contains(&g) {
            gaps.push(g);
        }
    };

    // Who it is.
    let user = t.users.get().and_then(|u| u.iter().find(|u| u.id.eq_ignore_ascii_case(&id)));
    let sp = t.service_principals.get().and_then(|s| s.iter().find(|s| s.id.eq_ignore_ascii_case(&id)));
    let (kind, principal, names, principal_type): (&'static str, String, Vec<String>, &'static str) = match (user, sp) {
        (Some(u), _) => ("user", u.user_principal_name.clone(), vec![u.id.clone()], "User"),
        (None, Some(s)) if s.kind == "managed_identity" => ("managed identity", s.display_name.clone(), vec![s.id.clone(), format!("appId {}", s.app_id)], "ServicePrincipal"),
        (None, Some(s)) => ("service principal", s.display_name.clone(), vec![s.id.clone(), format!("appId {}", s.app_id)], "ServicePrincipal"),
        (None, None) => ("principal", id.clone(), Vec::new(), "User"),
    };

    // The groups it belongs to, or may activate membership of (PIM for Groups).
    let mut groups: BTreeMap<String, bool> = BTreeMap::new();
    let read_groups: Option<BTreeSet<String>> = match t.group_members.require(Dataset::AzureGroupMembers) {
        Ok(list) => {
            for g in list {
                let gid = g.group_id.to_ascii_lowercase();
                if g.all_members().iter().any(|m| m.id.eq_ignore_ascii_case(&id)) {
                    groups.insert(gid.clone(), false);
                } else if g.eligible.get().is_some_and(|e| e.iter().any(|m| m.id.eq_ignore_ascii_case(&id))) {
                    groups.insert(gid.clone(), true);
                } else if nested_groups(g).any(|h| list.iter().any(|x| x.group_id.eq_ignore_ascii_case(&h) && x.eligible.get().is_some_and(|e| e.iter().any(|m| m.id.eq_ignore_ascii_case(&id))))) {
                    // Eligible for a group nested in this one: a member of this one on activation.
                    groups.insert(gid.clone(), true);
                }
            }
            Some(list.iter().map(|g| g.group_id.to_ascii_lowercase()).collect())
        }
        Err(m) => {
            gap(&mut gaps, format!("group membership was not read ({m}): roles held through groups are not counted"));
            None
        }
    };
    // A group holding a role: does the principal belong? Unknown when its members (or its PIM
    // for Groups eligibility) were not read.
    let group_unknown = |gid: &str| -> Option<String> {
        let gid = gid.to_ascii_lowercase();
        let list = t.group_members.get()?;
        match list.iter().find(|g| g.group_id.eq_ignore_ascii_case(&gid)) {
            None => Some(format!("the members of group {gid} were not read")),
            // An older snapshot kept only a group's user members.
            Some(g) if g.members.is_none() && principal_type != "User" => Some(format!("only the user members of group {gid} were read")),
            Some(g) if !groups.contains_key(&gid) && g.eligible.get().is_none() => {
                let why = g.eligible.require(Dataset::AzureGroupMembers).err().map(|m| m.to_string()).unwrap_or_default();
                Some(format!("who is eligible for group {gid} through PIM for Groups was not read ({why})"))
            }
            // A group nested in it: who may activate membership of that one is unknown.
            Some(g) if !groups.contains_key(&gid) => nested_groups(g)
                .find(|h| !list.iter().any(|x| x.group_id.eq_ignore_ascii_case(h) && x.eligible.get().is_some()))
                .map(|h| format!("group {h} is a member of group {gid}, and who is eligible for it through PIM for Groups (and so for {gid}'s roles) was not read")),
            _ => None,
        }
    };
    let controls: Vec<String> = groups.keys().cloned().collect();
    let asker = Asker { id: &id, kind: Some(principal_type), controls: &controls };
    let matches = |pid: &str, ptype: Option<&str>| -> Result<Option<(Option<String>, bool)>, String> {
        let pid = pid.to_ascii_lowercase();
        if pid == id {
            return Ok(Some((None, false)));
        }
        if let Some(eligible) = groups.get(&pid) {
            return Ok(Some((Some(pid), *eligible)));
        }
        let is_group = ptype.is_some_and(|p| p.eq_ignore_ascii_case("group"));
        if is_group && read_groups.is_some() {
            if let Some(why) = group_unknown(&pid) {
                return Err(why);
            }
        }
        // No type given (Graph read without `$expand=principal`): unless it is a user or service
        // principal read, it may be a group whose members were not read.
        if ptype.is_none_or(|p| p.trim().is_empty()) {
            let known = t.users.get().is_some_and(|u| u.iter().any(|u| u.id.eq_ignore_ascii_case(&pid))) || t.service_principals.get().is_some_and(|s| s.iter().any(|s| s.id.eq_ignore_ascii_case(&pid)));
            if !known {
                if let Some(why) = group_unknown(&pid) {
                    return Err(format!("its type was not given, and it is no user or service principal read: if a group, {why}"));
                }
            }
        }
        Ok(None)
    };

    let mut holds: Vec<Hold> = Vec::new();
    let mut perms: BTreeMap<(&'static str, String, String), Permission> = BTreeMap::new();
    let mut identities: Vec<Identity> = Vec::new();
    let mut escalations: Vec<serde_json::Value> = Vec::new();
    let mut admin_yes = false;
    let mut admin_maybe = false;
    // An owner once a PIM eligibility is activated: how.
    let mut on_activation: Option<String> = None;
    let mut add_perm = |risk: &'static str, service: &str, action: &str, decision: &str, resource: String, by: String, undecided: Option<String>| {
        let p = perms.entry((risk, action.to_string(), decision.to_string())).or_insert_with(|| Permission {
            risk,
            service: service.to_string(),
            action: action.to_string(),
            decision: decision.to_string(),
            resources: Vec::new(),
            granted_by: Vec::new(),
            undecided: Vec::new(),
        });
        if !p.resources.contains(&resource) {
            p.resources.push(resource);
        }
        if !p.granted_by.contains(&by) {
            p.granted_by.push(by);
        }
        if let Some(u) = undecided {
            if !p.undecided.contains(&u) {
                p.undecided.push(u);
            }
        }
    };

    // ---- Directory roles -------------------------------------------------------------------
    let roles = EntraRoles::new(t);
    let mut directory: Vec<(&crate::inventory::azure::DirectoryRoleAssignment, bool)> = Vec::new();
    match t.directory_roles.require(Dataset::AzureDirectoryRoles) {
        Ok(v) => directory.extend(v.iter().map(|a| (a, false))),
        Err(m) => gap(&mut gaps, format!("directory roles: {m}")),
    }
    match t.directory_role_eligibility.require(Dataset::AzureDirectoryRoleEligibility) {
        Ok(v) => directory.extend(v.iter().map(|a| (a, true))),
        Err(m) => gap(&mut gaps, format!("directory roles (eligible): {m}")),
    }
    let mut activation_groups: BTreeSet<String> = BTreeSet::new();
    for (a, eligible) in directory {
        let (via_group, group_eligible) = match matches(&a.principal_id, a.principal_type.as_deref()) {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(why) => {
                gap(&mut gaps, format!("directory role {} is held by group {}: {why}", a.role_definition_id, a.principal_id));
                continue;
            }
        };
        let eligible = eligible || group_eligible;
        if group_eligible {
            activation_groups.extend(via_group.clone());
        }
        let state = if eligible { "eligible" } else { "active" };
        let held = |name: &str| how_held(eligible, via_group.as_deref(), name);
        let (name, caps) = match roles.judge(&a.role_definition_id) {
            Verdict::Privileged { name, source, detail } => (name, vec![format!("privileged directory role ({}; {detail})", source.describe())]),
            Verdict::NotPrivileged { name, .. } => (name, vec!["not a privileged directory role".to_string()]),
            Verdict::Unknown(why) => {
                gap(&mut gaps, why);
                (roles.name(&a.role_definition_id).map(str::to_string).unwrap_or_else(|| format!("directory role {}", a.role_definition_id)), vec!["definition not read".to_string()])
            }
        };
        let scope = format!("directory {}", a.directory_scope_id);
        if caps[0].starts_with("privileged") {
            // A privileged directory role governs the tenant (and its Global Administrators may
            // elevate themselves over every subscription): an administrator, maybe.
            admin_maybe = true;
            let (decision, und) = if eligible { ("on activation", None) } else { ("allowed", None) };
            add_perm("directory-admin", "microsoft.directory", &name, decision, scope.clone(), held(&name), und);
        }
        // Credentials it can add to apps: it signs in as them.
        for (action, what) in APP_CREDENTIAL_ACTIONS {
            let allowed = roles.allows(&a.role_definition_id, action);
            if allowed == Some(false) {
                continue;
            }
            let targets = if a.directory_scope_id.trim() == "/" { format!("every {what} of the tenant") } else { format!("the {what} of directory scope {}", a.directory_scope_id) };
            let (decision, undecided) = match (allowed, eligible) {
                (None, _) => ("undecided", vec![format!("the permissions of directory role {name} were not read")]),
                (Some(true), true) => ("on activation", Vec::new()),
                (Some(true), false) => ("allowed", Vec::new()),
                (Some(false), _) => continue,
            };
            if allowed.is_none() && !caps[0].starts_with("privileged") {
                continue;
            }
            let n = count_apps(t, what);
            identities.push(Identity {
                identity: format!("{targets}{}", n.map(|n| format!(" ({n} read)")).unwrap_or_default()),
                kind: "app-credentials",
                how: format!("{}, which adds credentials ({action}) and then signs in as the app", held(&name)),
                via: Vec::new(),
                decision,
                undecided,
                administrator: "maybe",
            });
            add_perm("run-as-another-identity", "microsoft.directory", action, decision, scope.clone(), held(&name), None);
        }
        if eligible {
            identities.push(Identity {
                identity: format!("{name} at {scope}"),
                kind: "pim-activation",
                how: format!("{}: activates it through Privileged Identity Management", held(&name)),
                via: via_group.iter().cloned().collect(),
                decision: "on activation",
                undecided: Vec::new(),
                administrator: if caps[0].starts_with("privileged") { "maybe" } else { "no" },
            });
        }
        holds.push(Hold {
            role: name,
            role_id: a.role_definition_id.clone(),
            scope,
            state,
            via_group,
            via_member: None,
            condition: None,
            capabilities: caps,
            system: "entra-directory-role",
        });
    }

    // ---- What it owns, the app roles it holds, the delegated grants it may use ---------------
    // Read principal by principal (a live read of this principal, or a verify snapshot).
    let app_id = sp.map(|s| s.app_id.as_str());
    let read = t.directory_reads.get().into_iter().flatten().map(|r| &r.found).find(|f| match f {
        DirectoryObject::User { id: uid, .. } => uid.eq_ignore_ascii_case(&id),
        DirectoryObject::App { app_id: a, .. } => app_id.is_some_and(|x| x.eq_ignore_ascii_case(a)),
        _ => false,
    });
    let (owned, app_roles, delegated) = match read {
        Some(DirectoryObject::User { owned_objects, app_role_assignments, .. }) => (Some(owned_objects), Some(app_role_assignments), None),
        Some(DirectoryObject::App { owned_objects, app_role_assignments, oauth2_permission_grants, .. }) => (Some(owned_objects), Some(app_role_assignments), Some(oauth2_permission_grants)),
        _ => (None, None, None),
    };
    if read.is_none() {
        gap(
            &mut gaps,
            format!("what {principal} owns (apps, service principals, groups) and the app roles it holds were not read: they are read principal by principal, by a live --azure blast-radius or verify, not by collect"),
        );
    }
    if let Some(c) = owned {
        match c.require(Dataset::AzureDirectoryReads) {
            Ok(list) => {
                for o in list {
                    let name = o.display_name.clone().or_else(|| o.user_principal_name.clone()).unwrap_or_else(|| o.id.clone());
                    let (what, how, kind): (&str, &str, &'static str) = match o.kind.as_str() {
                        "application" => ("application", "owns it: an owner adds credentials to it, then signs in as it", "app-credentials"),
                        "servicePrincipal" => ("service principal", "owns it: an owner adds credentials to it, then signs in as it", "app-credentials"),
                        "group" => ("group", "owns it: an owner adds itself, then holds the group's roles", "group-owner"),
                        _ => continue,
                    };
                    identities.push(Identity {
                        identity: format!("{what} {name} ({})", o.id),
                        kind,
                        how: how.to_string(),
                        via: Vec::new(),
                        decision: "allowed",
                        undecided: Vec::new(),
                        administrator: "maybe",
                    });
                }
            }
            Err(m) => gap(&mut gaps, format!("what {principal} owns: {m}")),
        }
    }
    if let Some(c) = app_roles {
        match c.require(Dataset::AzureDirectoryReads) {
            Ok(list) => {
                for r in list {
                    let api = r.resource_display_name.clone().unwrap_or_else(|| r.resource_id.clone());
                    // The default access role (all zeros) grants nothing but sign-in to the app.
                    let default = r.app_role_id.trim_matches(|c| c == '0' || c == '-').is_empty();
                    let caps = if default {
                        vec!["default access: signs in to the app".to_string()]
                    } else {
                        gap(&mut gaps, format!("app role {} of {api}: what it grants (the API's appRoles) is not in the inventory", r.app_role_id));
                        vec!["definition not read (an application permission of the API)".to_string()]
                    };
                    holds.push(Hold {
                        role: format!("app role {}", r.app_role_id),
                        role_id: r.app_role_id.clone(),
                        scope: format!("API {api}"),
                        state: "active",
                        via_group: None,
                        via_member: None,
                        condition: None,
                        capabilities: caps,
                        system: "entra-app-role",
                    });
                }
            }
            Err(m) => gap(&mut gaps, format!("the app roles {principal} holds: {m}")),
        }
    }
    if let Some(c) = delegated {
        match c.require(Dataset::AzureDirectoryReads) {
            Ok(list) => {
                for g in list {
                    let all = g.consent_type.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("AllPrincipals"));
                    let who = if all { "any user of the tenant who signs in to it".to_string() } else { format!("user {}", g.principal_id.as_deref().unwrap_or("?")) };
                    identities.push(Identity {
                        identity: who,
                        kind: "delegated",
                        how: format!("a delegated permission grant: acts as the signed-in user on API {} for {:?}", g.resource_id, g.scope.trim()),
                        via: Vec::new(),
                        decision: "allowed",
                        undecided: Vec::new(),
                        administrator: "maybe",
                    });
                }
            }
            Err(m) => gap(&mut gaps, format!("the delegated permission grants {principal} may use: {m}")),
        }
    }

    // ---- Azure RBAC ------------------------------------------------------------------------
    if t.subscriptions.is_empty() {
        gap(&mut gaps, format!("tenant {}: no subscription was read, so no Azure role is counted", t.tenant_id));
    }
    // Scopes the tree holds that no read reaches: a subscription not read, and a management group
    // with no read subscription below it (its assignments are read through its subscriptions).
    match t.scopes.require(Dataset::AzureScopes) {
        Ok(nodes) => {
            let read = |id: &str| t.subscriptions.iter().any(|s| s.subscription_id.eq_ignore_ascii_case(id));
            let mut reached: BTreeSet<String> = BTreeSet::new();
            for s in &t.subscriptions {
                reached.extend(t.ancestors(&s.subscription_id).into_iter().flatten().map(|x| x.to_ascii_lowercase()));
            }
            for n in nodes {
                match n.kind {
                    ScopeKind::AzureSubscription if !read(&n.id) => gap(&mut gaps, format!("subscription {} is in the tenant's tree but was not read", n.name.as_deref().unwrap_or(&n.id))),
                    ScopeKind::AzureManagementGroup if !reached.contains(&format!("/providers/microsoft.management/managementgroups/{}", n.id.to_ascii_lowercase())) => gap(
                        &mut gaps,
                        format!("management group {}: no subscription under it was read, so the roles held at it are not counted", n.name.as_deref().unwrap_or(&n.id)),
                    ),
                    _ => {}
                }
            }
        }
        Err(m) => gap(&mut gaps, format!("the tenant's management groups: {m} (roles held at a management group are counted through the subscriptions read under it)")),
    }
    let mut seen: BTreeSet<(String, String, &'static str, Option<String>)> = BTreeSet::new();
    let mut managed_identities = 0usize;
    if let Some(sps) = t.service_principals.get() {
        managed_identities = sps.iter().filter(|s| s.kind == "managed_identity").count();
    }
    for sub in &t.subscriptions {
        let sub_name = sub.display_name.clone().unwrap_or_else(|| sub.subscription_id.clone());
        let mut found: Vec<Found> = Vec::new();
        match sub.role_assignments.require(Dataset::AzureRoleAssignments) {
            Ok(v) => found.extend(v.iter().map(|a| Found { sub, a, eligible: false, via_group: None })),
            Err(m) => gap(&mut gaps, format!("subscription {sub_name}: {m}")),
        }
        match sub.role_eligibility.require(Dataset::AzureRoleEligibility) {
            Ok(v) => found.extend(v.iter().map(|a| Found { sub, a, eligible: true, via_group: None })),
            Err(m) => gap(&mut gaps, format!("subscription {sub_name} (eligible assignments): {m}")),
        }
        let rbac = AzureRbac::new(sub);
        let mut mine: Vec<Found> = Vec::new();
        for f in found {
            match matches(&f.a.principal_id, f.a.principal_type.as_deref()) {
                Ok(Some((via_group, group_eligible))) => {
                    if group_eligible {
                        activation_groups.extend(via_group.clone());
                    }
                    mine.push(Found { eligible: f.eligible || group_eligible, via_group, ..f });
                }
                Ok(None) => {}
                Err(why) => gap(&mut gaps, format!("role {} at {} is held by group {}: {why}", f.a.role_guid(), f.a.scope, f.a.principal_id)),
            }
        }
        let mut held: Vec<(String, String, Option<String>, String)> = Vec::new();
        for f in &mine {
            let a = f.a;
            let state = if f.eligible { "eligible" } else { "active" };
            let whole = covers_subscription(&a.scope, f.sub);
            let key = (role_guid(&a.role_definition_id), a.scope.trim_end_matches('/').to_ascii_lowercase(), state, f.via_group.clone());
            let first = seen.insert(key);
            let grant = match rbac.grant(&a.role_definition_id, &a.scope, a.condition.as_deref(), asker) {
                Ok(g) => g,
                Err(m) => {
                    gap(&mut gaps, format!("role {} at {}: {m}", a.role_guid(), a.scope));
                    admin_maybe = true;
                    if first {
                        holds.push(Hold {
                            role: format!("role {}", a.role_guid()),
                            role_id: a.role_guid(),
                            scope: a.scope.clone(),
                            state,
                            via_group: f.via_group.clone(),
                            via_member: None,
                            condition: a.condition.clone(),
                            capabilities: vec!["definition not read".into()],
                            system: "azure-rbac",
                        });
                    }
                    continue;
                }
            };
            let name = grant.role.name().to_string();
            let by = how_held(f.eligible, f.via_group.as_deref(), &format!("{name} at {}", a.scope));
            let mut caps: Vec<String> = Vec::new();
            for c in Capability::ALL {
                match grant.can(c) {
                    Truth::True => caps.push(c.describe().to_string()),
                    Truth::Unknown => caps.push(format!("{} (if its condition allows)", c.describe())),
                    Truth::False => {}
                }
            }
            let logging = grant.role.first_granted(CHANGE_LOGGING);
            if let Some(l) = logging {
                caps.push(format!("changes logging ({l})"));
            }
            if caps.is_empty() {
                caps.push("nothing sensitive".into());
            }
            if whole {
                held.push((a.role_definition_id.clone(), a.scope.clone(), a.condition.clone(), by.clone()));
            }
            let decision_of = |t: Truth| match (t, f.eligible) {
                (Truth::False, _) => None,
                (Truth::Unknown, _) => Some("undecided"),
                (Truth::True, true) => Some("on activation"),
                (Truth::True, false) => Some(if whole { "allowed" } else { "allowed on some resources" }),
            };
            let cond = a.condition.as_ref().map(|c| format!("condition: {c}"));
            if let Some(d) = decision_of(grant.can(Capability::WriteRoleAssignments)) {
                add_perm("assign-roles", "Microsoft.Authorization", WRITE_ROLE_ASSIGNMENTS, d, a.scope.clone(), by.clone(), cond.clone().filter(|_| d == "undecided"));
            }
            if let Some(d) = decision_of(grant.can(Capability::WriteRoleDefinitions)) {
                add_perm("assign-roles", "Microsoft.Authorization", WRITE_ROLE_DEFINITIONS, d, a.scope.clone(), by.clone(), None);
            }
            if let (Some(d), Some(x)) = (decision_of(grant.can(Capability::SecretsAndKeys)), grant.role.first_granted(SECRETS_AND_KEYS)) {
                add_perm("secrets-and-keys", provider(x), x, d, a.scope.clone(), by.clone(), None);
            }
            if let (Some(d), Some(x)) = (decision_of(grant.can(Capability::RunCode)), grant.role.first_granted(RUN_CODE)) {
                add_perm("run-as-another-identity", provider(x), x, d, a.scope.clone(), by.clone(), None);
                if first {
                    identities.push(Identity {
                        identity: format!("the managed identities attached to workloads under {}", a.scope),
                        kind: "workload-identity",
                        how: format!(
                            "{by}, which runs code there ({x}): the code runs as whatever identity the workload carries (the inventory does not record which workloads carry which of the tenant's {managed_identities} managed identities)"
                        ),
                        via: Vec::new(),
                        decision: d,
                        undecided: Vec::new(),
                        administrator: "maybe",
                    });
                }
            }
            if let (Some(d), Some(x)) = (decision_of(bool_truth(logging.is_some())), logging) {
                add_perm("logging", provider(x), x, d, a.scope.clone(), by.clone(), None);
            }
            if let (Some(d), Some(x)) = (decision_of(grant.can(Capability::ManageSubscription)), grant.role.first_granted(MANAGE_SUBSCRIPTION)) {
                add_perm("organization", provider(x), x, d, a.scope.clone(), by.clone(), None);
            }
            match (grant.owner(), f.eligible, whole) {
                (Truth::True, false, true) => admin_yes = true,
                (Truth::True, true, true) => {
                    admin_maybe = true;
                    on_activation.get_or_insert_with(|| by.clone());
                }
                (Truth::Unknown, _, true) => admin_maybe = true,
                _ => {}
            }
            if f.eligible && first {
                identities.push(Identity {
                    identity: format!("{name} at {}", a.scope),
                    kind: "pim-activation",
                    how: format!("{by}: activates it through Privileged Identity Management ({})", grant.summary(Truth::True)),
                    via: f.via_group.iter().cloned().collect(),
                    decision: "on activation",
                    undecided: Vec::new(),
                    administrator: match grant.owner() {
                        Truth::True if whole => "yes",
                        Truth::False => "no",
                        _ => "maybe",
                    },
                });
            }
            if first {
                holds.push(Hold {
                    role: name,
                    role_id: grant.role.guid().to_string(),
                    scope: a.scope.clone(),
                    state,
                    via_group: f.via_group.clone(),
                    via_member: None,
                    condition: a.condition.clone(),
                    capabilities: caps,
                    system: "azure-rbac",
                });
            }
        }
        // Escalation over this subscription, from the grants that cover all of it.
        if !held.is_empty() {
            let chain = subscription_chain(t, sub);
            let reach = |at: &str, assignable: &str| covers(at, assignable, sub, chain.as_deref());
            let steps: Vec<Held> = held.iter().map(|(r, s, c, how)| Held { role_id: r, scope: s, condition: c.as_deref(), how: how.clone() }).collect();
            let e = rbac.escalation(&steps, asker, &reach);
            for (found, list) in [(true, &e.paths), (false, &e.undecided)] {
                for p in list {
                    escalations.push(serde_json::json!({
                        "id": "azure-rbac",
                        "title": format!("{p} (in {sub_name})"),
                        "category": "azure-rbac",
                        "via": principal,
                        "found": found,
                        "steps": [],
                    }));
                }
            }
        }
    }
    for g in &activation_groups {
        identities.push(Identity {
            identity: format!("member of group {g}"),
            kind: "group-activation",
            how: "eligible for membership through PIM for Groups: activating it gives the group's roles (listed under holds, through this group)".into(),
            via: Vec::new(),
            decision: "on activation",
            undecided: Vec::new(),
            administrator: "maybe",
        });
    }

    let administrator = if admin_yes {
        "yes"
    } else if admin_maybe || escalations.iter().any(|e| e["found"] == true) {
        "maybe"
    } else {
        "no"
    };
    let found = escalations.iter().filter(|e| e["found"] == true).count();
    let escalation_summary = if admin_yes {
        "an administrator already (an owner of a subscription or above)".to_string()
    } else if let Some(e) = escalations.iter().find(|e| e["found"] == true) {
        format!("{found} path(s) found, first: {}", e["title"].as_str().unwrap_or_default())
    } else if let Some(how) = &on_activation {
        format!("an administrator once it activates what it is eligible for: {how}")
    } else if let Some(e) = escalations.first() {
        format!("{} path(s) undecided (conditions), first: {}", escalations.len(), e["title"].as_str().unwrap_or_default())
    } else {
        "none found by the Azure RBAC model (role-assignment and role-definition chains over each subscription)".to_string()
    };
    let mut permissions: Vec<Permission> = perms.into_values().collect();
    permissions.sort_by(|a, b| risk_rank(a.risk).cmp(&risk_rank(b.risk)).then_with(|| a.action.cmp(&b.action)));
    let mut services: BTreeSet<String> = BTreeSet::new();
    for h in holds.iter().filter(|h| h.system == "azure-rbac") {
        services.insert(h.scope.split('/').take(3).collect::<Vec<_>>().join("/"));
    }
    Ok(BlastRadius {
        cloud: "azure",
        principal,
        account: t.tenant_id.clone(),
        kind,
        names,
        administrator,
        gaps,
        permissions,
        services: services.into_iter().collect(),
        assumable_roles: Vec::new(),
        escalations,
        escalation_summary,
        holds,
        identities,
    })
}

fn risk_rank(r: &str) -> usize {
    ["assign-roles", "directory-admin", "run-as-another-identity", "secrets-and-keys", "logging", "organization"].iter().position(|x| *x == r).unwrap_or(99)
}

/// The groups nested in `g` (its transitive members of type group), lower-case.
fn nested_groups(g: &crate::inventory::azure::GroupMembers) -> impl Iterator<Item = String> {
    g.all_members().into_iter().filter(|m| m.kind.eq_ignore_ascii_case("group")).map(|m| m.id.to_ascii_lowercase())
}

/// "holds X", "is eligible for X through group G".
fn how_held(eligible: bool, via_group: Option<&str>, what: &str) -> String {
    let verb = if eligible { "is eligible for" } else { "holds" };
    match via_group {
        Some(g) => format!("{verb} {what} through group {g}"),
        None => format!("{verb} {what}"),
    }
}

fn provider(action: &str) -> &str {
    action.split('/').next().unwrap_or(action)
}

fn bool_truth(b: bool) -> Truth {
    if b {
        Truth::True
    } else {
        Truth::False
    }
}

fn count_apps(t: &AzureTenant, what: &str) -> Option<usize> {
    if what == "application" {
        t.applications.get().map(Vec::len)
    } else {
        t.service_principals.get().map(|s| s.iter().filter(|s| s.kind != "managed_identity").count())
    }
}

/// Does an assignment at `scope` apply to the whole subscription (it, a management group above
/// it, or the tenant root)?
fn covers_subscription(scope: &str, sub: &AzureSubscription) -> bool {
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    s.is_empty() || s.starts_with("/providers/microsoft.management/managementgroups/") || s == sub.scope().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALICE: &str = "10000000-0000-4000-8000-000000000001";
    const OUTER: &str = "20000000-0000-4000-8000-0000000000a1";
    const NESTED: &str = "20000000-0000-4000-8000-0000000000b2";

    /// A tenant where group OUTER holds Global Administrator, and `group_members` is as given.
    fn tenant(principal_type: Option<&str>, group_members: serde_json::Value) -> AzureInventory {
        let mut a = json!({"principal_id": OUTER, "role_definition_id": "62e90394-69f5-4237-9190-012177145e10", "directory_scope_id": "/"});
        if let Some(p) = principal_type {
            a["principal_type"] = json!(p);
        }
        serde_json::from_value(json!({"tenants": [{
            "tenant_id": "3f2e1d0c-aaaa-4bbb-8ccc-000000000001",
            "users": {"collected": [{"id": ALICE, "user_principal_name": "alice@contoso.example", "account_enabled": true, "user_type": "Member"}]},
            "applications": {"collected": []},
            "service_principals": {"collected": []},
            "directory_roles": {"collected": [a]},
            "directory_role_eligibility": {"collected": []},
            "group_members": group_members,
            "subscriptions": []
        }]}))
        .unwrap()
    }

    fn blast(inv: &AzureInventory) -> BlastRadius {
        let (t, id) = resolve(inv, "Alice@Contoso.example").unwrap();
        blast_radius(inv, &t, &id).unwrap()
    }

    /// A directory role whose principal's type Graph did not give (read without
    /// `$expand=principal`), naming no user or service principal read: it may be a group whose
    /// members were not read, a gap; never silently not held.
    #[test]
    fn a_role_held_by_a_principal_of_unknown_type_is_a_gap() {
        let b = blast(&tenant(None, json!({"collected": []})));
        assert!(b.holds.is_empty(), "{:#?}", b.holds);
        assert!(b.gaps.iter().any(|g| g.contains(OUTER)), "{:#?}", b.gaps);
    }

    /// Group NESTED is a member of OUTER, which holds a role: whoever may activate membership or
    /// ownership of NESTED (PIM for Groups) holds OUTER's role on activation; NESTED's
    /// eligibility not read is a gap.
    #[test]
    fn eligibility_for_a_group_nested_in_a_role_holding_group_is_counted() {
        let outer = json!({"group_id": OUTER, "members": [{"id": NESTED.to_ascii_uppercase(), "type": "group"}], "eligible": {"collected": []}});
        let b = blast(&tenant(Some("group"), json!({"collected": [outer.clone()]})));
        assert!(b.holds.is_empty(), "{:#?}", b.holds);
        assert!(b.gaps.iter().any(|g| g.to_ascii_lowercase().contains(NESTED)), "{:#?}", b.gaps);
        let nested = json!({"group_id": NESTED, "members": [], "eligible": {"collected": [{"id": ALICE.to_ascii_uppercase(), "type": "unknown", "access": "owner"}]}});
        let b = blast(&tenant(Some("group"), json!({"collected": [outer, nested]})));
        assert_eq!(b.holds.len(), 1, "{:#?}", b.holds);
        assert_eq!((b.holds[0].state, b.holds[0].via_group.as_deref()), ("eligible", Some(OUTER)), "{:#?}", b.holds);
    }
}
