//! Azure role-assignment conditions (ABAC, condition version 2.0), read for one question: would
//! this condition let the holder create a given role assignment?
//!
//! A condition is an expression of `ActionMatches{'…'}`, `SubOperationMatches{'…'}` and
//! `@Request[…] <operator> <value>` terms joined by `AND`/`&&`, `OR`/`||`, `NOT`/`!` and
//! parentheses. It is evaluated in three values against a hypothetical request: `True` (the
//! request is allowed), `False` (it is refused), `Unknown` (it depends on something the scan
//! cannot decide: an attribute or operator this reader does not know, or a mix of `AND` and `OR`
//! without parentheses). Anything this reader cannot parse is `Unknown` as a whole, never `False`:
//! a condition it does not understand must not turn into a pass. Only the role decides `False`: a
//! condition that limits the principal (to named ones, or to groups or service principals) and
//! leaves the holder out is `Unknown`, since the holder may assign the role to a principal it
//! belongs to, owns or creates.

use crate::policy::arn::wildcard_match_ci;

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn not(self) -> Self {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
    pub fn and(self, o: Self) -> Self {
        match (self, o) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }
    pub fn or(self, o: Self) -> Self {
        match (self, o) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

/// The request a condition is asked about: creating a role assignment.
#[derive(Debug, Clone)]
pub struct AssignmentRequest<'a> {
    /// `Microsoft.Authorization/roleAssignments/write`.
    pub action: &'a str,
    /// The GUID of the role being assigned.
    pub role_definition_id: &'a str,
    /// The principal being given the role (the holder itself).
    pub principal_id: &'a str,
    /// `User`, `Group` or `ServicePrincipal`, when known.
    pub principal_type: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Not,
    And,
    Or,
    /// `ActionMatches{'…'}` or `SubOperationMatches{'…'}`: the function name and its argument.
    Func(String, String),
    /// `@Request[…]`, `@Resource[…]`, `@Principal[…]`, `@Environment[…]`: source and attribute.
    Attr(String, String),
    /// An operator or a bare value (`ForAnyOfAnyValues:GuidEquals`, `true`, a GUID).
    Word(String),
    Str(String),
    List(Vec<String>),
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let quoted = |i: &mut usize| -> Option<String> {
        // At a quote: read to the matching one.
        let q = c[*i];
        *i += 1;
        let start = *i;
        while *i < c.len() && c[*i] != q {
            *i += 1;
        }
        if *i >= c.len() {
            return None;
        }
        let v: String = c[start..*i].iter().collect();
        *i += 1;
        Some(v)
    };
    while i < c.len() {
        let ch = c[i];
        match ch {
            _ if ch.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            '!' => {
                out.push(Tok::Not);
                i += 1;
            }
            '&' if c.get(i + 1) == Some(&'&') => {
                out.push(Tok::And);
                i += 2;
            }
            '|' if c.get(i + 1) == Some(&'|') => {
                out.push(Tok::Or);
                i += 2;
            }
            '\'' | '"' => out.push(Tok::Str(quoted(&mut i)?)),
            '{' => {
                i += 1;
                let mut items = Vec::new();
                loop {
                    while i < c.len() && (c[i].is_whitespace() || c[i] == ',') {
                        i += 1;
                    }
                    if i >= c.len() {
                        return None;
                    }
                    if c[i] == '}' {
                        i += 1;
                        break;
                    }
                    if c[i] == '\'' || c[i] == '"' {
                        items.push(quoted(&mut i)?);
                    } else {
                        let start = i;
                        while i < c.len() && !c[i].is_whitespace() && c[i] != ',' && c[i] != '}' {
                            i += 1;
                        }
                        items.push(c[start..i].iter().collect());
                    }
                }
                out.push(Tok::List(items));
            }
            '@' => {
                let start = i + 1;
                while i < c.len() && c[i] != '[' {
                    i += 1;
                }
                let source: String = c[start.min(c.len())..i.min(c.len())].iter().collect();
                if i >= c.len() {
                    return None;
                }
                i += 1;
                let astart = i;
                while i < c.len() && c[i] != ']' {
                    i += 1;
                }
                if i >= c.len() {
                    return None;
                }
                let attr: String = c[astart..i].iter().collect();
                i += 1;
                out.push(Tok::Attr(source.trim().to_string(), attr.trim().to_string()));
            }
            _ => {
                let start = i;
                while i < c.len() && !c[i].is_whitespace() && !matches!(c[i], '(' | ')' | '{' | '\'' | '"') {
                    i += 1;
                }
                let word: String = c[start..i].iter().collect();
                if word.is_empty() {
                    return None;
                }
                match word.to_ascii_uppercase().as_str() {
                    "AND" => out.push(Tok::And),
                    "OR" => out.push(Tok::Or),
                    "NOT" => out.push(Tok::Not),
                    _ if matches!(c.get(i), Some('{')) && (word.eq_ignore_ascii_case("ActionMatches") || word.eq_ignore_ascii_case("SubOperationMatches")) => {
                        // The function's argument: {'…'}.
                        i += 1;
                        while i < c.len() && c[i].is_whitespace() {
                            i += 1;
                        }
                        if i >= c.len() || !(c[i] == '\'' || c[i] == '"') {
                            return None;
                        }
                        let arg = quoted(&mut i)?;
                        while i < c.len() && c[i].is_whitespace() {
                            i += 1;
                        }
                        if c.get(i) != Some(&'}') {
                            return None;
                        }
                        i += 1;
                        out.push(Tok::Func(word, arg));
                    }
                    _ => out.push(Tok::Word(word)),
                }
            }
        }
    }
    Some(out)
}

/// Evaluates a condition for a request.
struct Eval<'r> {
    toks: Vec<Tok>,
    pos: usize,
    req: &'r AssignmentRequest<'r>,
    depth: usize,
}

impl Eval<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    /// A sequence of operands joined by AND/OR at one level. Both precedences are tried when the
    /// level mixes them without parentheses; when they disagree the answer is Unknown.
    fn expr(&mut self) -> Option<Truth> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let mut operands = vec![self.unary()?];
        let mut ops = Vec::new();
        while let Some(t) = self.peek() {
            let op = match t {
                Tok::And => true,
                Tok::Or => false,
                _ => break,
            };
            self.pos += 1;
            ops.push(op);
            operands.push(self.unary()?);
        }
        self.depth -= 1;
        // AND binds tighter.
        let mut sums = Vec::new();
        let mut cur = operands[0];
        for (op, v) in ops.iter().zip(&operands[1..]) {
            if *op {
                cur = cur.and(*v);
            } else {
                sums.push(cur);
                cur = *v;
            }
        }
        sums.push(cur);
        let tight = sums.into_iter().reduce(Truth::or).unwrap_or(Truth::Unknown);
        // Left to right.
        let mut seq = operands[0];
        for (op, v) in ops.iter().zip(&operands[1..]) {
            seq = if *op { seq.and(*v) } else { seq.or(*v) };
        }
        Some(if tight == seq { tight } else { Truth::Unknown })
    }

    fn unary(&mut self) -> Option<Truth> {
        match self.toks.get(self.pos).cloned()? {
            Tok::Not => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > 64 {
                    return None;
                }
                let v = self.unary()?.not();
                self.depth -= 1;
                Some(v)
            }
            Tok::LParen => {
                self.pos += 1;
                let v = self.expr()?;
                if self.peek() != Some(&Tok::RParen) {
                    return None;
                }
                self.pos += 1;
                Some(v)
            }
            Tok::Func(name, arg) => {
                self.pos += 1;
                if name.eq_ignore_ascii_case("ActionMatches") {
                    Some(if wildcard_match_ci(arg.trim(), self.req.action) { Truth::True } else { Truth::False })
                } else {
                    // Role assignment writes have no sub-operations.
                    Some(Truth::False)
                }
            }
            Tok::Attr(source, attr) => {
                self.pos += 1;
                let Some(Tok::Word(op)) = self.toks.get(self.pos).cloned() else { return None };
                self.pos += 1;
                let values = match self.toks.get(self.pos).cloned()? {
                    Tok::List(v) => v,
                    Tok::Str(s) | Tok::Word(s) => vec![s],
                    _ => return None,
                };
                self.pos += 1;
                Some(self.compare(&source, &attr, &op, &values))
            }
            _ => None,
        }
    }

    /// One `@Source[attribute] operator value` term. The request's attributes here are single
    /// values, so the "ForAnyOf"/"ForAllOf" over them are the same; over the condition's values,
    /// `…AnyValues` needs one to match and `…AllValues` needs all of them.
    fn compare(&self, source: &str, attr: &str, op: &str, values: &[String]) -> Truth {
        if !source.eq_ignore_ascii_case("Request") {
            return Truth::Unknown;
        }
        let (quant, base) = match op.split_once(':') {
            Some((q, b)) => (Some(q.to_ascii_lowercase()), b.to_ascii_lowercase()),
            None => (None, op.to_ascii_lowercase()),
        };
        let all_values = match quant.as_deref() {
            None => false,
            Some("foranyofanyvalues" | "forallofanyvalues") => false,
            Some("foranyofallvalues" | "forallofallvalues") => true,
            Some(_) => return Truth::Unknown,
        };
        let attr_l = attr.to_ascii_lowercase();
        let (value, guid): (Option<&str>, bool) = match attr_l.as_str() {
            "microsoft.authorization/roleassignments:roledefinitionid" => (Some(self.req.role_definition_id), true),
            "microsoft.authorization/roleassignments:principalid" => (Some(self.req.principal_id), true),
            "microsoft.authorization/roleassignments:principaltype" => (self.req.principal_type, false),
            _ => return Truth::Unknown,
        };
        let Some(value) = value else { return Truth::Unknown };
        let norm = |v: &str| -> String {
            let v = v.trim();
            if guid {
                crate::inventory::azure::role_guid(v)
            } else {
                v.to_ascii_lowercase()
            }
        };
        let value = norm(value);
        let (negate, case_sensitive) = match base.as_str() {
            "guidequals" | "stringequalsignorecase" => (false, false),
            "guidnotequals" | "stringnotequalsignorecase" => (true, false),
            "stringequals" => (false, true),
            "stringnotequals" => (true, true),
            _ => return Truth::Unknown,
        };
        if case_sensitive && !guid {
            // Principal types are compared as the API spells them; a case-sensitive compare
            // against our normalised value cannot be decided.
            return Truth::Unknown;
        }
        let test = |v: &String| (norm(v) == value) != negate;
        let hit = if all_values { values.iter().all(test) } else { values.iter().any(test) };
        if values.is_empty() {
            return Truth::Unknown;
        }
        match (hit, attr_l.ends_with(":roledefinitionid")) {
            (true, _) => Truth::True,
            // The role is the request's own: a role refused is refused.
            (false, true) => Truth::False,
            // Not to itself, or not to its own kind of principal: to another principal it may
            // own, belong to or create (a group, an application's service principal), which the
            // scan does not follow.
            (false, false) => Truth::Unknown,
        }
    }
}

/// Would `condition` allow `req`? `Unknown` when it cannot be parsed or decided.
pub fn allows(condition: &str, req: &AssignmentRequest<'_>) -> Truth {
    let Some(toks) = lex(condition) else { return Truth::Unknown };
    if toks.is_empty() {
        return Truth::Unknown;
    }
    let mut e = Eval { toks, pos: 0, req, depth: 0 };
    match e.expr() {
        Some(v) if e.pos == e.toks.len() => v,
        _ => Truth::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    const UAA: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
    const RBAC: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
    const BACKUP_READER: &str = "a795c7a0-d4a2-40c1-ae25-d81f01202912";
    const WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

    fn req(role: &str) -> AssignmentRequest<'_> {
        AssignmentRequest { action: WRITE, role_definition_id: role, principal_id: "11111111-0000-4000-8000-000000000001", principal_type: Some("User") }
    }

    // The "constrain roles" example of Microsoft's delegation docs: only Backup Contributor and
    // Backup Reader may be assigned (or deleted).
    const CONSTRAIN_ROLES: &str = "(\n (\n  !(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})\n )\n OR \n (\n  @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912}\n )\n)\nAND\n(\n (\n  !(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})\n )\n OR \n (\n  @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912}\n )\n)";

    // The portal's "allow all except privileged administrator roles" condition.
    const EXCEPT_PRIVILEGED: &str = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals {8e3af657-a8ff-443c-a75c-2fe8c4bcb635, 18d7d88d-d35e-4fb5-a5c3-7773c20a72d9, f58310d9-a9f6-439a-9e8d-f62e7b41a168})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals {8e3af657-a8ff-443c-a75c-2fe8c4bcb635, 18d7d88d-d35e-4fb5-a5c3-7773c20a72d9, f58310d9-a9f6-439a-9e8d-f62e7b41a168}))";

    #[test]
    fn constrained_roles_refuse_owner_and_allow_the_listed_ones() {
        assert_eq!(allows(CONSTRAIN_ROLES, &req(OWNER)), Truth::False);
        assert_eq!(allows(CONSTRAIN_ROLES, &req(UAA)), Truth::False);
        assert_eq!(allows(CONSTRAIN_ROLES, &req(BACKUP_READER)), Truth::True);
        // The same condition with a full role definition id, upper-case GUIDs and && / ||.
        let spelled = "(!(ActionMatches{'microsoft.authorization/roleassignments/write'}) || @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {'/providers/Microsoft.Authorization/roleDefinitions/A795C7A0-D4A2-40C1-AE25-D81F01202912'})";
        assert_eq!(allows(spelled, &req(OWNER)), Truth::False);
        assert_eq!(allows(spelled, &req(BACKUP_READER)), Truth::True);
    }

    #[test]
    fn except_list_refuses_the_listed_roles_only() {
        for r in [OWNER, UAA, RBAC] {
            assert_eq!(allows(EXCEPT_PRIVILEGED, &req(r)), Truth::False, "{r}");
        }
        assert_eq!(allows(EXCEPT_PRIVILEGED, &req("c1000000-0000-4000-8000-000000000001")), Truth::True);
        // ForAnyOfAnyValues:GuidNotEquals is true as soon as one listed value differs: it refuses nothing.
        let loose = "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidNotEquals {8e3af657-a8ff-443c-a75c-2fe8c4bcb635, 18d7d88d-d35e-4fb5-a5c3-7773c20a72d9})";
        assert_eq!(allows(loose, &req(OWNER)), Truth::True);
    }

    #[test]
    fn a_condition_about_another_action_does_not_constrain_writes() {
        let delete_only = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {a795c7a0-d4a2-40c1-ae25-d81f01202912}))";
        assert_eq!(allows(delete_only, &req(OWNER)), Truth::True);
    }

    #[test]
    fn a_widening_or_is_read_as_written() {
        // Any role, as long as it goes to a user: the holder is a user.
        let widened = "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {a795c7a0-d4a2-40c1-ae25-d81f01202912}) OR (@Request[Microsoft.Authorization/roleAssignments:PrincipalType] StringEqualsIgnoreCase 'User')";
        assert_eq!(allows(widened, &req(OWNER)), Truth::True);
    }

    #[test]
    fn principal_constraints_are_decided_for_the_holder() {
        let to_groups = "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {22222222-0000-4000-8000-000000000002})";
        // Owner for one named group: the holder may be in it or own it.
        assert_eq!(allows(to_groups, &req(OWNER)), Truth::Unknown);
        // The documented "constrain roles and principals" shape: the role decides.
        let both = "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {a795c7a0-d4a2-40c1-ae25-d81f01202912} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {22222222-0000-4000-8000-000000000002})";
        assert_eq!(allows(both, &req(OWNER)), Truth::False);
        let to_self = to_groups.replace("22222222-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000001");
        assert_eq!(allows(&to_self, &req(OWNER)), Truth::True);
        // Any role, to service principals only: a user may register an application and give its
        // service principal Owner, so a user is not stopped.
        let to_apps = "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'})";
        assert_eq!(allows(to_apps, &req(OWNER)), Truth::Unknown);
        // Privileged roles refused, and only to groups: the role decides.
        let both_kinds = "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals {8e3af657-a8ff-443c-a75c-2fe8c4bcb635, 18d7d88d-d35e-4fb5-a5c3-7773c20a72d9, f58310d9-a9f6-439a-9e8d-f62e7b41a168} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] StringEqualsIgnoreCase 'Group')";
        assert_eq!(allows(both_kinds, &req(OWNER)), Truth::False);
    }

    #[test]
    fn what_cannot_be_decided_is_unknown_never_false() {
        for c in [
            // Unknown attribute.
            "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Principal[Microsoft.Directory/CustomSecurityAttributes/Attributes:Team] StringEquals 'ops')",
            // Unknown operator.
            "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] GuidIn {8e3af657-a8ff-443c-a75c-2fe8c4bcb635})",
            // Unbalanced, truncated, empty, garbage.
            "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {a795c7a0",
            "",
            "}}}{{{ '",
            "@",
            "!(",
            // AND and OR mixed without parentheses where the two readings differ.
            "!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}) OR @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] GuidEquals a795c7a0-d4a2-40c1-ae25-d81f01202912 AND ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}",
        ] {
            assert_eq!(allows(c, &req(OWNER)), Truth::Unknown, "{c}");
        }
        let deep = format!("{}ActionMatches{{'x'}}{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(allows(&deep, &req(OWNER)), Truth::Unknown);
        assert_eq!(allows(&"!".repeat(100_000), &req(OWNER)), Truth::Unknown);
    }
}
