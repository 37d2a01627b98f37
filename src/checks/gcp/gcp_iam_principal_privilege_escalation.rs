//! No principal that is not an owner of a project can make itself one, or take a privileged
//! role it does not hold: by setting the project's allow policy, or by acting as a service account
//! that holds the role, directly or through a chain of service accounts, or by creating what runs
//! as a Google-managed account by default (a build as the legacy Cloud Build account, a Deployment
//! Manager deployment as the Google APIs service agent).
//!
//! Every role, predefined or custom, counts by its permissions, asked of the GCP privilege model
//! ([`crate::reach::gcp`]); no role name decides anything here. A grant sets the project's allow
//! policy with `resourcemanager.projects.setIamPolicy` (or the folder's or organization's above
//! it); it steps into a service account with a token or key permission (`getAccessToken`,
//! `signJwt`, `signBlob`, `serviceAccountKeys.create`, the account's `setIamPolicy`), or with
//! `actAs` when its holder also holds a permission that runs code; a custom role can be rewritten
//! to set the policy by whoever holds `iam.roles.update` over it. Owners (Owner's powers over the
//! project: its policy and its deletion) and the organization's administrators (who set its allow
//! policy) are not counted. A service account is a target when one of its roles is privileged
//! ([`crate::reach::gcp::Powers::privileged`]).
//!
//! Grants on the project, its folders and organization count, and so do grants on each service
//! account itself. A role whose permissions were not read (a predefined role missing from
//! `gcp_predefined_roles`, a custom role missing from `gcp_custom_roles`), a conditional grant on
//! the way, or a service account whose own policy was not read, leaves the principals that depend
//! on it not evaluated, naming the role and what to read.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::gcp::{GcpInventory, GcpProject, IamBinding, IamPolicy, ServiceAccount};
use crate::inventory::{Collected, Dataset, Missing};
use crate::reach::gcp::{self as model, Model};

use super::project_resource;

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy, Dataset::GcpServiceAccounts, Dataset::GcpCustomRoles, Dataset::GcpPredefinedRoles];
pub const PARAMS: &[&str] = &[];

/// Members that can still act: a `deleted:` member is a principal that no longer exists (one
/// created again under the same name does not inherit its grants).
fn live(members: &[String]) -> impl Iterator<Item = &String> {
    members.iter().filter(|m| !m.starts_with("deleted:"))
}

/// One step into a service account: who, by which grant, where, and whether it certainly works.
#[derive(Clone)]
struct Edge {
    member: String,
    how: String,
    /// `None`: it works; `Some(why)`: it depends on something undecided.
    undecided: Option<String>,
}

/// How a member reaches a target: the steps, and the first undecided one.
#[derive(Clone)]
struct Route {
    steps: Vec<String>,
    undecided: Option<String>,
}

struct World<'a> {
    inv: &'a GcpInventory,
    model: Model<'a>,
    /// Members that hold a role that runs code, and members that may (a conditional grant, or a
    /// role whose permissions were not read), anywhere.
    runs_code: BTreeSet<&'a str>,
    maybe_runs_code: BTreeSet<&'a str>,
    /// Members with a grant somewhere that may enable a disabled service account.
    may_enable: BTreeSet<&'a str>,
}

impl<'a> World<'a> {
    fn new(inv: &'a GcpInventory) -> Self {
        let mut runs_code = BTreeSet::new();
        let mut maybe_runs_code = BTreeSet::new();
        let mut may_enable = BTreeSet::new();
        let model = Model::new(inv);
        let policies = inv.projects.iter().filter_map(|p| p.iam_policy.get()).chain(inv.nodes.iter().filter_map(|n| n.iam_policy.get()));
        for pol in policies {
            for b in &pol.bindings {
                let powers = model.permissions(&b.role);
                let runs = powers.as_ref().ok().map(|p| p.runs_code().is_some());
                match runs {
                    Some(true) if b.condition_expression.is_none() => runs_code.extend(b.members.iter().map(String::as_str)),
                    Some(true) | None => maybe_runs_code.extend(b.members.iter().map(String::as_str)),
                    Some(false) => {}
                }
                if powers.map_or(true, |p| p.enables_accounts()) {
                    may_enable.extend(b.members.iter().map(String::as_str));
                }
            }
        }
        World { inv, model, runs_code, maybe_runs_code, may_enable }
    }

    /// The project a user-managed service account lives in, by its email; `None` for Google's own
    /// service agents, which no customer principal can act as.
    fn home(&self, email: &str) -> Option<Result<&'a GcpProject, String>> {
        let (local, domain) = email.rsplit_once('@')?;
        let by_id = |id: &str| self.inv.projects.iter().find(|p| p.project_id == id);
        let found = if let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") {
            if project.starts_with("gcp-sa-") {
                return None;
            }
            by_id(project).ok_or_else(|| project.to_string())
        } else if domain == "developer.gserviceaccount.com" {
            let number = local.trim_end_matches("-compute");
            self.inv.projects.iter().find(|p| p.name == format!("projects/{number}")).ok_or_else(|| format!("number {number}"))
        } else if domain == "appspot.gserviceaccount.com" {
            by_id(local).ok_or_else(|| local.to_string())
        } else {
            return None;
        };
        Some(found.map_err(|p| format!("{email} belongs to project {p}, which the scan did not read")))
    }

    fn edges_from(&self, bindings: &[IamBinding], at: &str, disabled: bool, out: &mut Vec<Edge>) {
        for b in bindings {
            let cond = b.condition_expression.as_ref().map(|c| format!("the grant of {} on {at} has the condition `{c}`", b.role));
            let p = match self.model.permissions(&b.role) {
                Ok(p) => p,
                Err(missing) => {
                    for m in live(&b.members) {
                        out.push(Edge {
                            member: m.clone(),
                            how: format!("{} on {at}", b.role),
                            undecided: Some(cond.clone().unwrap_or_else(|| format!("the permissions of {} are unknown ({missing}); it may act as {{sa}} or get tokens for it", b.role))),
                        });
                    }
                    continue;
                }
            };
            // A disabled account gives no tokens until its holder may enable it.
            let usable = !disabled || p.enables_accounts();
            if let Some((perm, what)) = p.token() {
                self.token_steps(&b.members, format!("{} on {at} (it grants {perm}): {what}", b.role), usable, &cond, out);
                continue;
            }
            if p.acts_as() && !disabled {
                let how = format!("{} on {at} (it grants iam.serviceAccounts.actAs): attach {{sa}} to what it creates", b.role);
                self.attach(&b.members, &how, &cond, out);
            }
            if p.implicit_delegation() && usable {
                for m in live(&b.members) {
                    out.push(Edge {
                        member: m.clone(),
                        how: format!("{} on {at} (it grants iam.serviceAccounts.implicitDelegation)", b.role),
                        undecided: Some(cond.clone().unwrap_or_else(|| "delegation through {sa} reaches what {sa} can act as, not {sa}'s own roles; the check does not follow it".to_string())),
                    });
                }
            }
        }
    }

    /// Everyone who can create what runs as a Google-managed account of project number `number`.
    fn runs_by_default(&self, email: &str, number: &str, permission: &str, what: &str, out: &mut Vec<Edge>, gaps: &mut Vec<Gap>) {
        let Some(home) = self.inv.projects.iter().find(|p| p.name == format!("projects/{number}")) else {
            gaps.push((format!("{email} belongs to project number {number}, which the scan did not read"), None));
            return;
        };
        let levels = match self.inv.effective_iam(home) {
            Ok(levels) => levels,
            Err(m) => {
                gaps.push((format!("the allow policies over {}: {m}", home.project_id), Some(m)));
                return;
            }
        };
        for (level, pol) in levels {
            let at = if level == home.name { format!("project {}", home.project_id) } else { level.to_string() };
            for b in &pol.bindings {
                let cond = b.condition_expression.as_ref().map(|c| format!("the grant of {} on {at} has the condition `{c}`", b.role));
                let (how, undecided) = match self.model.permissions(&b.role) {
                    Ok(p) if p.grants(permission) => (format!("{} on {at} (it grants {permission}): {what}", b.role), cond),
                    Ok(_) => continue,
                    Err(m) => (format!("{} on {at}", b.role), Some(cond.unwrap_or_else(|| format!("the permissions of {} are unknown ({m}); it may include {permission}", b.role)))),
                };
                for m in live(&b.members) {
                    out.push(Edge { member: m.clone(), how: how.clone(), undecided: undecided.clone() });
                }
            }
        }
    }

    /// A token step for each member: as conditioned where the account is usable; into a disabled
    /// one, only for the members that may enable it.
    fn token_steps(&self, members: &[String], how: String, usable: bool, cond: &Option<String>, out: &mut Vec<Edge>) {
        for m in live(members) {
            if usable {
                out.push(Edge { member: m.clone(), how: how.clone(), undecided: cond.clone() });
            } else {
                self.once_enabled(m, how.clone(), out);
            }
        }
    }

    /// A step into a disabled account: undecided when the member holds a grant somewhere that may
    /// enable it (an owner, editor or service account administrator role, or a custom role with
    /// `iam.serviceAccounts.enable` or unread permissions), none otherwise.
    fn once_enabled(&self, member: &str, how: String, out: &mut Vec<Edge>) {
        if self.may_enable.contains(member) {
            out.push(Edge {
                member: member.to_string(),
                how,
                undecided: Some(format!("{{sa}} is disabled, and {member} holds a grant that may enable it")),
            });
        }
    }

    /// Members that may attach the account to what they create: a step when they also run code.
    fn attach(&self, members: &[String], how: &str, cond: &Option<String>, out: &mut Vec<Edge>) {
        for m in live(members) {
            if self.runs_code.contains(m.as_str()) {
                out.push(Edge { member: m.clone(), how: format!("{how}, with a role that runs code"), undecided: cond.clone() });
            } else if self.maybe_runs_code.contains(m.as_str()) {
                out.push(Edge {
                    member: m.clone(),
                    how: how.to_string(),
                    undecided: Some(cond.clone().unwrap_or_else(|| format!("{m} holds a conditional role, or a custom role whose permissions are unknown, that may run code as it"))),
                });
            }
        }
    }

    /// Everyone who can step into the service account, and what could not be read about it.
    fn incoming(&self, email: &str) -> (Vec<Edge>, Vec<Gap>) {
        let mut out = Vec::new();
        let mut gaps = Vec::new();
        if let (Some((local, _)), Some((permission, what))) = (email.rsplit_once('@'), model::runs_as_google_managed(email)) {
            self.runs_by_default(email, local, permission, what, &mut out, &mut gaps);
            return (out, gaps);
        }
        let home = match self.home(email) {
            None => return (out, gaps),
            Some(Err(why)) => {
                gaps.push((why, None));
                return (out, gaps);
            }
            Some(Ok(p)) => p,
        };
        let sa: Option<&ServiceAccount> = match &p_accounts(home) {
            Ok(list) => list.iter().find(|s| s.email.eq_ignore_ascii_case(email)),
            Err(m) => {
                gaps.push((format!("the service accounts of {}: {m}", home.project_id), Some(m.clone())));
                None
            }
        };
        let disabled = sa.is_some_and(|s| s.disabled);
        match self.inv.effective_iam(home) {
            Ok(levels) => {
                for (level, pol) in levels {
                    let at = if level == home.name { format!("project {}", home.project_id) } else { level.to_string() };
                    self.edges_from(&pol.bindings, &at, disabled, &mut out);
                }
            }
            Err(m) => gaps.push((format!("the allow policies over {}: {m}", home.project_id), Some(m))),
        }
        if let Some(sa) = sa {
            match &sa.iam_policy {
                Collected::Collected(pol) => self.edges_from(&pol.bindings, "the account itself", disabled, &mut out),
                other => {
                    if let Err(m) = other.require(Dataset::GcpServiceAccounts) {
                        gaps.push((format!("who may act as {email}: {m}"), Some(m)));
                    }
                }
            }
        }
        (out, gaps)
    }

    /// Every member that can reach `target`, each by its best route (certain before undecided,
    /// then shortest), and every gap met on the way.
    fn reach(&self, target: &str) -> (BTreeMap<String, Route>, Vec<Gap>) {
        let mut best: BTreeMap<String, Route> = BTreeMap::new();
        let mut gaps = Vec::new();
        let mut queue: VecDeque<(String, Route)> = VecDeque::from([(target.to_string(), Route { steps: Vec::new(), undecided: None })]);
        let mut expanded = BTreeSet::new();
        while let Some((email, route)) = queue.pop_front() {
            if !expanded.insert((email.to_ascii_lowercase(), route.undecided.is_some())) || expanded.len() > 10_000 {
                continue;
            }
            let (edges, g) = self.incoming(&email);
            gaps.extend(g);
            for e in edges {
                let step = e.how.replace("{sa}", &email);
                let mut steps = vec![step];
                steps.extend(route.steps.iter().cloned());
                let r = Route { steps, undecided: route.undecided.clone().or(e.undecided.as_ref().map(|u| u.replace("{sa}", &email))) };
                let better = match best.get(&e.member) {
                    None => true,
                    Some(old) => (old.undecided.is_some() && r.undecided.is_none()) || (old.undecided.is_some() == r.undecided.is_some() && r.steps.len() < old.steps.len()),
                };
                if better {
                    best.insert(e.member.clone(), r.clone());
                    if let Some(next) = e.member.strip_prefix("serviceAccount:") {
                        if !next.eq_ignore_ascii_case(target) {
                            queue.push_back((next.to_string(), r));
                        }
                    }
                }
            }
        }
        gaps.sort_by(|a, b| a.0.cmp(&b.0));
        gaps.dedup_by(|a, b| a.0 == b.0);
        (best, gaps)
    }
}

/// The grant (unconditioned) that lets `member` change `custom`, a custom role defined in this
/// project or in its organization: a role with `iam.roles.update` anywhere over the project for a
/// project role, or on the organization for an organization role.
fn role_admin(model: &Model, levels: &[(&str, &IamPolicy)], member: &str, custom: &str, project_id: &str) -> Option<String> {
    let org_role = custom.strip_prefix("organizations/").and_then(|r| r.split_once("/roles/")).map(|(org, _)| format!("organizations/{org}"));
    let project_role = custom.strip_prefix("projects/").and_then(|r| r.split_once("/roles/")).is_some_and(|(id, _)| id == project_id);
    levels.iter().find_map(|(level, pol)| {
        pol.bindings.iter().filter(|b| b.condition_expression.is_none() && b.members.iter().any(|m| m == member)).find_map(|b| {
            let covers = model.permissions(&b.role).is_ok_and(|p| p.rewrites_roles()) && (project_role || org_role.as_deref() == Some(*level));
            covers.then(|| format!("{} (it grants iam.roles.update) on {level}", b.role))
        })
    })
}

/// Something not read on the way, with the dataset's coverage when that is the cause.
type Gap = (String, Option<Missing>);

fn p_accounts(p: &GcpProject) -> Result<&Vec<ServiceAccount>, Missing> {
    p.service_accounts.require(Dataset::GcpServiceAccounts)
}

/// Roles each member holds on the project (any level), unconditioned.
fn held(levels: &[(&str, &IamPolicy)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, pol) in levels {
        for b in pol.bindings.iter().filter(|b| b.condition_expression.is_none()) {
            for m in &b.members {
                out.entry(m.clone()).or_default().insert(b.role.clone());
            }
        }
    }
    out
}

fn account_resource<'a>(email: &str) -> Resource<'a> {
    let project = email.rsplit_once('@').map(|(_, d)| d.trim_end_matches(".iam.gserviceaccount.com")).unwrap_or("-");
    Resource { id: Cow::Owned(format!("//iam.googleapis.com/projects/{project}/serviceAccounts/{email}")), name: Cow::Owned(email.to_string()), kind: "gcp_iam_service_account" }
}

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let levels = inv.effective_iam(p)?;
    let world = World::new(inv);
    let roles = held(&levels);
    // Owners (Owner's powers over the project), and the organization's administrators (who set
    // every project's policy by design), by their unconditioned grants' permissions.
    let owners: BTreeSet<&str> = levels
        .iter()
        .flat_map(|(level, pol)| pol.bindings.iter().filter(|b| b.condition_expression.is_none() && world.model.permissions(&b.role).is_ok_and(|r| r.owns(level))))
        .flat_map(|b| b.members.iter().map(String::as_str))
        .collect();
    let is_owner = |m: &str| owners.contains(m);
    let at = |level: &str| if level == p.name { String::new() } else { format!(" (inherited from {level})") };

    // Principals that can set the project's allow policy.
    let mut setters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut undecided_setters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // The first role definition missing on the way, for the findings' coverage fields.
    let mut setter_gap: Option<Missing> = None;
    // Service accounts that hold a privileged role here: role -> the permission that makes it so.
    let mut targets: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    // Service accounts that hold a role whose permissions are unknown: role -> why.
    let mut unknown_targets: BTreeMap<String, BTreeMap<String, Missing>> = BTreeMap::new();
    for (i, (level, pol)) in levels.iter().enumerate() {
        for b in &pol.bindings {
            let powers = world.model.permissions(&b.role);
            let custom = model::is_custom(&b.role);
            let kind = if custom { "custom role " } else { "" };
            for m in live(&b.members).filter(|m| !is_owner(m)) {
                let what = format!("{}{}", b.role, at(level));
                let cond = b.condition_expression.as_ref().map(|c| format!(" with the condition `{c}`")).unwrap_or_default();
                let admin = if custom { role_admin(&world.model, &levels, m, &b.role, &p.project_id) } else { None };
                let sets = powers.as_ref().ok().and_then(|r| r.sets_policy(&levels, i));
                let line = match (&admin, sets, &powers) {
                    (_, Some(perm), _) => format!("{kind}{what}, which grants {perm}"),
                    (Some(admin), None, _) => format!("custom role {what} and {admin}: it can add resourcemanager.projects.setIamPolicy to that role"),
                    (None, None, Err(missing)) => {
                        setter_gap.get_or_insert_with(|| missing.clone());
                        format!("{kind}{what}{cond}, whose permissions are unknown (it may include resourcemanager.projects.setIamPolicy): {missing}")
                    }
                    (None, None, Ok(_)) => continue,
                };
                match (&b.condition_expression, &powers) {
                    (None, Ok(_)) => setters.entry(m).or_default().push(line),
                    (None, _) if admin.is_some() => setters.entry(m).or_default().push(line),
                    (Some(_), _) if admin.is_some() || powers.is_ok() => undecided_setters.entry(m).or_default().push(format!("{line}{cond}")),
                    _ => undecided_setters.entry(m).or_default().push(line),
                }
            }
            for email in b.members.iter().filter_map(|m| m.strip_prefix("serviceAccount:")) {
                let email = email.to_ascii_lowercase();
                match &powers {
                    Ok(r) => {
                        if let Some(why) = r.privileged() {
                            targets.entry(email).or_default().insert(b.role.clone(), why.to_string());
                        }
                    }
                    Err(m) => {
                        unknown_targets.entry(email).or_default().insert(b.role.clone(), m.clone());
                    }
                }
            }
        }
    }
    let (mut failed, mut undecided) = (0, 0);
    for (m, how) in &setters {
        failed += 1;
        cx.fail(project_resource(p), format!("{}: {m} is not an owner and can set the project's allow policy, granting itself roles/owner: it holds {}", p.project_id, how.join(", ")));
    }
    for (m, how) in undecided_setters.iter().filter(|(m, _)| !setters.contains_key(*m)) {
        undecided += 1;
        let f = cx.not_evaluated(project_resource(p), format!("{}: {m} may be able to set the project's allow policy: it holds {}", p.project_id, how.join(", ")));
        if let Some(m) = &setter_gap {
            coverage_fields(f, m);
        }
    }

    let mut clean = Vec::new();
    let emails: BTreeSet<&String> = targets.keys().chain(unknown_targets.keys()).collect();
    for email in emails {
        let privileged = targets.get(email.as_str());
        let unknown = unknown_targets.get(email.as_str());
        let (reached, gaps) = world.reach(email);
        let mut sure = Vec::new();
        let mut maybe = Vec::new();
        for (member, route) in &reached {
            let own = roles.get(member);
            let lacks = |r: &String| !own.is_some_and(|o| o.contains(r));
            let gained: Vec<String> = privileged.into_iter().flatten().filter(|(r, _)| lacks(r)).map(|(r, why)| format!("{r} (it grants {why})")).collect();
            let gained_unknown: Vec<&str> = unknown.into_iter().flat_map(|u| u.keys()).filter(|r| lacks(r)).map(String::as_str).collect();
            if is_owner(member) || (gained.is_empty() && gained_unknown.is_empty()) || member.eq_ignore_ascii_case(&format!("serviceAccount:{email}")) {
                continue;
            }
            if gained.is_empty() {
                // Only roles whose permissions are unknown: whether it gains anything is undecided.
                maybe.push(format!("{member} ({}; gains {}, whose permissions are unknown)", route.steps.join(", then "), gained_unknown.join(", ")));
                continue;
            }
            let line = format!("{member} ({}; gains {})", route.steps.join(", then "), gained.join(", "));
            match &route.undecided {
                None => sure.push(line),
                Some(why) => maybe.push(format!("{line}: {why}")),
            }
        }
        let mut held_text: Vec<String> = privileged.into_iter().flatten().map(|(r, why)| format!("{r} (it grants {why})")).collect();
        held_text.extend(unknown.into_iter().flatten().map(|(r, _)| format!("{r} (permissions unknown)")));
        let roles_text = held_text.join(", ");
        if !sure.is_empty() {
            failed += 1;
            cx.fail(account_resource(email), format!("{email} holds {roles_text} on {}, and {} principal(s) that do not can act as it: {}", p.project_id, sure.len(), sure.join("; ")))
                .with("principals", sure.len() as i64);
        } else if !maybe.is_empty() || !gaps.is_empty() {
            undecided += 1;
            let mut why = maybe;
            why.extend(gaps.iter().map(|(g, _)| format!("unknown: {g}")));
            let f = cx.not_evaluated(account_resource(email), format!("{email} holds {roles_text} on {}; who else can act as it is undecided: {}", p.project_id, why.join("; ")));
            let first_gap = gaps.iter().find_map(|(_, m)| m.as_ref()).or_else(|| unknown.and_then(|u| u.values().next()));
            if let Some(m) = first_gap {
                coverage_fields(f, m);
            }
        } else if privileged.is_some() {
            clean.push((email, roles_text));
        }
    }
    // Passes only where nothing in the project is undecided.
    if undecided == 0 {
        for (email, roles_text) in &clean {
            cx.pass(account_resource(email), format!("{email} holds {roles_text} on {}; only principals that already hold it can act as it", p.project_id));
        }
    }
    if failed == 0 && undecided == 0 {
        cx.pass(
            project_resource(p),
            format!("{}: only owners can set its allow policy, and no principal can act as a service account to take a privileged role it lacks ({} privileged service account(s))", p.project_id, targets.len()),
        );
    }
    Ok(())
}

/// The coverage of what was missing, on a not-evaluated finding.
fn coverage_fields(f: &mut crate::finding::Finding<'_>, m: &Missing) {
    let permission = match &m.state {
        crate::inventory::CoverageState::Denied { action, .. } => Some(action.clone()),
        _ => None,
    };
    f.with("dataset", m.dataset.to_string()).with("coverage", m.state.label()).with("missing_permission", permission);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bindings: &[(&str, &str, bool)]) -> IamPolicy {
        IamPolicy {
            bindings: bindings
                .iter()
                .map(|(role, m, cond)| IamBinding { role: role.to_string(), members: vec![m.to_string()], condition_expression: cond.then(|| "request.time < timestamp('2027-01-01T00:00:00Z')".into()) })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn role_administrators_reach_the_custom_roles_their_grant_covers() {
        let org = policy(&[("roles/iam.organizationRoleAdmin", "user:o@example.com", false), ("roles/iam.roleAdmin", "user:r@example.com", false)]);
        let project = policy(&[("roles/iam.roleAdmin", "user:p@example.com", false), ("roles/iam.roleAdmin", "user:c@example.com", true)]);
        let levels: Vec<(&str, &IamPolicy)> = vec![("organizations/1", &org), ("projects/300", &project)];
        // The administrators' roles count by their permissions (an excerpt of the real lists).
        let admin = |name: &str| crate::inventory::gcp::PredefinedRole { name: name.into(), permissions: vec!["iam.roles.create".into(), "iam.roles.get".into(), "iam.roles.update".into()], stage: None };
        let inv = GcpInventory { predefined_roles: Collected::Collected(vec![admin("roles/iam.organizationRoleAdmin"), admin("roles/iam.roleAdmin")]), ..Default::default() };
        let project_role = "projects/prod/roles/release";
        let org_role = "organizations/1/roles/responder";
        // A project role: any role administrator over the project.
        for m in ["user:o@example.com", "user:r@example.com", "user:p@example.com"] {
            assert!(role_admin(&Model::new(&inv), &levels, m, project_role, "prod").is_some(), "{m}");
        }
        // Another project's role, or a conditional grant: no.
        assert!(role_admin(&Model::new(&inv), &levels, "user:p@example.com", "projects/other/roles/release", "prod").is_none());
        assert!(role_admin(&Model::new(&inv), &levels, "user:c@example.com", project_role, "prod").is_none());
        // An organization role: the organization's role administrators only.
        assert!(role_admin(&Model::new(&inv), &levels, "user:o@example.com", org_role, "prod").is_some());
        assert!(role_admin(&Model::new(&inv), &levels, "user:r@example.com", org_role, "prod").is_some());
        assert!(role_admin(&Model::new(&inv), &levels, "user:p@example.com", org_role, "prod").is_none());
    }

    fn with_roles(roles: Vec<crate::inventory::gcp::CustomRole>) -> GcpInventory {
        let mut inv = GcpInventory::default();
        inv.projects.push(GcpProject {
            project_id: "prod".into(),
            name: "projects/300".into(),
            parent: Some("organizations/1".into()),
            iam_policy: Collected::NotRequested,
            service_accounts: Collected::NotRequested,
            org_policies: Collected::NotRequested,
            sinks: Collected::NotRequested,
            custom_roles: Collected::Collected(roles),
        });
        inv
    }

    fn role(name: &str, perms: &[&str]) -> crate::inventory::gcp::CustomRole {
        crate::inventory::gcp::CustomRole { name: name.into(), permissions: perms.iter().map(|p| p.to_string()).collect(), stage: Some("GA".into()), deleted: false }
    }

    #[test]
    fn a_custom_role_with_iam_roles_update_administers_roles_where_it_is_bound() {
        let inv = with_roles(vec![role("projects/prod/roles/editorOfRoles", &["iam.roles.update", "iam.roles.get"]), role("projects/prod/roles/reader", &["iam.roles.get"])]);
        let project = policy(&[("projects/prod/roles/editorOfRoles", "user:u@example.com", false), ("projects/prod/roles/reader", "user:v@example.com", false)]);
        let levels: Vec<(&str, &IamPolicy)> = vec![("projects/300", &project)];
        let admin = role_admin(&Model::new(&inv), &levels, "user:u@example.com", "projects/prod/roles/release", "prod");
        assert!(admin.is_some_and(|a| a.contains("iam.roles.update")));
        assert!(role_admin(&Model::new(&inv), &levels, "user:v@example.com", "projects/prod/roles/release", "prod").is_none());
        // Bound on the project, it does not reach the organization's roles.
        assert!(role_admin(&Model::new(&inv), &levels, "user:u@example.com", "organizations/1/roles/responder", "prod").is_none());
    }

    #[test]
    fn a_role_without_iam_roles_update_administers_nothing_and_an_unread_one_is_not_an_administrator() {
        let inv = with_roles(vec![role("projects/prod/roles/reader", &["iam.roles.get"])]);
        let project = policy(&[("roles/iam.roleAdmin", "user:u@example.com", false)]);
        let levels: Vec<(&str, &IamPolicy)> = vec![("projects/300", &project)];
        // roles/iam.roleAdmin was not read: its holder is not taken for an administrator by name.
        assert!(role_admin(&Model::new(&inv), &levels, "user:u@example.com", "projects/prod/roles/reader", "prod").is_none());
    }

    #[test]
    fn a_deleted_or_disabled_custom_role_grants_nothing_and_an_unread_one_is_unknown() {
        let mut deleted = role("projects/prod/roles/gone", &["resourcemanager.projects.setIamPolicy"]);
        deleted.deleted = true;
        let mut disabled = role("projects/prod/roles/off", &["resourcemanager.projects.setIamPolicy"]);
        disabled.stage = Some("DISABLED".into());
        let inv = with_roles(vec![deleted, disabled, role("projects/prod/roles/on", &["resourcemanager.projects.setIamPolicy"])]);
        let m = Model::new(&inv);
        assert!(m.permissions("projects/prod/roles/gone").unwrap().permissions().is_empty());
        assert!(m.permissions("projects/prod/roles/off").unwrap().permissions().is_empty());
        assert_eq!(m.permissions("projects/prod/roles/on").unwrap().permissions().len(), 1);
        // Not among those read, defined in a project not read, or never read: unknown, and why.
        for (r, says) in [("projects/prod/roles/other", "not among"), ("projects/elsewhere/roles/x", "did not read"), ("organizations/1/roles/x", "did not read")] {
            match Model::new(&inv).permissions(r) {
                Err(m) => assert!(m.to_string().contains(says), "{r}: {m}"),
                Ok(_) => panic!("{r} should be unknown"),
            }
        }
        let mut unread = with_roles(vec![]);
        unread.projects[0].custom_roles = Collected::Denied { action: "iam.roles.list".into(), message: None };
        match Model::new(&unread).permissions("projects/prod/roles/on") {
            Err(m) => assert!(m.to_string().contains("iam.roles.list"), "{m}"),
            Ok(_) => panic!("unread roles are unknown"),
        }
    }
}
