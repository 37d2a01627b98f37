//! Trust analysis: who can assume a role, and which conditions really narrow that grant.
//!
//! Every `Allow` statement that grants an assume action (`sts:AssumeRole`,
//! `sts:AssumeRoleWithWebIdentity`, `sts:AssumeRoleWithSAML`) yields one [`TrustGrant`] per
//! principal. Each condition of the statement is judged: it either narrows the grant (with a
//! [`NarrowingKind`]) or is recorded with the reason it does not (`IfExists`, `ForAllValues`, a
//! negated operator, a value such as `*` that matches anyone, a key that says nothing about the
//! caller). `Deny` statements never grant; a blanket deny removes grants, and a deny guarded by a
//! single negated condition (the "deny everyone outside my organization" pattern) narrows every
//! grant it covers. Other denies are ignored, which can only over-report, never under-report.

use serde::Serialize;

use super::arn::{has_wildcard, is_account_id, Arn};
use super::condition::{admits, Admits, Matcher, Party, PrincipalKey};
use super::document::{Condition, Effect, PolicyDocument, Principal, SetQualifier, Statement};

pub const ASSUME_ROLE: &str = "sts:AssumeRole";
pub const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
pub const ASSUME_ROLE_WITH_SAML: &str = "sts:AssumeRoleWithSAML";
pub const ASSUME_ACTIONS: [&str; 3] = [ASSUME_ROLE, ASSUME_ROLE_WITH_WEB_IDENTITY, ASSUME_ROLE_WITH_SAML];

/// Web-identity issuers that AWS names directly (no IAM OIDC provider), with the claim that names
/// the application or identity pool allowed to federate.
const WELL_KNOWN_ISSUERS: [(&str, &str); 4] = [
    ("cognito-identity.amazonaws.com", "aud"),
    ("accounts.google.com", "aud"),
    ("graph.facebook.com", "app_id"),
    ("www.amazon.com", "app_id"),
];

/// Who a grant reaches, before conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trustee {
    /// `"*"`, `{"AWS": "*"}`, or `NotPrincipal` with `Allow`.
    Anyone,
    /// Principals of one account: its root (the whole account) or a named role/user/session.
    Account { account: String, arn: String, whole_account: bool },
    Service { service: String },
    /// `AssumeRoleWithWebIdentity` through an IAM OIDC provider or a well-known issuer.
    WebIdentity { provider: String, issuer: String },
    Saml { provider: String },
    /// A unique id (`AIDA…`, `AROA…`): AWS shows these when the trusted principal was deleted.
    UnknownId { id: String },
    CanonicalUser { id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NarrowingKind {
    ExternalId,
    PrincipalOrgId,
    PrincipalOrgPaths,
    PrincipalAccount,
    PrincipalArn,
    SourceAccount,
    SourceArn,
    UserId,
    /// The federated caller's subject (OIDC `sub`, Cognito identity pool, social app id, `saml:sub`).
    Subject,
    /// The token audience (OIDC `aud`): says which client asked, not who the caller is.
    Audience,
}


#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Narrowing {
    pub kind: NarrowingKind,
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
    /// Set when the narrowing comes from a `Deny` statement (its index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_deny_statement: Option<usize>,
    /// For keys that name the caller: the accounts or organizations its values let in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    /// No caller can satisfy it (e.g. a literal `*` under `StringEquals`): the grant is dead.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub matches_nobody: bool,
}

/// Who a grant lets in, conditions included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// No caller can satisfy the grant's conditions.
    Nobody,
    /// Any principal of any account.
    Anyone,
    /// The caller must belong to one party of every clause (clauses are ANDed, parties ORed).
    Limited(Vec<Vec<Party>>),
}

/// The parties of a grant that are not proven inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outsiders {
    None,
    Anyone,
    Parties(Vec<Party>),
}

/// A condition that was read and found not to narrow the grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unnarrowed {
    pub key: String,
    pub operator: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustGrant {
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The principal as written, e.g. `AWS:arn:aws:iam::111122223333:root` or `*`.
    pub principal: String,
    pub trustee: Trustee,
    pub actions: Vec<&'static str>,
    pub narrowing: Vec<Narrowing>,
    pub unnarrowed: Vec<Unnarrowed>,
}

impl TrustGrant {
    pub fn has(&self, kind: NarrowingKind) -> bool {
        self.narrowing.iter().any(|n| n.kind == kind)
    }

    /// Who can use this grant, for grants to AWS principals (`None` for services, federation).
    pub fn reach(&self) -> Option<Reach> {
        let mut clauses: Vec<Vec<Party>> = match &self.trustee {
            Trustee::Anyone => Vec::new(),
            Trustee::Account { account, .. } => vec![vec![Party::Account(account.clone())]],
            _ => return None,
        };
        for n in &self.narrowing {
            if n.matches_nobody {
                return Some(Reach::Nobody);
            }
            if !n.parties.is_empty() {
                clauses.push(n.parties.clone());
            }
        }
        Some(if clauses.is_empty() { Reach::Anyone } else { Reach::Limited(clauses) })
    }

    /// Open to any principal of any AWS account: nothing pins the caller's account or organization.
    /// (An `sts:ExternalId` does not count: it is not a secret.)
    pub fn is_public(&self) -> bool {
        self.reach() == Some(Reach::Anyone)
    }

    /// The parties this grant names other than `own` account (for reporting who is trusted).
    pub fn foreign_parties(&self, own: &str) -> Vec<Party> {
        let mut out: Vec<Party> = match self.reach() {
            Some(Reach::Limited(clauses)) => clauses.into_iter().flatten().collect(),
            _ => Vec::new(),
        };
        out.retain(|p| *p != Party::Account(own.to_string()));
        out.sort();
        out.dedup();
        out
    }

    /// Which callers outside `inside` can satisfy this grant. A clause whose parties are all
    /// inside keeps every outsider out (the caller must satisfy every clause).
    pub fn outsiders(&self, inside: impl Fn(&Party) -> bool) -> Outsiders {
        match self.reach() {
            None | Some(Reach::Nobody) => Outsiders::None,
            Some(Reach::Anyone) => Outsiders::Anyone,
            Some(Reach::Limited(clauses)) => {
                if clauses.iter().any(|c| c.iter().all(&inside)) {
                    return Outsiders::None;
                }
                let mut out: Vec<Party> = clauses[0].iter().filter(|p| !inside(p)).cloned().collect();
                out.sort();
                out.dedup();
                Outsiders::Parties(out)
            }
        }
    }

    /// For web-identity and SAML grants: is the federated subject restricted?
    pub fn subject_restricted(&self) -> bool {
        self.has(NarrowingKind::Subject)
    }
}

/// Analyze a trust policy.
pub fn analyze(doc: &PolicyDocument) -> Vec<TrustGrant> {
    let denies = collect_denies(doc);
    let mut grants = Vec::new();
    for (idx, st) in doc.statements.iter().enumerate() {
        if st.effect != Effect::Allow {
            continue;
        }
        let actions: Vec<&'static str> = ASSUME_ACTIONS
            .iter()
            .copied()
            .filter(|a| st.covers_action(a) && !denies.blanket.contains(a))
            .collect();
        if actions.is_empty() {
            continue;
        }
        for (written, trustee) in principals(st) {
            if denies.principals.iter().any(|p| p.eq_ignore_ascii_case(&written)) {
                continue;
            }
            let mut narrowing = Vec::new();
            let mut unnarrowed = Vec::new();
            for c in &st.conditions {
                match classify(c, &trustee) {
                    Ok(n) => narrowing.push(n),
                    Err(reason) => unnarrowed.push(Unnarrowed { key: c.key.clone(), operator: c.operator.raw.clone(), reason }),
                }
            }
            for (deny_idx, deny_actions, n) in &denies.narrowing {
                // A deny narrows the grant only if it covers every action the grant gives.
                if actions.iter().all(|a| deny_actions.contains(a)) {
                    if let Ok(mut n) = classify(n, &trustee) {
                        n.from_deny_statement = Some(*deny_idx);
                        narrowing.push(n);
                    }
                }
            }
            grants.push(TrustGrant {
                statement: idx,
                sid: st.sid.clone(),
                principal: written,
                trustee,
                actions: actions.clone(),
                narrowing,
                unnarrowed,
            });
        }
    }
    grants
}

#[derive(Default)]
struct Denies {
    /// Actions denied to every principal unconditionally.
    blanket: Vec<&'static str>,
    /// Principals (as written) denied every assume action unconditionally.
    principals: Vec<String>,
    /// (deny statement, actions it covers, equivalent positive condition).
    narrowing: Vec<(usize, Vec<&'static str>, Condition)>,
}

fn collect_denies(doc: &PolicyDocument) -> Denies {
    let mut d = Denies::default();
    for (idx, st) in doc.statements.iter().enumerate() {
        if st.effect != Effect::Deny {
            continue;
        }
        let actions: Vec<&'static str> = ASSUME_ACTIONS.iter().copied().filter(|a| st.covers_action(a)).collect();
        if actions.is_empty() {
            continue;
        }
        let everyone = st.not_principal.is_some() || matches!(st.principal, Some(Principal::Any))
            || matches!(&st.principal, Some(Principal::Map { aws, .. }) if aws.iter().any(|a| a == "*"));
        match (everyone, st.conditions.as_slice()) {
            (true, []) => d.blanket.extend(actions),
            (true, [only]) => {
                if let Some(positive) = negate(only) {
                    d.narrowing.push((idx, actions, positive));
                }
            }
            (false, []) if actions.len() == ASSUME_ACTIONS.len() => {
                d.principals.extend(principals(st).into_iter().map(|(w, _)| w));
            }
            _ => {}
        }
    }
    d
}

/// `Deny … StringNotEquals k v` is `Allow only if StringEquals k v`. `IfExists` on the negated form
/// makes the deny stricter (it also fires when the key is absent), so it converts as well.
fn negate(c: &Condition) -> Option<Condition> {
    if c.operator.set.is_some() {
        return None;
    }
    let (_, true) = Matcher::of(&c.operator)? else { return None };
    // `StringNotEquals` → `StringEquals`, `ArnNotLike` → `ArnLike`: the base without its `Not`.
    let base = &c.operator.base;
    let at = base.to_ascii_lowercase().find("not")?;
    let positive = format!("{}{}", &base[..at], &base[at + 3..]);
    Some(Condition { operator: super::document::Operator::parse(&positive), key: c.key.clone(), values: c.values.clone() })
}

fn principals(st: &Statement) -> Vec<(String, Trustee)> {
    if st.not_principal.is_some() {
        return vec![("NotPrincipal (everyone else)".into(), Trustee::Anyone)];
    }
    match &st.principal {
        None => Vec::new(),
        Some(Principal::Any) => vec![("*".into(), Trustee::Anyone)],
        Some(Principal::Map { aws, service, federated, canonical_user }) => {
            let mut out = Vec::new();
            out.extend(aws.iter().map(|a| (format!("AWS:{a}"), aws_trustee(a))));
            out.extend(service.iter().map(|s| (format!("Service:{s}"), Trustee::Service { service: s.clone() })));
            out.extend(federated.iter().map(|f| (format!("Federated:{f}"), federated_trustee(f))));
            out.extend(canonical_user.iter().map(|c| (format!("CanonicalUser:{c}"), Trustee::CanonicalUser { id: c.clone() })));
            out
        }
    }
}

fn aws_trustee(p: &str) -> Trustee {
    if p == "*" {
        return Trustee::Anyone;
    }
    if is_account_id(p) {
        return Trustee::Account { account: p.to_string(), arn: format!("arn:aws:iam::{p}:root"), whole_account: true };
    }
    match Arn::parse(p) {
        Some(a) if is_account_id(a.account) => Trustee::Account {
            account: a.account.to_string(),
            arn: p.to_string(),
            whole_account: a.resource == "root",
        },
        // A wildcard or missing account in an AWS principal cannot be pinned to anyone.
        Some(a) if a.account.is_empty() || has_wildcard(a.account) => Trustee::Anyone,
        _ => Trustee::UnknownId { id: p.to_string() },
    }
}

fn federated_trustee(f: &str) -> Trustee {
    if let Some(a) = Arn::parse(f) {
        if let Some(host) = a.resource.strip_prefix("oidc-provider/") {
            return Trustee::WebIdentity { provider: f.to_string(), issuer: host.to_string() };
        }
        if a.resource.starts_with("saml-provider/") {
            return Trustee::Saml { provider: f.to_string() };
        }
    }
    Trustee::WebIdentity { provider: f.to_string(), issuer: f.to_string() }
}

/// Decide whether one condition narrows a grant to `trustee`, and how.
fn classify(c: &Condition, trustee: &Trustee) -> Result<Narrowing, String> {
    let key = c.key.to_ascii_lowercase();
    let (kind, principal_key) = match key.as_str() {
        "sts:externalid" => (NarrowingKind::ExternalId, None),
        "aws:principalorgid" => (NarrowingKind::PrincipalOrgId, Some(PrincipalKey::OrgId)),
        "aws:principalorgpaths" => (NarrowingKind::PrincipalOrgPaths, Some(PrincipalKey::OrgPath)),
        "aws:principalaccount" => (NarrowingKind::PrincipalAccount, Some(PrincipalKey::Account)),
        "aws:principalarn" => (NarrowingKind::PrincipalArn, Some(PrincipalKey::Arn { iam_only: true })),
        "aws:sourceaccount" | "aws:sourceowner" => (NarrowingKind::SourceAccount, Some(PrincipalKey::Account)),
        "aws:sourcearn" => (NarrowingKind::SourceArn, Some(PrincipalKey::Arn { iam_only: false })),
        "aws:sourceorgid" => (NarrowingKind::PrincipalOrgId, Some(PrincipalKey::OrgId)),
        "aws:sourceorgpaths" => (NarrowingKind::PrincipalOrgPaths, Some(PrincipalKey::OrgPath)),
        "aws:userid" => (NarrowingKind::UserId, Some(PrincipalKey::UserId)),
        "saml:sub" if matches!(trustee, Trustee::Saml { .. }) => (NarrowingKind::Subject, None),
        "saml:aud" if matches!(trustee, Trustee::Saml { .. }) => (NarrowingKind::Audience, None),
        _ => match federated_claim(&key, trustee) {
            Some(k) => (k, None),
            None => return Err("does not restrict who can assume the role".into()),
        },
    };
    let op = &c.operator;
    if op.set == Some(SetQualifier::ForAllValues) {
        return Err("ForAllValues: also matches when the key is absent".into());
    }
    if op.if_exists {
        return Err("…IfExists: also matches when the key is absent".into());
    }
    let Some((matcher, negated)) = Matcher::of(op) else {
        return Err(format!("operator {} does not pin the value", op.base));
    };
    if negated {
        return Err("negated operator: every other value still matches".into());
    }
    if c.values.is_empty() {
        return Err("no values".into());
    }
    let mut n = Narrowing {
        kind,
        key: c.key.clone(),
        operator: op.raw.clone(),
        values: c.values.clone(),
        from_deny_statement: None,
        parties: Vec::new(),
        matches_nobody: false,
    };
    if let Some(pk) = principal_key {
        let mut nobody = true;
        for v in &c.values {
            match admits(pk, matcher, v) {
                Admits::Anyone => {
                    let what = if matcher == Matcher::Arn && !has_wildcard(v) { String::new() } else { format!(" under {}", op.base) };
                    return Err(format!("value {v:?}{what} matches callers in any account"));
                }
                Admits::Nobody => {}
                Admits::Party(p) => {
                    nobody = false;
                    if !n.parties.contains(&p) {
                        n.parties.push(p);
                    }
                }
            }
        }
        n.matches_nobody = nobody;
        return Ok(n);
    }
    if matcher.takes_wildcards() {
        let issuer = match trustee {
            Trustee::WebIdentity { issuer, .. } => issuer.as_str(),
            _ => "",
        };
        for v in &c.values {
            if !value_narrows(kind, issuer, v) {
                return Err(format!("value {v:?} matches callers outside the intended set"));
            }
        }
    }
    Ok(n)
}

/// The condition key that pins who a web-identity token was issued to: `<issuer>:sub`, or the
/// identity pool / application claim of the well-known issuers.
pub fn subject_key(issuer: &str) -> String {
    let claim = WELL_KNOWN_ISSUERS.iter().find(|(i, _)| i.eq_ignore_ascii_case(issuer)).map(|(_, c)| *c).unwrap_or("sub");
    format!("{issuer}:{claim}")
}

/// `<issuer>:<claim>` condition keys of a web-identity grant.
fn federated_claim(key: &str, trustee: &Trustee) -> Option<NarrowingKind> {
    let Trustee::WebIdentity { issuer, .. } = trustee else { return None };
    let issuer = issuer.to_ascii_lowercase();
    let claim = key.strip_prefix(issuer.as_str())?.strip_prefix(':')?;
    let app_claim = WELL_KNOWN_ISSUERS.iter().find(|(i, _)| *i == issuer).map(|(_, c)| *c);
    match claim {
        "sub" => Some(NarrowingKind::Subject),
        c if Some(c) == app_claim => Some(NarrowingKind::Subject),
        "aud" | "azp" | "oaud" => Some(NarrowingKind::Audience),
        _ => None,
    }
}

/// Subject prefixes that are the same for every token of an issuer, so pin nothing:
/// EKS `system:serviceaccount:<namespace>:<name>`, GitHub `repo:<owner>/<repo>:…`, GitLab
/// `project_path:<group>/<project>:…`, Terraform Cloud `organization:<org>:…`.
const CONSTANT_SUBJECT_PREFIXES: [&str; 4] = ["system:serviceaccount:", "repo:", "project_path:", "organization:"];

/// For wildcard (`…Like`) values of non-principal keys: does this pattern still pin something?
fn value_narrows(kind: NarrowingKind, issuer: &str, v: &str) -> bool {
    if !has_wildcard(v) {
        return !v.is_empty();
    }
    let prefix = &v[..v.find(['*', '?']).unwrap_or(v.len())];
    match kind {
        NarrowingKind::Subject => subject_pins(issuer, prefix),
        NarrowingKind::Audience => !prefix.is_empty(),
        // An id with a wildcard in it is not an id.
        _ => false,
    }
}

/// Does the literal start of a subject pattern pin the caller? Only segments followed by a
/// separator count (the last piece may be partial). After a prefix every subject of the issuer
/// shares (EKS `system:serviceaccount:`, GitHub `repo:`, …) one complete segment must follow
/// (a namespace, an owner); with no known prefix, two.
fn subject_pins(issuer: &str, prefix: &str) -> bool {
    let complete = |s: &str| {
        let segments: Vec<&str> = s.split([':', '/']).collect();
        segments[..segments.len() - 1].iter().filter(|s| !s.is_empty()).count()
    };
    let _ = issuer;
    match CONSTANT_SUBJECT_PREFIXES.iter().find(|c| prefix.starts_with(*c) || c.starts_with(prefix)) {
        Some(c) if prefix.len() >= c.len() => complete(&prefix[c.len()..]) >= 1,
        Some(_) => false,
        None => complete(prefix) >= 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grants(v: serde_json::Value) -> Vec<TrustGrant> {
        analyze(&PolicyDocument::parse_value(&v).unwrap())
    }

    fn one(v: serde_json::Value) -> TrustGrant {
        let mut g = grants(v);
        assert_eq!(g.len(), 1, "{g:#?}");
        g.remove(0)
    }

    #[test]
    fn subject_patterns() {
        for (v, ok) in [
            ("repo:octo-org/app:ref:refs/heads/main", true),
            ("repo:octo-org/*", true),
            ("repo:octo-org/app:*", true),
            ("repo:*", false),
            ("repo:octo*", false),
            ("*", false),
            ("*:ref:refs/heads/main", false),
            ("system:serviceaccount:prod:*", true),
            ("system:serviceaccount:*", false),
            ("system:serviceaccount:*:*", false),
            ("system:serviceaccount:p*", false),
            ("system:*", false),
            ("repo:octo-org/app*", true),
            ("organization:acme:*", true),
            ("organization:*", false),
            ("project_path:group/proj:*", true),
        ] {
            assert_eq!(value_narrows(NarrowingKind::Subject, "oidc.eks.eu-west-1.amazonaws.com/id/ABC", v), ok, "{v}");
        }
    }

    #[test]
    fn only_assume_actions_grant() {
        let g = grants(json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"},
            {"Effect": "Allow", "Principal": "*", "NotAction": "sts:*"},
            {"Effect": "Allow", "Principal": "*", "NotAction": "s3:*"}
        ]}));
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].statement, 2);
        assert_eq!(g[0].actions.len(), 3);
    }

    #[test]
    fn blanket_and_principal_denies_remove_grants() {
        let g = grants(json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["111111111111", "222222222222"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "111111111111"}, "Action": "sts:*"}
        ]}));
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].foreign_parties("111111111111"), [Party::Account("222222222222".into())]);
        let g = grants(json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}
        ]}));
        assert!(g.is_empty());
    }

    #[test]
    fn deny_outside_org_narrows_a_public_grant() {
        let g = one(json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}
        ]}));
        assert!(!g.is_public());
        assert_eq!(g.narrowing[0].from_deny_statement, Some(1));
        // Two clauses in a deny are ANDed: that deny fires less often and narrows nothing.
        let g = one(json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}, "Bool": {"aws:SecureTransport": "false"}}}
        ]}));
        assert!(g.is_public());
    }

    #[test]
    fn unique_ids_and_wildcard_accounts() {
        let g = one(json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "AROAEXAMPLEID1234567"}, "Action": "sts:AssumeRole"}}));
        assert!(matches!(g.trustee, Trustee::UnknownId { .. }));
        assert!(!g.is_public());
        let g = one(json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "sts:AssumeRole"}}));
        assert!(g.is_public());
    }
}
