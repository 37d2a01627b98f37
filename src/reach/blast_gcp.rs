//! Blast radius of one GCP principal (a user, a group or a service account): every binding that
//! names it across the organization's folders and projects and the service accounts' own policies
//! (directly, or through `domain:`, `allAuthenticatedUsers` and `allUsers`); what those roles let
//! it do, by risk; the service accounts it can become, transitively (an account it can mint
//! tokens for, then what that account can in turn impersonate, cycles included, bounded by the
//! accounts of the inventory rather than a depth); and its escalation paths.
//!
//! What a role lets its holder do is asked of the one GCP model ([`crate::reach::gcp`]), by its
//! permissions. Group membership is not in the inventory (Cloud Identity is not read): a grant
//! to a group is listed as a gap, never as "not held". A role whose definition was not read, a
//! level whose policy was not read, a project whose service accounts were not read: gaps too.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::blast::{BlastError, BlastRadius, Hold, Identity, Permission};
use super::gcp::{self as model, Model, Powers};
use crate::inventory::gcp::{GcpInventory, IamPolicy, ServiceAccount};
use crate::inventory::Dataset;

/// What a GCP principal's blast radius reads: the hierarchy, every allow policy (organization,
/// folders, projects, service accounts), the service accounts, and the roles' definitions.
pub const DATASETS: &[Dataset] = &[Dataset::GcpHierarchy, Dataset::GcpIamPolicy, Dataset::GcpServiceAccounts, Dataset::GcpPredefinedRoles, Dataset::GcpCustomRoles];

/// The member `q` names, as bindings spell it: `serviceAccount:…`, `user:…` or `group:…` with
/// the email lower-case. A bare service-account email is a service account; any other bare email
/// is the `user:` or `group:` some binding read names.
pub fn resolve(inv: &GcpInventory, q: &str) -> Result<String, BlastError> {
    let q = q.trim();
    if inv.is_empty() {
        return Err(BlastError::Unknown { principal: q.to_string(), why: "no GCP organization or project was read (give --gcp, or an --inventory that holds one)".into() });
    }
    let (prefix, email) = match q.split_once(':') {
        Some((p, e)) if ["serviceaccount", "user", "group"].contains(&p.to_ascii_lowercase().as_str()) => (Some(p.to_ascii_lowercase()), e.trim().to_ascii_lowercase()),
        _ => (None, q.to_ascii_lowercase()),
    };
    if !email.contains('@') {
        return Err(BlastError::NotPrincipal(q.to_string()));
    }
    let prefix = match prefix.as_deref() {
        Some("serviceaccount") => "serviceAccount",
        Some("user") => "user",
        Some("group") => "group",
        _ if email.ends_with(".gserviceaccount.com") => "serviceAccount",
        _ => {
            // A bare email: the kind some binding names it as.
            let named = |kind: &str| all_policies(inv).iter().any(|(_, p)| p.bindings.iter().any(|b| b.members.iter().any(|m| m.eq_ignore_ascii_case(&format!("{kind}:{email}")))));
            match (named("user"), named("group")) {
                (true, false) => "user",
                (false, true) => "group",
                (true, true) => return Err(BlastError::Unknown { principal: q.to_string(), why: "bindings name it both as a user and as a group: give user:EMAIL or group:EMAIL".into() }),
                (false, false) => return Err(BlastError::NotFound(q.to_string())),
            }
        }
    };
    let member = format!("{prefix}:{email}");
    if prefix == "serviceAccount" {
        if accounts(inv).iter().any(|(_, sa)| sa.email.eq_ignore_ascii_case(&email)) || named_anywhere(inv, &member) {
            return Ok(member);
        }
        let unread: Vec<String> = inv.projects.iter().filter(|p| p.service_accounts.get().is_none()).map(|p| p.project_id.clone()).collect();
        if !unread.is_empty() {
            return Err(BlastError::Unknown { principal: q.to_string(), why: format!("no binding read names it, and the service accounts of {} were not read", unread.join(", ")) });
        }
        return Err(BlastError::NotFound(q.to_string()));
    }
    if named_anywhere(inv, &member) || all_policies(inv).iter().any(|(_, p)| p.bindings.iter().any(|b| b.members.iter().any(|m| covers(m, &member).is_some()))) {
        return Ok(member);
    }
    Err(BlastError::NotFound(q.to_string()))
}

fn named_anywhere(inv: &GcpInventory, member: &str) -> bool {
    all_policies(inv).iter().any(|(_, p)| p.bindings.iter().any(|b| b.members.iter().any(|m| m.eq_ignore_ascii_case(member))))
}

/// Every policy read: the organization's and folders', the projects', the service accounts'.
fn all_policies(inv: &GcpInventory) -> Vec<(String, &IamPolicy)> {
    let mut out: Vec<(String, &IamPolicy)> = Vec::new();
    out.extend(inv.nodes.iter().filter_map(|n| n.iam_policy.get().map(|p| (n.name.clone(), p))));
    out.extend(inv.projects.iter().filter_map(|p| p.iam_policy.get().map(|x| (p.name.clone(), x))));
    for (project, sa) in accounts(inv) {
        if let Some(p) = sa.iam_policy.get() {
            out.push((sa_resource(project, &sa.email), p));
        }
    }
    out
}

fn accounts(inv: &GcpInventory) -> Vec<(&str, &ServiceAccount)> {
    inv.projects.iter().flat_map(|p| p.service_accounts.get().into_iter().flatten().map(move |sa| (p.project_id.as_str(), sa))).collect()
}

fn sa_resource(project: &str, email: &str) -> String {
    format!("projects/{project}/serviceAccounts/{email}")
}

/// Does the binding member `m` cover `member`? `Some(None)`: it names it; `Some(Some(via))`: it
/// covers it through `via` (`domain:`, `allAuthenticatedUsers`, `allUsers`); `None`: no.
fn covers(m: &str, member: &str) -> Option<Option<String>> {
    let m = m.trim();
    if m.eq_ignore_ascii_case(member) {
        return Some(None);
    }
    let (kind, email) = member.split_once(':')?;
    // Principal identifiers name a Google account or group too (the prefix in any case).
    let strip = |prefix: &str| m.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &m[prefix.len()..]);
    if let Some(subject) = strip("principal://goog/subject/") {
        return (kind == "user" && subject.eq_ignore_ascii_case(email)).then_some(None);
    }
    if let Some(group) = strip("principalSet://goog/group/") {
        return (kind == "group" && group.eq_ignore_ascii_case(email)).then_some(None);
    }
    if super::gcp_member::is_public(m) {
        return Some(Some(m.to_string()));
    }
    if let Some(d) = m.strip_prefix("domain:") {
        let (_, mine) = email.rsplit_once('@')?;
        // `domain:` is every user of a Google Workspace or Cloud Identity domain.
        if kind == "user" && mine.eq_ignore_ascii_case(d.trim().trim_end_matches('.')) {
            return Some(Some(m.to_string()));
        }
    }
    None
}

/// One binding that covers a member.
struct Grant<'a> {
    role: &'a str,
    /// Where the policy is set (`organizations/…`, `folders/…`, `projects/…`, a service account).
    level: String,
    via: Option<String>,
    condition: Option<&'a str>,
    powers: Result<Powers<'a>, String>,
}

/// Everything read, indexed once.
struct World<'a> {
    model: Model<'a>,
    policies: Vec<(String, &'a IamPolicy)>,
    accounts: Vec<(&'a str, &'a ServiceAccount)>,
    /// Per project: the levels of its effective policy that were read (project first).
    levels: BTreeMap<&'a str, Vec<String>>,
    /// The organization's Workspace / Cloud Identity customer id: its principal set holds every
    /// user of the organization.
    customer: Option<&'a str>,
}

/// The customer id a `principalSet://goog/cloudIdentityCustomerId/C…` member names (ids are
/// case-sensitive; the prefix is not).
fn customer_set(m: &str) -> Option<&str> {
    let m = m.trim();
    let prefix = "principalSet://goog/cloudIdentityCustomerId/";
    m.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &m[prefix.len()..]).filter(|c| !c.is_empty())
}

impl<'a> World<'a> {
    fn grants_of(&self, member: &str) -> Vec<Grant<'a>> {
        let mut out = Vec::new();
        for (level, p) in &self.policies {
            for b in &p.bindings {
                let customer = |m: &String| self.customer.filter(|c| member.starts_with("user:") && customer_set(m) == Some(*c)).map(|_| Some(m.trim().to_string()));
                let Some(via) = b.members.iter().filter(|m| !m.starts_with("deleted:")).filter_map(|m| covers(m, member).or_else(|| customer(m))).min() else { continue };
                out.push(Grant {
                    role: b.role.as_str(),
                    level: level.clone(),
                    via,
                    condition: b.condition_expression.as_deref(),
                    powers: self.model.permissions(&b.role).map_err(|m| m.to_string()),
                });
            }
        }
        out
    }

    /// The levels whose grants reach a resource of `project` (its own, its folders', its
    /// organization's), as read.
    fn reaches(&self, level: &str, project: &str) -> bool {
        self.levels.get(project).is_some_and(|l| l.iter().any(|x| x == level))
    }
}

/// The blast radius of the member (`serviceAccount:…`, `user:…`, `group:…`).
pub fn blast_radius(inv: &GcpInventory, member: &str) -> Result<BlastRadius, BlastError> {
    let (prefix, email) = member.split_once(':').ok_or_else(|| BlastError::NotPrincipal(member.to_string()))?;
    let kind: &'static str = match prefix {
        "serviceAccount" => "service account",
        "group" => "group",
        _ => "user",
    };
    let mut gaps: Vec<String> = Vec::new();
    let gap = |gaps: &mut Vec<String>, g: String| {
        if !gaps.contains(&g) {
            gaps.push(g);
        }
    };
    // What was not read.
    if let Err(m) = inv.hierarchy.require(Dataset::GcpHierarchy) {
        gap(&mut gaps, format!("the resource hierarchy: {m}"));
    }
    for n in &inv.nodes {
        if let Err(m) = n.iam_policy.require(Dataset::GcpIamPolicy) {
            gap(&mut gaps, format!("{}: {m}", n.name));
        }
    }
    let mut levels: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for p in &inv.projects {
        let (known, missing) = inv.effective_iam_known(p);
        if let Some(m) = missing {
            gap(&mut gaps, format!("project {}: {m}", p.project_id));
        }
        levels.insert(p.project_id.as_str(), known.iter().map(|(l, _)| l.to_string()).collect());
        if let Err(m) = p.service_accounts.require(Dataset::GcpServiceAccounts) {
            gap(&mut gaps, format!("project {}: {m} (the service accounts it holds, and who may act as them, are not counted)", p.project_id));
        }
        for sa in p.service_accounts.get().into_iter().flatten() {
            if let Err(m) = sa.iam_policy.require(Dataset::GcpIamPolicy) {
                gap(&mut gaps, format!("the allow policy of service account {}: {m}", sa.email));
            }
        }
    }
    if let Some(h) = inv.hierarchy.get() {
        for n in h.iter().filter(|n| n.kind == crate::inventory::ScopeKind::GcpProject) {
            let id = n.name.as_deref().unwrap_or(&n.id);
            if !inv.projects.iter().any(|p| p.name == n.id || p.project_id == id) {
                gap(&mut gaps, format!("project {id} is in the hierarchy but was not read"));
            }
        }
    }
    // The customer holds the users of the organization's domain (a user of another domain may
    // be one of its users too, or not: not counted).
    let org_domain = inv.organization.as_ref().and_then(|o| o.domain.as_deref()).map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase()).filter(|d| !d.is_empty());
    let user_domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    let in_org = org_domain.is_some_and(|d| user_domain == d || user_domain.ends_with(&format!(".{d}")));
    let customer = inv.organization.as_ref().and_then(|o| o.customer_id.as_deref()).map(str::trim).filter(|c| !c.is_empty() && in_org);
    let w = World { model: Model::new(inv), policies: all_policies(inv), accounts: accounts(inv), levels, customer };
    // Groups: their members are not read.
    let mut groups: BTreeSet<&str> = BTreeSet::new();
    for (_, p) in &w.policies {
        for b in &p.bindings {
            // A group named as `group:` or by its principal set (`principalSet://goog/group/…`).
            let is_group = |m: &str| m.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("group:")) || m.get(..26).is_some_and(|p| p.eq_ignore_ascii_case("principalSet://goog/group/"));
            groups.extend(b.members.iter().filter(|m| is_group(m) && covers(m, member) != Some(None)).map(String::as_str));
        }
    }
    if !groups.is_empty() {
        let shown: Vec<&str> = groups.iter().take(8).copied().collect();
        let more = if groups.len() > 8 { format!(" and {} more", groups.len() - 8) } else { String::new() };
        gap(
            &mut gaps,
            format!(
                "GCP group membership cannot be read (Cloud Identity is not in the inventory): the grants of {} group(s) ({}{more}) are not counted, and {email} may belong to any of them",
                groups.len(),
                shown.join(", ")
            ),
        );
    }

    let mine = w.grants_of(member);
    let mut holds = Vec::new();
    let mut perms: BTreeMap<(&'static str, String, String), Permission> = BTreeMap::new();
    let mut add_perm = |risk: &'static str, action: &str, decision: &str, resource: &str, by: String, undecided: Option<&str>| {
        let service = action.split('.').next().unwrap_or(action).to_string();
        let p = perms.entry((risk, action.to_string(), decision.to_string())).or_insert_with(|| Permission {
            risk,
            service,
            action: action.to_string(),
            decision: decision.to_string(),
            resources: Vec::new(),
            granted_by: Vec::new(),
            undecided: Vec::new(),
        });
        if !p.resources.iter().any(|r| r == resource) {
            p.resources.push(resource.to_string());
        }
        if !p.granted_by.contains(&by) {
            p.granted_by.push(by);
        }
        if let Some(u) = undecided {
            if !p.undecided.iter().any(|x| x == u) {
                p.undecided.push(u.to_string());
            }
        }
    };
    let mut admin = "no";
    let mut escalations: Vec<serde_json::Value> = Vec::new();
    for g in &mine {
        let by = format!("{} on {}{}", g.role, g.level, g.via.as_ref().map(|v| format!(" (through {v})")).unwrap_or_default());
        let decision = if g.condition.is_some() { "undecided" } else { "allowed on some resources" };
        let caps = match &g.powers {
            Err(why) => {
                gap(&mut gaps, format!("{} on {}: {why}", g.role, g.level));
                if admin == "no" {
                    admin = "maybe";
                }
                vec!["definition not read".to_string()]
            }
            Ok(p) => {
                let mut caps = Vec::new();
                let hierarchy = p.first_of(&[model::PROJECTS_SET_POLICY, model::FOLDERS_SET_POLICY, model::ORGANIZATIONS_SET_POLICY]);
                if let Some(x) = hierarchy {
                    caps.push(format!("sets the allow policy ({x})"));
                    add_perm("assign-roles", x, decision, &g.level, by.clone(), g.condition);
                } else if let Some(x) = p.privileged().filter(|x| x.ends_with(".setIamPolicy")) {
                    caps.push(format!("sets the allow policy of resources under it ({x})"));
                    add_perm("assign-roles", x, decision, &g.level, by.clone(), g.condition);
                }
                if p.rewrites_roles() {
                    caps.push(format!("rewrites custom roles ({})", model::ROLES_UPDATE));
                    add_perm("assign-roles", model::ROLES_UPDATE, decision, &g.level, by.clone(), g.condition);
                }
                if let Some(x) = p.first_of(model::SECRETS_AND_KEYS_PERMISSIONS) {
                    caps.push(format!("reads secrets or uses keys ({x})"));
                    add_perm("secrets-and-keys", x, decision, &g.level, by.clone(), g.condition);
                }
                if let Some(x) = p.impersonates() {
                    caps.push(format!("acts as service accounts under it ({x})"));
                    add_perm("run-as-another-identity", x, decision, &g.level, by.clone(), g.condition);
                } else if let Some(x) = p.runs_code() {
                    caps.push(format!("runs code ({x}), as no service account without actAs"));
                }
                if let Some(x) = p.first_of(model::LOGGING_PERMISSIONS) {
                    caps.push(format!("changes logging ({x}{})", if x.ends_with("setIamPolicy") { ": the audit configuration is part of the allow policy" } else { "" }));
                    add_perm("logging", x, decision, &g.level, by.clone(), g.condition);
                }
                if let Some(x) = p.first_of(&[model::PROJECTS_DELETE, model::ORG_POLICY_SET]) {
                    caps.push(format!("changes the organization's structure or guardrails ({x})"));
                    add_perm("organization", x, decision, &g.level, by.clone(), g.condition);
                }
                let owns = p.owns(&g.level) && !g.level.contains("/serviceAccounts/");
                if owns {
                    caps.insert(0, "owns it".into());
                    if g.condition.is_none() {
                        admin = "yes";
                    } else if admin == "no" {
                        admin = "maybe";
                    }
                } else if hierarchy.is_some() && !g.level.contains("/serviceAccounts/") {
                    let found = g.condition.is_none();
                    escalations.push(serde_json::json!({
                        "id": "gcp-set-policy",
                        "title": format!("sets the allow policy of {} ({}): grants itself any role there", g.level, hierarchy.unwrap_or_default()),
                        "category": "gcp-iam",
                        "via": by,
                        "found": found,
                        "steps": [],
                    }));
                }
                if p.rewrites_roles() {
                    for other in mine.iter().filter(|o| model::is_custom(o.role)) {
                        escalations.push(serde_json::json!({
                            "id": "gcp-rewrite-role",
                            "title": format!("rewrites custom role {} (held on {}) to grant any permission ({})", other.role, other.level, model::ROLES_UPDATE),
                            "category": "gcp-iam",
                            "via": by,
                            "found": g.condition.is_none(),
                            "steps": [],
                        }));
                    }
                }
                if caps.is_empty() {
                    caps.push("nothing sensitive".into());
                }
                caps
            }
        };
        holds.push(Hold {
            role: g.role.to_string(),
            role_id: g.role.to_string(),
            scope: g.level.clone(),
            state: "active",
            via_group: None,
            via_member: g.via.clone(),
            condition: g.condition.map(str::to_string),
            capabilities: caps,
            system: "gcp-iam",
        });
    }

    // Service accounts it can become, transitively.
    let identities = impersonation(&w, member, &mut gaps, &mut escalations);
    if admin == "no" && identities.iter().any(|i| i.administrator == "yes" && i.decision == "allowed") {
        admin = "maybe";
    }
    let found = escalations.iter().filter(|e| e["found"] == true).count();
    let escalation_summary = if admin == "yes" {
        "an administrator already (owns a project, or the organization's allow policy)".to_string()
    } else if let Some(e) = escalations.iter().find(|e| e["found"] == true) {
        format!("{found} path(s) found, first: {} (the full search is check gcp_iam_principal_privilege_escalation)", e["title"].as_str().unwrap_or_default())
    } else if let Some(e) = escalations.first() {
        format!("{} path(s) undecided (conditions), first: {}", escalations.len(), e["title"].as_str().unwrap_or_default())
    } else {
        "none found: it sets no allow policy, rewrites no role and becomes no privileged service account (see check gcp_iam_principal_privilege_escalation for each project)".to_string()
    };
    let mut permissions: Vec<Permission> = perms.into_values().collect();
    permissions.sort_by(|a, b| rank(a.risk).cmp(&rank(b.risk)).then_with(|| a.action.cmp(&b.action)));
    let services: BTreeSet<String> = holds.iter().map(|h| h.role.split('.').next().unwrap_or(&h.role).trim_start_matches("roles/").to_string()).collect();
    let account = inv.organization.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| format!("{} project(s) read", inv.projects.len()));
    let names = w.accounts.iter().filter(|(_, sa)| format!("serviceAccount:{}", sa.email).eq_ignore_ascii_case(member)).map(|(p, sa)| format!("project {p}, unique id {}{}", sa.unique_id, if sa.disabled { ", disabled" } else { "" })).collect();
    Ok(BlastRadius {
        cloud: "gcp",
        principal: member.to_string(),
        account,
        kind,
        names,
        administrator: admin,
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

fn rank(r: &str) -> usize {
    ["assign-roles", "run-as-another-identity", "secrets-and-keys", "logging", "organization"].iter().position(|x| *x == r).unwrap_or(99)
}

/// The service accounts `start` can act as, breadth first: each account it can mint tokens or
/// keys for (or delegate through, or attach to code it runs), then what that one can, until no
/// new account is reached. Each account enters once: a cycle ends the walk by itself.
fn impersonation(w: &World, start: &str, gaps: &mut Vec<String>, escalations: &mut Vec<serde_json::Value>) -> Vec<Identity> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    seen.insert(start.to_ascii_lowercase());
    // (member, chain of accounts passed through, undecided so far)
    let mut queue: VecDeque<(String, Vec<String>, Vec<String>)> = VecDeque::new();
    queue.push_back((start.to_string(), Vec::new(), Vec::new()));
    while let Some((cur, chain, undecided)) = queue.pop_front() {
        let grants = w.grants_of(&cur);
        // A permission that runs code: with actAs, the code runs as the account attached. In the
        // account's own project it can; elsewhere only where cross-project use is allowed (the
        // org policy iam.disableCrossProjectServiceAccountUsage, not read here): undecided.
        let runs_code_in = |project: &str| grants.iter().any(|g| g.condition.is_none() && w.reaches(&g.level, project) && g.powers.as_ref().is_ok_and(|p| p.runs_code().is_some()));
        let runs_code_anywhere = grants.iter().find(|g| g.condition.is_none() && g.powers.as_ref().is_ok_and(|p| p.runs_code().is_some())).map(|g| format!("{} on {}", g.role, g.level));
        for (project, sa) in &w.accounts {
            let target = format!("serviceAccount:{}", sa.email.to_ascii_lowercase());
            if seen.contains(&target.to_ascii_lowercase()) {
                continue;
            }
            let own = sa_resource(project, &sa.email);
            let mut best: Option<(String, Vec<String>)> = None;
            for g in grants.iter().filter(|g| g.level == own || w.reaches(&g.level, project)) {
                let p = match &g.powers {
                    Ok(p) => p,
                    Err(why) => {
                        if !gaps.iter().any(|x| x.contains(why.as_str())) {
                            gaps.push(format!("{} on {}: {why}", g.role, g.level));
                        }
                        continue;
                    }
                };
                let Some(perm) = p.impersonates() else { continue };
                let mut und = undecided.clone();
                if perm == model::ACT_AS && !(p.acts_as_running_code().is_some() || runs_code_in(project)) {
                    match &runs_code_anywhere {
                        Some(other) => und.push(format!("actAs, with code run through {other}, outside project {project}: only if cross-project service account use is allowed")),
                        None => continue,
                    }
                }
                // An HMAC key signs Cloud Storage requests only: not a way on to other accounts.
                if perm == model::HMAC_KEY_CREATE {
                    continue;
                }
                // Creating what a Google-managed account runs reaches that kind of account only.
                if model::RUNS_AS_GOOGLE_MANAGED.iter().any(|(_, mp, _)| *mp == perm) && model::runs_as_google_managed(&sa.email).map(|(p, _)| p) != Some(perm) {
                    continue;
                }
                let how = format!("{perm} through {} on {}{}", g.role, g.level, g.via.as_ref().map(|v| format!(" (as {v})")).unwrap_or_default());
                if let Some(c) = g.condition {
                    und.push(format!("condition on {} at {}: {c}", g.role, g.level));
                }
                let better = match &best {
                    None => true,
                    Some((_, u)) => u.len() > und.len(),
                };
                if better {
                    best = Some((how, und));
                }
            }
            let Some((how, und)) = best else { continue };
            seen.insert(target.to_ascii_lowercase());
            // What that account holds: is it an administrator, does it hold a privileged role?
            let its = w.grants_of(&target);
            let owns = its.iter().any(|g| g.condition.is_none() && g.powers.as_ref().is_ok_and(|p| p.owns(&g.level)) && !g.level.contains("/serviceAccounts/"));
            // A privileged grant on the hierarchy (one on another account is the next hop of the
            // chain, listed as an identity of its own).
            let privileged = its
                .iter()
                .filter(|g| !g.level.contains("/serviceAccounts/"))
                .find_map(|g| g.powers.as_ref().ok().and_then(|p| p.privileged()).map(|x| (g.role, g.level.clone(), x)));
            let unknown = its.iter().any(|g| g.powers.is_err());
            let administrator = if owns {
                "yes"
            } else if unknown {
                "maybe"
            } else {
                "no"
            };
            let decision = if und.is_empty() { "allowed" } else { "undecided" };
            if let Some((role, level, x)) = &privileged {
                escalations.push(serde_json::json!({
                    "id": "gcp-impersonation",
                    "title": format!("acts as {} ({how}), which holds {role} on {level} ({x})", sa.email),
                    "category": "gcp-iam",
                    "via": if chain.is_empty() { start.to_string() } else { chain.join(" → ") },
                    "found": und.is_empty() && !sa.disabled,
                    "steps": [],
                }));
            }
            out.push(Identity {
                identity: target.clone(),
                kind: "service-account",
                how: format!("{how}{}", if sa.disabled { " (the account is disabled: no tokens until it is enabled)" } else { "" }),
                via: chain.clone(),
                decision,
                undecided: und.clone(),
                administrator,
            });
            let mut next = chain.clone();
            next.push(target.clone());
            queue.push_back((target, next, und));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn members_that_cover_a_principal() {
        let user = "user:ops.lead@example.com";
        assert_eq!(covers("user:Ops.Lead@Example.com", user), Some(None), "emails ignore case");
        assert_eq!(covers("principal://goog/subject/ops.lead@example.com", user), Some(None));
        assert_eq!(covers("domain:example.com", user), Some(Some("domain:example.com".into())));
        assert_eq!(covers("domain:example.co", user), None, "no look-alike");
        assert_eq!(covers("domain:sub.example.com", user), None);
        assert_eq!(covers("domain:blast-app.iam.gserviceaccount.com", "serviceAccount:ci@blast-app.iam.gserviceaccount.com"), None, "domain: is people");
        assert_eq!(covers("allAuthenticatedUsers", "serviceAccount:ci@p.iam.gserviceaccount.com"), Some(Some("allAuthenticatedUsers".into())));
        assert_eq!(covers("group:ops@example.com", user), None, "groups are a gap, not a match");
        assert_eq!(covers("deleted:user:ops.lead@example.com?uid=1", user), None);
    }

    #[test]
    fn a_user_holds_what_its_organizations_customer_holds_and_groups_by_principal_set_are_gaps() {
        let inv: crate::inventory::gcp::GcpInventory = serde_json::from_value(serde_json::json!({
            "organization": {"name": "organizations/7", "domain": "corp.example", "customer_id": "C0corp"},
            "hierarchy": {"collected": [{"id": "organizations/7", "name": "corp.example", "kind": "gcp_organization"}, {"id": "projects/71", "name": "ops", "kind": "gcp_project", "parent": "organizations/7"}]},
            "nodes": [{"name": "organizations/7", "iam_policy": {"collected": {"bindings": [{"role": "roles/owner", "members": ["user:someone@corp.example"]}]}}}],
            "projects": [{"project_id": "ops", "name": "projects/71", "parent": "organizations/7", "service_accounts": {"collected": []},
                "iam_policy": {"collected": {"bindings": [
                    {"role": "roles/owner", "members": ["PrincipalSet://goog/cloudIdentityCustomerId/C0corp"]},
                    {"role": "roles/viewer", "members": ["principalSet://goog/group/ops@corp.example", "principalSet://goog/cloudIdentityCustomerId/c0corp"]}]}}}],
            "predefined_roles": {"collected": [
                {"name": "roles/owner", "permissions": ["resourcemanager.projects.setIamPolicy", "resourcemanager.projects.delete"]},
                {"name": "roles/viewer", "permissions": ["resourcemanager.projects.get"]}]}
        }))
        .unwrap();
        let outsider = super::blast_radius(&inv, "user:guest@partner.example").unwrap();
        assert!(outsider.holds.is_empty(), "a user of another domain is not proven the customer's");
        let b = super::blast_radius(&inv, "user:mallory@corp.example").unwrap();
        assert_eq!(b.administrator, "yes", "the customer's grant is the user's: {:?}", b.holds.iter().map(|h| (&h.role, &h.scope)).collect::<Vec<_>>());
        assert_eq!(b.holds.len(), 1, "another customer id (ids are case-sensitive) is not the organization's");
        assert!(b.gaps.iter().any(|g| g.contains("principalSet://goog/group/ops@corp.example")), "{:?}", b.gaps);
    }

    #[test]
    fn principal_identifiers_and_every_public_spelling_cover_a_principal() {
        // A group named by its principal set, a user by a subject in another casing of the prefix,
        // and the public in each documented spelling: each holds the principal's grants.
        let group = "group:ops@example.com";
        assert_eq!(covers("principalSet://goog/group/Ops@Example.com", group), Some(None));
        assert_eq!(covers("principalSet://goog/group/ops@example.com", "user:ops@example.com"), None, "a group set is not the user");
        assert_eq!(covers("PRINCIPAL://goog/subject/Ops.Lead@example.com", "user:ops.lead@example.com"), Some(None));
        for public in ["principalSet://goog/public:all", "allusers", "AllAuthenticatedUsers"] {
            assert_eq!(covers(public, group), Some(Some(public.to_string())), "{public}");
        }
    }
}
