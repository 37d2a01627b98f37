//! Privilege escalation in one AWS account: which principals that are not administrators can make
//! themselves administrators, by which catalogued path ([`super::paths`]), and which statements
//! grant each step. Everything is decided from the inventory with [`crate::policy::eval`].
//!
//! - An *administrator* is a principal whose identity policies, within its permissions boundary,
//!   allow a set of probe actions across services on every resource. SCPs are left out of that
//!   question (they bind every principal of the account alike) but not out of the steps: an SCP
//!   that denies a step blocks the path.
//! - A path is *found* when every step is allowed for one subject and the result is an
//!   administrator. It is *undecided* when no step is denied but some condition cannot be decided
//!   from the inventory (the conditions are named). Otherwise it is not there.
//! - A principal with an identity policy the inventory lacks is not evaluated. A missing boundary
//!   or SCP can only hide a denial: paths found are reported with that caveat, and "no path" stays
//!   a sound answer.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use super::aws::{scp_levels, AccountIndex, GatherError, Gathered};
use super::paths::{ActorKind, EscalationPath, Outcome, Subject, Target};
use crate::inventory::aws::{AwsAccount, AwsOrganization, IamGroup, IamRole, IamUser};
use crate::inventory::Collected;
use crate::policy::arn::{wildcard_match, Arn};
use crate::policy::document::{Effect, Principal, Statement};
use crate::policy::eval::{evaluate, Cite, Context, Decision, Named, Policies, Request};
use crate::policy::PolicyDocument;

/// Actions an administrator may perform on every resource (asked on `*`).
pub const ADMIN_PROBES: &[&str] = &[
    "iam:PutUserPolicy",
    "iam:AttachRolePolicy",
    "iam:CreateAccessKey",
    "iam:PassRole",
    "sts:AssumeRole",
    "ec2:RunInstances",
    "lambda:UpdateFunctionCode",
    "s3:GetObject",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "organizations:ListAccounts",
    "cloudtrail:StopLogging",
];

/// The name a new resource gets in the candidates a step is asked on.
const PROBE_NAME: &str = "portcullis-probe";
/// At most this many candidate resources per step.
const MAX_CANDIDATES: usize = 24;

/// Whether a principal is an administrator.
#[derive(Debug, Clone, PartialEq)]
pub enum Admin {
    Yes,
    /// It depends on conditions the inventory cannot decide, or on policies it lacks.
    Maybe(Vec<String>),
    No,
}

/// The outcome of one step, for the subject it was asked on.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    /// The statements that grant it (or, undecided, whose conditions decide it).
    pub because: Vec<Cite>,
    pub undecided: Vec<String>,
}

/// A path a principal has, for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<'p> {
    pub path: &'p EscalationPath,
    /// The principal, group or policy the path acts on (its ARN); the actor itself for `self`.
    pub subject: String,
    /// `true`: every step is allowed and the result is an administrator.
    pub found: bool,
    pub steps: Vec<StepOutcome>,
    /// Conditions that keep an undecided path undecided (`Operator key`, or a missing policy).
    pub undecided: Vec<String>,
    /// What must also exist (from the path's `requires`, with the role named).
    pub requires: Option<String>,
}

/// What a principal can do about becoming an administrator.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<'p> {
    /// Already an administrator.
    Admin,
    /// Paths found (first) and undecided ones.
    Paths(Vec<Hit<'p>>),
    /// No path.
    None,
    /// Policies that can grant are missing: nothing can be said.
    NotEvaluated(Vec<String>),
}

/// One principal as the engine sees it.
pub struct Actor<'a> {
    /// Its place among the account's principals (users first, then roles).
    pub index: usize,
    pub gathered: Gathered<'a>,
    pub user: Option<&'a IamUser>,
    pub role: Option<&'a IamRole>,
}

impl<'a> Actor<'a> {
    pub fn arn(&self) -> &'a str {
        self.gathered.caller.arn
    }
    pub fn name(&self) -> &'a str {
        self.user.map(|u| u.name.as_str()).or(self.role.map(|r| r.name.as_str())).unwrap_or_default()
    }
}

/// One account, indexed for escalation questions.
pub struct AccountView<'a> {
    pub index: AccountIndex<'a>,
    pub account_id: &'a str,
    partition: &'a str,
    scps: Option<Cow<'a, [Vec<Named<'a>>]>>,
    pub scp_gaps: Vec<String>,
    org_id: Option<Option<&'a str>>,
    regions: Vec<&'a str>,
    pub users: Vec<Actor<'a>>,
    pub roles: Vec<Actor<'a>>,
    admin_policy: &'static PolicyDocument,
    /// `iam:PolicyARN` values an attaching step may use: AWS's `AdministratorAccess` and the
    /// account's customer managed policies that allow everything.
    admin_policy_arns: Vec<String>,
    admin_memo: RefCell<HashMap<Vec<usize>, Admin>>,
    cover_memo: RefCell<HashMap<Vec<usize>, std::rc::Rc<Vec<bool>>>>,
    context_free: RefCell<HashMap<usize, bool>>,
    prepared: RefCell<Option<(usize, std::rc::Rc<Prepared>)>>,
    /// Roles whose trust policy names a principal of the account by ARN, by that ARN, and roles
    /// whose trust policy admits any principal (`*`, `NotPrincipal`): the only roles a principal
    /// can assume without an identity policy allowing `sts:AssumeRole`.
    trusted_by_arn: HashMap<&'a str, Vec<usize>>,
    open_trust: Vec<usize>,
    /// Per principal: whether it is an administrator as it is, and with an administrator policy
    /// added (asked of every subject of every path: computed once).
    subject_admin: RefCell<Vec<[Option<Admin>; 2]>>,
}

struct Prepared {
    actions: Vec<String>,
    /// Per path, its steps' indexes in `actions`.
    steps: Vec<Vec<usize>>,
    /// The index of `sts:AssumeRole`.
    assume: usize,
}

fn allow_everything() -> &'static PolicyDocument {
    static DOC: std::sync::OnceLock<PolicyDocument> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        PolicyDocument::parse_str(r#"{"Version":"2012-10-17","Statement":[{"Sid":"AdministratorAccess","Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            .unwrap_or_default()
    })
}

fn ptr(d: &PolicyDocument) -> usize {
    d as *const PolicyDocument as usize
}

impl<'a> AccountView<'a> {
    pub fn new(org: &'a Collected<Option<AwsOrganization>>, account: &'a AwsAccount) -> Result<AccountView<'a>, GatherError> {
        let index = AccountIndex::new(account)?;
        let users_list = index.details.users().map_err(GatherError::Missing)?;
        let roles_list = index.details.roles().map_err(GatherError::Missing)?;
        let (scps, scp_gaps) = scp_levels(org, &account.account_id);
        let org_id = match org {
            Collected::Collected(Some(o)) if o.contains_account(&account.account_id) => Some(Some(o.id.as_str())),
            Collected::Collected(_) => Some(None),
            _ => None,
        };
        let partition = users_list
            .iter()
            .map(|u| u.arn.as_str())
            .chain(roles_list.iter().map(|r| r.arn.as_str()))
            .find_map(|a| Arn::parse(a).map(|x| x.partition))
            .unwrap_or("aws");
        let mut regions: Vec<&str> = vec![default_region(partition)];
        for r in &account.regions {
            if !regions.contains(&r.region.as_str()) {
                regions.push(&r.region);
            }
        }
        let users: Vec<Actor> = users_list.iter().enumerate().map(|(i, u)| Actor { index: i, gathered: index.user(u), user: Some(u), role: None }).collect();
        let mut trusted_by_arn: HashMap<&'a str, Vec<usize>> = HashMap::new();
        let mut open_trust = Vec::new();
        for (i, r) in roles_list.iter().enumerate() {
            let Some(doc) = &r.trust_policy else {
                open_trust.push(i); // unreadable: every principal is a candidate (decided as undecided)
                continue;
            };
            let mut open = false;
            for st in doc.statements.iter().filter(|st| st.effect == Effect::Allow) {
                match (&st.principal, &st.not_principal) {
                    (Some(Principal::Any), _) | (None, Some(_)) => open = true,
                    (Some(Principal::Map { aws, .. }), _) => {
                        for a in aws {
                            if a == "*" {
                                open = true;
                            } else if a.contains(":user/") || a.contains(":role/") {
                                trusted_by_arn.entry(a.as_str()).or_default().push(i);
                            }
                        }
                    }
                    (None, None) => {}
                }
            }
            if open {
                open_trust.push(i);
            }
        }
        let roles: Vec<Actor> = roles_list.iter().enumerate().map(|(i, r)| Actor { index: users.len() + i, gathered: index.role(r), user: None, role: Some(r) }).collect();
        let subject_admin = RefCell::new(vec![[None, None]; users.len() + roles.len()]);
        let mut admin_policy_arns = vec![format!("arn:{partition}:iam::aws:policy/AdministratorAccess")];
        for p in &index.details.policies {
            if p.document.as_ref().is_some_and(|d| d.statements.iter().any(|s| s.effect == Effect::Allow && s.conditions.is_empty() && s.covers_action("*") && s.resource.as_ref().is_some_and(|r| r.iter().any(|x| x == "*")))) && !admin_policy_arns.contains(&p.arn) {
                admin_policy_arns.push(p.arn.clone());
            }
        }
        Ok(AccountView {
            account_id: &account.account_id,
            index,
            partition,
            scps,
            scp_gaps,
            org_id,
            regions,
            users,
            roles,
            admin_policy: allow_everything(),
            admin_policy_arns,
            admin_memo: RefCell::new(HashMap::new()),
            cover_memo: RefCell::new(HashMap::new()),
            context_free: RefCell::new(HashMap::new()),
            prepared: RefCell::new(None),
            trusted_by_arn,
            open_trust,
            subject_admin,
        })
    }

    /// The SCP levels over the account (`None`: none apply).
    pub fn scps(&self) -> &Option<Cow<'a, [Vec<Named<'a>>]>> {
        &self.scps
    }

    /// Every principal: users, then roles.
    pub fn actors(&self) -> impl Iterator<Item = &Actor<'a>> {
        self.users.iter().chain(self.roles.iter())
    }

    pub fn actor(&self, arn: &str) -> Option<&Actor<'a>> {
        self.actors().find(|a| a.arn() == arn)
    }

    /// What is known of a request `actor` makes, before the action's own keys.
    pub fn context(&self, actor: &Actor) -> Context {
        let c = actor.gathered.caller.clone();
        let mut ctx = Context::new()
            .with("aws:PrincipalArn", &[c.arn])
            .with("aws:PrincipalAccount", &[c.account])
            .with("aws:PrincipalIsAWSService", &["false"])
            .with("aws:ViaAWSService", &["false"])
            .without("aws:CalledVia")
            .with("aws:SecureTransport", &["true"])
            .complete("aws:PrincipalTag/");
        match (actor.user, actor.role) {
            (Some(u), _) => {
                ctx = ctx.with("aws:PrincipalType", &["User"]).with("aws:username", &[&u.name]).with("aws:userid", &[&u.id]);
                for (k, v) in &u.tags {
                    ctx = ctx.with(&format!("aws:PrincipalTag/{k}"), &[v]);
                }
            }
            (None, Some(r)) => {
                ctx = ctx.with("aws:PrincipalType", &["AssumedRole"]).without("aws:username");
                for (k, v) in &r.tags {
                    ctx = ctx.with(&format!("aws:PrincipalTag/{k}"), &[v]);
                }
            }
            (None, None) => {}
        }
        match self.org_id {
            Some(Some(id)) => ctx.with("aws:PrincipalOrgID", &[id]),
            Some(None) => ctx.without("aws:PrincipalOrgID").without("aws:PrincipalOrgPaths"),
            None => ctx,
        }
    }

    /// Whether a document decides the same for every principal of the account: no policy
    /// variable, and no condition on a key that differs between them (its ARN, name, id, type or
    /// tags). Other condition keys are asked the same way for every principal.
    fn is_context_free(&self, d: &PolicyDocument) -> bool {
        const PER_PRINCIPAL: &[&str] = &["aws:principalarn", "aws:username", "aws:userid", "aws:principaltag/", "aws:principaltype"];
        *self.context_free.borrow_mut().entry(ptr(d)).or_insert_with(|| {
            d.statements.iter().all(|s| {
                let variables = s.resource.iter().chain(s.not_resource.iter()).flatten().any(|r| r.contains("${"));
                let per_principal = s.conditions.iter().any(|c| {
                    let k = c.key.to_ascii_lowercase();
                    PER_PRINCIPAL.iter().any(|p| k.starts_with(p)) || c.values.iter().any(|v| v.contains("${"))
                });
                !variables && !per_principal
            })
        })
    }

    /// Whether a principal with these identity policies and boundary is an administrator.
    pub fn admin(&self, actor: &Actor, identity: &[Named], boundary: Option<Named>, gaps: &[String]) -> Admin {
        let mut key: Vec<usize> = identity.iter().map(|n| ptr(n.document)).collect();
        key.sort_unstable();
        key.push(boundary.map(|b| ptr(b.document)).unwrap_or(0));
        key.push(usize::from(actor.gathered.caller.is_user));
        let free = identity.iter().chain(boundary.iter()).all(|n| self.is_context_free(n.document));
        if !free {
            // Conditions may read the principal's own keys: one entry per principal.
            key.push(actor.arn().as_ptr() as usize);
        }
        if let Some(a) = self.admin_memo.borrow().get(&key) {
            return with_gaps(a.clone(), gaps);
        }
        let ctx = self.context(actor).with("aws:RequestedRegion", &[default_region(self.partition)]);
        let policies = Policies { identity: identity.to_vec(), boundary, ..Default::default() };
        let mut open = Vec::new();
        let mut answer = Admin::Yes;
        for action in ADMIN_PROBES {
            let e = evaluate(&actor.gathered.caller, &Request { action, resource: "*", context: &ctx }, &policies);
            match e.decision {
                Decision::Allowed => {}
                Decision::Undecided => open.extend(e.undecided),
                Decision::ExplicitlyDenied | Decision::ImplicitlyDenied => {
                    answer = Admin::No;
                    break;
                }
            }
        }
        if answer == Admin::Yes && !open.is_empty() {
            open.sort();
            open.dedup();
            answer = Admin::Maybe(open);
        }
        self.admin_memo.borrow_mut().insert(key, answer.clone());
        with_gaps(answer, gaps)
    }

    /// The catalogue's distinct actions, and each path's steps as indexes into them: built on the
    /// first question, for the catalogue asked.
    fn prepared(&self, catalogue: &[EscalationPath]) -> std::rc::Rc<Prepared> {
        let key = catalogue.as_ptr() as usize;
        if let Some((k, p)) = &*self.prepared.borrow() {
            if *k == key {
                return p.clone();
            }
        }
        let mut actions: Vec<String> = catalogue.iter().flat_map(|p| p.steps.iter().map(|s| s.action.clone())).collect();
        actions.sort_unstable();
        actions.dedup();
        let at = |a: &str| actions.iter().position(|x| x == a).unwrap_or(usize::MAX);
        let steps = catalogue.iter().map(|p| p.steps.iter().map(|s| at(&s.action)).collect()).collect();
        let assume = at("sts:AssumeRole");
        let p = std::rc::Rc::new(Prepared { steps, assume, actions });
        *self.prepared.borrow_mut() = Some((key, p.clone()));
        p
    }

    /// Whether the actor's identity policies allow each action somewhere (no resource or
    /// condition asked): a cheap filter before the paths' steps are evaluated.
    fn covered(&self, actor: &Actor, actions: &[String]) -> std::rc::Rc<Vec<bool>> {
        let mut key: Vec<usize> = actor.gathered.policies.identity.iter().map(|n| ptr(n.document)).collect();
        key.sort_unstable();
        if let Some(c) = self.cover_memo.borrow().get(&key) {
            return c.clone();
        }
        let allows: Vec<&Statement> = actor.gathered.policies.identity.iter().flat_map(|n| n.document.statements.iter()).filter(|s| s.effect == Effect::Allow).collect();
        let v = std::rc::Rc::new(actions.iter().map(|a| allows.iter().any(|s| s.covers_action(a))).collect::<Vec<bool>>());
        self.cover_memo.borrow_mut().insert(key, v.clone());
        v
    }

    /// The actor's verdict against every path of `catalogue`.
    pub fn escalations<'p>(&self, actor: &Actor<'a>, catalogue: &'p [EscalationPath]) -> Verdict<'p> {
        let g = &actor.gathered;
        if !g.gaps.is_empty() {
            return Verdict::NotEvaluated(g.gaps.clone());
        }
        if self.admin(actor, &g.policies.identity, g.policies.boundary, &[]) == Admin::Yes {
            return Verdict::Admin;
        }
        let prepared = self.prepared(catalogue);
        let covered = self.covered(actor, &prepared.actions);
        let mut base: Option<Context> = None;
        let mut hits = Vec::new();
        for (path, steps) in catalogue.iter().zip(&prepared.steps) {
            let kind_ok = match path.actor {
                ActorKind::Any => true,
                ActorKind::User => actor.user.is_some(),
                ActorKind::Role => actor.role.is_some(),
            };
            // sts:AssumeRole can be granted by the role's trust policy alone.
            if !kind_ok || !steps.iter().all(|&i| covered[i] || i == prepared.assume) {
                continue;
            }
            let base = base.get_or_insert_with(|| self.context(actor));
            if let Some(hit) = self.path(actor, path, base, covered[prepared.assume]) {
                hits.push(hit);
            }
        }
        if hits.is_empty() {
            return Verdict::None;
        }
        hits.sort_by_key(|h| !h.found);
        Verdict::Paths(hits)
    }

    /// The best subject for one path: the first found, else the first undecided.
    fn path<'p>(&self, actor: &Actor<'a>, path: &'p EscalationPath, base: &Context, may_assume: bool) -> Option<Hit<'p>> {
        let mut undecided: Option<Hit<'p>> = None;
        // A path that assumes its subject role, for an actor no identity policy lets assume roles:
        // only the roles whose trust policy admits it directly can be its subject.
        let assumes = path.steps.iter().any(|s| s.on == Target::Subject && s.action.eq_ignore_ascii_case("sts:AssumeRole"));
        let only = assumes && !may_assume && path.subject == Subject::Role;
        let subjects: Box<dyn Iterator<Item = Subj<'a, '_>>> = if only {
            let direct = self.trusted_by_arn.get(actor.arn()).into_iter().flatten();
            Box::new(direct.chain(self.open_trust.iter()).filter_map(|&i| self.roles.get(i)).filter(|r| r.arn() != actor.arn() && !is_service_linked(r)).map(Subj::Other))
        } else {
            self.subjects(actor, path)
        };
        for subject in subjects {
            let (result, why) = match self.result(actor, path, &subject) {
                Admin::No => continue,
                Admin::Yes => (true, Vec::new()),
                Admin::Maybe(w) => (false, w),
            };
            let mut steps = Vec::new();
            let mut blocked = false;
            let mut open = why;
            for step in &path.steps {
                let o = self.step(actor, path, step, &subject, base);
                match o.decision {
                    Decision::Allowed => {}
                    Decision::Undecided => open.extend(o.undecided.iter().cloned()),
                    _ => blocked = true,
                }
                steps.push(o);
                if blocked {
                    break;
                }
            }
            if blocked {
                continue;
            }
            open.sort();
            open.dedup();
            let found = result && steps.iter().all(|s| s.decision == Decision::Allowed);
            let requires = path.requires.as_ref().map(|r| r.replace("{role}", subject.name()));
            let hit = Hit { path, subject: subject.arn().to_string(), found, steps, undecided: open, requires };
            if found {
                return Some(hit);
            }
            if undecided.is_none() {
                undecided = Some(hit);
            }
        }
        undecided
    }

    fn subjects<'s>(&'s self, actor: &'s Actor<'a>, path: &EscalationPath) -> Box<dyn Iterator<Item = Subj<'a, 's>> + 's> {
        let me = actor.arn();
        match path.subject {
            Subject::Itself => Box::new(std::iter::once(Subj::Actor(actor))),
            Subject::OwnGroup => Box::new(actor.user.into_iter().flat_map(|u| u.groups.iter()).filter_map(|g| self.index.groups.get(g.as_str())).map(|g| Subj::Group(g))),
            Subject::OwnPolicy => {
                let mut arns: Vec<&'a str> = Vec::new();
                let own = actor.user.map(|u| &u.attached_policies).or(actor.role.map(|r| &r.attached_policies));
                arns.extend(own.into_iter().flatten().map(|p| p.arn.as_str()));
                for g in actor.user.into_iter().flat_map(|u| u.groups.iter()).filter_map(|g| self.index.groups.get(g.as_str())) {
                    arns.extend(g.attached_policies.iter().map(|p| p.arn.as_str()));
                }
                arns.retain(|a| !is_aws_managed(a));
                arns.dedup();
                Box::new(arns.into_iter().map(Subj::Policy))
            }
            Subject::Group => {
                let mine: Vec<&str> = actor.user.map(|u| u.groups.iter().map(String::as_str).collect()).unwrap_or_default();
                Box::new(self.index.details.groups.iter().filter(move |g| !mine.contains(&g.name.as_str())).map(Subj::Group))
            }
            Subject::User => Box::new(self.users.iter().filter(move |u| u.arn() != me).map(Subj::Other)),
            Subject::Role => Box::new(self.roles.iter().filter(move |r| r.arn() != me && !is_service_linked(r)).map(Subj::Other)),
            Subject::ServiceRole => {
                let service = path.service.clone().unwrap_or_default();
                let profile = path.instance_profile;
                Box::new(
                    self.roles
                        .iter()
                        .filter(move |r| r.arn() != me && !is_service_linked(r))
                        .filter(move |r| r.role.is_some_and(|x| (!profile || !x.instance_profiles.is_empty()) && trusts_service(x, &service)))
                        .map(Subj::Other),
                )
            }
        }
    }

    fn subject_admin_of(&self, who: &Actor, added: bool, f: impl FnOnce() -> Admin) -> Admin {
        if let Some(Some(a)) = self.subject_admin.borrow().get(who.index).map(|x| &x[usize::from(added)]) {
            return a.clone();
        }
        let a = f();
        if let Some(slot) = self.subject_admin.borrow_mut().get_mut(who.index) {
            slot[usize::from(added)] = Some(a.clone());
        }
        a
    }

    /// Whether the path leaves an administrator behind, for this subject.
    fn result(&self, actor: &Actor, path: &EscalationPath, subject: &Subj) -> Admin {
        let g = &actor.gathered;
        let with_admin = |who: &Actor| {
            self.subject_admin_of(who, true, || {
                let mut identity = who.gathered.policies.identity.clone();
                identity.push(Named { name: "AdministratorAccess", document: self.admin_policy });
                self.admin(who, &identity, who.gathered.policies.boundary, &who.gathered.limit_gaps)
            })
        };
        match (path.subject, subject) {
            (Subject::Itself | Subject::OwnGroup | Subject::OwnPolicy, _) => with_admin(actor),
            (Subject::Group, Subj::Group(group)) => {
                let mut identity = g.policies.identity.clone();
                let mut gaps = Vec::new();
                self.index.group_policies(group, &mut identity, &mut gaps);
                self.admin(actor, &identity, g.policies.boundary, &gaps)
            }
            (_, Subj::Other(who)) => match path.result {
                Some(Outcome::WithAddedPolicy) => with_admin(who),
                _ => self.subject_admin_of(who, false, || self.admin(who, &who.gathered.policies.identity, who.gathered.policies.boundary, &who.gathered.gaps)),
            },
            _ => Admin::No,
        }
    }

    fn step(&self, actor: &Actor<'a>, path: &EscalationPath, step: &super::paths::Step, subject: &Subj<'a, '_>, base: &Context) -> StepOutcome {
        let g = &actor.gathered;
        let global = step.action.to_ascii_lowercase().starts_with("iam:");
        let mut ctx = base.clone().with("aws:ResourceAccount", &[self.account_id]);
        if step.action.eq_ignore_ascii_case("iam:PassRole") {
            if let Some(s) = &path.service {
                ctx = ctx.with("iam:PassedToService", &[s]);
            }
        }
        let mut policies = Policies { identity: g.policies.identity.clone(), boundary: g.policies.boundary, scps: self.scps.clone(), ..Default::default() };
        // (resource, region, iam:PolicyARN)
        let mut asks: Vec<(String, &str, Option<&str>)> = Vec::new();
        let region0 = default_region(self.partition);
        match step.on {
            Target::Subject => asks.push((subject.arn().to_string(), region0, None)),
            Target::Itself => asks.push((actor.arn().to_string(), region0, None)),
            Target::SubjectPolicy => {
                if let Subj::Other(who) = subject {
                    for p in who.role.into_iter().flat_map(|r| r.attached_policies.iter()).filter(|p| !is_aws_managed(&p.arn)) {
                        asks.push((p.arn.clone(), region0, None));
                    }
                }
            }
            Target::New | Target::Existing => {
                let template = step.resource.as_deref().unwrap_or("*");
                for (arn, region) in self.candidates(template, &step.action, &g.policies.identity) {
                    asks.push((arn, region, None));
                }
            }
        }
        if step.attaches_admin_policy {
            asks = asks.into_iter().flat_map(|(r, reg, _)| self.admin_policy_arns.iter().map(move |p| (r.clone(), reg, Some(p.as_str())))).collect();
        }
        if asks.is_empty() {
            return StepOutcome { action: step.action.clone(), resource: String::new(), decision: Decision::ImplicitlyDenied, because: Vec::new(), undecided: vec!["no customer managed policy attached".into()] };
        }
        // sts:AssumeRole on a role: its trust policy is the resource policy.
        let trust = match (step.on, subject) {
            (Target::Subject, Subj::Other(who)) if step.action.eq_ignore_ascii_case("sts:AssumeRole") => match who.role {
                Some(r) => match &r.trust_policy {
                    Some(doc) => Some((r, doc)),
                    None => {
                        let why = format!("the trust policy of role {} could not be read", r.name);
                        return StepOutcome { action: step.action.clone(), resource: r.arn.clone(), decision: Decision::Undecided, because: Vec::new(), undecided: vec![why] };
                    }
                },
                None => None,
            },
            _ => None,
        };
        if let Some((role, doc)) = trust {
            // Cited by the role's ARN: the trust policy is the role's resource policy.
            policies.resource = Some((Named { name: &role.arn, document: doc }, self.account_id));
            policies.resource_required = true;
        }
        let mut best: Option<StepOutcome> = None;
        for (resource, region, policy_arn) in asks {
            let mut c = ctx.clone().with("aws:RequestedRegion", &[if global { region0 } else { region }]);
            if let Some(p) = policy_arn {
                c = c.with("iam:PolicyARN", &[p]);
            }
            let e = evaluate(&g.caller, &Request { action: &step.action, resource: &resource, context: &c }, &policies);
            let o = StepOutcome { action: step.action.clone(), resource, decision: e.decision, because: e.because, undecided: e.undecided };
            if o.decision == Decision::Allowed {
                return o;
            }
            let better = match &best {
                None => true,
                Some(b) => o.decision == Decision::Undecided && b.decision != Decision::Undecided,
            };
            if better {
                best = Some(o);
            }
        }
        best.unwrap_or_else(|| StepOutcome { action: step.action.clone(), resource: String::new(), decision: Decision::ImplicitlyDenied, because: Vec::new(), undecided: Vec::new() })
    }

    /// Resources a new (or existing) resource could be, for `template`: the probe name in each
    /// known region, and each ARN the actor's own `Allow` statements for the action name.
    fn candidates(&self, template: &str, action: &str, identity: &[Named]) -> Vec<(String, &'a str)> {
        if template == "*" {
            return vec![("*".to_string(), self.regions[0])];
        }
        let fill = |region: &str| {
            template.replace("{partition}", self.partition).replace("{region}", region).replace("{account}", self.account_id).replace("{name}", PROBE_NAME)
        };
        let mut out: Vec<(String, &'a str)> = self.regions.iter().map(|r| (fill(r), *r)).collect();
        let shape = template.replace("{partition}", self.partition).replace("{region}", "*").replace("{account}", self.account_id).replace("{name}", "*");
        for s in identity.iter().flat_map(|n| n.document.statements.iter()) {
            if s.effect != Effect::Allow || !s.covers_action(action) {
                continue;
            }
            for pattern in s.resource.iter().flatten() {
                if pattern == "*" || pattern.contains("${") {
                    continue;
                }
                let parts: Vec<&str> = pattern.splitn(6, ':').collect();
                if parts.len() < 6 {
                    continue;
                }
                let concrete = |p: &str| p.replace(['*', '?'], "x");
                for region in self.regions.iter().filter(|r| wildcard_match(parts[3], r)) {
                    let arn = format!("{}:{}:{}:{}:{}:{}", parts[0], parts[1], parts[2], region, concrete(parts[4]), concrete(parts[5]));
                    if wildcard_match(&shape, &arn) && !out.iter().any(|(a, _)| *a == arn) {
                        out.push((arn, *region));
                    }
                }
                if out.len() >= MAX_CANDIDATES {
                    return out;
                }
            }
        }
        out
    }
}

/// What a path acts on.
enum Subj<'a, 's> {
    Actor(&'s Actor<'a>),
    Other(&'s Actor<'a>),
    Group(&'a IamGroup),
    Policy(&'a str),
}

impl Subj<'_, '_> {
    fn arn(&self) -> &str {
        match self {
            Subj::Actor(a) | Subj::Other(a) => a.arn(),
            Subj::Group(g) => &g.arn,
            Subj::Policy(p) => p,
        }
    }
    fn name(&self) -> &str {
        match self {
            Subj::Actor(a) | Subj::Other(a) => a.name(),
            Subj::Group(g) => &g.name,
            Subj::Policy(p) => p.rsplit('/').next().unwrap_or(p),
        }
    }
}

/// `a`, for a principal some of whose policies are missing: then "no" and "yes" are only "maybe"
/// (a missing policy may grant what the rest does not, or deny what it grants).
fn with_gaps(a: Admin, gaps: &[String]) -> Admin {
    match (a, gaps.is_empty()) {
        (a, true) => a,
        (Admin::No, false) => Admin::Maybe(gaps.to_vec()),
        (Admin::Yes, false) => Admin::Maybe(gaps.to_vec()),
        (Admin::Maybe(mut w), false) => {
            w.extend(gaps.iter().cloned());
            Admin::Maybe(w)
        }
    }
}

fn default_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

fn is_aws_managed(arn: &str) -> bool {
    Arn::parse(arn).is_some_and(|a| a.account == "aws")
}

fn is_service_linked(a: &Actor) -> bool {
    a.role.is_some_and(|r| r.path.starts_with("/aws-service-role/"))
}

/// Whether a role's trust policy lets `service` assume it.
fn trusts_service(role: &IamRole, service: &str) -> bool {
    role.trust_policy.as_ref().is_some_and(|d| {
        d.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.covers_action("sts:AssumeRole")
                && match &s.principal {
                    Some(Principal::Any) => true,
                    Some(Principal::Map { service: list, .. }) => list.iter().any(|x| x.eq_ignore_ascii_case(service)),
                    None => false,
                }
        })
    })
}

/// A short text of one hit: `lambda-001 (iam:PassRole + …) on role AdminRole`.
pub fn describe(hit: &Hit) -> String {
    let mut s = format!("{} ({}) via {}", hit.path.id, hit.path.actions(), hit.subject);
    if let Some(r) = &hit.requires {
        s.push_str(&format!(", if {r}"));
    }
    s
}
