//! GCP checklist items, judged over the incident's projects.
//!
//! - **Containment** of a compromised service account: disabled, or no user-managed key that can
//!   sign, AND nobody outside `[response] team` can get it back: mint tokens or keys for it,
//!   delegate through it, act as it (attach it to code), create an HMAC key for it, enable it again,
//!   or set an allow policy that grants any of these. The bindings searched are the account's own
//!   policy and the effective policies of its project, folders and organization; what a role lets
//!   its holder do is asked of the GCP privilege model (`crate::reach::gcp`), never read from its
//!   name. A deleted account is contained while nobody outside the team can undelete it.
//! - **Containment** of a compromised user or group: no binding in scope grants it anything,
//!   directly, as a principal identifier, through a `domain:` or its customer, on the projects,
//!   their folders and organization, or the service accounts in them.
//! - **Persistence**: user-managed keys created inside the window; grants on service accounts that
//!   let a compromised principal, the public or a member outside the organization act as them.
//! - **Recovery**: keys not rotated since containment; a restored service account's keys all
//!   newer than containment; a restored user or group, whose Workspace state cannot be seen.
//! - **Scope**: every project in `[scope] gcp_projects`, its IAM policy and service accounts read.

use std::collections::BTreeMap;

use serde_json::json;

use super::incident::{IncidentFile, Principal};
use super::{Item, Part};
use crate::finding::Status;
use crate::inventory::gcp::{GcpInventory, GcpProject, IamPolicy, ServiceAccount, ServiceAccountKey};
use crate::inventory::{Dataset, Inventory, Timestamp};
use crate::reach::gcp::{self as privilege, Model, Powers};
use crate::reach::gcp_member::{is_public, Inside, Insiders};
use crate::settings::Trusted;

/// What a verify with GCP principals or projects reads: the hierarchy and every allow policy on
/// it, the service accounts with their keys and own policies, and the role definitions that say
/// what each binding grants.
pub const DATASETS: &[Dataset] = &[Dataset::GcpHierarchy, Dataset::GcpIamPolicy, Dataset::GcpServiceAccounts, Dataset::GcpCustomRoles, Dataset::GcpPredefinedRoles];

/// Restores a deleted service account (within 30 days), its role bindings with it.
const UNDELETE: &str = "iam.serviceAccounts.undelete";

/// A user-managed key that can still sign (Google's own keys cannot be disabled or leaked).
fn usable(k: &ServiceAccountKey, now: Timestamp) -> bool {
    k.key_type.eq_ignore_ascii_case("USER_MANAGED") && !k.disabled && k.valid_before.is_none_or(|t| t > now)
}

fn key_json(sa: &ServiceAccount, k: &ServiceAccountKey) -> serde_json::Value {
    json!({"service_account": sa.email, "key": k.name.rsplit('/').next().unwrap_or(&k.name), "valid_after": k.valid_after, "origin": k.key_origin})
}

fn item(part: Part, status: Status, kind: &'static str, principal: Option<&str>, resource: Option<&str>, message: String, evidence: serde_json::Value) -> Item {
    Item { part, status, kind, principal: principal.map(str::to_string), resource: resource.map(str::to_string), message, evidence }
}

/// A member as the one it names: `deleted:` and the `?uid=` suffix removed, lower-cased (GCP
/// compares member e-mails ignoring case). A deleted member is the member it was: restored, it
/// holds its grants again.
/// A Google account named by its principal identifier (`principal://goog/subject/EMAIL`,
/// `principalSet://goog/group/EMAIL`) is that `user:` or `group:`.
fn undeleted(member: &str) -> String {
    let m = member.trim();
    let m = if m.len() > 8 && m[..8].eq_ignore_ascii_case("deleted:") { &m[8..] } else { m };
    let m = m.split('?').next().unwrap_or(m).trim().to_ascii_lowercase();
    if let Some(email) = m.strip_prefix("principal://goog/subject/") {
        format!("user:{email}")
    } else if let Some(email) = m.strip_prefix("principalset://goog/group/") {
        format!("group:{email}")
    } else {
        m
    }
}

fn is_deleted_form(member: &str) -> bool {
    let m = member.trim();
    m.len() > 8 && m[..8].eq_ignore_ascii_case("deleted:")
}

/// The state of the service account a grant is judged against.
#[derive(Clone, Copy)]
struct Target<'a> {
    email: &'a str,
    disabled: bool,
    deleted: bool,
    /// It has a user-managed key that is disabled but not expired: enabled again, it signs.
    disabled_keys: bool,
    /// When it is judged: a binding whose condition has lapsed grants nothing.
    now: Timestamp,
}

/// A binding whose condition can never hold again: a conjunction one of whose terms is
/// `request.time < timestamp("T")` (or `<=`) with `T` already past. Anything else (a
/// disjunction, a negation, a choice, another quoting, a time to come) may still hold.
fn lapsed(condition: Option<&str>, now: Timestamp) -> bool {
    let Some(c) = condition else { return false };
    let c: String = c.chars().filter(|ch| !ch.is_whitespace()).collect();
    if ["||", "!", "?", "'", "\\", "`"].iter().any(|x| c.contains(x)) {
        return false;
    }
    let terms: Vec<&str> = c.split("&&").collect();
    if terms.iter().any(|t| t.matches('"').count() % 2 != 0) {
        return false;
    }
    terms.iter().any(|t| {
        let t = t.trim_start_matches('(');
        let Some(rest) = t.strip_prefix("request.time<timestamp(\"").or_else(|| t.strip_prefix("request.time<=timestamp(\"")) else { return false };
        let Some((time, tail)) = rest.split_once("\")") else { return false };
        tail.chars().all(|ch| ch == ')') && Timestamp::parse(time).is_ok_and(|t| t < now)
    })
}

/// Enables a disabled key again: whoever holds its private half (the attacker's, when the key
/// was theirs) signs as the account once more.
const KEYS_ENABLE: &str = "iam.serviceAccountKeys.enable";

fn has_disabled_keys(sa: &ServiceAccount, now: Timestamp) -> bool {
    sa.keys.iter().any(|k| k.key_type.eq_ignore_ascii_case("USER_MANAGED") && k.disabled && k.valid_before.is_none_or(|t| t > now))
}

/// One binding that lets its member get a service account back, or whose role is unknown.
struct Grant<'a> {
    member: &'a str,
    role: &'a str,
    resource: String,
    condition: Option<&'a str>,
    /// The permission and what it lets the member do; `Err`: the role's permissions, unknown.
    power: Result<(&'static str, String), String>,
}

impl Grant<'_> {
    fn describe(&self) -> String {
        let cond = self.condition.map(|c| format!(" (condition: {c})")).unwrap_or_default();
        match &self.power {
            Ok((perm, what)) => format!("{} holds {} on {}{cond}: it can {what} ({perm})", self.member, self.role, self.resource),
            Err(missing) => format!("{} holds {} on {}{cond}, not evaluated: {missing}", self.member, self.role, self.resource),
        }
    }

    fn json(&self, why: Option<&str>) -> serde_json::Value {
        let mut v = json!({"member": self.member, "role": self.role, "resource": self.resource, "condition": self.condition});
        match &self.power {
            Ok((perm, what)) => {
                v["permission"] = json!(perm);
                v["can"] = json!(what);
            }
            Err(m) => v["role_unknown"] = json!(m),
        }
        if let Some(w) = why {
            v["why"] = json!(w);
        }
        v
    }
}

/// What `p`, granted on a level covering `t`, lets its holder do to get `t` back: the first of
/// tokens or keys, identity tokens, delegation, acting as it (with or without a permission that
/// runs code in the same role: one held elsewhere, or through a group, completes it), an HMAC key,
/// what a Google-managed account runs, enabling it when disabled, undeleting it when deleted, or
/// setting the allow policy of the level (`project_levels[at]`) that grants any of these.
fn power(p: &Powers, t: Target, project_levels: &[(&str, &IamPolicy)], at: Option<usize>, custom: &[(&str, String)]) -> Option<(&'static str, String)> {
    let sa = t.email;
    let sets = at.and_then(|i| p.sets_policy(project_levels, i).map(|perm| (perm, format!("grant itself any role on {sa} (it sets the allow policy of {}, granted on {})", project_levels[0].0, project_levels[i].0))));
    // A custom role bound over the account (enabled or not, deleted or not) that this grant can
    // rewrite: its holders get whatever permission it is rewritten to carry.
    let rewrites = at.filter(|_| p.rewrites_roles()).and_then(|i| {
        let level = project_levels[i].0;
        custom.iter().find(|(role, _)| role.starts_with("projects/") || (level.starts_with("organizations/") && role.starts_with(&format!("{level}/roles/")))).map(|(role, held)| {
            (privilege::ROLES_UPDATE, format!("rewrite the custom role {role}, bound {held}, to carry a token permission for {sa} (granted on {level})"))
        })
    });
    let sets = sets.or(rewrites);
    if t.deleted {
        // A deleted account gives nothing until it is undeleted; whoever undeletes it gets it back.
        return p.grants(UNDELETE).then(|| (UNDELETE, format!("undelete {sa}, with its role bindings"))).or(sets);
    }
    if let Some((perm, words)) = p.token() {
        return Some((perm, words.replace("{sa}", sa)));
    }
    if p.open_id_token() {
        return Some((privilege::OPEN_ID_TOKEN, format!("get identity tokens as {sa}")));
    }
    if p.implicit_delegation() {
        return Some((privilege::IMPLICIT_DELEGATION, format!("get tokens through {sa} for the accounts it can act as")));
    }
    if let Some(rc) = p.acts_as_running_code() {
        return Some((privilege::ACT_AS, format!("attach {sa} to code it runs (with {rc})")));
    }
    if p.acts_as() {
        return Some((privilege::ACT_AS, format!("act as {sa}: with a permission that runs code, held anywhere (or through a group, which is not expanded), it attaches {sa} to that code")));
    }
    if p.grants(privilege::HMAC_KEY_CREATE) {
        return Some((privilege::HMAC_KEY_CREATE, format!("create an HMAC key for {sa} (Cloud Storage requests as it)")));
    }
    if let Some((perm, words)) = privilege::runs_as_google_managed(sa) {
        if p.grants(perm) {
            return Some((perm, words.replace("{sa}", sa)));
        }
    }
    if t.disabled_keys && !t.disabled && p.grants(KEYS_ENABLE) {
        return Some((KEYS_ENABLE, format!("enable a disabled key of {sa} again, which signs as it for whoever holds the key")));
    }
    if t.disabled && p.enables_accounts() {
        return Some((privilege::ENABLE, format!("enable {sa} again (a disable is undone by it)")));
    }
    sets
}

/// Every binding over the service account `t`: its own policy (`own`: its resource name and policy), then its
/// project's effective levels. Only grants that get it back, or whose role is unknown.
fn grants_over<'a>(model: &Model<'a>, t: Target, own: Option<(&str, &'a IamPolicy)>, project_levels: &[(&'a str, &'a IamPolicy)]) -> Vec<Grant<'a>> {
    let mut out = Vec::new();
    let levels: Vec<(String, &IamPolicy, Option<usize>)> = own.map(|(n, p)| (n.to_string(), p, None)).into_iter().chain(project_levels.iter().enumerate().map(|(i, (n, p))| (n.to_string(), *p, Some(i)))).collect();
    // The custom roles bound over the account, and to whom where.
    let custom: Vec<(&str, String)> = levels
        .iter()
        .flat_map(|(resource, policy, _)| policy.bindings.iter().filter(|b| privilege::is_custom(&b.role)).map(move |b| (b.role.as_str(), format!("to {} on {resource}", b.members.join(", ")))))
        .collect();
    for (resource, policy, at) in &levels {
        for b in policy.bindings.iter().filter(|b| !lapsed(b.condition_expression.as_deref(), t.now)) {
            let power = match model.permissions(&b.role) {
                Ok(p) => match power(&p, t, project_levels, *at, &custom) {
                    Some(x) => Ok(x),
                    None => continue,
                },
                Err(m) => Err(m.to_string()),
            };
            for m in &b.members {
                out.push(Grant { member: m.as_str(), role: b.role.as_str(), resource: resource.clone(), condition: b.condition_expression.as_deref(), power: power.clone() });
            }
        }
    }
    out
}

/// A Google-managed account of a project this scan read, which nobody signs in as.
enum Managed {
    No,
    /// A service agent (`service-NUMBER@…`): it acts for resources whose creators need `actAs` on
    /// the account they run as, and those creators' grants are judged as theirs.
    Agent,
    /// An account that runs what members of its project create with no `actAs` asked (the
    /// Google APIs service agent, the legacy Cloud Build account): the permission that makes it
    /// act, and its project number.
    RunsFor(&'static str, &'static str, String),
}

fn managed(cx: &Ctx, member: &str) -> Managed {
    let m = member.trim();
    let Some(email) = m.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("serviceAccount")).map(|(_, e)| e.to_ascii_lowercase()) else { return Managed::No };
    if !cx.insiders.judge(m).is_inside() {
        // Another project's agent acts for whoever controls that project.
        return Managed::No;
    }
    let Some((local, domain)) = email.rsplit_once('@') else { return Managed::No };
    let agent_domain = domain.strip_suffix(".iam.gserviceaccount.com").is_some_and(|p| p.starts_with("gcp-sa-")) || crate::reach::gcp_member::SERVICE_AGENT_DOMAINS.contains(&domain);
    if local.starts_with("service-") && agent_domain {
        return Managed::Agent;
    }
    match privilege::runs_as_google_managed(&email) {
        Some((perm, words)) if !local.is_empty() && local.bytes().all(|b| b.is_ascii_digit()) => Managed::RunsFor(perm, words, local.to_string()),
        _ => Managed::No,
    }
}

/// Grants held by Google-managed accounts, replaced by who can make them act: a service agent's
/// are dropped (its users need `actAs`, judged as theirs); those of an account that runs what its
/// project's members create go to the holders of the permission that creates it there.
fn through_managed<'a>(cx: &Ctx<'a>, grants: Vec<Grant<'a>>) -> Vec<Grant<'a>> {
    let mut out = Vec::new();
    for g in grants {
        match (managed(cx, g.member), &g.power) {
            (Managed::No, _) => out.push(g),
            (Managed::Agent, _) => {}
            (Managed::RunsFor(..), Err(_)) => out.push(g),
            (Managed::RunsFor(trigger, words, number), Ok((agent_perm, what))) => {
                let name = format!("projects/{number}");
                let Some(project) = cx.inv.projects.iter().find(|p| p.name == name) else {
                    out.push(Grant { power: Err(format!("who can make {} act is unknown: project {name} was not read", g.member)), ..g });
                    continue;
                };
                let (levels, gap) = cx.inv.effective_iam_known(project);
                if let Some(m) = gap {
                    out.push(Grant { power: Err(format!("who can make {} act is unknown: {m}", g.member)), member: g.member, role: g.role, resource: g.resource.clone(), condition: g.condition });
                }
                for (resource, policy) in levels {
                    for b in &policy.bindings {
                        let grants = match cx.model.permissions(&b.role) {
                            Ok(p) => p.grants(trigger),
                            Err(_) => false,
                        };
                        if !grants {
                            continue;
                        }
                        for m in b.members.iter().filter(|m| matches!(managed(cx, m), Managed::No)) {
                            let agent = g.member.split_once(':').map_or(g.member, |(_, e)| e);
                            let via = format!("{}, which holds {} on {} and so can {what} ({agent_perm})", words.replace("{sa}", agent), g.role, g.resource);
                            out.push(Grant { member: m.as_str(), role: b.role.as_str(), resource: resource.to_string(), condition: b.condition_expression.as_deref(), power: Ok((trigger, via)) });
                        }
                    }
                }
            }
        }
    }
    out
}

fn sa_resource(sa: &ServiceAccount, project: &GcpProject) -> String {
    format!("projects/{}/serviceAccounts/{}", project.project_id, sa.email)
}

struct Ctx<'a> {
    inc: &'a IncidentFile,
    inv: &'a GcpInventory,
    model: Model<'a>,
    insiders: Insiders,
    /// The compromised members not restored, as [`undeleted`] spells them.
    compromised: Vec<String>,
    now: Timestamp,
}

impl Ctx<'_> {
    fn on_team(&self, member: &str) -> bool {
        let m = undeleted(member);
        if self.inc.response.includes(&m) {
            return true;
        }
        // A bare e-mail on the team (`admins@example.com`) names the Google account, group or
        // service account of that e-mail: GCP gives one e-mail to one of them only.
        let email = m.split_once(':').filter(|(k, _)| ["user", "group", "serviceaccount"].contains(k)).map_or("", |(_, e)| e);
        !email.is_empty() && self.inc.response.team.iter().any(|t| t.trim().eq_ignore_ascii_case(email))
    }

    /// The effective levels of the project a service account lives in, and the gap above them.
    fn project_levels<'p>(&'p self, p: &'p GcpProject) -> (Vec<(&'p str, &'p IamPolicy)>, Option<String>) {
        let (levels, gap) = self.inv.effective_iam_known(p);
        (levels, gap.map(|m| format!("{}: {m}", p.project_id)))
    }
}

/// Every GCP item of the incident.
pub fn items(inc: &IncidentFile, inv: &Inventory, now: Timestamp, trusted: &Trusted) -> Vec<Item> {
    let members: Vec<String> = inc.principals().into_iter().filter_map(|p| if let Principal::GcpMember(m) = p { Some(m) } else { None }).collect();
    if members.is_empty() && inc.scope.gcp_projects.is_empty() {
        return Vec::new();
    }
    let (start, contained) = (inc.incident.start(), inc.incident.contained());
    let mut out = Vec::new();
    // The projects in scope, as read (or an item saying which were not, or what of them).
    let mut projects: Vec<&GcpProject> = Vec::new();
    for id in &inc.scope.gcp_projects {
        match inv.gcp.projects.iter().find(|p| p.project_id.eq_ignore_ascii_case(id.trim())) {
            Some(p) => {
                let gaps: Vec<String> = [p.iam_policy.require(Dataset::GcpIamPolicy).err(), p.service_accounts.require(Dataset::GcpServiceAccounts).err()].into_iter().flatten().map(|m| m.to_string()).collect();
                if !gaps.is_empty() {
                    out.push(item(Part::Containment, Status::NotEvaluated, "gcp_project_read", None, Some(&p.project_id), format!("not evaluated: project {} was not read whole: {}", p.project_id, gaps.join("; ")), json!({"gaps": gaps})));
                }
                projects.push(p);
            }
            None => out.push(item(Part::Containment, Status::NotEvaluated, "gcp_project_read", None, Some(id), format!("not evaluated: project {id} was not read (verify with --gcp)"), json!({}))),
        }
    }
    let restored: Vec<(String, &str)> =
        inc.restored.iter().filter_map(|r| match Principal::parse(&r.principal) { Some(Principal::GcpMember(m)) => Some((undeleted(&m), r.reference.as_str())), _ => None }).collect();
    let cx = Ctx {
        inc,
        inv: &inv.gcp,
        model: Model::new(&inv.gcp),
        insiders: Insiders::from_settings(&inv.gcp, trusted),
        compromised: members.iter().map(|m| undeleted(m)).filter(|m| !restored.iter().any(|(r, _)| r == m)).collect(),
        now,
    };
    let mut compromised_sas = Vec::new();
    for m in &members {
        let reference = restored.iter().find(|(r, _)| *r == undeleted(m)).map(|(_, reference)| *reference);
        match m.split_once(':') {
            Some((kind, email)) if kind.eq_ignore_ascii_case("serviceAccount") => {
                compromised_sas.push(email.trim().to_ascii_lowercase());
                out.push(service_account(&cx, &projects, m, email.trim(), reference, contained));
            }
            _ => out.push(member_bindings(&cx, &projects, m, reference)),
        }
    }
    // Keys created inside the window, and keys older than containment.
    let mut window_keys = Vec::new();
    let mut stale = Vec::new();
    let mut unread = Vec::new();
    for p in &projects {
        let Some(sas) = p.service_accounts.get() else {
            unread.push(p.service_accounts.require(Dataset::GcpServiceAccounts).err().map(|m| format!("{}: {m}", p.project_id)).unwrap_or_default());
            continue;
        };
        for sa in sas {
            let compromised = compromised_sas.contains(&sa.email.to_ascii_lowercase());
            for k in sa.keys.iter().filter(|k| usable(k, now)) {
                if k.valid_after.is_some_and(|t| t >= start && t <= contained) {
                    window_keys.push(key_json(sa, k));
                }
                // A compromised account's keys are judged in containment (or as restored).
                if !compromised && k.valid_after.is_none_or(|t| t < contained) {
                    stale.push(key_json(sa, k));
                }
            }
        }
    }
    let scope = projects.iter().map(|p| p.project_id.as_str()).collect::<Vec<_>>().join(", ");
    // Keys found fail; otherwise unread projects leave it unknown; otherwise it passes.
    let judge = |keys: &[serde_json::Value], fail: &str, pass: &str| {
        if !keys.is_empty() {
            (Status::Fail, format!("{} service-account key(s) {fail}", keys.len()))
        } else if !unread.is_empty() {
            (Status::NotEvaluated, format!("not evaluated: service accounts not read in {}", unread.join("; ")))
        } else if projects.is_empty() {
            (Status::NotEvaluated, "not evaluated: no project in scope was read".to_string())
        } else {
            (Status::Pass, format!("projects {scope}: {pass}"))
        }
    };
    let (status, message) = judge(&window_keys, "created inside the window can still sign", "no service-account key created inside the window can sign");
    out.push(item(Part::Persistence, status, "gcp_window_keys_disabled", None, None, message, json!({"keys": window_keys})));
    out.push(service_account_grants(&cx, &projects));
    let (status, message) = judge(&stale, "issued before containment were not rotated", "every usable service-account key was issued after containment");
    out.push(item(Part::Recovery, status, "gcp_keys_rotated", None, None, message, json!({"not_rotated": stale})));
    out
}

/// The service accounts `email` can get tokens for, act as or otherwise become, in every project
/// read (for the evidence of an account that can still authenticate).
fn can_become(cx: &Ctx, email: &str) -> Vec<serde_json::Value> {
    let me = format!("serviceaccount:{}", email.to_ascii_lowercase());
    let mut out = Vec::new();
    for p in &cx.inv.projects {
        let Some(sas) = p.service_accounts.get() else { continue };
        let (levels, _) = cx.project_levels(p);
        for sa in sas.iter().filter(|s| !s.email.eq_ignore_ascii_case(email)) {
            let t = Target { email: &sa.email, disabled: sa.disabled, deleted: false, disabled_keys: has_disabled_keys(sa, cx.now), now: cx.now };
            let own = sa.iam_policy.get().map(|pol| (sa.email.as_str(), pol));
            for g in grants_over(&cx.model, t, own, &levels) {
                if let (true, Ok((perm, _))) = (undeleted(g.member) == me, &g.power) {
                    out.push(json!({"service_account": sa.email, "role": g.role, "resource": g.resource, "permission": perm}));
                }
            }
        }
    }
    out
}

fn service_account(cx: &Ctx, projects: &[&GcpProject], member: &str, email: &str, restored: Option<&str>, contained: Timestamp) -> Item {
    let now = cx.now;
    let inv = cx.inv;
    let me = format!("serviceaccount:{}", email.to_ascii_lowercase());
    let in_scope = |p: &GcpProject| projects.iter().any(|q| q.project_id == p.project_id);
    let outside_scope = |p: &GcpProject| if in_scope(p) { String::new() } else { format!(" (its project {} is not in [scope] gcp_projects; judged on what the scan read of it)", p.project_id) };
    // Whoever is not on the team and not the account itself.
    let counts = |g: &Grant| !cx.on_team(g.member) && undeleted(g.member) != me;
    let found = inv.projects.iter().find_map(|p| p.service_accounts.get().and_then(|l| l.iter().find(|s| s.email.eq_ignore_ascii_case(email))).map(|s| (p, s)));
    let Some((project, sa)) = found else {
        // name@PROJECT.iam.gserviceaccount.com lives in PROJECT: gone from a complete read of it.
        let home = email.split_once('@').and_then(|(_, d)| d.to_ascii_lowercase().strip_suffix(".iam.gserviceaccount.com").map(str::to_string));
        let home_read = home.as_deref().and_then(|h| inv.projects.iter().find(|p| p.project_id.eq_ignore_ascii_case(h))).filter(|p| p.service_accounts.get().is_some());
        let Some(p) = home_read else {
            return item(
                Part::Containment,
                Status::NotEvaluated,
                "gcp_service_account_locked",
                Some(member),
                home.as_deref(),
                format!("not evaluated: {email} is in no project read (its project must be in [scope] gcp_projects and readable)"),
                json!({}),
            );
        };
        // Deleted: contained while nobody outside the team can undelete it (30 days), which brings
        // its bindings back; the `deleted:` bindings it leaves are those.
        let (levels, gap) = cx.project_levels(p);
        let t = Target { email, disabled: true, deleted: true, disabled_keys: false, now: cx.now };
        let grants: Vec<Grant> = through_managed(cx, grants_over(&cx.model, t, None, &levels)).into_iter().filter(counts).collect();
        let left: Vec<serde_json::Value> = levels
            .iter()
            .flat_map(|(r, pol)| pol.bindings.iter().filter(|b| b.members.iter().any(|m| is_deleted_form(m) && undeleted(m) == me)).map(move |b| json!({"resource": r, "role": b.role})))
            .collect();
        let (holds, unknown): (Vec<&Grant>, Vec<&Grant>) = grants.iter().partition(|g| g.power.is_ok());
        let evidence = json!({"project": p.project_id, "can_restore": holds.iter().map(|g| g.json(None)).collect::<Vec<_>>(), "unknown_roles": unknown.iter().map(|g| g.json(None)).collect::<Vec<_>>(), "deleted_bindings": left});
        let scope_note = outside_scope(p);
        let (status, message) = if !holds.is_empty() {
            (Status::Fail, format!("{email} is deleted from project {}{scope_note}, but principals outside [response] team can restore it: {}", p.project_id, holds.iter().map(|g| g.describe()).collect::<Vec<_>>().join("; ")))
        } else if !unknown.is_empty() || gap.is_some() {
            let mut why: Vec<String> = unknown.iter().map(|g| g.describe()).collect();
            why.extend(gap);
            (Status::NotEvaluated, format!("not evaluated: {email} is deleted from project {}, but who can undelete it is unknown: {}", p.project_id, why.join("; ")))
        } else {
            (Status::Pass, format!("{email} no longer exists in project {}{scope_note} (deleted: it cannot sign in), and nobody outside [response] team can undelete it", p.project_id))
        };
        return item(Part::Containment, status, "gcp_service_account_deleted", Some(member), Some(&p.project_id), message, evidence);
    };
    let keys: Vec<serde_json::Value> = sa.keys.iter().filter(|k| usable(k, now)).map(|k| key_json(sa, k)).collect();
    if let Some(reference) = restored {
        let evidence = json!({"disabled": sa.disabled, "usable_keys": keys, "project": project.project_id});
        let old: Vec<&serde_json::Value> =
            keys.iter().filter(|k| k.get("valid_after").and_then(|t| t.as_str()).and_then(|t| Timestamp::parse(t).ok()).is_none_or(|t| t < contained)).collect();
        let (status, message) = if old.is_empty() {
            (Status::Pass, format!("{email} was restored after sign-off ({reference}); every usable key was created after containment"))
        } else {
            (Status::Fail, format!("{email} was restored after sign-off ({reference}) but {} usable key(s) date from before containment", old.len()))
        };
        return item(Part::Recovery, status, "gcp_service_account_restored_with_new_keys", Some(member), Some(&project.project_id), message, evidence);
    }
    // Who can get it back: its own policy, then its project, folders and organization.
    let (levels, gap) = cx.project_levels(project);
    let mut gaps: Vec<String> = gap.into_iter().collect();
    let own_name = sa_resource(sa, project);
    let own = match sa.iam_policy.require(Dataset::GcpServiceAccounts) {
        Ok(pol) => Some((own_name.as_str(), pol)),
        Err(m) => {
            gaps.push(format!("the IAM policy of {}: {m}", sa.email));
            None
        }
    };
    let t = Target { email: &sa.email, disabled: sa.disabled, deleted: false, disabled_keys: has_disabled_keys(sa, cx.now), now: cx.now };
    let grants: Vec<Grant> = through_managed(cx, grants_over(&cx.model, t, own, &levels)).into_iter().filter(counts).collect();
    let (holds, unknown): (Vec<&Grant>, Vec<&Grant>) = grants.iter().partition(|g| g.power.is_ok());
    let locked = sa.disabled || keys.is_empty();
    let becomes = if locked { Vec::new() } else { can_become(cx, &sa.email) };
    // Enabled without keys: code it could have started as itself inside the window still gets its
    // tokens (workloads are not read). It could, when it acts as itself and runs code.
    let self_code = if sa.disabled { None } else { runs_code_as_itself(cx, &me, own, &levels) };
    // Roles it holds whose permissions were not read: whether it can run code as itself is unknown.
    let self_unknown = if sa.disabled || self_code.is_some() { Vec::new() } else { own_roles_unknown(cx, &me, own, &levels) };
    let evidence = json!({
        "disabled": sa.disabled,
        "usable_keys": keys,
        "project": project.project_id,
        "outside_team": holds.iter().map(|g| g.json(None)).collect::<Vec<_>>(),
        "unknown_roles": unknown.iter().map(|g| g.json(None)).collect::<Vec<_>>(),
        "not_read": gaps,
        "can_become": becomes,
        "runs_code_as_itself": self_code,
        "own_roles_unknown": self_unknown,
    });
    let scope_note = outside_scope(project);
    let others = if holds.is_empty() { String::new() } else { format!("; principals outside [response] team can get it back: {}", holds.iter().map(|g| g.describe()).collect::<Vec<_>>().join("; ")) };
    let (status, message) = if !locked {
        let becomes = if becomes.is_empty() { String::new() } else { format!("; it can act as {} other service account(s) (see evidence)", becomes.len()) };
        (Status::Fail, format!("{email} is enabled and {} of its keys can still sign{scope_note}{becomes}{others}", keys.len()))
    } else if !holds.is_empty() {
        let state = if sa.disabled { "disabled" } else { "without a usable key" };
        (Status::Fail, format!("{email} is {state}{scope_note}, but principals outside [response] team can get it back: {}", holds.iter().map(|g| g.describe()).collect::<Vec<_>>().join("; ")))
    } else if !unknown.is_empty() || !gaps.is_empty() {
        let mut why: Vec<String> = unknown.iter().map(|g| g.describe()).collect();
        why.extend(gaps.iter().map(|g| format!("not read: {g}")));
        (Status::NotEvaluated, format!("not evaluated: {email} is {}, but whether someone outside [response] team can get it back is unknown: {}", if sa.disabled { "disabled" } else { "without a usable key" }, why.join("; ")))
    } else if let Some(how) = &self_code {
        (
            Status::NotEvaluated,
            format!("not evaluated: {email} has no usable key but is enabled, and it can run code as itself ({how}): what it started inside the window (VMs, functions, services, jobs) still gets its tokens, and workloads are not read; disable it"),
        )
    } else if !self_unknown.is_empty() {
        (
            Status::NotEvaluated,
            format!("not evaluated: {email} has no usable key but is enabled, and whether it can run code as itself (what it started inside the window still gets its tokens) is unknown: {}", self_unknown.join("; ")),
        )
    } else if sa.disabled {
        (Status::Pass, format!("{email} is disabled{scope_note}, and nobody outside [response] team can enable it, mint tokens or keys for it, or act as it"))
    } else {
        (Status::Pass, format!("{email} is not disabled, but none of its user-managed keys can sign (disabled, expired or deleted){scope_note}, and nobody outside [response] team can mint tokens or keys for it or act as it"))
    };
    item(Part::Containment, status, "gcp_service_account_locked", Some(member), Some(&project.project_id), message, evidence)
}

/// How the account `me` (`serviceaccount:<email>`, lower case) can start code that runs as
/// itself: a role granting it `actAs` on itself (its own policy or its project's levels) and a
/// role granting it a permission that runs code, on any level read. `None`: not both.
fn runs_code_as_itself(cx: &Ctx, me: &str, own: Option<(&str, &IamPolicy)>, levels: &[(&str, &IamPolicy)]) -> Option<String> {
    let held = |resource: &str, policy: &IamPolicy, want: &dyn Fn(&Powers) -> Option<&'static str>| {
        policy.bindings.iter().filter(|b| b.members.iter().any(|m| undeleted(m) == me)).find_map(|b| {
            let p = cx.model.permissions(&b.role).ok()?;
            want(&p).map(|perm| format!("{} on {resource} ({perm})", b.role))
        })
    };
    let act_as = |p: &Powers| p.acts_as().then_some(privilege::ACT_AS);
    let acts = own.iter().chain(levels.iter()).find_map(|(r, pol)| held(r, pol, &act_as))?;
    let runs = |p: &Powers| p.runs_code();
    let nodes = cx.inv.nodes.iter().filter_map(|n| n.iam_policy.get().map(|p| (n.name.as_str(), p)));
    let projects = cx.inv.projects.iter().filter_map(|p| p.iam_policy.get().map(|pol| (p.name.as_str(), pol)));
    let code = nodes.chain(projects).find_map(|(r, pol)| held(r, pol, &runs))?;
    Some(if acts == code { acts } else { format!("{acts}; {code}") })
}

/// The roles the account `me` holds (its own policy, its project's levels, every organization,
/// folder and project read) whose permissions are unknown, each with what to read.
fn own_roles_unknown(cx: &Ctx, me: &str, own: Option<(&str, &IamPolicy)>, levels: &[(&str, &IamPolicy)]) -> Vec<String> {
    let nodes = cx.inv.nodes.iter().filter_map(|n| n.iam_policy.get().map(|p| (n.name.as_str(), p)));
    let projects = cx.inv.projects.iter().filter_map(|p| p.iam_policy.get().map(|pol| (p.name.as_str(), pol)));
    let mut out: Vec<String> = Vec::new();
    for (resource, policy) in own.into_iter().chain(levels.iter().copied()).chain(nodes).chain(projects) {
        for b in policy.bindings.iter().filter(|b| b.members.iter().any(|m| undeleted(m) == me)) {
            if let Err(m) = cx.model.permissions(&b.role) {
                let line = format!("{} on {resource}: {m}", b.role);
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out
}

/// How a binding's member includes the compromised `user:`/`group:` member.
enum Includes {
    /// The member itself, in any spelling (case, `principal://goog/subject/`, `principalSet://goog/group/`).
    Itself,
    /// A `domain:` or the organization's customer that holds every user of it.
    Through,
    /// The organization's customer, for a user of a domain the scan cannot place in it.
    Maybe,
}

fn includes(binding_member: &str, kind: &str, email: &str, org: Option<&crate::inventory::gcp::GcpOrganization>) -> Option<Includes> {
    let raw = binding_member.trim();
    if is_deleted_form(raw) {
        return None;
    }
    let m = raw.to_ascii_lowercase();
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let in_domain = |d: &str| {
        let d = d.trim().trim_end_matches('.');
        !d.is_empty() && (domain == d || domain.ends_with(&format!(".{d}")))
    };
    if m == format!("{kind}:{email}") {
        return Some(Includes::Itself);
    }
    match kind {
        "user" => {
            if m == format!("principal://goog/subject/{email}") {
                return Some(Includes::Itself);
            }
            if let Some(d) = m.strip_prefix("domain:") {
                return in_domain(d).then_some(Includes::Through);
            }
            if let Some(id) = m.strip_prefix("principalset://goog/cloudidentitycustomerid/") {
                // Customer ids are case-sensitive.
                let id = &raw[raw.len() - id.len()..];
                let org_customer = org.and_then(|o| o.customer_id.as_deref());
                if org_customer == Some(id) {
                    let org_domain = org.and_then(|o| o.domain.as_deref()).unwrap_or_default().to_ascii_lowercase();
                    return Some(if in_domain(&org_domain) { Includes::Through } else { Includes::Maybe });
                }
            }
            None
        }
        "group" => (m == format!("principalset://goog/group/{email}")).then_some(Includes::Itself),
        _ => None,
    }
}

/// A compromised user or group: no binding in scope (the projects, their folders and organization,
/// the service accounts in them) still grants it anything.
fn member_bindings(cx: &Ctx, projects: &[&GcpProject], member: &str, restored: Option<&str>) -> Item {
    let canonical = undeleted(member);
    let (kind, email) = canonical.split_once(':').map(|(k, e)| (k.to_string(), e.to_string())).unwrap_or_default();
    let org = cx.inv.organization.as_ref();
    let mut grants = Vec::new();
    let mut through = Vec::new();
    let mut maybe = Vec::new();
    let mut deleted = Vec::new();
    let mut unread = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut look = |resource: &str, policy: &IamPolicy| {
        for b in policy.bindings.iter().filter(|b| !lapsed(b.condition_expression.as_deref(), cx.now)) {
            for m in &b.members {
                let entry = json!({"resource": resource, "role": b.role, "member": m, "condition": b.condition_expression});
                if is_deleted_form(m) && undeleted(m) == canonical {
                    deleted.push(entry);
                    continue;
                }
                match includes(m, &kind, &email, org) {
                    Some(Includes::Itself) => grants.push(entry),
                    Some(Includes::Through) => through.push(entry),
                    Some(Includes::Maybe) => maybe.push(entry),
                    None => {}
                }
            }
        }
    };
    for p in projects {
        let (levels, gap) = cx.inv.effective_iam_known(p);
        for (resource, policy) in levels {
            if seen.insert(resource.to_string()) {
                look(resource, policy);
            }
        }
        if let Some(m) = gap {
            unread.push(format!("{}: {m}", p.project_id));
        }
        match p.service_accounts.get() {
            Some(sas) => {
                for sa in sas {
                    match sa.iam_policy.get() {
                        Some(policy) => look(&sa_resource(sa, p), policy),
                        None => unread.push(format!("the IAM policy of {}", sa.email)),
                    }
                }
            }
            None => unread.push(format!("the service accounts of {}", p.project_id)),
        }
    }
    // Every other level and account the inventory read: a grant there is held as well.
    for n in &cx.inv.nodes {
        if let Some(policy) = n.iam_policy.get() {
            if seen.insert(n.name.clone()) {
                look(&n.name, policy);
            }
        }
    }
    for p in cx.inv.projects.iter().filter(|p| !projects.iter().any(|q| q.project_id == p.project_id)) {
        if let Some(policy) = p.iam_policy.get() {
            if seen.insert(p.name.clone()) {
                look(&p.name, policy);
            }
        }
        for sa in p.service_accounts.get().into_iter().flatten() {
            if let Some(policy) = sa.iam_policy.get() {
                look(&sa_resource(sa, p), policy);
            }
        }
    }
    let evidence = json!({"bindings": grants, "through": through, "may_include": maybe, "deleted_bindings": deleted, "not_read": unread});
    let name = |v: &serde_json::Value| format!("{} on {} ({})", v["role"].as_str().unwrap_or_default(), v["resource"].as_str().unwrap_or_default(), v["member"].as_str().unwrap_or_default());
    if let Some(reference) = restored {
        // Its password, 2-Step Verification and sessions live in Google Workspace / Cloud Identity,
        // which the Cloud APIs do not show: never a pass.
        let what = if kind == "group" { "its membership (Cloud Identity groups) is not read" } else { "its password, 2-Step Verification and sign-in sessions (Google Workspace / Cloud Identity) cannot be seen through the Cloud APIs; confirm them in the Admin console" };
        return item(
            Part::Recovery,
            Status::NotEvaluated,
            "gcp_member_restored",
            Some(member),
            None,
            format!("not evaluated: {member} was restored after sign-off ({reference}) and holds {} binding(s) in scope, but {what}", grants.len() + through.len()),
            evidence,
        );
    }
    let (status, message) = if !grants.is_empty() || !through.is_empty() {
        let mut parts = Vec::new();
        if !grants.is_empty() {
            parts.push(format!("{} role binding(s) in scope: {}", grants.len(), grants.iter().map(name).collect::<Vec<_>>().join("; ")));
        }
        if !through.is_empty() {
            parts.push(format!(
                "{} binding(s) to its domain or customer, which hold it while its account is active (suspending or deleting it in Google Workspace, which the Cloud APIs do not show, is what locks it): {}",
                through.len(),
                through.iter().map(name).collect::<Vec<_>>().join("; ")
            ));
        }
        (Status::Fail, format!("{member} still holds {}", parts.join("; and ")))
    } else if !maybe.is_empty() || !unread.is_empty() || projects.is_empty() {
        let mut why: Vec<String> = maybe.iter().map(|v| format!("{} may include it (its domain is not the organization's)", name(v))).collect();
        why.extend(unread.iter().map(|u| format!("not read: {u}")));
        if projects.is_empty() {
            why.push("no project in scope was read".to_string());
        }
        (Status::NotEvaluated, format!("not evaluated: {member} holds no binding in what was read, but {}", why.join("; ")))
    } else {
        (Status::Pass, format!("{member} holds no role binding on the projects in scope, their folders and organization, or their service accounts (nor on anything else the inventory read)"))
    };
    item(Part::Containment, status, "gcp_member_bindings_removed", Some(member), None, message, evidence)
}

/// Persistence: grants on the service accounts in scope (their own policies and their projects'
/// effective ones) that let a compromised principal, the public or a member outside the
/// organization get tokens or keys for them, act as them, or grant itself that. Policies carry
/// no dates: this is what holds now, whenever it was granted.
fn service_account_grants(cx: &Ctx, projects: &[&GcpProject]) -> Item {
    // (member, role, resource) → (permission, what, why, accounts).
    let mut found: BTreeMap<(String, String, String), (serde_json::Value, Vec<String>)> = BTreeMap::new();
    let mut unknown: BTreeMap<(String, String, String), (String, Vec<String>)> = BTreeMap::new();
    let mut unread = Vec::new();
    let mut accounts = 0;
    for p in projects {
        let Some(sas) = p.service_accounts.get() else {
            unread.push(format!("the service accounts of {}", p.project_id));
            continue;
        };
        let (levels, gap) = cx.project_levels(p);
        if let Some(g) = gap {
            unread.push(g);
        }
        // The compromised accounts (not restored) are judged in containment, against the team.
        for sa in sas.iter().filter(|s| !cx.compromised.contains(&format!("serviceaccount:{}", s.email.to_ascii_lowercase()))) {
            accounts += 1;
            let own_name = sa_resource(sa, p);
            let own = match sa.iam_policy.require(Dataset::GcpServiceAccounts) {
                Ok(pol) => Some((own_name.as_str(), pol)),
                Err(m) => {
                    unread.push(format!("the IAM policy of {}: {m}", sa.email));
                    None
                }
            };
            let t = Target { email: &sa.email, disabled: sa.disabled, deleted: false, disabled_keys: has_disabled_keys(sa, cx.now), now: cx.now };
            let me = format!("serviceaccount:{}", sa.email.to_ascii_lowercase());
            for g in grants_over(&cx.model, t, own, &levels) {
                let m = undeleted(g.member);
                if cx.on_team(g.member) || m == me {
                    continue;
                }
                let why = if cx.compromised.contains(&m) {
                    Inside::No(format!("{} is compromised", g.member))
                } else if is_public(g.member) {
                    Inside::No(format!("{} is anyone", g.member))
                } else {
                    cx.insiders.judge(g.member)
                };
                let key = (g.member.to_string(), g.role.to_string(), g.resource.clone());
                match (why, &g.power) {
                    (Inside::Yes(_), _) => {}
                    (Inside::No(why), Ok(_)) => found.entry(key).or_insert_with(|| (g.json(Some(&why)), Vec::new())).1.push(sa.email.clone()),
                    (Inside::No(why) | Inside::Unknown(why), Err(_)) | (Inside::Unknown(why), Ok(_)) => {
                        unknown.entry(key).or_insert_with(|| (format!("{} ({why})", g.describe()), Vec::new())).1.push(sa.email.clone())
                    }
                }
            }
        }
    }
    let holds: Vec<serde_json::Value> = found.into_values().map(|(mut v, sas)| {
        v["service_accounts"] = json!(sas);
        v
    }).collect();
    let undecided: Vec<String> = unknown.into_values().map(|(d, sas)| format!("{d} [over {}]", sas.join(", "))).collect();
    let evidence = json!({"grants": holds, "undecided": undecided, "not_read": unread});
    let note = "IAM policies carry no dates, so this is the state now, whenever granted";
    let (status, message) = if !holds.is_empty() {
        let list: Vec<String> = holds
            .iter()
            .map(|h| format!("{} holds {} on {} ({}): it can {} over {} account(s)", h["member"].as_str().unwrap_or_default(), h["role"].as_str().unwrap_or_default(), h["resource"].as_str().unwrap_or_default(), h["why"].as_str().unwrap_or_default(), h["permission"].as_str().unwrap_or_default(), h["service_accounts"].as_array().map_or(0, |a| a.len())))
            .collect();
        (Status::Fail, format!("{} grant(s) let a compromised, public or outside principal act as service accounts in scope ({note}): {}", holds.len(), list.join("; ")))
    } else if !undecided.is_empty() || !unread.is_empty() || projects.is_empty() {
        let mut why = undecided.clone();
        why.extend(unread.iter().map(|u| format!("not read: {u}")));
        if projects.is_empty() {
            why.push("no project in scope was read".to_string());
        }
        (Status::NotEvaluated, format!("not evaluated: who can act as the service accounts in scope is not known: {}", why.join("; ")))
    } else {
        (Status::Pass, format!("no compromised, public or outside principal can get tokens or keys for, or act as, the {accounts} service account(s) in scope ({note})"))
    };
    item(Part::Persistence, status, "gcp_service_account_grants", None, None, message, evidence)
}

/// What GCP verification cannot see, said in every output.
pub const NOTES: &[&str] = &[
    "GCP: service accounts carry no creation time and IAM policies no change history: accounts created and bindings added inside the window are found only through Cloud Audit Logs, which verify does not read (keys created inside the window are found; grants that let outsiders act as service accounts are judged as they stand now).",
    "GCP: an uploaded key's validAfterTime comes from its certificate, which whoever uploads it chooses; one dated after containment is taken as a rotation.",
    "GCP: a user's Google Workspace or Cloud Identity state (suspension, password, sign-in cookies, 2-Step Verification) is not readable through the Cloud APIs, so a restored user is never passed; check it in the Admin console. A role held through a group is not expanded (group membership is not read).",
    "GCP: workloads already running as a service account (VMs, functions, Cloud Run services, builds) keep getting its tokens from the metadata server while it is enabled, and access tokens already issued live up to an hour (12 with an extended lifetime): they are not listed. Disable the account; an enabled one without keys is passed only on what IAM shows.",
    "GCP: HMAC keys (storage.hmacKeys.list) and workload identity pool providers are not read: an HMAC key made for a compromised account is not seen, and who a pool admits is not evaluated.",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::gcp::GcpOrganization;

    const CI: &str = "serviceAccount:ci@ops-tools.iam.gserviceaccount.com";

    /// An organization (a folder under it, `ops-tools` directly under it, `side-proj` under the
    /// folder) whose compromised account `ci@ops-tools` is enabled with its only key disabled, the
    /// administrators (`group:admins@corp.example`) on the team; `edit` changes the snapshot.
    fn judge(edit: impl Fn(&mut serde_json::Value), scope: &str, compromised: &str) -> Vec<Item> {
        judge_with(edit, scope, compromised, "\"group:admins@corp.example\"")
    }

    fn judge_with(edit: impl Fn(&mut serde_json::Value), scope: &str, compromised: &str, team: &str) -> Vec<Item> {
        let roles = json!([
            {"name": "roles/resourcemanager.organizationAdmin", "permissions": ["resourcemanager.organizations.setIamPolicy", "resourcemanager.folders.setIamPolicy", "resourcemanager.projects.setIamPolicy"]},
            {"name": "roles/iam.roleAdmin", "permissions": ["iam.roles.create", "iam.roles.delete", "iam.roles.undelete", "iam.roles.update", "iam.roles.get"]},
            {"name": "roles/iam.organizationRoleAdmin", "permissions": ["iam.roles.create", "iam.roles.delete", "iam.roles.undelete", "iam.roles.update", "iam.roles.get", "resourcemanager.organizations.get"]},
            {"name": "roles/viewer", "permissions": ["resourcemanager.projects.get", "iam.serviceAccounts.get"]},
            {"name": "roles/owner", "permissions": ["resourcemanager.projects.setIamPolicy", "resourcemanager.projects.delete"]}
        ]);
        let project = |id: &str, number: &str, parent: &str, accounts: serde_json::Value| {
            json!({"project_id": id, "name": format!("projects/{number}"), "parent": parent,
                   "iam_policy": {"collected": {}}, "service_accounts": {"collected": accounts}, "custom_roles": {"collected": []}})
        };
        let ci = json!({"email": "ci@ops-tools.iam.gserviceaccount.com", "unique_id": "1", "disabled": false, "iam_policy": {"collected": {}},
            "keys": [{"name": "k1", "key_type": "USER_MANAGED", "valid_after": "2026-01-01T00:00:00Z", "disabled": true}]});
        let mut snap = json!({"schema": "1", "gcp": {
            "organization": {"name": "organizations/7", "domain": "corp.example", "customer_id": "C0corp"},
            "hierarchy": {"collected": [
                {"id": "organizations/7", "name": "corp.example", "kind": "gcp_organization"},
                {"id": "folders/8", "name": "Side", "kind": "gcp_folder", "parent": "organizations/7"},
                {"id": "projects/71", "name": "ops-tools", "kind": "gcp_project", "parent": "organizations/7"},
                {"id": "projects/72", "name": "side-proj", "kind": "gcp_project", "parent": "folders/8"}]},
            "nodes": [
                {"name": "organizations/7", "iam_policy": {"collected": {"bindings": [{"role": "roles/resourcemanager.organizationAdmin", "members": ["group:admins@corp.example"]}]}}, "custom_roles": {"collected": []}},
                {"name": "folders/8", "iam_policy": {"collected": {}}}],
            "projects": [project("ops-tools", "71", "organizations/7", json!([ci])), project("side-proj", "72", "folders/8", json!([{"email": "app@side-proj.iam.gserviceaccount.com", "unique_id": "2", "iam_policy": {"collected": {}}}]))],
            "predefined_roles": {"collected": roles}}});
        edit(&mut snap);
        let inv: Inventory = serde_json::from_value(snap).unwrap();
        let text = format!(
            "[incident]\nid = \"IR-1\"\nfirst_malicious_activity = \"2026-11-28T00:00:00Z\"\ncontained_at = \"2026-11-29T12:00:00Z\"\n[scope]\ngcp_projects = [{scope}]\n[[compromised]]\nprincipal = \"{compromised}\"\n[response]\nteam = [{team}]\n"
        );
        let inc = IncidentFile::parse(&text, "test").unwrap_or_else(|e| panic!("{e}"));
        items(&inc, &inv, Timestamp::parse("2026-11-30T12:00:00Z").unwrap(), &Trusted::default())
    }

    fn one<'a>(items: &'a [Item], kind: &str) -> &'a Item {
        items.iter().find(|i| i.kind == kind).unwrap_or_else(|| panic!("no {kind}"))
    }

    fn bind(snap: &mut serde_json::Value, at: &str, role: &str, member: &str) {
        let gcp = &mut snap["gcp"];
        let policy = if at.starts_with("projects/") {
            gcp["projects"].as_array_mut().unwrap().iter_mut().find(|p| p["name"] == at).unwrap()["iam_policy"]["collected"].as_object_mut().unwrap()
        } else {
            gcp["nodes"].as_array_mut().unwrap().iter_mut().find(|n| n["name"] == at).unwrap()["iam_policy"]["collected"].as_object_mut().unwrap()
        };
        policy.entry("bindings").or_insert(json!([])).as_array_mut().unwrap().push(json!({"role": role, "members": [member]}));
    }

    #[test]
    fn an_enabled_account_whose_own_roles_are_unknown_is_not_passed() {
        // Baseline: enabled, no usable key, holding only a role known to run no code: a pass.
        let ok = judge(|s| bind(s, "projects/71", "roles/viewer", CI), "\"ops-tools\"", CI);
        assert_eq!(one(&ok, "gcp_service_account_locked").status, Status::Pass, "{:?}", one(&ok, "gcp_service_account_locked").message);
        // A custom role of its project that was not read: it may run code as itself.
        let custom = judge(|s| bind(s, "projects/71", "projects/ops-tools/roles/runner", CI), "\"ops-tools\"", CI);
        let it = one(&custom, "gcp_service_account_locked");
        assert_eq!(it.status, Status::NotEvaluated, "{}", it.message);
        assert!(it.message.contains("projects/ops-tools/roles/runner"), "{}", it.message);
        // An old snapshot without the predefined roles, the role held on the organization.
        let old = judge(
            |s| {
                s["gcp"].as_object_mut().unwrap().remove("predefined_roles");
                s["gcp"]["nodes"][0]["iam_policy"]["collected"]["bindings"] = json!([{"role": "roles/cloudbuild.builds.builder", "members": [CI.to_ascii_uppercase().replacen("SERVICEACCOUNT", "serviceAccount", 1)]}]);
            },
            "\"ops-tools\"",
            CI,
        );
        let it = one(&old, "gcp_service_account_locked");
        assert_eq!(it.status, Status::NotEvaluated, "{}", it.message);
        assert!(it.message.contains("roles/cloudbuild.builds.builder"), "{}", it.message);
    }

    #[test]
    fn whoever_outside_the_team_can_rewrite_a_custom_role_bound_over_the_account_gets_it_back() {
        let ci_disabled = |s: &mut serde_json::Value| s["gcp"]["projects"][0]["service_accounts"]["collected"][0]["disabled"] = json!(true);
        // A project's harmless custom role held by eve, who may rewrite the project's roles.
        let project = judge(
            |s| {
                ci_disabled(s);
                s["gcp"]["projects"][0]["custom_roles"]["collected"] = json!([{"name": "projects/ops-tools/roles/reader", "permissions": ["resourcemanager.projects.get"], "stage": "GA"}]);
                bind(s, "projects/71", "projects/ops-tools/roles/reader", "user:eve@corp.example");
                bind(s, "projects/71", "roles/iam.roleAdmin", "user:Eve@corp.example");
            },
            "\"ops-tools\"",
            CI,
        );
        let it = one(&project, "gcp_service_account_locked");
        assert_eq!(it.status, Status::Fail, "{}", it.message);
        assert!(it.message.contains("iam.roles.update") && it.message.contains("projects/ops-tools/roles/reader"), "{}", it.message);
        // A disabled organization role that mints keys, bound to eve, who administers the
        // organization's roles: she enables it again.
        let org = judge(
            |s| {
                ci_disabled(s);
                s["gcp"]["nodes"][0]["custom_roles"]["collected"] = json!([{"name": "organizations/7/roles/keys", "permissions": ["iam.serviceAccountKeys.create"], "stage": "DISABLED"}]);
                bind(s, "organizations/7", "organizations/7/roles/keys", "user:eve@corp.example");
                bind(s, "organizations/7", "roles/iam.organizationRoleAdmin", "user:eve@corp.example");
            },
            "\"ops-tools\"",
            CI,
        );
        let it = one(&org, "gcp_service_account_locked");
        assert_eq!(it.status, Status::Fail, "{}", it.message);
        assert!(it.message.contains("organizations/7/roles/keys"), "{}", it.message);
        // Rewriting a role granted to nobody over the account gets nothing.
        let none = judge(
            |s| {
                ci_disabled(s);
                bind(s, "projects/71", "roles/iam.roleAdmin", "user:eve@corp.example");
            },
            "\"ops-tools\"",
            CI,
        );
        assert_eq!(one(&none, "gcp_service_account_locked").status, Status::Pass);
    }

    #[test]
    fn whoever_outside_the_team_can_enable_a_disabled_key_again_gets_the_account_back() {
        // ci is enabled and its one key disabled; eve may enable keys (an organization role).
        let flip = |key: serde_json::Value| {
            move |s: &mut serde_json::Value| {
                s["gcp"]["projects"][0]["service_accounts"]["collected"][0]["keys"] = json!([key.clone()]);
                s["gcp"]["nodes"][0]["custom_roles"]["collected"] = json!([{"name": "organizations/7/roles/keyflip", "permissions": ["iam.serviceAccountKeys.enable"], "stage": "GA"}]);
                bind(s, "organizations/7", "organizations/7/roles/keyflip", "user:eve@corp.example");
            }
        };
        let disabled = json!({"name": "k666", "key_type": "user_managed", "valid_after": "2026-11-28T05:00:00Z", "disabled": true});
        let got = judge(flip(disabled), "\"ops-tools\"", CI);
        let it = one(&got, "gcp_service_account_locked");
        assert_eq!(it.status, Status::Fail, "{}", it.message);
        assert!(it.message.contains("iam.serviceAccountKeys.enable"), "{}", it.message);
        // An expired key signs nothing once enabled: a pass.
        let expired = json!({"name": "k1", "key_type": "USER_MANAGED", "valid_after": "2025-01-01T00:00:00Z", "valid_before": "2026-01-01T00:00:00Z", "disabled": true});
        assert_eq!(one(&judge(flip(expired), "\"ops-tools\"", CI), "gcp_service_account_locked").status, Status::Pass);
    }

    #[test]
    fn a_binding_whose_time_condition_has_lapsed_grants_nothing() {
        let now = Timestamp::parse("2026-11-30T12:00:00Z").unwrap();
        for c in ["request.time < timestamp(\"2026-11-29T00:00:00Z\")", " ( request.time <= timestamp( \"2020-01-01T00:00:00Z\" ) ) ", "resource.name.startsWith(\"projects/_/buckets/x\") && request.time < timestamp(\"2026-01-01T00:00:00Z\")"] {
            assert!(lapsed(Some(c), now), "{c}");
        }
        for c in [
            "request.time < timestamp(\"2027-01-01T00:00:00Z\")",
            "request.time > timestamp(\"2020-01-01T00:00:00Z\")",
            "request.time < timestamp(\"2020-01-01T00:00:00Z\") || true",
            "!(request.time < timestamp(\"2020-01-01T00:00:00Z\"))",
            "resource.name == \"a&&request.time<timestamp(\"2020-01-01T00:00:00Z\")&&b\"",
            "request.time < timestamp('2020-01-01T00:00:00Z')",
            "request.time < timestamp(\"2020-01-01T00:00:00Z\") + duration(\"999999999s\")",
            "request.time < timestamp(\"not a time\")",
        ] {
            assert!(!lapsed(Some(c), now), "{c}");
        }
        assert!(!lapsed(None, now));
        // A token creator to an outsider that expired before containment: contained; one still open: not.
        let grant = |cond: &'static str| {
            move |s: &mut serde_json::Value| {
                s["gcp"]["projects"][0]["service_accounts"]["collected"][0]["disabled"] = json!(true);
                s["gcp"]["predefined_roles"]["collected"].as_array_mut().unwrap().push(json!({"name": "roles/iam.serviceAccountTokenCreator", "permissions": ["iam.serviceAccounts.getAccessToken"]}));
                s["gcp"]["projects"][0]["iam_policy"]["collected"] = json!({"bindings": [{"role": "roles/iam.serviceAccountTokenCreator", "members": ["user:eve@partner.example"], "condition_expression": cond}]});
            }
        };
        let expired = judge(grant("request.time < timestamp(\"2026-11-29T00:00:00Z\")"), "\"ops-tools\"", CI);
        assert_eq!(one(&expired, "gcp_service_account_locked").status, Status::Pass, "{}", one(&expired, "gcp_service_account_locked").message);
        let open = judge(grant("request.time < timestamp(\"2026-12-29T00:00:00Z\")"), "\"ops-tools\"", CI);
        assert_eq!(one(&open, "gcp_service_account_locked").status, Status::Fail);
    }

    #[test]
    fn a_team_member_named_by_a_bare_email_is_on_the_team() {
        // The administrators' group sets the organization's policy: named on the team with or
        // without its `group:` prefix (in any case), the disabled account is contained; a team
        // that names someone else is not the administrators.
        let disabled = |s: &mut serde_json::Value| s["gcp"]["projects"][0]["service_accounts"]["collected"][0]["disabled"] = json!(true);
        for (team, status) in [("\"group:admins@corp.example\"", Status::Pass), ("\"Admins@Corp.example\"", Status::Pass), ("\"other@corp.example\"", Status::Fail), ("\"admins@corp.example.evil\"", Status::Fail)] {
            let got = judge_with(disabled, "\"ops-tools\"", CI, team);
            let it = one(&got, "gcp_service_account_locked");
            assert_eq!(it.status, status, "{team}: {}", it.message);
        }
    }

    #[test]
    fn a_compromised_user_holding_a_role_anywhere_the_inventory_read_still_holds_it() {
        let mallory = "user:mallory@corp.example";
        let clean = judge(|_| {}, "\"ops-tools\"", mallory);
        assert_eq!(one(&clean, "gcp_member_bindings_removed").status, Status::Pass);
        // A project read but not in [scope], under a folder; the folder itself; an account of it.
        for (what, at) in [("a project outside scope", "projects/72"), ("a folder above no scope project", "folders/8")] {
            let got = judge(|s| bind(s, at, "roles/owner", "user:Mallory@corp.example"), "\"ops-tools\"", mallory);
            let it = one(&got, "gcp_member_bindings_removed");
            assert_eq!(it.status, Status::Fail, "{what}: {}", it.message);
            assert!(it.message.contains(at), "{what}: {}", it.message);
        }
        let on_account = judge(
            |s| s["gcp"]["projects"][1]["service_accounts"]["collected"][0]["iam_policy"]["collected"] = json!({"bindings": [{"role": "roles/iam.serviceAccountTokenCreator", "members": ["principal://goog/subject/mallory@corp.example"]}]}),
            "\"ops-tools\"",
            mallory,
        );
        assert_eq!(one(&on_account, "gcp_member_bindings_removed").status, Status::Fail);
    }

    #[test]
    fn members_are_compared_as_gcp_names_them() {
        assert_eq!(undeleted("deleted:serviceAccount:CI@Proj.iam.gserviceaccount.com?uid=123"), "serviceaccount:ci@proj.iam.gserviceaccount.com");
        assert_eq!(undeleted("principal://goog/subject/Alice@Example.com"), "user:alice@example.com");
        assert_eq!(undeleted("principalSet://goog/group/Ops@Example.com"), "group:ops@example.com");
        assert_eq!(undeleted(" User:Bob@Example.com "), "user:bob@example.com");
        assert!(is_deleted_form("DELETED:user:a@b.c?uid=1") && !is_deleted_form("user:deleted@b.c"));
    }

    #[test]
    fn a_user_is_included_by_itself_its_domain_and_its_customer() {
        let org = GcpOrganization { name: "organizations/1".into(), domain: Some("Example.com".into()), customer_id: Some("C0abc".into()) };
        let inc = |m: &str| includes(m, "user", "dev.mallory@eng.example.com", Some(&org));
        assert!(matches!(inc("user:Dev.Mallory@ENG.example.com"), Some(Includes::Itself)));
        assert!(matches!(inc("principal://goog/subject/dev.mallory@eng.example.com"), Some(Includes::Itself)));
        assert!(matches!(inc("domain:example.com"), Some(Includes::Through)));
        assert!(matches!(inc("domain:ENG.example.com."), Some(Includes::Through)));
        assert!(matches!(inc("principalSet://goog/cloudIdentityCustomerId/C0abc"), Some(Includes::Through)));
        for other in ["domain:xample.com", "domain:example.com.evil.io", "group:dev.mallory@eng.example.com", "deleted:user:dev.mallory@eng.example.com?uid=1", "principalSet://goog/cloudIdentityCustomerId/c0abc", "user:dev.mallory@example.com"] {
            assert!(inc(other).is_none(), "{other}");
        }
        // The organization's customer, for a user of a domain the scan cannot place in it.
        assert!(matches!(includes("principalSet://goog/cloudIdentityCustomerId/C0abc", "user", "x@partner.io", Some(&org)), Some(Includes::Maybe)));
        // A group by its principal set; a domain holds no group.
        assert!(matches!(includes("principalSet://goog/group/OPS@example.com", "group", "ops@example.com", Some(&org)), Some(Includes::Itself)));
        assert!(includes("domain:example.com", "group", "ops@example.com", Some(&org)).is_none());
    }
}
