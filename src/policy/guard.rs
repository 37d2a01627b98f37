//! Reading guardrail policies (SCPs): does a policy deny an action to (nearly) everyone?
//!
//! A Deny counts as a guard when it covers the action for every resource and its conditions only
//! carve out named principals (`ArnNotLike aws:PrincipalArn …`, the usual break-glass exemption).
//! A Deny that applies only under other conditions (a region, a tag, a time) is reported but does
//! not count: it leaves the action open in the cases it does not name.

use serde::Serialize;

use super::arn::wildcard_match_ci;
use super::{Condition, Effect, PolicyDocument, Statement};

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

fn covers_action(st: &Statement, action: &str) -> bool {
    match (&st.action, &st.not_action) {
        (Some(list), _) => list.iter().any(|p| wildcard_match_ci(p, action)),
        (None, Some(not)) => !not.iter().any(|p| wildcard_match_ci(p, action)),
        (None, None) => false,
    }
}

fn covers_all_resources(st: &Statement) -> bool {
    match (&st.resource, &st.not_resource) {
        (Some(list), _) => list.iter().any(|r| r == "*"),
        (None, Some(_)) => false,
        (None, None) => true, // SCPs may omit Resource; it then means every resource
    }
}

const PRINCIPAL_KEYS: &[&str] = &["aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:userid", "aws:username"];

fn is_exemption(c: &Condition) -> bool {
    let negated = c.operator.base.to_ascii_lowercase().contains("not");
    negated
        && !c.operator.if_exists
        && c.operator.set.is_none()
        && (PRINCIPAL_KEYS.iter().any(|k| c.key_is(k)) || c.key.to_ascii_lowercase().starts_with("aws:principaltag/"))
}

fn render(c: &Condition) -> String {
    format!("{} {} {}", c.operator.raw, c.key, c.values.join(","))
}

/// Deny statements (SCP-style: no principal) covering `action` on every resource, with their index.
fn blanket_denies<'d>(doc: &'d PolicyDocument, action: &'d str) -> impl Iterator<Item = (usize, &'d Statement)> {
    doc.statements
        .iter()
        .enumerate()
        .filter(|(_, st)| st.effect == Effect::Deny && st.principal.is_none() && st.not_principal.is_none())
        .filter(move |(_, st)| covers_action(st, action) && covers_all_resources(st))
}

/// Deny statements of `doc` that cover `action` on every resource, counting or not.
pub fn denies(doc: &PolicyDocument, action: &str) -> Vec<DenyFound> {
    blanket_denies(doc, action)
        .map(|(i, st)| {
            let (ex, limiting): (Vec<&Condition>, Vec<&Condition>) = st.conditions.iter().partition(|c| is_exemption(c));
            DenyFound {
                statement: i,
                sid: st.sid.clone(),
                exemptions: ex.iter().flat_map(|c| c.values.iter().cloned()).collect(),
                limiting_conditions: limiting.iter().map(|c| render(c)).collect(),
            }
        })
        .collect()
}

/// Deny statements aimed at the root user: a non-negated `aws:PrincipalArn` condition whose value
/// matches `arn:aws:iam::<account>:root`, covering `action`.
pub fn denies_root(doc: &PolicyDocument, action: &str) -> Vec<DenyFound> {
    blanket_denies(doc, action)
        .filter_map(|(i, st)| {
            let targets_root = st.conditions.iter().any(|c| {
                let base = c.operator.base.to_ascii_lowercase();
                (c.key_is("aws:PrincipalArn"))
                    && !base.contains("not")
                    && (base.starts_with("string") || base.starts_with("arn"))
                    && c.values.iter().any(|v| wildcard_match_ci(v, "arn:aws:iam::123456789012:root"))
            });
            if !targets_root {
                return None;
            }
            let limiting = st
                .conditions
                .iter()
                .filter(|c| !c.key_is("aws:PrincipalArn") && !is_exemption(c))
                .map(render)
                .collect();
            Some(DenyFound { statement: i, sid: st.sid.clone(), exemptions: Vec::new(), limiting_conditions: limiting })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> PolicyDocument {
        PolicyDocument::parse_str(s).unwrap()
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
        assert!(!denies(&if_exists, "cloudtrail:DeleteTrail")[0].counts());
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
}
