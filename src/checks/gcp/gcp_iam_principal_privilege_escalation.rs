//! No principal that is not an owner of a project can make itself one, or take a privileged
//! role it does not hold: by setting the project's allow policy, or by acting as a service account
//! that holds the role, directly or through a chain of service accounts (token creator, key
//! admin, service account admin, workload identity user, or service account user with a role that
//! runs code as it).
//!
//! Editors act as every service account below their grant and create what runs code, so an
//! editor reaches them all. A custom role whose administrator (`roles/iam.roleAdmin`,
//! `roles/iam.organizationRoleAdmin`) holds it can be rewritten to set the allow policy.
//!
//! Grants on the project, its folders and organization count, and so do grants on each service
//! account itself. Custom roles' permissions are not read: a custom role held by someone who is
//! not an owner, a conditional grant on the way, or a service account whose own policy was not
//! read, leaves the principals that depend on it not evaluated.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::gcp::{GcpInventory, GcpProject, IamBinding, IamPolicy, ServiceAccount};
use crate::inventory::{Collected, Dataset, Missing};

use super::{privileged_role, project_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy, Dataset::GcpServiceAccounts];
pub const PARAMS: &[&str] = &[];

/// Roles that let their holder get a token for a service account (or give itself a role that
/// does): what each lets it do, in the finding's words.
const ACT_AS: &[(&str, &str)] = &[
    ("roles/owner", "get tokens for {sa}"),
    ("roles/iam.serviceAccountTokenCreator", "get tokens for {sa}"),
    ("roles/iam.workloadIdentityUser", "get tokens for {sa} through workload identity"),
    ("roles/iam.serviceAccountKeyAdmin", "create a key for {sa}"),
    ("roles/iam.serviceAccountAdmin", "grant itself the token creator role on {sa}"),
];

/// `roles/iam.serviceAccountUser` attaches a service account to what its holder creates; these
/// predefined roles create something that runs code as it (a VM, function, service, build, job).
const RUNS_CODE: &[&str] = &[
    "roles/editor",
    "roles/compute.admin",
    "roles/compute.instanceAdmin",
    "roles/compute.instanceAdmin.v1",
    "roles/cloudfunctions.admin",
    "roles/cloudfunctions.developer",
    "roles/run.admin",
    "roles/run.developer",
    "roles/cloudbuild.builds.editor",
    "roles/cloudbuild.builds.builder",
    "roles/dataflow.admin",
    "roles/dataflow.developer",
    "roles/dataproc.admin",
    "roles/dataproc.editor",
    "roles/composer.admin",
    "roles/composer.environmentAndStorageObjectAdmin",
    "roles/container.admin",
    "roles/container.developer",
    "roles/notebooks.admin",
    "roles/aiplatform.admin",
    "roles/aiplatform.user",
    "roles/cloudscheduler.admin",
    "roles/deploymentmanager.editor",
    "roles/appengine.deployer",
    "roles/appengine.appAdmin",
];

/// Roles that set a project's allow policy (on it, or on a folder or the organization above).
const SETS_POLICY: &[&str] = &[
    "roles/resourcemanager.projectIamAdmin",
    "roles/iam.securityAdmin",
    "roles/resourcemanager.folderAdmin",
    "roles/resourcemanager.folderIamAdmin",
    "roles/resourcemanager.organizationAdmin",
];

/// Members that can still act: a `deleted:` member is a principal that no longer exists (one
/// created again under the same name does not inherit its grants).
fn live(members: &[String]) -> impl Iterator<Item = &String> {
    members.iter().filter(|m| !m.starts_with("deleted:"))
}

fn custom_role(role: &str) -> bool {
    role.starts_with("projects/") || role.starts_with("organizations/")
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
    /// Members that hold a role that runs code, and members that hold a custom role, anywhere.
    runs_code: BTreeSet<&'a str>,
    custom: BTreeSet<&'a str>,
}

impl<'a> World<'a> {
    fn new(inv: &'a GcpInventory) -> Self {
        let mut runs_code = BTreeSet::new();
        let mut custom = BTreeSet::new();
        let policies = inv.projects.iter().filter_map(|p| p.iam_policy.get()).chain(inv.nodes.iter().filter_map(|n| n.iam_policy.get()));
        for pol in policies {
            for b in &pol.bindings {
                if RUNS_CODE.contains(&b.role.as_str()) && b.condition_expression.is_none() {
                    runs_code.extend(b.members.iter().map(String::as_str));
                } else if custom_role(&b.role) || RUNS_CODE.contains(&b.role.as_str()) {
                    custom.extend(b.members.iter().map(String::as_str));
                }
            }
        }
        World { inv, runs_code, custom }
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

    fn edges_from(&self, bindings: &[IamBinding], at: &str, on_account: bool, disabled: bool, out: &mut Vec<Edge>) {
        for b in bindings {
            let cond = b.condition_expression.as_ref().map(|c| format!("the grant of {} on {at} has the condition `{c}`", b.role));
            if let Some((_, what)) = ACT_AS.iter().find(|(r, _)| *r == b.role) {
                // A disabled account gives no tokens, but its administrator can enable it.
                if disabled && !matches!(b.role.as_str(), "roles/owner" | "roles/iam.serviceAccountAdmin") {
                    continue;
                }
                for m in live(&b.members) {
                    out.push(Edge { member: m.clone(), how: format!("{} on {at}: {what}", b.role), undecided: cond.clone() });
                }
            } else if b.role == "roles/editor" && !on_account {
                // Editor holds iam.serviceAccounts.actAs on every account below the grant, and
                // creates what runs code (a VM, a function) as one.
                for m in live(&b.members) {
                    let undecided = cond.clone().or_else(|| disabled.then(|| "{sa} is disabled, and whether the editor role may enable it is not decided".to_string()));
                    out.push(Edge { member: m.clone(), how: format!("{} on {at}: run code as {{sa}} (the role acts as service accounts and creates VMs and functions)", b.role), undecided });
                }
            } else if custom_role(&b.role) {
                // A custom role's permissions are not read: it may get tokens for the account.
                for m in live(&b.members) {
                    out.push(Edge {
                        member: m.clone(),
                        how: format!("{} on {at}", b.role),
                        undecided: Some(cond.clone().unwrap_or_else(|| format!("{} is a custom role whose permissions were not read; it may act as {{sa}} or get tokens for it", b.role))),
                    });
                }
            } else if (b.role == "roles/iam.serviceAccountUser" || b.role == "roles/editor") && !disabled {
                for m in live(&b.members) {
                    let how = format!("{} on {at}: attach {{sa}} to what it creates", b.role);
                    if self.runs_code.contains(m.as_str()) {
                        out.push(Edge { member: m.clone(), how: format!("{how}, with a role that runs code"), undecided: cond.clone() });
                    } else if self.custom.contains(m.as_str()) {
                        out.push(Edge {
                            member: m.clone(),
                            how: how.clone(),
                            undecided: Some(cond.clone().unwrap_or_else(|| format!("{m} holds a custom or conditional role that may run code as it"))),
                        });
                    }
                }
            }
        }
    }

    /// Everyone who can step into the service account, and what could not be read about it.
    fn incoming(&self, email: &str) -> (Vec<Edge>, Vec<Gap>) {
        let mut out = Vec::new();
        let mut gaps = Vec::new();
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
                    self.edges_from(&pol.bindings, &at, false, disabled, &mut out);
                }
            }
            Err(m) => gaps.push((format!("the allow policies over {}: {m}", home.project_id), Some(m))),
        }
        if let Some(sa) = sa {
            match &sa.iam_policy {
                Collected::Collected(pol) => self.edges_from(&pol.bindings, "the account itself", true, disabled, &mut out),
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

/// The role-administrator grant (unconditioned) that lets `member` change `custom`, a custom role
/// defined in this project or in its organization: `roles/iam.roleAdmin` anywhere over the project
/// for a project role, `roles/iam.organizationRoleAdmin` for either, and `roles/iam.roleAdmin` on
/// the organization for an organization role.
fn role_admin(levels: &[(&str, &IamPolicy)], member: &str, custom: &str, project_id: &str) -> Option<String> {
    let org_role = custom.strip_prefix("organizations/").and_then(|r| r.split_once("/roles/")).map(|(org, _)| format!("organizations/{org}"));
    let project_role = custom.strip_prefix("projects/").and_then(|r| r.split_once("/roles/")).is_some_and(|(id, _)| id == project_id);
    levels.iter().find_map(|(level, pol)| {
        pol.bindings.iter().filter(|b| b.condition_expression.is_none() && b.members.iter().any(|m| m == member)).find_map(|b| {
            let covers = match b.role.as_str() {
                "roles/iam.organizationRoleAdmin" => project_role || org_role.is_some(),
                "roles/iam.roleAdmin" => project_role || org_role.as_deref() == Some(*level),
                _ => false,
            };
            covers.then(|| format!("{} on {level}", b.role))
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
    let roles = held(&levels);
    // Owners, and the organization's administrators (who set every project's policy by design).
    let is_owner = |m: &str| roles.get(m).is_some_and(|r| r.contains("roles/owner") || r.contains("roles/resourcemanager.organizationAdmin"));
    let at = |level: &str| if level == p.name { String::new() } else { format!(" (inherited from {level})") };

    // Principals that can set the project's allow policy.
    let mut setters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut undecided_setters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // Service accounts that hold a privileged role here, with the roles.
    let mut targets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (level, pol) in &levels {
        for b in &pol.bindings {
            if SETS_POLICY.contains(&b.role.as_str()) {
                for m in live(&b.members).filter(|m| !is_owner(m)) {
                    let what = format!("{}{}", b.role, at(level));
                    match &b.condition_expression {
                        None => setters.entry(m).or_default().push(what),
                        Some(c) => undecided_setters.entry(m).or_default().push(format!("{what} with the condition `{c}`")),
                    }
                }
            }
            if custom_role(&b.role) {
                for m in live(&b.members).filter(|m| !is_owner(m)) {
                    let what = format!("{}{}", b.role, at(level));
                    let cond = b.condition_expression.as_ref().map(|c| format!(" with the condition `{c}`")).unwrap_or_default();
                    match role_admin(&levels, m, &b.role, &p.project_id) {
                        Some(admin) if b.condition_expression.is_none() => setters.entry(m).or_default().push(format!(
                            "custom role {what} and {admin}: it can add resourcemanager.projects.setIamPolicy to that role"
                        )),
                        _ => undecided_setters.entry(m).or_default().push(format!("custom role {what}{cond}, whose permissions were not read (it may include resourcemanager.projects.setIamPolicy)")),
                    }
                }
            }
            if privileged_role(&b.role) {
                for m in &b.members {
                    if let Some(email) = m.strip_prefix("serviceAccount:") {
                        targets.entry(email.to_ascii_lowercase()).or_default().insert(b.role.clone());
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
        cx.not_evaluated(project_resource(p), format!("{}: {m} may be able to set the project's allow policy: it holds {}", p.project_id, how.join(", ")));
    }

    let world = World::new(inv);
    let mut clean = Vec::new();
    for (email, privileged) in &targets {
        let (reached, gaps) = world.reach(email);
        let mut sure = Vec::new();
        let mut maybe = Vec::new();
        for (member, route) in &reached {
            let own = roles.get(member);
            let gained: Vec<&str> = privileged.iter().filter(|r| !own.is_some_and(|o| o.contains(*r))).map(String::as_str).collect();
            if is_owner(member) || gained.is_empty() || member.eq_ignore_ascii_case(&format!("serviceAccount:{email}")) {
                continue;
            }
            let line = format!("{member} ({}; gains {})", route.steps.join(", then "), gained.join(", "));
            match &route.undecided {
                None => sure.push(line),
                Some(why) => maybe.push(format!("{line}: {why}")),
            }
        }
        let roles_text = privileged.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        if !sure.is_empty() {
            failed += 1;
            cx.fail(account_resource(email), format!("{email} holds {roles_text} on {}, and {} principal(s) that do not can act as it: {}", p.project_id, sure.len(), sure.join("; ")))
                .with("principals", sure.len() as i64);
        } else if !maybe.is_empty() || !gaps.is_empty() {
            undecided += 1;
            let mut why = maybe;
            why.extend(gaps.iter().map(|(g, _)| format!("unknown: {g}")));
            let f = cx.not_evaluated(account_resource(email), format!("{email} holds {roles_text} on {}; who else can act as it is undecided: {}", p.project_id, why.join("; ")));
            if let Some(m) = gaps.iter().find_map(|(_, m)| m.as_ref()) {
                let permission = match &m.state {
                    crate::inventory::CoverageState::Denied { action, .. } => Some(action.clone()),
                    _ => None,
                };
                f.with("dataset", m.dataset.to_string()).with("coverage", m.state.label()).with("missing_permission", permission);
            }
        } else {
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
        let project_role = "projects/prod/roles/release";
        let org_role = "organizations/1/roles/responder";
        // A project role: any role administrator over the project.
        for m in ["user:o@example.com", "user:r@example.com", "user:p@example.com"] {
            assert!(role_admin(&levels, m, project_role, "prod").is_some(), "{m}");
        }
        // Another project's role, or a conditional grant: no.
        assert!(role_admin(&levels, "user:p@example.com", "projects/other/roles/release", "prod").is_none());
        assert!(role_admin(&levels, "user:c@example.com", project_role, "prod").is_none());
        // An organization role: the organization's role administrators only.
        assert!(role_admin(&levels, "user:o@example.com", org_role, "prod").is_some());
        assert!(role_admin(&levels, "user:r@example.com", org_role, "prod").is_some());
        assert!(role_admin(&levels, "user:p@example.com", org_role, "prod").is_none());
    }
}
