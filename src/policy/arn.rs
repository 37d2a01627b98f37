//! ARNs and action wildcards.

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut it = s.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        Some(Arn { partition: it.next()?, service: it.next()?, region: it.next()?, account: it.next()?, resource: it.next()? })
    }
}

/// The account id in an ARN, if it has one.
pub fn account_of(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|a| a.account).filter(|a| !a.is_empty())
}

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// IAM wildcard match (`*` any run, `?` one character), ASCII case-insensitive as IAM matches
/// actions.
pub fn wildcard_match_ci(pattern: &str, value: &str) -> bool {
    wildcard(pattern, value, |p, v| p.eq_ignore_ascii_case(&v))
}

/// The same, case-sensitive, as condition operators (`StringLike`, `ArnLike`) match values.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    wildcard(pattern, value, |p, v| p == v)
}

/// Linear-time greedy matching with a single backtrack point.
fn wildcard(pattern: &str, value: &str, eq: impl Fn(u8, u8) -> bool) -> bool {
    let (p, v) = (pattern.as_bytes(), value.as_bytes());
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == b'?' || eq(p[pi], v[vi])) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns() {
        let a = Arn::parse("arn:aws:iam::123456789012:role/path/x").unwrap();
        assert_eq!((a.partition, a.service, a.account, a.resource), ("aws", "iam", "123456789012", "role/path/x"));
        let a = Arn::parse("arn:aws:sts::123456789012:assumed-role/r/s:x").unwrap();
        assert_eq!(a.resource, "assumed-role/r/s:x");
        assert!(Arn::parse("arn:aws:iam").is_none());
        assert!(Arn::parse("123456789012").is_none());
        assert_eq!(account_of("arn:aws:iam::aws:policy/ReadOnlyAccess"), Some("aws"));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match_ci("sts:AssumeRole", "STS:assumerole"));
        assert!(wildcard_match_ci("sts:*", "sts:AssumeRoleWithSAML"));
        assert!(wildcard_match_ci("*", "sts:AssumeRole"));
        assert!(wildcard_match_ci("sts:Assume*", "sts:AssumeRole"));
        assert!(wildcard_match_ci("sts:Assume?ole", "sts:AssumeRole"));
        assert!(!wildcard_match_ci("sts:AssumeRole", "sts:AssumeRoleWithSAML"));
        assert!(!wildcard_match_ci("iam:*", "sts:AssumeRole"));
        assert!(wildcard_match_ci("*Role*SAML", "sts:AssumeRoleWithSAML"));
        assert!(!wildcard_match_ci("", "x"));
        assert!(wildcard_match_ci("", ""));
    }
}
