//! No principal that is not an owner of a project can make itself one, or take a privileged
//! role it does not hold: by setting the project's allow policy, or by acting as a service account
//! that holds the role, directly or through a chain of service accounts (token creator, key
//! admin, service account admin, workload identity user, or service account user with a role that
//! runs code as it), or by creating what runs as a Google-managed account by default (a build as
//! the legacy Cloud Build account, a Deployment Manager deployment as the Google APIs service agent).
//!
//! Editors act as every service account below their grant and create what runs code, so an
//! editor reaches them all. A custom role whose administrator (`roles/iam.roleAdmin`,
//! `roles/iam.organizationRoleAdmin`) holds it can be rewritten to set the allow policy.
//!
//! Grants on the project, its folders and organization count, and so do grants on each service
//! account itself. A custom role counts by the permissions its definition grants (none while it is
//! deleted or disabled): `resourcemanager.*.setIamPolicy`, the token permissions
//! (`getAccessToken`, `signJwt`, `signBlob`, key creation, the account's `setIamPolicy`),
//! `actAs` with a permission that creates something running code, and `iam.roles.update` (it
//! rewrites roles, like `roles/iam.roleAdmin`). A custom role whose definition was not read, a
//! conditional grant on the way, or a service account whose own policy was not read, leaves the
//! principals that depend on it not evaluated.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::gcp::{CustomRole, GcpInventory, GcpProject, IamBinding, IamPolicy, ServiceAccount};
use crate::inventory::{Collected, Dataset, Missing};

use super::{privileged_role, project_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy, Dataset::GcpServiceAccounts, Dataset::GcpCustomRoles];
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

/// Permissions (in a custom role) that get a token for a service account, or give their holder
/// a role that does: what each lets it do.
const TOKEN_PERMISSIONS: &[(&str, &str)] = &[
    ("iam.serviceAccounts.getAccessToken", "get tokens for {sa}"),
    ("iam.serviceAccounts.signJwt", "sign a token request as {sa}"),
    ("iam.serviceAccounts.signBlob", "sign a token request as {sa}"),
    ("iam.serviceAccountKeys.create", "create a key for {sa}"),
    ("iam.serviceAccounts.setIamPolicy", "grant itself the token creator role on {sa}"),
];

/// Permissions (in a custom role) that create or change something that runs code as the service
/// account attached to it (with `iam.serviceAccounts.actAs`), or that calls Google APIs with its
/// token (a scheduler job, a task, a workflow).
const RUNS_CODE_PERMISSIONS: &[&str] = &[
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
];

/// Google-managed accounts that run what a project's members create, with no `actAs` asked: the
/// legacy Cloud Build account (`<number>@cloudbuild.gserviceaccount.com`) runs builds by default,
/// and the Google APIs service agent (`<number>@cloudservices.gserviceaccount.com`, Editor by
/// default) runs Deployment Manager deployments. Its domain, the permission, the predefined roles
/// that hold it, and the step in the finding's words.
const RUNS_BY_DEFAULT: &[(&str, &str, &[&str], &str)] = &[
    (
        "cloudbuild.gserviceaccount.com",
        "cloudbuild.builds.create",
        &["roles/owner", "roles/editor", "roles/cloudbuild.builds.editor", "roles/cloudbuild.builds.builder"],
        "create a build, which runs as {sa} by default",
    ),
    (
        "cloudservices.gserviceaccount.com",
        "deploymentmanager.deployments.create",
        &["roles/owner", "roles/editor", "roles/deploymentmanager.editor"],
        "create a Deployment Manager deployment, which runs as {sa}",
    ),
];

/// What the check knows of a role's grants.
enum Known<'a> {
    /// A predefined role: known by its name.
    Predefined,
    /// A custom role: the permissions its definition grants today.
    Custom(&'a [String]),
    /// A custom role whose definition was not read.
    Unknown(Missing),
}

/// Every custom role definition read, by name: looked up for each binding the search meets.
struct Defs<'a> {
    inv: &'a GcpInventory,
    by_name: HashMap<&'a str, &'a CustomRole>,
}

impl<'a> Defs<'a> {
    fn new(inv: &'a GcpInventory) -> Self {
        let read = inv.projects.iter().filter_map(|p| p.custom_roles.get()).chain(inv.nodes.iter().filter_map(|n| n.custom_roles.get()));
        Defs { inv, by_name: read.flatten().map(|r| (r.name.as_str(), r)).collect() }
    }

    fn known(&self, role: &str) -> Known<'a> {
        if !custom_role(role) {
            return Known::Predefined;
        }
        match self.by_name.get(role) {
            Some(r) => Known::Custom(r.effective_permissions()),
            // Not read: the inventory says why (which project or organization, which permission).
            None => match self.inv.custom_role(role) {
                Ok(r) => Known::Custom(r.effective_permissions()),
                Err(m) => Known::Unknown(m),
            },
        }
    }
}

fn grants(perms: &[String], permission: &str) -> bool {
    perms.iter().any(|p| p == permission)
}

/// The permission of a custom role bound at `levels[at]` that sets the allow policy of the
/// project `levels[0]` (directly, or through a folder or the organization above it).
fn sets_policy_permission(perms: &[String], levels: &[(&str, &IamPolicy)], at: usize) -> Option<&'static str> {
    let below = &levels[..=at.min(levels.len().saturating_sub(1))];
    let mut wanted = vec!["resourcemanager.projects.setIamPolicy"];
    if below.iter().any(|(l, _)| l.starts_with("folders/")) {
        wanted.push("resourcemanager.folders.setIamPolicy");
    }
    if below.iter().any(|(l, _)| l.starts_with("organizations/")) {
        wanted.push("resourcemanager.organizations.setIamPolicy");
    }
    wanted.into_iter().find(|w| grants(perms, w))
}

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
    defs: Defs<'a>,
    /// Members that hold a role that runs code, and members that may (a conditional grant, or a
    /// custom role whose definition was not read), anywhere.
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
        let defs = Defs::new(inv);
        let policies = inv.projects.iter().filter_map(|p| p.iam_policy.get()).chain(inv.nodes.iter().filter_map(|n| n.iam_policy.get()));
        for pol in policies {
            for b in &pol.bindings {
                let runs = match defs.known(&b.role) {
                    Known::Predefined => Some(RUNS_CODE.contains(&b.role.as_str())),
                    Known::Custom(perms) => Some(perms.iter().any(|p| RUNS_CODE_PERMISSIONS.contains(&p.as_str()))),
                    Known::Unknown(_) => None,
                };
                match runs {
                    Some(true) if b.condition_expression.is_none() => runs_code.extend(b.members.iter().map(String::as_str)),
                    Some(true) | None => maybe_runs_code.extend(b.members.iter().map(String::as_str)),
                    Some(false) => {}
                }
                let enables = match defs.known(&b.role) {
                    Known::Predefined => matches!(b.role.as_str(), "roles/owner" | "roles/editor" | "roles/iam.serviceAccountAdmin"),
                    Known::Custom(perms) => grants(perms, "iam.serviceAccounts.enable"),
                    Known::Unknown(_) => true,
                };
                if enables {
                    may_enable.extend(b.members.iter().map(String::as_str));
                }
            }
        }
        World { inv, defs, runs_code, maybe_runs_code, may_enable }
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
                let enabled_here = !disabled || matches!(b.role.as_str(), "roles/owner" | "roles/iam.serviceAccountAdmin");
                self.token_steps(&b.members, format!("{} on {at}: {what}", b.role), enabled_here, &cond, out);
            } else if b.role == "roles/editor" && !on_account {
                // Editor holds iam.serviceAccounts.actAs on every account below the grant, and
                // creates what runs code (a VM, a function) as one.
                for m in live(&b.members) {
                    let undecided = cond.clone().or_else(|| disabled.then(|| "{sa} is disabled, and whether the editor role may enable it is not decided".to_string()));
                    out.push(Edge { member: m.clone(), how: format!("{} on {at}: run code as {{sa}} (the role acts as service accounts and creates VMs and functions)", b.role), undecided });
                }
            } else if custom_role(&b.role) {
                match self.defs.known(&b.role) {
                    Known::Custom(perms) => {
                        let token = TOKEN_PERMISSIONS.iter().find(|(p, _)| grants(perms, p));
                        // A disabled account gives no tokens until its holder may enable it.
                        let usable = !disabled || grants(perms, "iam.serviceAccounts.enable");
                        if let Some((p, what)) = token {
                            self.token_steps(&b.members, format!("{} on {at} (it grants {p}): {what}", b.role), usable, &cond, out);
                        } else if grants(perms, "iam.serviceAccounts.implicitDelegation") && usable {
                            for m in live(&b.members) {
                                out.push(Edge {
                                    member: m.clone(),
                                    how: format!("{} on {at} (it grants iam.serviceAccounts.implicitDelegation)", b.role),
                                    undecided: Some(cond.clone().unwrap_or_else(|| "delegation through {sa} reaches what {sa} can act as, not {sa}'s own roles; the check does not follow it".to_string())),
                                });
                            }
                        } else if grants(perms, "iam.serviceAccounts.actAs") && !disabled {
                            let how = format!("{} on {at} (it grants iam.serviceAccounts.actAs): attach {{sa}} to what it creates", b.role);
                            self.attach(&b.members, &how, &cond, out);
                        }
                    }
                    Known::Unknown(missing) => {
                        for m in live(&b.members) {
                            out.push(Edge {
                                member: m.clone(),
                                how: format!("{} on {at}", b.role),
                                undecided: Some(cond.clone().unwrap_or_else(|| format!("{} is a custom role whose permissions are unknown ({missing}); it may act as {{sa}} or get tokens for it", b.role))),
                            });
                        }
                    }
                    Known::Predefined => {}
                }
            } else if (b.role == "roles/iam.serviceAccountUser" || b.role == "roles/editor") && !disabled {
                let how = format!("{} on {at}: attach {{sa}} to what it creates", b.role);
                self.attach(&b.members, &how, &cond, out);
            }
        }
    }

    /// Everyone who can create what runs as a Google-managed account of project number `number`.
    #[allow(clippy::too_many_arguments)]
    fn runs_by_default(&self, email: &str, number: &str, permission: &str, roles: &[&str], what: &str, out: &mut Vec<Edge>, gaps: &mut Vec<Gap>) {
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
                let (how, undecided) = match self.defs.known(&b.role) {
                    Known::Predefined if roles.contains(&b.role.as_str()) => (format!("{} on {at}: {what}", b.role), cond),
                    Known::Custom(perms) if grants(perms, permission) => (format!("{} on {at} (it grants {permission}): {what}", b.role), cond),
                    Known::Unknown(m) => (
                        format!("{} on {at}", b.role),
                        Some(cond.unwrap_or_else(|| format!("{} is a custom role whose permissions are unknown ({m}); it may include {permission}", b.role))),
                    ),
                    _ => continue,
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
        if let Some((local, domain)) = email.rsplit_once('@') {
            if let Some((_, permission, roles, what)) = RUNS_BY_DEFAULT.iter().find(|(d, ..)| domain.eq_ignore_ascii_case(d)) {
                self.runs_by_default(email, local, permission, roles, what, &mut out, &mut gaps);
                return (out, gaps);
            }
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
/// the organization for an organization role. A custom role that grants `iam.roles.update`
/// counts as `roles/iam.roleAdmin` where it is bound.
fn role_admin(defs: &Defs, levels: &[(&str, &IamPolicy)], member: &str, custom: &str, project_id: &str) -> Option<String> {
    let org_role = custom.strip_prefix("organizations/").and_then(|r| r.split_once("/roles/")).map(|(org, _)| format!("organizations/{org}"));
    let project_role = custom.strip_prefix("projects/").and_then(|r| r.split_once("/roles/")).is_some_and(|(id, _)| id == project_id);
    levels.iter().find_map(|(level, pol)| {
        pol.bindings.iter().filter(|b| b.condition_expression.is_none() && b.members.iter().any(|m| m == member)).find_map(|b| {
            let covers = match b.role.as_str() {
                "roles/iam.organizationRoleAdmin" => project_role || org_role.is_some(),
                "roles/iam.roleAdmin" => project_role || org_role.as_deref() == Some(*level),
                r if custom_role(r) => {
                    matches!(defs.known(r), Known::Custom(p) if grants(p, "iam.roles.update")) && (project_role || org_role.as_deref() == Some(*level))
                }
                _ => false,
            };
            let via = if custom_role(&b.role) { " (it grants iam.roles.update)" } else { "" };
            covers.then(|| format!("{}{via} on {level}", b.role))
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
    // Owners, and the organization's administrators (who set every project's policy by design).
    let is_owner = |m: &str| roles.get(m).is_some_and(|r| r.contains("roles/owner") || r.contains("roles/resourcemanager.organizationAdmin"));
    let at = |level: &str| if level == p.name { String::new() } else { format!(" (inherited from {level})") };

    // Principals that can set the project's allow policy.
    let mut setters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut undecided_setters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // The first custom role definition missing on the way, for the findings' coverage fields.
    let mut setter_gap: Option<Missing> = None;
    // Service accounts that hold a privileged role here, with the roles.
    let mut targets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, (level, pol)) in levels.iter().enumerate() {
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
                let role = world.defs.known(&b.role);
                for m in live(&b.members).filter(|m| !is_owner(m)) {
                    let what = format!("{}{}", b.role, at(level));
                    let cond = b.condition_expression.as_ref().map(|c| format!(" with the condition `{c}`")).unwrap_or_default();
                    let admin = role_admin(&world.defs, &levels, m, &b.role, &p.project_id);
                    let sets = match &role {
                        Known::Custom(perms) => sets_policy_permission(perms, &levels, i),
                        _ => None,
                    };
                    let line = match (&admin, sets, &role) {
                        (_, Some(perm), _) => format!("custom role {what}, which grants {perm}"),
                        (Some(admin), None, _) => format!("custom role {what} and {admin}: it can add resourcemanager.projects.setIamPolicy to that role"),
                        (None, None, Known::Unknown(missing)) => {
                            setter_gap.get_or_insert_with(|| missing.clone());
                            format!("custom role {what}{cond}, whose permissions are unknown (it may include resourcemanager.projects.setIamPolicy): {missing}")
                        }
                        (None, None, _) => continue,
                    };
                    match (&b.condition_expression, &role) {
                        (None, Known::Custom(_)) => setters.entry(m).or_default().push(line),
                        (None, _) if admin.is_some() => setters.entry(m).or_default().push(line),
                        (Some(_), _) if admin.is_some() || !matches!(role, Known::Unknown(_)) => undecided_setters.entry(m).or_default().push(format!("{line}{cond}")),
                        _ => undecided_setters.entry(m).or_default().push(line),
                    }
                }
                // A service account that can set the policy is a privileged target too.
                if let Known::Custom(perms) = &role {
                    if let Some(perm) = sets_policy_permission(perms, &levels, i) {
                        for m in &b.members {
                            if let Some(email) = m.strip_prefix("serviceAccount:") {
                                targets.entry(email.to_ascii_lowercase()).or_default().insert(format!("{} (it grants {perm})", b.role));
                            }
                        }
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
        let f = cx.not_evaluated(project_resource(p), format!("{}: {m} may be able to set the project's allow policy: it holds {}", p.project_id, how.join(", ")));
        if let Some(m) = &setter_gap {
            let permission = match &m.state {
                crate::inventory::CoverageState::Denied { action, .. } => Some(action.clone()),
                _ => None,
            };
            f.with("dataset", m.dataset.to_string()).with("coverage", m.state.label()).with("missing_permission", permission);
        }
    }

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
        let inv = GcpInventory::default();
        let project_role = "projects/prod/roles/release";
        let org_role = "organizations/1/roles/responder";
        // A project role: any role administrator over the project.
        for m in ["user:o@example.com", "user:r@example.com", "user:p@example.com"] {
            assert!(role_admin(&Defs::new(&inv), &levels, m, project_role, "prod").is_some(), "{m}");
        }
        // Another project's role, or a conditional grant: no.
        assert!(role_admin(&Defs::new(&inv), &levels, "user:p@example.com", "projects/other/roles/release", "prod").is_none());
        assert!(role_admin(&Defs::new(&inv), &levels, "user:c@example.com", project_role, "prod").is_none());
        // An organization role: the organization's role administrators only.
        assert!(role_admin(&Defs::new(&inv), &levels, "user:o@example.com", org_role, "prod").is_some());
        assert!(role_admin(&Defs::new(&inv), &levels, "user:r@example.com", org_role, "prod").is_some());
        assert!(role_admin(&Defs::new(&inv), &levels, "user:p@example.com", org_role, "prod").is_none());
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
        let admin = role_admin(&Defs::new(&inv), &levels, "user:u@example.com", "projects/prod/roles/release", "prod");
        assert!(admin.is_some_and(|a| a.contains("iam.roles.update")));
        assert!(role_admin(&Defs::new(&inv), &levels, "user:v@example.com", "projects/prod/roles/release", "prod").is_none());
        // Bound on the project, it does not reach the organization's roles.
        assert!(role_admin(&Defs::new(&inv), &levels, "user:u@example.com", "organizations/1/roles/responder", "prod").is_none());
    }

    #[test]
    fn a_folder_policy_permission_counts_only_where_a_folder_is_above_the_project() {
        let empty = IamPolicy::default();
        let perms = vec!["resourcemanager.folders.setIamPolicy".to_string()];
        let under_folder: Vec<(&str, &IamPolicy)> = vec![("projects/1", &empty), ("folders/2", &empty), ("organizations/3", &empty)];
        let under_org: Vec<(&str, &IamPolicy)> = vec![("projects/1", &empty), ("organizations/3", &empty)];
        assert_eq!(sets_policy_permission(&perms, &under_folder, 2), Some("resourcemanager.folders.setIamPolicy"));
        assert_eq!(sets_policy_permission(&perms, &under_folder, 1), Some("resourcemanager.folders.setIamPolicy"));
        assert_eq!(sets_policy_permission(&perms, &under_folder, 0), None);
        assert_eq!(sets_policy_permission(&perms, &under_org, 1), None);
        let org = vec!["resourcemanager.organizations.setIamPolicy".to_string()];
        assert_eq!(sets_policy_permission(&org, &under_org, 1), Some("resourcemanager.organizations.setIamPolicy"));
        assert_eq!(sets_policy_permission(&org, &under_folder, 1), None);
    }

    #[test]
    fn a_deleted_or_disabled_custom_role_grants_nothing_and_an_unread_one_is_unknown() {
        let mut deleted = role("projects/prod/roles/gone", &["resourcemanager.projects.setIamPolicy"]);
        deleted.deleted = true;
        let mut disabled = role("projects/prod/roles/off", &["resourcemanager.projects.setIamPolicy"]);
        disabled.stage = Some("DISABLED".into());
        let inv = with_roles(vec![deleted, disabled, role("projects/prod/roles/on", &["resourcemanager.projects.setIamPolicy"])]);
        assert!(matches!(Defs::new(&inv).known("projects/prod/roles/gone"), Known::Custom(p) if p.is_empty()));
        assert!(matches!(Defs::new(&inv).known("projects/prod/roles/off"), Known::Custom(p) if p.is_empty()));
        assert!(matches!(Defs::new(&inv).known("projects/prod/roles/on"), Known::Custom(p) if p.len() == 1));
        // Not among those read, defined in a project not read, or never read: unknown, and why.
        for (r, says) in [("projects/prod/roles/other", "not among"), ("projects/elsewhere/roles/x", "did not read"), ("organizations/1/roles/x", "did not read")] {
            match Defs::new(&inv).known(r) {
                Known::Unknown(m) => assert!(m.to_string().contains(says), "{r}: {m}"),
                _ => panic!("{r} should be unknown"),
            }
        }
        let mut unread = with_roles(vec![]);
        unread.projects[0].custom_roles = Collected::Denied { action: "iam.roles.list".into(), message: None };
        match Defs::new(&unread).known("projects/prod/roles/on") {
            Known::Unknown(m) => assert!(m.to_string().contains("iam.roles.list"), "{m}"),
            _ => panic!("unread roles are unknown"),
        }
    }
}
