//! Blast radius of one principal, in any of the three clouds: what it holds, what it may do
//! (sensitive actions grouped by risk), which roles or identities it can become, transitively, and
//! its escalation paths. One [`BlastRadius`] shape for all three, rendered by one report.
//!
//! This file builds it for an AWS user or role, decided from the inventory alone with
//! [`crate::policy::eval`]; [`super::blast_azure`] for an Entra user, service principal or
//! managed identity, and [`super::blast_gcp`] for a GCP user, group or service account. [`resolve_any`]
//! picks the cloud by the principal's spelling and by what the inventory holds.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use super::escalation::{describe, AccountView, Actor, Admin, Hit, Verdict};
use super::paths::EscalationPath;
use crate::inventory::aws::{AwsInventory, IamRole};
use crate::policy::arn::{account_of, Arn};
use crate::policy::document::{Effect, Principal};
use crate::policy::eval::{evaluate, Decision, Named, Policies, Request};

/// Sensitive actions, by the risk they carry. Each is asked on every resource (`*`), then on the
/// resources the principal's own grants name.
pub const RISKS: &[(&str, &[&str])] = &[
    (
        "iam-write",
        &[
            "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:AttachUserPolicy", "iam:AttachRolePolicy",
            "iam:AttachGroupPolicy", "iam:PutUserPolicy", "iam:PutRolePolicy", "iam:PutGroupPolicy", "iam:CreatePolicyVersion", "iam:UpdateAssumeRolePolicy",
            "iam:AddUserToGroup", "iam:CreateRole", "iam:PassRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary", "sts:AssumeRole",
        ],
    ),
    (
        "data-read",
        &[
            "s3:GetObject", "s3:ListBucket", "dynamodb:Scan", "dynamodb:GetItem", "secretsmanager:GetSecretValue", "ssm:GetParameter", "rds:CreateDBSnapshot",
            "ec2:CreateSnapshot", "kms:Decrypt", "lambda:GetFunction",
        ],
    ),
    ("key-management", &["kms:CreateKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant"]),
    (
        "logging",
        &[
            "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors", "logs:DeleteLogGroup",
            "guardduty:DeleteDetector", "config:StopConfigurationRecorder", "securityhub:DisableSecurityHub",
        ],
    ),
    ("compute", &["ec2:RunInstances", "lambda:CreateFunction", "lambda:UpdateFunctionCode", "ssm:SendCommand", "ssm:StartSession", "ecs:RunTask"]),
    ("organization", &["organizations:LeaveOrganization", "organizations:DetachPolicy", "organizations:DeletePolicy", "account:CloseAccount"]),
];

/// The blast radius of one principal.
#[derive(Debug, Clone, Serialize)]
pub struct BlastRadius {
    /// `aws`, `azure` or `gcp`.
    pub cloud: &'static str,
    pub principal: String,
    /// The AWS account; the Entra tenant; the GCP organization (or the projects read).
    pub account: String,
    /// `user` or `role` (AWS); `user`, `service principal`, `managed identity` (Entra);
    /// `user`, `group`, `service account` (GCP).
    pub kind: &'static str,
    /// Other names of the principal the inventory gives (UPN, object id, appId, display name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// `yes`, `maybe` or `no`.
    pub administrator: &'static str,
    /// Policies that bear on it and the inventory lacks: what they grant is not counted.
    pub gaps: Vec<String>,
    pub permissions: Vec<Permission>,
    /// Services its allows name, beyond the sensitive actions above.
    pub services: Vec<String>,
    pub assumable_roles: Vec<Assumable>,
    pub escalations: Vec<serde_json::Value>,
    pub escalation_summary: String,
    /// The role grants it holds (Azure RBAC and directory roles, GCP bindings), active or
    /// eligible, directly or through a group. Empty for AWS (its policies are in `permissions`).
    pub holds: Vec<Hold>,
    /// The identities it can become beyond AWS roles: PIM activation, service-account
    /// impersonation chains, apps whose credentials it can add, workload identities of what it
    /// runs code on.
    pub identities: Vec<Identity>,
}

/// One role grant the principal holds.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    /// The role's name (its id when its definition was not read).
    pub role: String,
    pub role_id: String,
    /// Where it is held: an Azure scope, a directory scope, a GCP resource.
    pub scope: String,
    /// `active` or `eligible` (PIM: held once activated).
    pub state: &'static str,
    /// The group it is held through (a member; `eligible` when through PIM for Groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_group: Option<String>,
    /// Some other member that covers it (GCP `domain:`, `allAuthenticatedUsers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_member: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// What the model says the role lets its holder do; `definition not read` when unknown.
    pub capabilities: Vec<String>,
    /// `azure-rbac`, `entra-directory-role` or `gcp-iam`.
    pub system: &'static str,
}

/// An identity the principal can become.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub identity: String,
    /// `pim-activation`, `group-activation`, `service-account`, `app-credentials`, `workload-identity`.
    pub kind: &'static str,
    /// By which grant, in words.
    pub how: String,
    /// The identities passed through to get there, from the principal.
    pub via: Vec<String>,
    /// `allowed`, `on activation` or `undecided`.
    pub decision: &'static str,
    pub undecided: Vec<String>,
    /// Whether that identity is an administrator: `yes`, `maybe`, `no`.
    pub administrator: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Permission {
    pub risk: &'static str,
    pub service: String,
    pub action: String,
    /// `allowed` (every resource), `allowed on some resources`, or `undecided`.
    pub decision: String,
    /// For some resources: which.
    pub resources: Vec<String>,
    pub granted_by: Vec<String>,
    pub undecided: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assumable {
    pub role: String,
    pub account: String,
    /// The chain of roles assumed to get there, from the principal.
    pub via: Vec<String>,
    /// `allowed`, or `undecided` with the conditions.
    pub decision: &'static str,
    pub undecided: Vec<String>,
    pub administrator: &'static str,
    pub granted_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BlastError {
    #[error("{0} is not a principal the sources hold (an IAM user or role of an account read, an Entra user or service principal of a tenant read, or a member some GCP binding read names)")]
    NotFound(String),
    #[error("account {account}: {why}")]
    Unreadable { account: String, why: String },
    #[error("{0:?} is neither an IAM user or role ARN, an access key id, an Entra object id, appId or UPN, nor a GCP member (serviceAccount:, user:, group:) or service-account email")]
    NotPrincipal(String),
    #[error("{principal} cannot be looked up: {why}")]
    Unknown { principal: String, why: String },
    #[error("access key {key} cannot be resolved: {why}")]
    Unresolvable { key: String, why: String },
}

/// A principal of one of the three clouds, as the inventory knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An IAM user or role ARN.
    Aws(String),
    /// An Entra principal: its tenant and object id (lower-case).
    Azure { tenant: String, id: String },
    /// A GCP member as bindings spell it (`serviceAccount:…`, `user:…`, `group:…`).
    Gcp(String),
}

/// Which cloud `p` names, by its spelling and by what the inventory holds, and the principal it
/// is there: an ARN or access key id is AWS; a `serviceAccount:`, `user:` or `group:` member or a
/// service-account email is GCP; a GUID is an Entra object id or appId; any other email is an
/// Entra UPN or a GCP user or group, whichever the inventory has (both: refused as ambiguous).
pub fn resolve_any(inv: &crate::inventory::Inventory, p: &str) -> Result<Target, BlastError> {
    let p = p.trim();
    let lower = p.to_ascii_lowercase();
    if lower.starts_with("arn:") || (p.len() == 20 && (p.starts_with("AKIA") || p.starts_with("ASIA"))) {
        return resolve(&inv.aws, p).map(Target::Aws);
    }
    if ["serviceaccount:", "user:", "group:"].iter().any(|x| lower.starts_with(x)) || lower.ends_with(".gserviceaccount.com") {
        return super::blast_gcp::resolve(&inv.gcp, p).map(Target::Gcp);
    }
    if crate::inventory::azure::is_guid(p) {
        return super::blast_azure::resolve(&inv.azure, p).map(|(tenant, id)| Target::Azure { tenant, id });
    }
    if !p.contains('@') || p.contains(char::is_whitespace) {
        return Err(BlastError::NotPrincipal(p.to_string()));
    }
    let azure = if inv.azure.tenants.is_empty() { None } else { Some(super::blast_azure::resolve(&inv.azure, p)) };
    let gcp = if inv.gcp.is_empty() { None } else { Some(super::blast_gcp::resolve(&inv.gcp, p)) };
    match (azure, gcp) {
        (Some(Ok((tenant, id))), None | Some(Err(_))) => Ok(Target::Azure { tenant, id }),
        (None | Some(Err(_)), Some(Ok(m))) => Ok(Target::Gcp(m)),
        (Some(Ok(_)), Some(Ok(m))) => Err(BlastError::Unknown { principal: p.to_string(), why: format!("it is both an Entra user and the GCP member {m}: give {m} for GCP, or the Entra object id") }),
        (Some(Err(e)), _) | (None, Some(Err(e))) => Err(e),
        (None, None) => Err(BlastError::Unknown { principal: p.to_string(), why: "the sources hold no Azure tenant and no GCP organization or project to look it up in".into() }),
    }
}

/// The clouds `p` may name, by its spelling alone (an email may be an Entra UPN or a GCP user or
/// group): what a live read must cover.
pub fn clouds_of(p: &str) -> Vec<crate::inventory::Cloud> {
    use crate::inventory::Cloud;
    let p = p.trim();
    let lower = p.to_ascii_lowercase();
    if lower.starts_with("arn:") || (p.len() == 20 && (p.starts_with("AKIA") || p.starts_with("ASIA"))) {
        vec![Cloud::Aws]
    } else if ["serviceaccount:", "user:", "group:"].iter().any(|x| lower.starts_with(x)) || lower.ends_with(".gserviceaccount.com") {
        vec![Cloud::Gcp]
    } else if crate::inventory::azure::is_guid(p) {
        vec![Cloud::Azure]
    } else if p.contains('@') {
        vec![Cloud::Azure, Cloud::Gcp]
    } else {
        vec![Cloud::Aws, Cloud::Azure, Cloud::Gcp]
    }
}

/// What a blast radius reads, by cloud: only what bears on who holds what.
pub fn datasets(cloud: crate::inventory::Cloud) -> &'static [crate::inventory::Dataset] {
    use crate::inventory::{Cloud, Dataset};
    match cloud {
        Cloud::Aws => &[Dataset::AwsAuthorizationDetails, Dataset::AwsOrganization, Dataset::AwsUserCredentials],
        Cloud::Azure => super::blast_azure::DATASETS,
        Cloud::Gcp => super::blast_gcp::DATASETS,
    }
}

/// The blast radius of a resolved principal, in its cloud.
pub fn blast_radius_any(inv: &crate::inventory::Inventory, target: &Target, catalogue: &[EscalationPath]) -> Result<BlastRadius, BlastError> {
    match target {
        Target::Aws(arn) => blast_radius(&inv.aws, arn, catalogue),
        Target::Azure { tenant, id } => super::blast_azure::blast_radius(&inv.azure, tenant, id),
        Target::Gcp(member) => super::blast_gcp::blast_radius(&inv.gcp, member),
    }
}

/// The principal's ARN: `p` itself when it is an IAM user or role ARN, or the user whose access
/// key `p` is, from the per-user credentials the sources read (the credential report and the
/// authorization details do not carry key ids).
pub fn resolve(inv: &AwsInventory, p: &str) -> Result<String, BlastError> {
    let p = p.trim();
    if let Some(a) = Arn::parse(p) {
        if a.service == "iam" && (a.resource.starts_with("user/") || a.resource.starts_with("role/")) {
            return Ok(p.to_string());
        }
        if a.service == "sts" && a.resource.starts_with("assumed-role/") {
            // arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION: the role behind the session.
            let name = a.resource.trim_start_matches("assumed-role/").split('/').next().unwrap_or_default();
            let role = inv.accounts.iter().filter(|x| x.account_id == a.account).filter_map(|x| x.authorization_details.get()).flat_map(|d| d.roles.iter()).find(|r| r.name == name);
            return role.map(|r| r.arn.clone()).ok_or_else(|| BlastError::NotFound(p.to_string()));
        }
        return Err(BlastError::NotFound(p.to_string()));
    }
    let is_key = p.len() == 20 && (p.starts_with("AKIA") || p.starts_with("ASIA")) && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !is_key {
        return Err(BlastError::NotPrincipal(p.to_string()));
    }
    if p.starts_with("ASIA") {
        return Err(BlastError::Unresolvable { key: p.to_string(), why: "it is a temporary key (ASIA…): give the role's or assumed-role session's ARN".into() });
    }
    for a in &inv.accounts {
        for u in a.user_credentials.get().into_iter().flatten() {
            if u.access_keys.get().into_iter().flatten().any(|k| k.id == p) {
                let arn = a.authorization_details.get().and_then(|d| d.users.iter().find(|x| x.name == u.user)).map(|x| x.arn.clone());
                return arn.ok_or_else(|| BlastError::NotFound(format!("user {} (owner of {p})", u.user)));
            }
        }
    }
    Err(BlastError::Unresolvable {
        key: p.to_string(),
        why: "no user of the accounts read owns it: a live read asks iam:GetAccessKeyLastUsed in each account (-v shows a refusal), and files need a snapshot that read the user's keys (the credential report and the authorization details carry no key ids); or give the user's ARN".into(),
    })
}

/// The blast radius of the user or role `arn`.
pub fn blast_radius(inv: &AwsInventory, arn: &str, catalogue: &[EscalationPath]) -> Result<BlastRadius, BlastError> {
    let account_id = account_of(arn).ok_or_else(|| BlastError::NotFound(arn.to_string()))?;
    let account = inv.accounts.iter().find(|a| a.account_id == account_id).ok_or_else(|| BlastError::NotFound(arn.to_string()))?;
    let view = AccountView::new(&inv.organization, account).map_err(|e| BlastError::Unreadable { account: account_id.to_string(), why: e.to_string() })?;
    let actor = view.actor(arn).ok_or_else(|| BlastError::NotFound(arn.to_string()))?;
    let kind = if actor.user.is_some() { "user" } else { "role" };
    let g = &actor.gathered;
    let mut gaps = g.gaps.clone();
    gaps.extend(g.limit_gaps.iter().cloned());
    gaps.extend(view.scp_gaps.iter().cloned());
    let administrator = label(&view.admin(actor, &g.policies.identity, g.policies.boundary, &g.gaps));
    let permissions = permissions(&view, actor);
    let services = services(actor);
    let (escalations, escalation_summary) = match view.escalations(actor, catalogue) {
        Verdict::Admin => (Vec::new(), "an administrator already".to_string()),
        Verdict::None => (Vec::new(), format!("none of the {} catalogued paths", catalogue.len())),
        Verdict::NotEvaluated(why) => (Vec::new(), format!("not evaluated: {}", why.join("; "))),
        Verdict::Paths(hits) => {
            let found = hits.iter().filter(|h| h.found).count();
            let summary = match hits.iter().find(|h| h.found) {
                Some(h) => format!("{found} path(s) found, first: {}", describe(h)),
                None => format!("{} path(s) undecided, first: {}", hits.len(), describe(&hits[0])),
            };
            (hits.iter().map(hit_json).collect(), summary)
        }
    };
    // Roles, transitively, across every account of the sources: those allowed are followed.
    let (assumable, walk_gaps) = walk(inv, arn, &|_, _| false, false)?;
    gaps.extend(walk_gaps);
    gaps.sort();
    gaps.dedup();
    Ok(BlastRadius {
        cloud: "aws",
        principal: arn.to_string(),
        account: account_id.to_string(),
        kind,
        names: Vec::new(),
        administrator,
        gaps,
        permissions,
        services,
        assumable_roles: assumable,
        escalations,
        escalation_summary,
        holds: Vec::new(),
        identities: Vec::new(),
    })
}

/// Every role the user or role `arn` could assume, transitively and across every account of the
/// inventory, as the evaluator decides each `sts:AssumeRole` (its identity policies, boundary and
/// SCPs, and the role's trust policy): `allowed` or `undecided`. Unlike [`blast_radius`], a role
/// reached only under undecided conditions is followed too (what it could assume in turn counts),
/// and the second list names what the inventory lacks among the policies that could grant one of
/// these steps (an unreadable identity policy, a group the details do not hold), so that a caller
/// can tell "assumes nothing" from "could not be told".
///
/// `ignore` drops statements of the starting principal's own identity policies (by policy name and
/// statement): `verify` asks what the principal could assume *before* its lockout, since a role
/// session obtained then outlives a deny-all attached since.
pub fn assumable_roles(inv: &AwsInventory, arn: &str, ignore: &dyn Fn(&str, &crate::policy::document::Statement) -> bool) -> Result<(Vec<Assumable>, Vec<String>), BlastError> {
    walk(inv, arn, ignore, true)
}

/// The walk behind [`assumable_roles`] and [`blast_radius`]: a role reached under undecided
/// conditions is followed only when `follow_undecided`.
fn walk(inv: &AwsInventory, arn: &str, ignore: &dyn Fn(&str, &crate::policy::document::Statement) -> bool, follow_undecided: bool) -> Result<(Vec<Assumable>, Vec<String>), BlastError> {
    let account_id = account_of(arn).ok_or_else(|| BlastError::NotFound(arn.to_string()))?;
    let account = inv.accounts.iter().find(|a| a.account_id == account_id).ok_or_else(|| BlastError::NotFound(arn.to_string()))?;
    let mut views: HashMap<String, AccountView> = HashMap::new();
    let view = AccountView::new(&inv.organization, account).map_err(|e| BlastError::Unreadable { account: account_id.to_string(), why: e.to_string() })?;
    if view.actor(arn).is_none() {
        return Err(BlastError::NotFound(arn.to_string()));
    }
    // The starting principal's identity policies without the ignored statements.
    let kept: Vec<(String, crate::policy::document::PolicyDocument)> = view
        .actor(arn)
        .map(|a| a.gathered.policies.identity.iter().map(|n| (n.name.to_string(), crate::policy::document::PolicyDocument { statements: n.document.statements.iter().filter(|st| !ignore(n.name, st)).cloned().collect(), ..n.document.clone() })).collect())
        .unwrap_or_default();
    let start_identity: Vec<Named> = kept.iter().map(|(name, document)| Named { name, document }).collect();
    views.insert(account_id.to_string(), view);
    let roles = RoleIndex::new(inv);
    let mut out = Vec::new();
    // Roles the index cannot hold: an account whose roles were not read, a trust policy unread.
    let mut gaps: Vec<String> = Vec::new();
    for a in &inv.accounts {
        match a.authorization_details.get().map(|d| d.roles().map(|r| (r, d))) {
            Some(Ok((list, d))) => {
                gaps.extend(list.iter().filter(|r| r.trust_policy.is_none()).map(|r| format!("the trust policy of {} could not be read", r.arn)));
                gaps.extend(d.invalid_in(crate::inventory::aws::AuthorizationDetails::ROLES).map(|i| format!("account {}: role {} could not be read ({})", a.account_id, i.place, i.error)));
            }
            Some(Err(m)) => gaps.push(format!("account {}: {m}", a.account_id)),
            None => gaps.push(format!("account {}: its roles were not read ({})", a.account_id, a.authorization_details.state().label())),
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    seen.insert(arn.to_string());
    let mut queue: VecDeque<(String, Vec<String>)> = VecDeque::new();
    queue.push_back((arn.to_string(), Vec::new()));
    while let Some((caller_arn, chain)) = queue.pop_front() {
        let Some(caller_acct_id) = account_of(&caller_arn).map(str::to_string) else { continue };
        if !views.contains_key(&caller_acct_id) {
            match inv.accounts.iter().find(|a| a.account_id == caller_acct_id).map(|a| AccountView::new(&inv.organization, a)) {
                Some(Ok(v)) => {
                    views.insert(caller_acct_id.clone(), v);
                }
                Some(Err(e)) => {
                    gaps.push(format!("account {caller_acct_id}: {e}"));
                    continue;
                }
                None => continue,
            }
        }
        let Some(cv) = views.get(&caller_acct_id) else { continue };
        let Some(caller) = cv.actor(&caller_arn) else { continue };
        let ctx = cv.context(caller).with("aws:RequestedRegion", &["us-east-1"]);
        let cg = &caller.gathered;
        gaps.extend(cg.gaps.iter().map(|g| format!("{caller_arn}: {g}")));
        // Roles its policies name in accounts that were not read (a named account, or any): their
        // trust and sessions are unknown.
        let identity = if caller_arn == arn { &start_identity } else { &cg.policies.identity };
        for st in identity.iter().flat_map(|n| n.document.statements.iter()).filter(|s| s.effect == Effect::Allow && s.covers_action("sts:AssumeRole")) {
            for pattern in st.resource.iter().flatten() {
                if let Some(x) = Arn::parse(pattern).filter(|x| x.service == "iam") {
                    if !inv.accounts.iter().any(|a| a.account_id == x.account) {
                        gaps.push(format!("{caller_arn} may assume {pattern}, in an account that was not read"));
                    }
                }
            }
        }
        for (role_account, role) in roles.candidates(&caller_arn, &caller_acct_id) {
            if seen.contains(&role.arn) {
                continue;
            }
            let Some(trust) = &role.trust_policy else { continue };
            let policies = Policies {
                identity: if caller_arn == arn { start_identity.clone() } else { cg.policies.identity.clone() },
                boundary: cg.policies.boundary,
                scps: cv.scps().clone(),
                resource: Some((Named { name: &role.arn, document: trust }, role_account)),
                resource_required: true,
                ..Default::default()
            };
            let e = evaluate(&cg.caller, &Request { action: "sts:AssumeRole", resource: &role.arn, context: &ctx }, &policies);
            let decision = match e.decision {
                Decision::Allowed => "allowed",
                Decision::Undecided => "undecided",
                _ => continue,
            };
            seen.insert(role.arn.clone());
            let mut via = chain.clone();
            if caller_arn != arn {
                via.push(caller_arn.clone());
            }
            out.push(Assumable {
                role: role.arn.clone(),
                account: role_account.to_string(),
                via: via.clone(),
                decision,
                undecided: e.undecided.clone(),
                administrator: "maybe",
                granted_by: e.because.iter().map(|c| format!("{} {} statement {}", c.layer.label(), c.policy, c.statement)).collect(),
            });
            if follow_undecided || decision == "allowed" {
                queue.push_back((role.arn.clone(), via));
            }
        }
    }
    // A role not followed (undecided) may sit in an account no caller was in.
    for a in &out {
        if !views.contains_key(&a.account) {
            if let Some(Ok(v)) = inv.accounts.iter().find(|x| x.account_id == a.account).map(|x| AccountView::new(&inv.organization, x)) {
                views.insert(a.account.clone(), v);
            }
        }
    }
    for a in out.iter_mut() {
        if let Some((v, r)) = views.get(&a.account).and_then(|v| v.actor(&a.role).map(|r| (v, r))) {
            a.administrator = label(&v.admin(r, &r.gathered.policies.identity, r.gathered.policies.boundary, &r.gathered.gaps));
        }
    }
    gaps.sort();
    gaps.dedup();
    Ok((out, gaps))
}

/// Every role whose trust policy could admit `arn` (naming it, its account, or anyone), whatever
/// the principal's own policies allow: what a principal that no longer exists could have assumed,
/// judged from the trust side alone.
///
/// IAM rewrites a trust policy's principal to its unique id (`AIDA…` for a user, `AROA…` for a
/// role) once that principal is deleted, and the id of a deleted principal is in no inventory: every
/// role whose trust names an id of that kind could have admitted it. A trust naming it by ARN in
/// another case, with a path, or through an assumed-role session ARN names it too.
pub fn roles_trusting<'a>(inv: &'a AwsInventory, arn: &str) -> Vec<(&'a str, &'a IamRole)> {
    let account = account_of(arn).unwrap_or_default();
    let ix = RoleIndex::new(inv);
    let mut v = ix.candidates(arn, account);
    let me = identity_of(arn);
    for (p, roles) in &ix.by_arn {
        if me.is_some() && identity_of(p) == me {
            v.extend(roles.iter().copied());
        }
    }
    let prefix = match me.as_ref().map(|(_, kind, _)| kind.as_str()) {
        Some("user") => Some("AIDA"),
        Some("role") => Some("AROA"),
        _ => None,
    };
    v.extend(ix.by_id.iter().filter(|(id, _)| prefix.is_none_or(|x| id.starts_with(x))).map(|(_, e)| *e));
    v.sort_by(|a, b| a.1.arn.cmp(&b.1.arn));
    v.dedup_by(|a, b| a.1.arn == b.1.arn);
    v
}

/// An IAM user's or role's identity as IAM compares it: account, kind and name ignoring case; the
/// path and the partition are not part of it, and an assumed-role session is its role.
fn identity_of(arn: &str) -> Option<(String, String, String)> {
    let x = Arn::parse(arn)?;
    let (kind, rest) = x.resource.split_once('/')?;
    let name = match (x.service, kind) {
        ("iam", "user") | ("iam", "role") => rest.rsplit('/').next()?,
        ("sts", "assumed-role") => rest.split('/').next()?,
        _ => return None,
    };
    let kind = if kind == "assumed-role" { "role" } else { kind };
    (!name.is_empty()).then(|| (x.account.to_string(), kind.to_string(), name.to_ascii_lowercase()))
}

/// A principal's unique id as IAM shows it in a policy once the principal is deleted (`AIDA…`,
/// `AROA…`): upper-case letters and digits, no ARN.
fn is_unique_id(p: &str) -> bool {
    p.len() >= 16 && p.starts_with('A') && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn label(a: &Admin) -> &'static str {
    match a {
        Admin::Yes => "yes",
        Admin::Maybe(_) => "maybe",
        Admin::No => "no",
    }
}

/// Roles indexed by who their trust policy names: an ARN, an account, or anyone.
struct RoleIndex<'a> {
    by_arn: HashMap<&'a str, Vec<(&'a str, &'a IamRole)>>,
    by_account: HashMap<String, Vec<(&'a str, &'a IamRole)>>,
    open: Vec<(&'a str, &'a IamRole)>,
    /// Roles whose trust names a principal by unique id (a deleted one).
    by_id: Vec<(&'a str, (&'a str, &'a IamRole))>,
}

impl<'a> RoleIndex<'a> {
    fn new(inv: &'a AwsInventory) -> RoleIndex<'a> {
        let mut ix = RoleIndex { by_arn: HashMap::new(), by_account: HashMap::new(), open: Vec::new(), by_id: Vec::new() };
        for a in &inv.accounts {
            let Some(d) = a.authorization_details.get() else { continue };
            for r in &d.roles {
                let Some(doc) = &r.trust_policy else { continue };
                let entry = (a.account_id.as_str(), r);
                let mut open = false;
                for s in doc.statements.iter().filter(|s| s.effect == Effect::Allow && s.covers_action("sts:AssumeRole")) {
                    match (&s.principal, &s.not_principal) {
                        (Some(Principal::Any), _) | (None, Some(_)) => open = true,
                        (Some(Principal::Map { aws, .. }), _) => {
                            for p in aws {
                                if p == "*" {
                                    open = true;
                                } else if crate::policy::arn::is_account_id(p) {
                                    ix.by_account.entry(p.clone()).or_default().push(entry);
                                } else if is_unique_id(p) {
                                    ix.by_id.push((p.as_str(), entry));
                                } else if let Some(x) = Arn::parse(p) {
                                    if x.resource == "root" {
                                        ix.by_account.entry(x.account.to_string()).or_default().push(entry);
                                    } else {
                                        ix.by_arn.entry(p.as_str()).or_default().push(entry);
                                    }
                                }
                            }
                        }
                        (None, None) => {}
                    }
                }
                if open {
                    ix.open.push(entry);
                }
            }
        }
        ix
    }

    fn candidates(&self, arn: &str, account: &str) -> Vec<(&'a str, &'a IamRole)> {
        let mut v: Vec<(&'a str, &'a IamRole)> = self.by_arn.get(arn).into_iter().flatten().chain(self.by_account.get(account).into_iter().flatten()).chain(self.open.iter()).copied().collect();
        v.sort_by(|a, b| a.1.arn.cmp(&b.1.arn));
        v.dedup_by(|a, b| a.1.arn == b.1.arn);
        v
    }
}

fn permissions<'a>(view: &AccountView<'a>, actor: &Actor<'a>) -> Vec<Permission> {
    let g = &actor.gathered;
    let ctx = view.context(actor).with("aws:RequestedRegion", &["us-east-1"]);
    let policies = Policies { identity: g.policies.identity.clone(), boundary: g.policies.boundary, scps: view.scps().clone(), ..Default::default() };
    let mut out = Vec::new();
    for (risk, actions) in RISKS {
        for action in *actions {
            let service = action.split(':').next().unwrap_or_default().to_string();
            let e = evaluate(&g.caller, &Request { action, resource: "*", context: &ctx }, &policies);
            let cite = |e: &crate::policy::eval::Evaluation| e.because.iter().map(|c| format!("{} {} statement {}", c.layer.label(), c.policy, c.statement)).collect::<Vec<_>>();
            match e.decision {
                Decision::Allowed => out.push(Permission { risk, service, action: action.to_string(), decision: "allowed".into(), resources: Vec::new(), granted_by: cite(&e), undecided: Vec::new() }),
                Decision::Undecided => out.push(Permission { risk, service, action: action.to_string(), decision: "undecided".into(), resources: Vec::new(), granted_by: cite(&e), undecided: e.undecided.clone() }),
                _ => {
                    // The resources its own grants name for the action.
                    let mut some = Vec::new();
                    let mut by = Vec::new();
                    for s in g.policies.identity.iter().flat_map(|n| n.document.statements.iter()).filter(|s| s.effect == Effect::Allow && s.covers_action(action)) {
                        for pattern in s.resource.iter().flatten().filter(|p| p.as_str() != "*") {
                            let concrete = pattern.replace(['*', '?'], "x");
                            let e = evaluate(&g.caller, &Request { action, resource: &concrete, context: &ctx }, &policies);
                            if e.decision == Decision::Allowed && !some.contains(pattern) {
                                some.push(pattern.clone());
                                by.extend(cite(&e));
                            }
                        }
                    }
                    if !some.is_empty() {
                        by.sort();
                        by.dedup();
                        out.push(Permission { risk, service, action: action.to_string(), decision: "allowed on some resources".into(), resources: some, granted_by: by, undecided: Vec::new() });
                    }
                }
            }
        }
    }
    out
}

/// Services the principal's allows name (an action prefix, or every service for `*`).
fn services(actor: &Actor) -> Vec<String> {
    let mut set: BTreeMap<String, ()> = BTreeMap::new();
    for s in actor.gathered.policies.identity.iter().flat_map(|n| n.document.statements.iter()).filter(|s| s.effect == Effect::Allow) {
        match (&s.action, &s.not_action) {
            (Some(list), _) => {
                for a in list {
                    let svc = if a == "*" { "*" } else { a.split(':').next().unwrap_or_default() };
                    set.insert(svc.to_ascii_lowercase(), ());
                }
            }
            (None, Some(_)) => {
                set.insert("* (NotAction)".into(), ());
            }
            _ => {}
        }
    }
    set.into_keys().collect()
}

/// One escalation hit as JSON (the check's evidence and the blast radius share it).
pub fn hit_json(h: &Hit) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = h
        .steps
        .iter()
        .map(|s| {
            let by: Vec<String> = s.because.iter().map(|c| format!("{} {} statement {}", c.layer.label(), c.policy, c.statement)).collect();
            serde_json::json!({"action": s.action, "resource": s.resource, "decision": format!("{:?}", s.decision), "granted_by": by})
        })
        .collect();
    let mut v = serde_json::json!({
        "id": h.path.id,
        "title": h.path.title,
        "category": h.path.category.as_str(),
        "via": h.subject,
        "found": h.found,
        "steps": steps,
    });
    if let Some(p) = &h.path.pathfinding {
        v["pathfinding"] = serde_json::json!(p);
    }
    if let Some(r) = &h.requires {
        v["requires"] = serde_json::json!(r);
    }
    if !h.undecided.is_empty() {
        v["undecided"] = serde_json::json!(h.undecided);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_administrator_reaches_its_accounts_roles() {
        let inv = crate::demo::inventory().expect("demo");
        let catalogue = crate::reach::paths::aws().expect("catalogue");
        let b = blast_radius(&inv.aws, "arn:aws:iam::111122223333:user/alice", catalogue).expect("alice");
        assert_eq!((b.kind, b.administrator), ("user", "yes"));
        assert!(b.permissions.iter().any(|p| p.action == "iam:CreateAccessKey" && p.decision == "allowed"));
        // The root's SCP denies leaving the organization to everyone in the account.
        assert!(!b.permissions.iter().any(|p| p.action == "organizations:LeaveOrganization"), "{:?}", b.permissions);
        assert!(!b.assumable_roles.is_empty(), "an administrator may assume the roles that trust its account");
        assert!(b.assumable_roles.iter().all(|r| r.role != b.principal));
        assert_eq!(blast_radius(&inv.aws, "arn:aws:iam::111122223333:user/nobody", catalogue).unwrap_err(), BlastError::NotFound("arn:aws:iam::111122223333:user/nobody".into()));
    }
}
