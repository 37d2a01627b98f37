//! Condition operators with IAM's semantics, and what a principal condition lets in.
//!
//! The rules a verdict rests on (DESIGN §4):
//! - `StringEquals` / `StringNotEquals` compare literally and case-sensitively: a `*` in the value is
//!   a character, not a wildcard, so `StringEquals aws:PrincipalAccount "*"` matches nobody.
//! - `StringLike` takes `*` and `?` anywhere, across colons; case-sensitive.
//! - `ArnEquals` and `ArnLike` are the same operator: both take wildcards, matched per
//!   colon-delimited ARN component; case-sensitive.
//! - `…IgnoreCase` compares without case.
//!
//! [`admits`] answers the attacker's question for one value of a principal key (`aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalOrgID`, …): which callers can satisfy it? A named account
//! or organization, anyone (the value pins no account), or no one at all. An attacker chooses the
//! names of their own principals, so only the account (or organization) part of a value pins anything.

use serde::Serialize;

pub use super::arn::wildcard_match;
use super::arn::is_account_id;
use super::Operator;

/// Who can satisfy a principal condition value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Party {
    /// Principals of one account.
    Account(String),
    /// Principals of every account of one organization.
    Organization(String),
    /// One principal known only by its unique id (`AROA…`, `AIDA…`): its account is unknown.
    UniqueId(String),
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Party::Account(a) => write!(f, "account {a}"),
            Party::Organization(o) => write!(f, "organization {o}"),
            Party::UniqueId(u) => write!(f, "principal id {u}"),
        }
    }
}

/// What one condition value admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admits {
    /// Callers of these parties only.
    Party(Party),
    /// Callers of any account: the value pins nothing.
    Anyone,
    /// No caller can carry this value (a literal `*` under `StringEquals`, a wrongly cased ARN).
    Nobody,
}

/// How an operator compares, after its set qualifier, `IfExists` and negation are taken off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matcher {
    /// `StringEquals`: literal, case-sensitive.
    Exact,
    /// `StringEqualsIgnoreCase`.
    ExactIgnoreCase,
    /// `StringLike`: `*`/`?` wildcards over the whole string, case-sensitive.
    Like,
    /// `ArnEquals` / `ArnLike`: wildcards per ARN component, case-sensitive.
    Arn,
}

impl Matcher {
    /// The positive string/ARN matcher of an operator and whether it is negated; `None` for
    /// operators that do not compare strings (`Bool`, `Null`, numeric, date, IP, binary).
    pub fn of(op: &Operator) -> Option<(Matcher, bool)> {
        let b = op.base.to_ascii_lowercase();
        let (negated, positive) = match b.as_str() {
            "stringequals" => (false, Matcher::Exact),
            "stringnotequals" => (true, Matcher::Exact),
            "stringequalsignorecase" => (false, Matcher::ExactIgnoreCase),
            "stringnotequalsignorecase" => (true, Matcher::ExactIgnoreCase),
            "stringlike" => (false, Matcher::Like),
            "stringnotlike" => (true, Matcher::Like),
            "arnequals" | "arnlike" => (false, Matcher::Arn),
            "arnnotequals" | "arnnotlike" => (true, Matcher::Arn),
            _ => return None,
        };
        Some((positive, negated))
    }

    /// Does `pattern` (a condition value) match the request's `value`?
    pub fn matches(self, pattern: &str, value: &str) -> bool {
        match self {
            Matcher::Exact => pattern == value,
            Matcher::ExactIgnoreCase => pattern.eq_ignore_ascii_case(value),
            Matcher::Like => wildcard_match(pattern, value),
            Matcher::Arn => arn_match(pattern, value),
        }
    }

    pub fn takes_wildcards(self) -> bool {
        matches!(self, Matcher::Like | Matcher::Arn)
    }
}

/// `ArnLike`: each of the six components matched on its own (the last one keeps its colons).
pub fn arn_match(pattern: &str, value: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    p.len() == 6 && v.len() == 6 && p.iter().zip(&v).all(|(p, v)| wildcard_match(p, v))
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// The principal condition keys whose values name who the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKey {
    /// `aws:PrincipalArn`, `aws:SourceArn` (the latter for any service's ARNs).
    Arn { iam_only: bool },
    /// `aws:PrincipalAccount`, `aws:SourceAccount`, `aws:SourceOwner`.
    Account,
    /// `aws:PrincipalOrgID`, `aws:SourceOrgID`.
    OrgId,
    /// `aws:PrincipalOrgPaths`, `aws:SourceOrgPaths`.
    OrgPath,
    /// `aws:userid`: `AIDA…` (user), `AROA…:session` (role), or the account id (root).
    UserId,
}

/// What one value of a principal key admits, under the operator's matcher.
pub fn admits(key: PrincipalKey, m: Matcher, value: &str) -> Admits {
    // A case-insensitive comparison of a value that only differs in case is the same value.
    let v = match m {
        Matcher::ExactIgnoreCase => normalize_case(key, value),
        _ => value.to_string(),
    };
    let literal = !m.takes_wildcards() || !has_wildcard(&v);
    match key {
        PrincipalKey::Account => {
            if is_account_id(&v) {
                Admits::Party(Party::Account(v))
            } else if literal || !could_be_account(&v) {
                Admits::Nobody
            } else {
                Admits::Anyone
            }
        }
        PrincipalKey::OrgId => {
            if literal {
                if looks_like_org(&v) { Admits::Party(Party::Organization(v)) } else { Admits::Nobody }
            } else if prefix_could_be_org(&v) {
                Admits::Anyone
            } else {
                Admits::Nobody
            }
        }
        PrincipalKey::OrgPath => {
            // `o-xxxxxxxxxx/r-xxxx/ou-…/`: the organization id must be spelled out before any wildcard.
            let first = v.split('/').next().unwrap_or("");
            if looks_like_org(first) && (literal || v.len() > first.len()) {
                Admits::Party(Party::Organization(first.to_string()))
            } else if literal {
                Admits::Nobody
            } else if prefix_could_be_org(&v) {
                Admits::Anyone
            } else {
                Admits::Nobody
            }
        }
        PrincipalKey::UserId => {
            let head = v.split(':').next().unwrap_or("");
            let pinned = !has_wildcard(head) || !m.takes_wildcards();
            if literal && v.contains('*') {
                // A literal `*` under StringEquals: no user id contains one.
                return Admits::Nobody;
            }
            if pinned && is_account_id(head) && (v.len() == head.len() || !m.takes_wildcards()) {
                Admits::Party(Party::Account(head.to_string()))
            } else if pinned && is_unique_id(head) {
                Admits::Party(Party::UniqueId(head.to_string()))
            } else if literal {
                Admits::Nobody
            } else {
                Admits::Anyone
            }
        }
        PrincipalKey::Arn { iam_only } => arn_admits(&v, m, iam_only, literal),
    }
}

fn normalize_case(key: PrincipalKey, v: &str) -> String {
    match key {
        PrincipalKey::Arn { .. } => {
            // The fixed parts of an ARN are lower case; names keep their case.
            let parts: Vec<&str> = v.splitn(6, ':').collect();
            if parts.len() == 6 {
                let mut out: Vec<String> = parts[..5].iter().map(|p| p.to_ascii_lowercase()).collect();
                out.push(parts[5].to_string());
                out.join(":")
            } else {
                v.to_string()
            }
        }
        PrincipalKey::OrgId | PrincipalKey::OrgPath => v.to_ascii_lowercase(),
        PrincipalKey::UserId => v.to_ascii_uppercase(),
        PrincipalKey::Account => v.to_string(),
    }
}

fn could_be_account(pattern: &str) -> bool {
    pattern.bytes().all(|b| b.is_ascii_digit() || b == b'*' || b == b'?')
}

/// `o-` followed by 10 to 32 lower-case letters or digits.
pub fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|r| (10..=32).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// An organization id as a condition value: `o-` and no wildcard. Judged leniently (any length):
/// a value read as an organization is inside only when it is the scanned one or allow-listed.
fn looks_like_org(s: &str) -> bool {
    s.len() > 2 && s.starts_with("o-") && !has_wildcard(s) && !s.contains('/')
}

/// Whether a wildcard pattern's literal start can begin an organization id (`o-`…).
fn prefix_could_be_org(v: &str) -> bool {
    let prefix = v.split(['*', '?']).next().unwrap_or("");
    "o-".starts_with(prefix) || prefix.starts_with("o-")
}

/// An IAM unique id: `AIDA…`, `AROA…`, `AGPA…`, … (four letters, then at least 12 characters).
pub fn is_unique_id(s: &str) -> bool {
    s.len() >= 16 && s.starts_with('A') && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Principal ARNs look like `arn:<partition>:iam::<account>:<type>/<name>` (or `sts`,
/// `assumed-role/…`). The attacker picks the partition's names freely, so the account component is
/// what pins the caller.
fn arn_admits(v: &str, m: Matcher, iam_only: bool, literal: bool) -> Admits {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let wild = |s: &str| m.takes_wildcards() && has_wildcard(s);
    let fits = |pattern: &str, fixed: &str| if wild(pattern) { wildcard_match(pattern, fixed) } else { pattern == fixed };
    if parts.len() < 6 {
        // Too few components: an ARN pattern only matches if a wildcard can stand for the rest.
        return if m == Matcher::Like && v.contains('*') && prefix_fits_arn(v, iam_only) { Admits::Anyone } else { Admits::Nobody };
    }
    // With StringLike a `*` before the account may swallow colons: the account is then not pinned.
    if m == Matcher::Like && parts[..4].iter().any(|p| p.contains('*')) {
        return if prefix_fits_arn(v, iam_only) { Admits::Anyone } else { Admits::Nobody };
    }
    let partition_ok = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"].iter().any(|p| fits(parts[1], p));
    let service_ok = !iam_only || fits(parts[2], "iam") || fits(parts[2], "sts");
    let region_ok = !iam_only || fits(parts[3], "");
    if !fits(parts[0], "arn") || !partition_ok || !service_ok || !region_ok || parts[5].is_empty() {
        return Admits::Nobody;
    }
    let account = parts[4];
    if is_account_id(account) {
        Admits::Party(Party::Account(account.to_string()))
    } else if wild(account) && could_be_account(account) || m == Matcher::Like && account.contains('*') {
        Admits::Anyone
    } else if !literal && account.is_empty() && !iam_only {
        // Some services' ARNs carry no account (S3 buckets): the bucket's owner is not pinned.
        Admits::Anyone
    } else {
        Admits::Nobody
    }
}

/// Whether the literal start of a `StringLike` pattern can begin some principal ARN.
fn prefix_fits_arn(v: &str, iam_only: bool) -> bool {
    let prefix = v.split(['*', '?']).next().unwrap_or("");
    if !iam_only {
        return "arn:".starts_with(prefix) || prefix.starts_with("arn:");
    }
    ["arn:aws:iam::", "arn:aws:sts::", "arn:aws-cn:iam::", "arn:aws-us-gov:iam::", "arn:aws-iso:iam::", "arn:aws-iso-b:iam::"]
        .iter()
        .any(|a| a.starts_with(prefix) || prefix.starts_with(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(s: &str) -> Matcher {
        Matcher::of(&Operator::parse(s)).unwrap().0
    }

    #[test]
    fn operator_semantics() {
        assert!(op("ArnEquals").matches("arn:aws:iam::*:role/*", "arn:aws:iam::999988887777:role/x"));
        assert!(op("ArnLike").matches("arn:aws:iam::*:role/*", "arn:aws:iam::999988887777:role/x"));
        assert!(!op("StringEquals").matches("*", "999988887777"));
        assert!(op("StringLike").matches("*", "999988887777"));
        assert!(!op("StringLike").matches("ARN:AWS:IAM::*:ROOT", "arn:aws:iam::111122223333:root"));
        assert!(op("StringEqualsIgnoreCase").matches("ARN:AWS:IAM::111122223333:ROOT", "arn:aws:iam::111122223333:root"));
        // ArnLike matches component by component: `*` does not cross a colon.
        assert!(!op("ArnLike").matches("arn:aws:iam::111122223333:*", "arn:aws:iam::999988887777:root") );
        assert!(op("StringLike").matches("arn:*:root", "arn:aws:iam::999988887777:root"));
        assert!(!op("ArnLike").matches("arn:*:root", "arn:aws:iam::999988887777:root"));
        assert_eq!(Matcher::of(&Operator::parse("ArnNotEquals")), Some((Matcher::Arn, true)));
        assert_eq!(Matcher::of(&Operator::parse("Bool")), None);
    }

    #[test]
    fn what_principal_values_admit() {
        use Admits::*;
        let acct = |a: &str| Party(super::Party::Account(a.into()));
        let arn = PrincipalKey::Arn { iam_only: true };
        for (key, m, v, want) in [
            (arn, "ArnEquals", "arn:aws:iam::*:role/*", Anyone),
            (arn, "ArnLike", "arn:aws:iam::111122223333:role/*", acct("111122223333")),
            (arn, "StringEquals", "arn:aws:iam::*:role/x", Nobody),
            (arn, "StringEquals", "arn:aws:iam::111122223333:role/x", acct("111122223333")),
            (arn, "StringLike", "ARN:AWS:IAM::*:ROOT", Nobody),
            (arn, "StringLike", "arn:aws:iam::*", Anyone),
            (arn, "StringLike", "arn:*", Anyone),
            (arn, "StringLike", "*", Anyone),
            (arn, "StringLike", "arn:aws:*:111122223333:root", Anyone),
            (arn, "StringEqualsIgnoreCase", "ARN:AWS:IAM::111122223333:ROOT", acct("111122223333")),
            (arn, "ArnLike", "arn:aws:s3:::bucket", Nobody),
            (PrincipalKey::Account, "StringEquals", "*", Nobody),
            (PrincipalKey::Account, "StringLike", "*", Anyone),
            (PrincipalKey::Account, "StringLike", "1111*", Anyone),
            (PrincipalKey::Account, "StringEquals", "111122223333", acct("111122223333")),
            (PrincipalKey::OrgId, "StringEquals", "o-a1b2c3d4e5", Party(super::Party::Organization("o-a1b2c3d4e5".into()))),
            (PrincipalKey::OrgId, "StringLike", "o-*", Anyone),
            (PrincipalKey::OrgId, "StringEquals", "o-*", Nobody),
            (PrincipalKey::OrgPath, "StringLike", "o-*/*", Anyone),
            (PrincipalKey::OrgPath, "StringLike", "*", Anyone),
            (PrincipalKey::OrgPath, "StringLike", "o-a1b2c3d4e5/*", Party(super::Party::Organization("o-a1b2c3d4e5".into()))),
            (PrincipalKey::UserId, "StringLike", "AROA*", Anyone),
            (PrincipalKey::UserId, "StringLike", "*:alice", Anyone),
            (PrincipalKey::UserId, "StringEquals", "AROA*", Nobody),
            (PrincipalKey::UserId, "StringLike", "AROAEXAMPLEID1234567:*", Party(super::Party::UniqueId("AROAEXAMPLEID1234567".into()))),
            (PrincipalKey::UserId, "StringEquals", "111122223333", acct("111122223333")),
        ] {
            assert_eq!(admits(key, op(m), v), want, "{m} {v}");
        }
    }
}
