//! May a principal perform an action on a resource? Decided from the policies the inventory holds,
//! with no API calls, following AWS's policy evaluation logic:
//!
//! 1. an explicit `Deny` that applies, in any policy, denies;
//! 2. where SCPs apply (not to the management account), every level of the account's path (root,
//!    each OU, the account) must have an `Allow` that applies;
//! 3. an identity-policy `Allow` must apply, unless the resource's own policy, in the principal's
//!    account, allows the principal by its ARN; across accounts both must allow;
//! 4. a permissions boundary and a session policy, when there are, must allow as well (they limit
//!    identity-based permissions; a same-account resource policy naming an IAM user is not
//!    limited by the user's boundary).
//!
//! A condition is decided from what the [`Context`] knows: a key it has values for, or knows to
//! be absent. Any other key, or an operator it does not compare (numeric, date, IP), leaves the
//! statement undecided, and a decision that depends on it is [`Decision::Undecided`], naming the
//! conditions: never guessed either way.

use std::collections::{BTreeMap, BTreeSet};

use super::arn::{account_of, wildcard_match, Arn};
use super::condition::Matcher;
use super::document::{Condition, Effect, PolicyDocument, Principal, SetQualifier, Statement};

/// Three-valued truth: a condition on a key the context does not know is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn of(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }
    fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

/// What is known of the request's condition keys. Keys compare case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct Context {
    present: BTreeMap<String, Vec<String>>,
    absent: BTreeSet<String>,
    /// Key prefixes (`aws:principaltag/`) whose keys are all known: one not present is absent.
    complete: Vec<String>,
}

enum Key<'a> {
    Present(&'a [String]),
    Absent,
    Unknown,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// The key is in the request with these values (one for a single-valued key).
    pub fn with(mut self, key: &str, values: &[&str]) -> Context {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.present.insert(k, values.iter().map(|v| v.to_string()).collect());
        self
    }

    /// The key is known not to be in the request.
    pub fn without(mut self, key: &str) -> Context {
        let k = key.to_ascii_lowercase();
        self.present.remove(&k);
        self.absent.insert(k);
        self
    }

    /// Every key starting with `prefix` (`aws:PrincipalTag/`) is known: those not given with
    /// [`Context::with`] are absent.
    pub fn complete(mut self, prefix: &str) -> Context {
        self.complete.push(prefix.to_ascii_lowercase());
        self
    }

    fn key(&self, key: &str) -> Key<'_> {
        let k = key.to_ascii_lowercase();
        match self.present.get(&k) {
            Some(v) => Key::Present(v),
            None if self.absent.contains(&k) || self.complete.iter().any(|p| k.starts_with(p.as_str())) => Key::Absent,
            None => Key::Unknown,
        }
    }
}

/// A condition clause, decided against the context.
pub fn condition(c: &Condition, ctx: &Context) -> Truth {
    let key = ctx.key(&c.key);
    if c.operator.base_is("Null") {
        // `"Null": {"k": "true"}` holds when the key is absent.
        let absent = match key {
            Key::Present(_) => false,
            Key::Absent => true,
            Key::Unknown => return Truth::Unknown,
        };
        return Truth::of(c.values.iter().any(|v| v.eq_ignore_ascii_case(if absent { "true" } else { "false" })));
    }
    // String and ARN operators compare with their matcher; `Bool` compares the words.
    let (matcher, negated) = match Matcher::of(&c.operator) {
        Some((m, negated)) => (Some(m), negated),
        None if c.operator.base_is("Bool") => (None, false),
        // Numeric, date, IP address and binary comparisons, and operators AWS does not define.
        None => return Truth::Unknown,
    };
    let compare = |p: &str, v: &str| match matcher {
        Some(m) => m.matches(p, v),
        None => p.eq_ignore_ascii_case(v),
    };
    let values = match key {
        Key::Unknown => return Truth::Unknown,
        // AWS: a key missing from the request matches nothing; a negated operator then holds.
        // `…IfExists` holds, and so does `ForAllValues` (every one of no values).
        Key::Absent => {
            return Truth::of(c.operator.if_exists || negated || c.operator.set == Some(SetQualifier::ForAllValues));
        }
        Key::Present(v) => v,
    };
    // Policy variables in the values (`"aws:ResourceTag/owner": "${aws:username}"`); a value whose
    // variable has no value matches nothing.
    let mut patterns: Vec<std::borrow::Cow<str>> = Vec::with_capacity(c.values.len());
    for v in &c.values {
        if !v.contains("${") {
            patterns.push(v.into());
            continue;
        }
        match expand(v, ctx) {
            Expanded::Pattern(p) => patterns.push(p.into()),
            Expanded::NoMatch => {}
            Expanded::Unknown(_) => return Truth::Unknown,
        }
    }
    let hit = |v: &str| patterns.iter().any(|p| compare(p, v));
    let holds = match c.operator.set {
        // A single-valued key: the value matches one of the patterns (negated: none).
        None | Some(SetQualifier::ForAnyValue) => values.iter().any(|v| hit(v) != negated),
        Some(SetQualifier::ForAllValues) => values.iter().all(|v| hit(v) != negated),
    };
    Truth::of(holds)
}

/// Whether a statement's `Resource` (or everything outside its `NotResource`) covers `resource`.
/// ARNs match with `*` and `?`, case-sensitively. A statement with neither covers nothing.
/// Policy variables are not expanded here: see [`resource_truth`].
pub fn covers_resource(s: &Statement, resource: &str) -> bool {
    match (&s.resource, &s.not_resource) {
        (Some(list), _) => list.iter().any(|p| wildcard_match(p, resource)),
        (None, Some(not)) => !not.iter().any(|p| wildcard_match(p, resource)),
        (None, None) => false,
    }
}

/// [`covers_resource`], with the policy variables of a `2012-10-17` document (`${aws:username}`,
/// `${aws:PrincipalTag/team, 'none'}`) taken from the context. A variable whose key is absent
/// makes its pattern match nothing (AWS: the statement does not apply), unless it has a default;
/// a key the context does not know leaves the pattern `Unknown`, named in `open`.
pub fn resource_truth(s: &Statement, resource: &str, ctx: &Context, variables: bool, open: &mut Vec<String>) -> Truth {
    let one = |pattern: &str, open: &mut Vec<String>| -> Truth {
        if !variables || !pattern.contains("${") {
            return Truth::of(wildcard_match(pattern, resource));
        }
        match expand(pattern, ctx) {
            Expanded::Pattern(p) => Truth::of(wildcard_match(&p, resource)),
            Expanded::NoMatch => Truth::False,
            Expanded::Unknown(why) => {
                open.push(why);
                Truth::Unknown
            }
        }
    };
    let any = |list: &[String], open: &mut Vec<String>| list.iter().fold(Truth::False, |t, p| t.or(one(p, open)));
    match (&s.resource, &s.not_resource) {
        (Some(list), _) => any(list, open),
        (None, Some(not)) => match any(not, open) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        },
        (None, None) => Truth::False,
    }
}

enum Expanded {
    Pattern(String),
    /// A variable with no value and no default: the pattern matches nothing.
    NoMatch,
    /// A variable the context does not know, or a form not compared here, as `${…}`.
    Unknown(String),
}

/// Replace each `${key}` or `${key, 'default'}` of `pattern` with the context's value.
fn expand(pattern: &str, ctx: &Context) -> Expanded {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let Some(end) = tail.find('}') else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let inner = tail[..end].trim();
        rest = &tail[end + 1..];
        match inner {
            "$" => {
                out.push('$');
                continue;
            }
            // A literal `*` or `?`: the matcher here has no way to say "literally".
            "*" | "?" => return Expanded::Unknown(format!("${{{inner}}}")),
            _ => {}
        }
        let (key, default) = match inner.split_once(',') {
            Some((k, d)) => {
                let d = d.trim();
                match d.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')) {
                    Some(d) => (k.trim(), Some(d.replace("''", "'"))),
                    None => return Expanded::Unknown(format!("${{{inner}}}")),
                }
            }
            None => (inner, None),
        };
        match ctx.key(key) {
            // A multivalued key is not substituted (AWS: the statement does not apply).
            Key::Present([v]) => out.push_str(v),
            Key::Present(_) | Key::Absent => match default {
                Some(d) => out.push_str(&d),
                None => return Expanded::NoMatch,
            },
            Key::Unknown => return Expanded::Unknown(format!("${{{key}}}")),
        }
    }
    out.push_str(rest);
    Expanded::Pattern(out)
}

/// Who asks.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    /// The user's or role's ARN (for a role session, the role's ARN).
    pub arn: &'a str,
    /// The account it belongs to.
    pub account: &'a str,
    pub is_user: bool,
}

/// What is asked.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

/// A policy by name, as the inventory holds it.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    pub name: &'a str,
    pub document: &'a PolicyDocument,
}

/// Every policy that bears on the caller's request.
#[derive(Debug, Clone, Default)]
pub struct Policies<'a> {
    /// Inline and managed policies of the principal and of its groups.
    pub identity: Vec<Named<'a>>,
    pub boundary: Option<Named<'a>>,
    pub session: Option<Named<'a>>,
    /// The SCPs in force, one list per level of the account's path (root first). `None`: none
    /// apply (the management account, or an account outside any organization).
    pub scps: Option<std::borrow::Cow<'a, [Vec<Named<'a>>]>>,
    /// The resource's own policy (a role's trust policy, a bucket or key policy), and the account
    /// that owns the resource. A resource in another account with no policy here is denied: pass
    /// its policy when the resource has one.
    pub resource: Option<(Named<'a>, &'a str)>,
    /// The resource policy must allow even in the caller's account: a role's trust policy (a
    /// same-account identity grant of `sts:AssumeRole` does not stand in for it).
    pub resource_required: bool,
}

/// Where a deciding statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Scp,
    Resource,
    Identity,
    Boundary,
    Session,
}

impl Layer {
    pub fn label(self) -> &'static str {
        match self {
            Layer::Scp => "service control policy",
            Layer::Resource => "resource policy",
            Layer::Identity => "identity policy",
            Layer::Boundary => "permissions boundary",
            Layer::Session => "session policy",
        }
    }
}

/// A statement that decides, or could decide, the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cite {
    pub layer: Layer,
    pub policy: String,
    /// The statement's `Sid`, or `#n` (1-based) when it has none.
    pub statement: String,
    pub effect: Effect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    ExplicitlyDenied,
    /// No `Allow` applies in a layer that needs one (`missing` in the evaluation says which).
    ImplicitlyDenied,
    /// The answer depends on conditions the context cannot decide (`undecided` names them).
    Undecided,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// For `Allowed`: the allows that grant it, one per layer that needs one. For
    /// `ExplicitlyDenied`: the denies. For `Undecided`: the statements whose conditions decide.
    pub because: Vec<Cite>,
    /// For `ImplicitlyDenied`: the layers with no applying `Allow`.
    pub missing: Vec<Layer>,
    /// Conditions the context could not decide, as `Operator key`.
    pub undecided: Vec<String>,
}

struct Applies {
    truth: Truth,
    cites: Vec<Cite>,
    undecided: Vec<String>,
}

impl Applies {
    fn nothing() -> Applies {
        Applies { truth: Truth::False, cites: Vec::new(), undecided: Vec::new() }
    }
}

/// Does any statement of `effect` in these policies apply to the request?
/// `caller`: for a resource policy, the caller its `Principal` must name, and whether only a grant
/// to the caller itself counts (not to its whole account).
fn applies(layer: Layer, policies: &[Named], effect: Effect, req: &Request, caller: Option<(&Caller, bool)>) -> Applies {
    let mut out = Applies::nothing();
    let mut unknown_cites = Vec::new();
    for p in policies {
        for (i, s) in p.document.statements.iter().enumerate() {
            if s.effect != effect || !s.covers_action(req.action) {
                continue;
            }
            let mut open = Vec::new();
            let variables = p.document.version.as_deref() == Some("2012-10-17");
            // A resource policy may leave `Resource` out: a role's trust policy is about the role.
            let on = if caller.is_some() && s.resource.is_none() && s.not_resource.is_none() {
                Truth::True
            } else {
                resource_truth(s, req.resource, req.context, variables, &mut open)
            };
            if on == Truth::False {
                continue;
            }
            let who = match caller {
                Some((c, itself)) => names(s, c, itself),
                None => Truth::True,
            };
            if who == Truth::False {
                continue;
            }
            let mut t = who.and(on);
            for c in &s.conditions {
                let ct = condition(c, req.context);
                if ct == Truth::Unknown {
                    open.push(format!("{} {}", c.operator.raw, c.key));
                }
                t = t.and(ct);
            }
            let cite = Cite { layer, policy: p.name.to_string(), statement: s.sid.clone().unwrap_or_else(|| format!("#{}", i + 1)), effect };
            match t {
                Truth::True => {
                    out.truth = Truth::True;
                    out.cites.push(cite);
                }
                Truth::Unknown => {
                    out.undecided.extend(open);
                    unknown_cites.push(cite);
                }
                Truth::False => {}
            }
        }
    }
    if out.truth != Truth::True && !unknown_cites.is_empty() {
        out.truth = Truth::Unknown;
        out.cites = unknown_cites;
    }
    out
}

/// Does a resource policy statement's `Principal` name the caller? `True` for `*`, the caller's
/// ARN, or (unless `itself`) its account, as an id or a root ARN; `NotPrincipal` is the complement.
fn names(s: &Statement, c: &Caller, itself: bool) -> Truth {
    let matches = |p: &Principal, itself: bool| match p {
        Principal::Any => true,
        Principal::Map { aws, .. } => {
            aws.iter().any(|a| a == "*" || a == c.arn || (!itself && (a == c.account || root_of(a) == Some(c.account))))
        }
    };
    match (&s.principal, &s.not_principal) {
        (Some(p), _) => Truth::of(matches(p, itself)),
        // Everyone outside the list; naming the account in NotPrincipal excludes its principals.
        (None, Some(np)) => Truth::of(!matches(np, false)),
        (None, None) => Truth::False,
    }
}

/// The account of `arn:…:iam::ACCOUNT:root`.
fn root_of(a: &str) -> Option<&str> {
    Arn::parse(a).filter(|x| x.service == "iam" && x.resource == "root").map(|x| x.account)
}

/// Evaluate `req` for `caller` against `policies`.
pub fn evaluate(caller: &Caller, req: &Request, policies: &Policies) -> Evaluation {
    let mut undecided = Vec::new();
    let mut possible_denies = Vec::new();

    // 1. Explicit denies, everywhere.
    let resource_docs: Vec<Named> = policies.resource.iter().map(|(n, _)| *n).collect();
    let scp_docs: Vec<Named> = policies.scps.iter().flat_map(|l| l.iter()).flatten().copied().collect();
    let mut denies = Vec::new();
    for (layer, docs, who) in [
        (Layer::Scp, scp_docs, None),
        (Layer::Resource, resource_docs, Some((caller, false))),
        (Layer::Identity, policies.identity.clone(), None),
        (Layer::Boundary, policies.boundary.iter().copied().collect(), None),
        (Layer::Session, policies.session.iter().copied().collect(), None),
    ] {
        let d = applies(layer, &docs, Effect::Deny, req, who);
        match d.truth {
            Truth::True => denies.extend(d.cites),
            Truth::Unknown => {
                undecided.extend(d.undecided);
                possible_denies.extend(d.cites);
            }
            Truth::False => {}
        }
    }
    if !denies.is_empty() {
        return Evaluation { decision: Decision::ExplicitlyDenied, because: denies, missing: Vec::new(), undecided: Vec::new() };
    }

    // 2-4. Each layer that needs an Allow.
    let mut grants = Vec::new();
    let mut open_cites = possible_denies;
    let mut missing = Vec::new();
    let mut unknown = !open_cites.is_empty();
    let mut need = |layer: Layer, a: Applies, grants: &mut Vec<Cite>| match a.truth {
        Truth::True => grants.extend(a.cites),
        Truth::Unknown => {
            unknown = true;
            undecided.extend(a.undecided);
            open_cites.extend(a.cites);
        }
        Truth::False => missing.push(layer),
    };
    if let Some(levels) = &policies.scps {
        for level in levels.iter() {
            need(Layer::Scp, applies(Layer::Scp, level, Effect::Allow, req, None), &mut grants);
        }
    }
    let identity = applies(Layer::Identity, &policies.identity, Effect::Allow, req, None);
    // Whose resource: the owner given with its policy, else the account in its ARN.
    let owner = policies.resource.map(|(_, o)| o).or_else(|| account_of(req.resource)).unwrap_or(caller.account);
    let same_account = owner == caller.account;
    // The resource policy's Allow: naming the caller itself, or (`itself` false) also its account.
    let resource_allows = |itself: bool| match &policies.resource {
        Some((p, _)) => applies(Layer::Resource, std::slice::from_ref(p), Effect::Allow, req, Some((caller, itself))),
        None => Applies::nothing(),
    };
    if same_account {
        // The identity policy, or a resource policy naming the caller itself (a grant to the
        // account only delegates to the account's identity policies).
        let direct = resource_allows(true);
        // A boundary does not limit what a same-account resource policy grants an IAM user by ARN.
        let unbounded = caller.is_user && direct.truth == Truth::True && identity.truth != Truth::True;
        let either = identity.truth.or(direct.truth);
        let cites = match (identity.truth, direct.truth) {
            (Truth::True, _) => identity.cites,
            (_, Truth::True) => direct.cites,
            _ => [identity.cites, direct.cites].concat(),
        };
        need(Layer::Identity, Applies { truth: either, cites, undecided: [identity.undecided, direct.undecided].concat() }, &mut grants);
        if policies.resource_required {
            need(Layer::Resource, resource_allows(false), &mut grants);
        }
        if let (Some(b), false) = (policies.boundary, unbounded) {
            need(Layer::Boundary, applies(Layer::Boundary, &[b], Effect::Allow, req, None), &mut grants);
        }
    } else {
        // Across accounts, both sides must allow.
        need(Layer::Identity, identity, &mut grants);
        need(Layer::Resource, resource_allows(false), &mut grants);
        if let Some(b) = policies.boundary {
            need(Layer::Boundary, applies(Layer::Boundary, &[b], Effect::Allow, req, None), &mut grants);
        }
    }
    if let Some(s) = policies.session {
        need(Layer::Session, applies(Layer::Session, &[s], Effect::Allow, req, None), &mut grants);
    }

    undecided.sort();
    undecided.dedup();
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Evaluation { decision: Decision::ImplicitlyDenied, because: Vec::new(), missing, undecided: Vec::new() };
    }
    if unknown {
        return Evaluation { decision: Decision::Undecided, because: open_cites, missing: Vec::new(), undecided };
    }
    Evaluation { decision: Decision::Allowed, because: grants, missing: Vec::new(), undecided: Vec::new() }
}

#[cfg(test)]
mod tests {
    //! Cases written from AWS's "Policy evaluation logic" documentation (the flow chart, and its
    //! sections on SCPs, permissions boundaries, resource-based policies and cross-account
    //! requests) and from "IAM JSON policy elements: Condition operators".
    use super::*;

    const ME: &str = "111122223333";
    const OTHER: &str = "444455556666";

    fn doc(json: &str) -> PolicyDocument {
        PolicyDocument::parse_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }
    fn allow(action: &str, resource: &str) -> PolicyDocument {
        doc(&format!(r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}}}"#))
    }
    fn user() -> Caller<'static> {
        Caller { arn: "arn:aws:iam::111122223333:user/alice", account: ME, is_user: true }
    }
    fn role() -> Caller<'static> {
        Caller { arn: "arn:aws:iam::111122223333:role/app", account: ME, is_user: false }
    }
    fn ask<'a>(action: &'a str, resource: &'a str, ctx: &'a Context) -> Request<'a> {
        Request { action, resource, context: ctx }
    }
    fn named(name: &'static str, d: &'static PolicyDocument) -> Named<'static> {
        Named { name, document: d }
    }
    fn leak(d: PolicyDocument) -> &'static PolicyDocument {
        Box::leak(Box::new(d))
    }
    fn decide(c: &Caller, action: &str, resource: &str, ctx: &Context, p: &Policies) -> Decision {
        evaluate(c, &ask(action, resource, ctx), p).decision
    }
    fn identity(docs: &[&'static PolicyDocument]) -> Policies<'static> {
        Policies { identity: docs.iter().map(|d| named("p", d)).collect(), ..Default::default() }
    }

    #[test]
    fn no_policy_is_an_implicit_deny() {
        let e = evaluate(&user(), &ask("s3:GetObject", "arn:aws:s3:::b/k", &Context::new()), &Policies::default());
        assert_eq!((e.decision, e.missing), (Decision::ImplicitlyDenied, vec![Layer::Identity]));
    }

    #[test]
    fn an_explicit_deny_overrides_every_allow() {
        let admin = leak(allow("*", "*"));
        let deny = leak(doc(r#"{"Statement":[{"Sid":"NoKeys","Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*"}]}"#));
        let p = identity(&[admin, deny]);
        let e = evaluate(&user(), &ask("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob", &Context::new()), &p);
        assert_eq!(e.decision, Decision::ExplicitlyDenied);
        assert_eq!(e.because[0].statement, "NoKeys");
        assert_eq!(decide(&user(), "iam:CreateUser", "arn:aws:iam::111122223333:user/x", &Context::new(), &p), Decision::Allowed);
    }

    #[test]
    fn actions_match_case_insensitively_and_resources_case_sensitively() {
        let p = identity(&[leak(allow("S3:Get*", "arn:aws:s3:::Reports/*"))]);
        let ctx = Context::new();
        assert_eq!(decide(&user(), "s3:getobject", "arn:aws:s3:::Reports/q1.csv", &ctx, &p), Decision::Allowed);
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::reports/q1.csv", &ctx, &p), Decision::ImplicitlyDenied);
        // The bucket itself is not an object of the bucket.
        assert_eq!(decide(&user(), "s3:GetBucketPolicy", "arn:aws:s3:::Reports", &ctx, &p), Decision::ImplicitlyDenied);
        let q = identity(&[leak(allow("s3:GetObject", "arn:aws:s3:::logs-20??/*"))]);
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::logs-2026/a", &ctx, &q), Decision::Allowed);
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::logs-202/a", &ctx, &q), Decision::ImplicitlyDenied);
    }

    #[test]
    fn not_action_and_not_resource_grant_and_deny_everything_else() {
        let poweruser = leak(doc(r#"{"Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}}"#));
        let p = identity(&[poweruser]);
        let ctx = Context::new();
        assert_eq!(decide(&user(), "ec2:RunInstances", "*", &ctx, &p), Decision::Allowed);
        assert_eq!(decide(&user(), "iam:CreateUser", "arn:aws:iam::111122223333:user/x", &ctx, &p), Decision::ImplicitlyDenied);
        let deny_outside = leak(doc(r#"{"Statement":{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::home","arn:aws:s3:::home/*"]}}"#));
        let q = identity(&[leak(allow("s3:*", "*")), deny_outside]);
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::home/a", &ctx, &q), Decision::Allowed);
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::payroll/a", &ctx, &q), Decision::ExplicitlyDenied);
        let deny_not_action = leak(doc(r#"{"Statement":{"Effect":"Deny","NotAction":"sts:GetCallerIdentity","Resource":"*"}}"#));
        let r = identity(&[leak(allow("*", "*")), deny_not_action]);
        assert_eq!(decide(&user(), "sts:GetCallerIdentity", "*", &ctx, &r), Decision::Allowed);
        assert_eq!(decide(&user(), "s3:ListAllMyBuckets", "*", &ctx, &r), Decision::ExplicitlyDenied);
    }

    #[test]
    fn scps_intersect_at_every_level_but_not_for_the_management_account() {
        let full = leak(allow("*", "*"));
        let only_ec2 = leak(allow("ec2:*", "*"));
        let admin = leak(allow("*", "*"));
        let mut p = identity(&[admin]);
        p.scps = Some(vec![vec![named("FullAWSAccess", full)], vec![named("ou-ec2-only", only_ec2)], vec![named("FullAWSAccess", full)]].into());
        let ctx = Context::new();
        assert_eq!(decide(&user(), "ec2:RunInstances", "*", &ctx, &p), Decision::Allowed);
        let e = evaluate(&user(), &ask("iam:CreateUser", "arn:aws:iam::111122223333:user/x", &ctx), &p);
        assert_eq!((e.decision, e.missing), (Decision::ImplicitlyDenied, vec![Layer::Scp]));
        // An SCP grants nothing by itself.
        let mut q = Policies { scps: p.scps.clone(), ..Default::default() };
        assert_eq!(decide(&user(), "ec2:RunInstances", "*", &ctx, &q), Decision::ImplicitlyDenied);
        // A deny in an SCP denies even an administrator.
        let deny_leave = leak(doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#));
        q = identity(&[admin]);
        q.scps = Some(vec![vec![named("root", deny_leave)]].into());
        assert_eq!(decide(&user(), "organizations:LeaveOrganization", "*", &ctx, &q), Decision::ExplicitlyDenied);
        // The management account: no SCP applies.
        q.scps = None;
        assert_eq!(decide(&user(), "organizations:LeaveOrganization", "*", &ctx, &q), Decision::Allowed);
    }

    #[test]
    fn a_permissions_boundary_limits_identity_grants_and_grants_nothing() {
        let iam_all = leak(allow("iam:*", "*"));
        let s3_only = leak(allow("s3:*", "*"));
        let mut p = identity(&[iam_all]);
        p.boundary = Some(named("boundary", s3_only));
        let ctx = Context::new();
        let e = evaluate(&role(), &ask("iam:CreateUser", "arn:aws:iam::111122223333:user/x", &ctx), &p);
        assert_eq!((e.decision, e.missing), (Decision::ImplicitlyDenied, vec![Layer::Boundary]));
        assert_eq!(decide(&role(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &p), Decision::ImplicitlyDenied, "the boundary alone grants nothing");
        p.identity.push(named("s3", s3_only));
        assert_eq!(decide(&role(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &p), Decision::Allowed);
    }

    #[test]
    fn a_same_account_resource_policy_can_grant_alone_but_an_account_grant_only_delegates() {
        let ctx = Context::new();
        let to_alice = leak(doc(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#));
        let p = Policies { resource: Some((named("bucket policy", to_alice), ME)), ..Default::default() };
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &p), Decision::Allowed);
        // A boundary does not limit a resource policy's grant to an IAM user by ARN…
        let nothing = leak(allow("ec2:DescribeInstances", "*"));
        let mut q = p.clone();
        q.boundary = Some(named("boundary", nothing));
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &q), Decision::Allowed);
        let to_account = leak(doc(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#));
        let r = Policies { resource: Some((named("bucket policy", to_account), ME)), ..Default::default() };
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &r), Decision::ImplicitlyDenied, "the account's identity policies decide");
        let mut s = r.clone();
        s.identity.push(named("read", leak(allow("s3:GetObject", "*"))));
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &s), Decision::Allowed);
    }

    #[test]
    fn across_accounts_both_sides_must_allow() {
        let ctx = Context::new();
        let key = "arn:aws:kms:us-east-1:444455556666:key/k-1";
        let key_policy = leak(doc(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*"}}"#));
        let decrypt = leak(allow("kms:Decrypt", "*"));
        let mut p = Policies { resource: Some((named("key policy", key_policy), OTHER)), ..Default::default() };
        let e = evaluate(&role(), &ask("kms:Decrypt", key, &ctx), &p);
        assert_eq!((e.decision, e.missing), (Decision::ImplicitlyDenied, vec![Layer::Identity]));
        p.identity.push(named("decrypt", decrypt));
        assert_eq!(decide(&role(), "kms:Decrypt", key, &ctx, &p), Decision::Allowed);
        // The identity policy alone does not reach into another account.
        let q = identity(&[decrypt]);
        let e = evaluate(&role(), &ask("kms:Decrypt", key, &ctx), &q);
        assert_eq!((e.decision, e.missing), (Decision::ImplicitlyDenied, vec![Layer::Resource]));
        // A resource policy that names another account does not name this one.
        let elsewhere = leak(doc(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"kms:Decrypt","Resource":"*"}}"#));
        let r = Policies { identity: vec![named("decrypt", decrypt)], resource: Some((named("key policy", elsewhere), OTHER)), ..Default::default() };
        assert_eq!(decide(&role(), "kms:Decrypt", key, &ctx, &r), Decision::ImplicitlyDenied);
    }

    #[test]
    fn conditions_are_decided_from_the_context_or_left_undecided() {
        let mfa = leak(doc(r#"{"Statement":{"Sid":"WithMfa","Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#));
        let p = identity(&[mfa]);
        let r = "arn:aws:iam::111122223333:user/x";
        let e = evaluate(&user(), &ask("iam:CreateUser", r, &Context::new()), &p);
        assert_eq!(e.decision, Decision::Undecided);
        assert_eq!(e.undecided, vec!["Bool aws:MultiFactorAuthPresent".to_string()]);
        assert_eq!(e.because[0].statement, "WithMfa");
        assert_eq!(decide(&user(), "iam:CreateUser", r, &Context::new().with("aws:multifactorauthpresent", &["true"]), &p), Decision::Allowed);
        assert_eq!(decide(&user(), "iam:CreateUser", r, &Context::new().with("aws:MultiFactorAuthPresent", &["false"]), &p), Decision::ImplicitlyDenied);
        // An access key has no MFA: the key is absent, and a positive operator does not match.
        assert_eq!(decide(&user(), "iam:CreateUser", r, &Context::new().without("aws:MultiFactorAuthPresent"), &p), Decision::ImplicitlyDenied);
        // A deny with an undecided condition keeps an allow from being certain.
        let deny_no_mfa = leak(doc(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}"#));
        let q = identity(&[leak(allow("*", "*")), deny_no_mfa]);
        assert_eq!(decide(&user(), "s3:ListAllMyBuckets", "*", &Context::new(), &q), Decision::Undecided);
        // …IfExists with the key absent holds: the deny applies to a long-lived key.
        assert_eq!(decide(&user(), "s3:ListAllMyBuckets", "*", &Context::new().without("aws:MultiFactorAuthPresent"), &q), Decision::ExplicitlyDenied);
        assert_eq!(decide(&user(), "s3:ListAllMyBuckets", "*", &Context::new().with("aws:MultiFactorAuthPresent", &["true"]), &q), Decision::Allowed);
    }

    #[test]
    fn operators_on_missing_keys_follow_the_documentation() {
        let clause = |key: &str, op: &str, values: &[&str]| Condition { operator: crate::policy::Operator::parse(op), key: key.into(), values: values.iter().map(|v| v.to_string()).collect() };
        let c = |op: &str, values: &[&str]| clause("aws:PrincipalOrgID", op, values);
        let absent = Context::new().without("aws:PrincipalOrgID");
        let inside = Context::new().with("aws:PrincipalOrgID", &["o-abc"]);
        // A negated operator holds when the key is missing; a positive one does not.
        assert_eq!(condition(&c("StringNotEquals", &["o-abc"]), &absent), Truth::True);
        assert_eq!(condition(&c("StringEquals", &["o-abc"]), &absent), Truth::False);
        assert_eq!(condition(&c("StringEqualsIfExists", &["o-abc"]), &absent), Truth::True);
        assert_eq!(condition(&c("ForAllValues:StringEquals", &["o-abc"]), &absent), Truth::True);
        assert_eq!(condition(&c("ForAnyValue:StringEquals", &["o-abc"]), &absent), Truth::False);
        assert_eq!(condition(&c("Null", &["true"]), &absent), Truth::True);
        assert_eq!(condition(&c("Null", &["false"]), &inside), Truth::True);
        assert_eq!(condition(&c("StringNotEquals", &["o-abc"]), &inside), Truth::False);
        assert_eq!(condition(&c("StringLike", &["o-a*"]), &inside), Truth::True);
        assert_eq!(condition(&c("stringequalsignorecase", &["O-ABC"]), &inside), Truth::True);
        // Not comparable here (numeric, date, IP): undecided, never guessed.
        assert_eq!(condition(&c("NumericLessThan", &["5"]), &inside), Truth::Unknown);
        assert_eq!(condition(&c("IpAddress", &["10.0.0.0/8"]), &inside), Truth::Unknown);
        assert_eq!(condition(&c("StringEquals", &["o-abc"]), &Context::new()), Truth::Unknown);
        // Multivalued keys.
        let tags = |op: &str, values: &[&str]| clause("aws:TagKeys", op, values);
        let req = Context::new().with("aws:TagKeys", &["env", "owner"]);
        assert_eq!(condition(&tags("ForAllValues:StringEquals", &["env", "owner", "cost"]), &req), Truth::True);
        assert_eq!(condition(&tags("ForAllValues:StringEquals", &["env"]), &req), Truth::False);
        assert_eq!(condition(&tags("ForAnyValue:StringEquals", &["owner"]), &req), Truth::True);
        assert_eq!(condition(&tags("ForAnyValue:StringNotEquals", &["env", "owner"]), &req), Truth::False);
    }

    #[test]
    fn policy_variables_take_the_request_s_values_and_a_missing_one_matches_nothing() {
        let own = leak(doc(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}}"#));
        let p = identity(&[own]);
        let alice = Context::new().with("aws:username", &["alice"]);
        assert_eq!(decide(&user(), "iam:CreateAccessKey", "arn:aws:iam::111122223333:user/alice", &alice, &p), Decision::Allowed);
        assert_eq!(decide(&user(), "iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob", &alice, &p), Decision::ImplicitlyDenied);
        // A role has no aws:username: the pattern matches nothing.
        let role_ctx = Context::new().without("aws:username");
        assert_eq!(decide(&role(), "iam:CreateAccessKey", "arn:aws:iam::111122223333:user/${aws:username}", &role_ctx, &p), Decision::ImplicitlyDenied);
        // Unknown: undecided, naming the variable.
        let e = evaluate(&user(), &ask("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/alice", &Context::new()), &p);
        assert_eq!((e.decision, e.undecided), (Decision::Undecided, vec!["${aws:username}".to_string()]));
        // A default value stands in for a missing key.
        let tagged = leak(doc(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:PrincipalTag/team, 'shared'}/*"}}"#));
        let q = identity(&[tagged]);
        let untagged = Context::new().complete("aws:PrincipalTag/");
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::home/shared/a", &untagged, &q), Decision::Allowed);
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::home/ops/a", &untagged.clone().with("aws:PrincipalTag/team", &["ops"]), &q), Decision::Allowed);
        // In conditions too, and a 2008-10-17 document keeps `${…}` as text.
        let cond = leak(doc(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}}}"#));
        let r = identity(&[cond]);
        let mine = Context::new().with("aws:username", &["alice"]).with("aws:ResourceTag/owner", &["alice"]);
        assert_eq!(decide(&user(), "ec2:StopInstances", "*", &mine, &r), Decision::Allowed);
        assert_eq!(decide(&user(), "ec2:StopInstances", "*", &mine.clone().with("aws:ResourceTag/owner", &["bob"]), &r), Decision::ImplicitlyDenied);
        let old = leak(doc(r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}}"#));
        assert_eq!(decide(&user(), "iam:CreateAccessKey", "arn:aws:iam::111122223333:user/alice", &alice, &identity(&[old])), Decision::ImplicitlyDenied);
    }

    #[test]
    fn a_role_trust_policy_must_admit_the_caller_even_in_its_own_account() {
        let ctx = Context::new();
        let admin = leak(allow("*", "*"));
        let role_arn = "arn:aws:iam::111122223333:role/BreakGlass";
        let trust = |json: &'static str| Policies { identity: vec![named("admin", admin)], resource: Some((named("trust", leak(doc(json))), ME)), resource_required: true, ..Default::default() };
        // Trusting the account: the identity grant counts, and the trust's MFA condition decides.
        let mfa = trust(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#);
        assert_eq!(decide(&user(), "sts:AssumeRole", role_arn, &ctx, &mfa), Decision::Undecided);
        assert_eq!(decide(&user(), "sts:AssumeRole", role_arn, &Context::new().without("aws:MultiFactorAuthPresent"), &mfa), Decision::ImplicitlyDenied);
        // Trusting someone else: an administrator of the account still cannot assume it.
        let other = trust(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"sts:AssumeRole"}}"#);
        let e = evaluate(&user(), &ask("sts:AssumeRole", role_arn, &ctx), &other);
        assert_eq!((e.decision, e.missing), (Decision::ImplicitlyDenied, vec![Layer::Resource]));
        // Trusting the user by ARN: no identity grant needed.
        let mut direct = trust(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}}"#);
        direct.identity.clear();
        assert_eq!(decide(&user(), "sts:AssumeRole", role_arn, &ctx, &direct), Decision::Allowed);
    }

    #[test]
    fn a_resource_policy_deny_names_its_principals() {
        let ctx = Context::new();
        let deny_others = leak(doc(r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"s3:*","Resource":"*"}]}"#));
        let admin = leak(allow("*", "*"));
        let p = Policies { identity: vec![named("admin", admin)], resource: Some((named("bucket policy", deny_others), ME)), ..Default::default() };
        assert_eq!(decide(&role(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &p), Decision::Allowed);
        assert_eq!(decide(&user(), "s3:GetObject", "arn:aws:s3:::b/k", &ctx, &p), Decision::ExplicitlyDenied);
    }
}
