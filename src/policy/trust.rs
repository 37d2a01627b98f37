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

use super::arn::{has_wildcard, is_account_id, wildcard_match_ci, Arn};
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

impl NarrowingKind {
    /// Narrowings that restrict which AWS principals may call.
    pub fn restricts_aws_caller(self) -> bool {
        !matches!(self, NarrowingKind::Subject | NarrowingKind::Audience | NarrowingKind::ExternalId)
    }
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

    fn values(&self, kind: NarrowingKind) -> impl Iterator<Item = &str> {
        self.narrowing.iter().filter(move |n| n.kind == kind).flat_map(|n| n.values.iter().map(String::as_str))
    }

    /// Open to any AWS principal: `*` with nothing restricting the caller's identity.
    /// (An `sts:ExternalId` alone does not count: it is not a secret.)
    pub fn is_public(&self) -> bool {
        self.trustee == Trustee::Anyone && !self.narrowing.iter().any(|n| n.kind.restricts_aws_caller())
    }

    /// The accounts whose principals this grant reaches, where they can be named.
    pub fn accounts(&self) -> Vec<String> {
        match &self.trustee {
            Trustee::Account { account, .. } => vec![account.clone()],
            Trustee::Anyone => {
                let mut out: Vec<String> = self.values(NarrowingKind::PrincipalAccount).map(str::to_string).collect();
                for arn in self.values(NarrowingKind::PrincipalArn) {
                    if let Some(a) = Arn::parse(arn) {
                        out.push(a.account.to_string());
                    }
                }
                out.sort();
                out.dedup();
                out
            }
            _ => Vec::new(),
        }
    }

    /// What keeps this grant from being usable by any principal of the trusted account on behalf
    /// of anyone (the confused-deputy and whole-account problems), if anything.
    pub fn cross_account_guard(&self) -> Option<String> {
        if self.has(NarrowingKind::ExternalId) {
            return Some("sts:ExternalId".into());
        }
        for (kind, label) in [
            (NarrowingKind::PrincipalOrgId, "aws:PrincipalOrgID"),
            (NarrowingKind::PrincipalOrgPaths, "aws:PrincipalOrgPaths"),
            (NarrowingKind::PrincipalArn, "aws:PrincipalArn"),
            (NarrowingKind::UserId, "aws:userid"),
        ] {
            if self.has(kind) {
                return Some(label.into());
            }
        }
        match &self.trustee {
            Trustee::Account { whole_account: false, arn, .. } => Some(format!("named principal {arn}")),
            _ => None,
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
            .filter(|a| grants_action(st, a) && !denies.blanket.contains(a))
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
                    Ok(kind) => narrowing.push(Narrowing {
                        kind,
                        key: c.key.clone(),
                        operator: c.operator.raw.clone(),
                        values: c.values.clone(),
                        from_deny_statement: None,
                    }),
                    Err(reason) => unnarrowed.push(Unnarrowed { key: c.key.clone(), operator: c.operator.raw.clone(), reason }),
                }
            }
            for (deny_idx, deny_actions, n) in &denies.narrowing {
                // A deny narrows the grant only if it covers every action the grant gives.
                if actions.iter().all(|a| deny_actions.contains(a)) {
                    if let Ok(kind) = classify(n, &trustee) {
                        narrowing.push(Narrowing {
                            kind,
                            key: n.key.clone(),
                            operator: n.operator.raw.clone(),
                            values: n.values.clone(),
                            from_deny_statement: Some(*deny_idx),
                        });
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

fn grants_action(st: &Statement, action: &str) -> bool {
    match (&st.action, &st.not_action) {
        (Some(list), _) => list.iter().any(|p| wildcard_match_ci(p, action)),
        (None, Some(not)) => !not.iter().any(|p| wildcard_match_ci(p, action)),
        (None, None) => false,
    }
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
        let actions: Vec<&'static str> = ASSUME_ACTIONS.iter().copied().filter(|a| grants_action(st, a)).collect();
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
    let positive = match c.operator.base.to_ascii_lowercase().as_str() {
        "stringnotequals" => "StringEquals",
        "stringnotequalsignorecase" => "StringEqualsIgnoreCase",
        "stringnotlike" => "StringLike",
        "arnnotequals" => "ArnEquals",
        "arnnotlike" => "ArnLike",
        _ => return None,
    };
    Some(Condition { operator: super::document::Operator::parse(positive), key: c.key.clone(), values: c.values.clone() })
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
fn classify(c: &Condition, trustee: &Trustee) -> Result<NarrowingKind, String> {
    let key = c.key.to_ascii_lowercase();
    let kind = match key.as_str() {
        "sts:externalid" => NarrowingKind::ExternalId,
        "aws:principalorgid" => NarrowingKind::PrincipalOrgId,
        "aws:principalorgpaths" => NarrowingKind::PrincipalOrgPaths,
        "aws:principalaccount" => NarrowingKind::PrincipalAccount,
        "aws:principalarn" => NarrowingKind::PrincipalArn,
        "aws:sourceaccount" | "aws:sourceowner" => NarrowingKind::SourceAccount,
        "aws:sourcearn" => NarrowingKind::SourceArn,
        "aws:userid" => NarrowingKind::UserId,
        "saml:sub" if matches!(trustee, Trustee::Saml { .. }) => NarrowingKind::Subject,
        "saml:aud" if matches!(trustee, Trustee::Saml { .. }) => NarrowingKind::Audience,
        _ => match federated_claim(&key, trustee) {
            Some(k) => k,
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
    let base = op.base.to_ascii_lowercase();
    let like = match base.as_str() {
        "stringequals" | "stringequalsignorecase" | "arnequals" => false,
        "stringlike" | "arnlike" => true,
        b if b.contains("not") => return Err("negated operator: every other value still matches".into()),
        _ => return Err(format!("operator {} does not pin the value", op.base)),
    };
    if c.values.is_empty() {
        return Err("no values".into());
    }
    for v in &c.values {
        if like && !value_narrows(kind, v) {
            return Err(format!("value {v:?} matches callers outside the intended set"));
        }
    }
    Ok(kind)
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

/// For `…Like` operators: does this pattern still pin something meaningful?
fn value_narrows(kind: NarrowingKind, v: &str) -> bool {
    if !has_wildcard(v) {
        return !v.is_empty();
    }
    let prefix = &v[..v.find(['*', '?']).unwrap_or(v.len())];
    match kind {
        // An id with a wildcard in it is not an id.
        NarrowingKind::ExternalId | NarrowingKind::PrincipalOrgId | NarrowingKind::PrincipalAccount
        | NarrowingKind::SourceAccount => false,
        // o-xxxxxxxxxx/… : the organization id must be spelled out.
        NarrowingKind::PrincipalOrgPaths => prefix.contains('/') && prefix.starts_with("o-"),
        // The account part of the ARN must be literal.
        NarrowingKind::PrincipalArn | NarrowingKind::SourceArn => match Arn::parse(v) {
            Some(a) if !a.account.is_empty() => is_account_id(a.account),
            Some(a) => !a.resource.is_empty() && !a.resource.starts_with(['*', '?']),
            None => false,
        },
        NarrowingKind::UserId => !prefix.is_empty(),
        // At least two complete segments: `repo:octo-org/…`, `project_path:group/…`,
        // `system:serviceaccount:…`. `repo:*` or `repo:octo*` let anyone's repository in.
        NarrowingKind::Subject => {
            // Only segments followed by a separator are pinned; the last piece may be partial.
            let segments: Vec<&str> = prefix.split([':', '/']).collect();
            segments[..segments.len() - 1].iter().filter(|s| !s.is_empty()).count() >= 2
        }
        NarrowingKind::Audience => !prefix.is_empty(),
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
            ("project_path:group/proj:*", true),
        ] {
            assert_eq!(value_narrows(NarrowingKind::Subject, v), ok, "{v}");
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
        assert_eq!(g[0].accounts(), ["222222222222"]);
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
