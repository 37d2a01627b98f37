//! Reading guardrail policies (SCPs): does a policy deny an action to (nearly) everyone?
//!
//! A Deny counts as a guard when it covers the action for every resource and its conditions only
//! carve out named principals (`ArnNotLike aws:PrincipalArn …`, the usual break-glass exemption).
//! A Deny that applies only under other conditions (a region, a tag, a time) is reported but does
//! not count: it leaves the action open in the cases it does not name.

use serde::Serialize;

use super::condition::Matcher;
use super::{Condition, Effect, PolicyDocument, SetQualifier, Statement};

/// The account a guardrail is judged for, with the identifiers its conditions are matched against.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub account: String,
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: String,
    pub org_id: String,
    /// The account's `aws:PrincipalOrgPaths` value: `o-…/r-…/ou-…/` (its OU chain).
    pub org_path: String,
}

impl Target {
    pub fn root_arn(&self) -> String {
        format!("arn:{}:iam::{}:root", self.partition, self.account)
    }
}

/// One Deny statement that covers the action asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DenyFound {
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Principals exempted by the statement's conditions, as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<String>,
    /// Conditions that keep the Deny from being a guard (empty when it counts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limiting_conditions: Vec<String>,
}

impl DenyFound {
    pub fn counts(&self) -> bool {
        self.limiting_conditions.is_empty()
    }
}

fn covers_all_resources(st: &Statement) -> bool {
    match (&st.resource, &st.not_resource) {
        (Some(list), _) => list.iter().any(|r| r == "*"),
        (None, Some(_)) => false,
        (None, None) => true, // SCPs may omit Resource; it then means every resource
    }
}

fn render(c: &Condition) -> String {
    format!("{} {} {}", c.operator.raw, c.key, c.values.join(","))
}

/// What a condition of a Deny does for the target account.
enum Role {
    /// Exempts named principals (a break-glass role): the Deny still covers everyone else.
    Exempts(Vec<String>),
    /// Makes the Deny miss callers it should catch (a region, a tag, a carve-out of everyone).
    Limits(String),
}

/// Principals an attacker inside the target account can create or become, whatever the names.
fn attacker_principals(t: &Target) -> Vec<(&'static str, String)> {
    let (p, a) = (&t.partition, &t.account);
    vec![
        ("aws:principalarn", format!("arn:{p}:iam::{a}:role/x7qz9-attacker")),
        ("aws:principalarn", format!("arn:{p}:iam::{a}:user/x7qz9-attacker")),
        ("aws:principalarn", format!("arn:{p}:sts::{a}:assumed-role/x7qz9-attacker/x7qz9-session")),
        ("aws:principalarn", format!("arn:{p}:iam::{a}:root")),
        ("aws:principalaccount", a.clone()),
        ("aws:principalorgid", t.org_id.clone()),
        ("aws:principalorgpaths", t.org_path.clone()),
        ("aws:userid", "AROAX7QZ9ATTACKER0000:x7qz9-session".into()),
        ("aws:userid", "AIDAX7QZ9ATTACKER0000".into()),
        ("aws:userid", a.clone()),
        ("aws:username", "x7qz9-attacker".into()),
    ]
}

/// Judge one condition of a Deny for `t`. A negated principal condition is a carve-out; it counts
/// only when it names principals, so that a principal the attacker creates or controls in the
/// account is still denied.
fn judge(c: &Condition, t: &Target) -> Role {
    let key = c.key.to_ascii_lowercase();
    let Some((m, true)) = Matcher::of(&c.operator) else {
        return Role::Limits(render(c));
    };
    if key.starts_with("aws:principaltag/") {
        return Role::Limits(format!("{} (exempts every principal carrying the tag, not named principals)", render(c)));
    }
    let candidates: Vec<String> = attacker_principals(t).into_iter().filter(|(k, _)| *k == key).map(|(_, v)| v).collect();
    if candidates.is_empty() || c.operator.set == Some(SetQualifier::ForAllValues) {
        return Role::Limits(render(c));
    }
    // IfExists on a negated carve-out only makes the Deny fire more often: it still counts.
    if let Some(v) = c.values.iter().find(|v| candidates.iter().any(|cand| !cand.is_empty() && m.matches(v, cand))) {
        return Role::Limits(format!("{} (the value {v:?} exempts every principal of account {})", render(c), t.account));
    }
    Role::Exempts(c.values.clone())
}

/// Deny statements (SCP-style: no principal) covering `action` on every resource, with their index.
fn blanket_denies<'d>(doc: &'d PolicyDocument, action: &'d str) -> impl Iterator<Item = (usize, &'d Statement)> {
    doc.statements
        .iter()
        .enumerate()
        .filter(|(_, st)| st.effect == Effect::Deny && st.principal.is_none() && st.not_principal.is_none())
        .filter(move |(_, st)| st.covers_action(action) && covers_all_resources(st))
}

fn found(i: usize, st: &Statement, conditions: impl Iterator<Item = Role>) -> DenyFound {
    let mut d = DenyFound { statement: i, sid: st.sid.clone(), exemptions: Vec::new(), limiting_conditions: Vec::new() };
    for r in conditions {
        match r {
            Role::Exempts(v) => d.exemptions.extend(v),
            Role::Limits(why) => d.limiting_conditions.push(why),
        }
    }
    d
}

/// Deny statements of `doc` that cover `action` on every resource, counting or not, for `t`.
pub fn denies(doc: &PolicyDocument, action: &str, t: &Target) -> Vec<DenyFound> {
    blanket_denies(doc, action).map(|(i, st)| found(i, st, st.conditions.iter().map(|c| judge(c, t)))).collect()
}

/// Deny statements aimed at the target's root user: a non-negated `aws:PrincipalArn` condition that,
/// with the operator's own semantics, matches `arn:<partition>:iam::<account>:root` exactly.
pub fn denies_root(doc: &PolicyDocument, action: &str, t: &Target) -> Vec<DenyFound> {
    let root = t.root_arn();
    blanket_denies(doc, action)
        .filter_map(|(i, st)| {
            let is_root_clause = |c: &Condition| {
                c.key_is("aws:PrincipalArn")
                    && matches!(Matcher::of(&c.operator), Some((m, false)) if c.values.iter().any(|v| m.matches(v, &root)))
            };
            if !st.conditions.iter().any(is_root_clause) {
                return None;
            }
            Some(found(i, st, st.conditions.iter().filter(|c| !is_root_clause(c)).map(|c| judge(c, t))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> PolicyDocument {
        PolicyDocument::parse_str(s).unwrap()
    }

    fn t() -> Target {
        Target { account: "111122223333".into(), partition: "aws".into(), org_id: "o-a1b2c3d4e5".into(), org_path: "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".into() }
    }

    fn denies(d: &PolicyDocument, a: &str) -> Vec<DenyFound> {
        super::denies(d, a, &t())
    }

    fn denies_root(d: &PolicyDocument, a: &str) -> Vec<DenyFound> {
        super::denies_root(d, a, &t())
    }

    #[test]
    fn a_plain_deny_counts_and_an_exemption_is_named() {
        let d = doc(r#"{"Statement":[{"Effect":"Deny","Action":["cloudtrail:Stop*","cloudtrail:DeleteTrail"],"Resource":"*",
            "Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}"#);
        let f = denies(&d, "cloudtrail:StopLogging");
        assert_eq!(f.len(), 1);
        assert!(f[0].counts());
        assert_eq!(f[0].exemptions, vec!["arn:aws:iam::*:role/BreakGlass"]);
        assert!(denies(&d, "cloudtrail:CreateTrail").is_empty());
    }

    #[test]
    fn allow_statements_region_conditions_and_partial_resources_do_not_count() {
        let allow = doc(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        assert!(denies(&allow, "organizations:LeaveOrganization").is_empty());
        let region = doc(r#"{"Statement":{"Effect":"Deny","Action":"organizations:*","Resource":"*",
            "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}"#);
        let f = denies(&region, "organizations:LeaveOrganization");
        assert!(!f[0].counts());
        assert_eq!(f[0].limiting_conditions, vec!["StringEquals aws:RequestedRegion eu-west-1"]);
        let one = doc(r#"{"Statement":{"Effect":"Deny","Action":"cloudtrail:*","Resource":"arn:aws:cloudtrail:*:*:trail/other"}}"#);
        assert!(denies(&one, "cloudtrail:DeleteTrail").is_empty());
        let if_exists = doc(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"ArnNotLikeIfExists":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}}}"#);
        assert!(denies(&if_exists, "cloudtrail:DeleteTrail")[0].counts(), "IfExists on a carve-out only widens the Deny");
    }

    #[test]
    fn not_action_denies_everything_else() {
        let d = doc(r#"{"Statement":{"Effect":"Deny","NotAction":["iam:Get*"],"Resource":"*"}}"#);
        assert_eq!(denies(&d, "organizations:LeaveOrganization").len(), 1);
        assert!(denies(&d, "iam:GetUser").is_empty());
    }

    #[test]
    fn root_denies_need_a_principal_arn_matching_root() {
        let d = doc(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}}"#);
        assert_eq!(denies_root(&d, "iam:CreateAccessKey").len(), 1);
        let not_root = doc(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}}"#);
        assert!(denies_root(&not_root, "iam:CreateAccessKey").is_empty());
        let users = doc(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}}}"#);
        assert!(denies_root(&users, "iam:CreateAccessKey").is_empty());
    }

    #[test]
    fn carve_outs_that_exempt_everyone_do_not_count() {
        for cond in [
            r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#,
            r#"{"StringNotLike":{"aws:PrincipalArn":"*"}}"#,
            r#"{"ArnNotLike":{"aws:PrincipalARN":"arn:aws:iam::*:role/*"}}"#,
            r#"{"ArnNotEquals":{"aws:PrincipalArn":["arn:aws:iam::*:role/BreakGlass","arn:aws:iam::111122223333:*"]}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
            r#"{"StringNotLike":{"aws:PrincipalAccount":"1111*"}}"#,
            r#"{"ForAnyValue:StringNotLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/*"}}"#,
            r#"{"StringNotLike":{"aws:userid":"AROA*"}}"#,
            r#"{"StringNotLike":{"aws:PrincipalTag/admin":"true"}}"#,
            r#"{"StringNotLike":{"aws:username":"*"}}"#,
        ] {
            let d = doc(&format!(r#"{{"Statement":{{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*","Condition":{cond}}}}}"#));
            let f = denies(&d, "cloudtrail:StopLogging");
            assert!(!f[0].counts(), "{cond} counted: {f:?}");
        }
        for cond in [
            r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-zzzzzzzzzz"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalAccount":"999988887777"}}"#,
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#,
            r#"{"StringNotLike":{"aws:PrincipalArn":["arn:aws:iam::111122223333:role/admin/Ops*"]}}"#,
        ] {
            let d = doc(&format!(r#"{{"Statement":{{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*","Condition":{cond}}}}}"#));
            assert!(denies(&d, "cloudtrail:StopLogging")[0].counts(), "{cond} did not count");
        }
    }

    #[test]
    fn root_denies_match_the_real_root_arn_with_the_operators_semantics() {
        for (cond, counts) in [
            (r#"{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}"#, true),
            (r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}"#, true),
            (r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}"#, true),
            (r#"{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:root"}}"#, true),
            (r#"{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}"#, false),
            (r#"{"StringLike":{"aws:PrincipalArn":"ARN:AWS:IAM::*:ROOT"}}"#, false),
            (r#"{"StringEqualsIgnoreCase":{"aws:PrincipalArn":"ARN:AWS:IAM::111122223333:ROOT"}}"#, true),
            (r#"{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::999988887777:root"}}"#, false),
            (r#"{"StringLike":{"aws:PrincipalArn":"arn:aws-cn:iam::*:root"}}"#, false),
        ] {
            let d = doc(&format!(r#"{{"Statement":{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{cond}}}}}"#));
            assert_eq!(denies_root(&d, "iam:CreateAccessKey").len() == 1, counts, "{cond}");
        }
    }
}
