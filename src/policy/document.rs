//! Parsing of IAM policy documents in every spelling AWS accepts, into one normalized form.
//!
//! Accepted: a JSON object, a JSON string holding the document, or a URL-encoded string (how the
//! IAM API returns documents). `Statement` as an object or a list; `Principal` as `"*"` or a map of
//! `AWS`/`Service`/`Federated`/`CanonicalUser` to a string or list; bare 12-digit account ids;
//! `Action`/`NotAction`, `Resource`/`NotResource` as a string or list; `Condition` values as
//! strings, booleans, numbers or lists of them. Condition operators keep their `ForAnyValue:` /
//! `ForAllValues:` qualifier and `IfExists` suffix, parsed.

use std::fmt;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A policy document, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub not_principal: Option<Principal>,
    pub action: Option<Vec<String>>,
    pub not_action: Option<Vec<String>>,
    pub resource: Option<Vec<String>>,
    pub not_resource: Option<Vec<String>>,
    /// Condition clauses; all must hold (AND). Values within one clause are alternatives (OR).
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"Principal": "*"`.
    Any,
    /// `"Principal": {"AWS": …, "Service": …, "Federated": …, "CanonicalUser": …}`.
    Map {
        aws: Vec<String>,
        service: Vec<String>,
        federated: Vec<String>,
        canonical_user: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// The condition key as written (keys compare case-insensitively).
    pub key: String,
    pub values: Vec<String>,
}

impl Statement {
    /// Whether the statement's `Action` (or everything outside its `NotAction`) covers `action`.
    pub fn covers_action(&self, action: &str) -> bool {
        use super::arn::wildcard_match_ci;
        match (&self.action, &self.not_action) {
            (Some(list), _) => list.iter().any(|p| wildcard_match_ci(p, action)),
            (None, Some(not)) => !not.iter().any(|p| wildcard_match_ci(p, action)),
            (None, None) => false,
        }
    }
}

impl Condition {
    pub fn key_is(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }
}

/// A condition operator such as `ForAnyValue:StringLikeIfExists`, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// As written, for reporting and re-serializing.
    pub raw: String,
    pub set: Option<SetQualifier>,
    /// The operator without qualifier and `IfExists`, e.g. `StringLike`.
    pub base: String,
    pub if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

impl Operator {
    pub fn parse(raw: &str) -> Operator {
        let (set, rest) = if let Some(r) = strip_prefix_ci(raw, "ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = strip_prefix_ci(raw, "ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, raw)
        };
        // `Null` has no IfExists form; every other operator may carry the suffix.
        let (base, if_exists) = match rest.len().checked_sub(8) {
            Some(cut) if rest.is_char_boundary(cut) && rest[cut..].eq_ignore_ascii_case("IfExists") => {
                (&rest[..cut], true)
            }
            _ => (rest, false),
        };
        Operator { raw: raw.to_string(), set, base: base.to_string(), if_exists }
    }

    pub fn base_is(&self, name: &str) -> bool {
        self.base.eq_ignore_ascii_case(name)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// A document that could not be parsed: where, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    /// JSON path inside the document, e.g. `Statement[1].Principal.AWS`.
    pub path: String,
    pub message: String,
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError { path: if path.is_empty() { "(document)".into() } else { path.to_string() }, message: message.into() })
}

impl PolicyDocument {
    /// Parse a document given as text: JSON, or URL-encoded JSON as the IAM API returns it.
    pub fn parse_str(text: &str) -> Result<PolicyDocument, PolicyError> {
        let trimmed = text.trim_start();
        let decoded;
        let json = if trimmed.starts_with('{') {
            trimmed
        } else {
            decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8()
                .map_err(|_| PolicyError { path: "(document)".into(), message: "URL-encoded document is not valid UTF-8".into() })?;
            // Some encoders write spaces as '+'; JSON never needs a bare '+' outside strings.
            if decoded.trim_start().starts_with('{') {
                &decoded
            } else {
                return err("", "expected a JSON object or a URL-encoded JSON object");
            }
        };
        let value: Value = serde_json::from_str(json).or_else(|e| {
            let plus_fixed = json.replace('+', " ");
            serde_json::from_str(&plus_fixed).map_err(|_| PolicyError { path: "(document)".into(), message: format!("invalid JSON: {e}") })
        })?;
        Self::parse_value(&value)
    }

    /// Parse a document given as a JSON value: an object, or a string holding (encoded) JSON.
    pub fn parse_value(v: &Value) -> Result<PolicyDocument, PolicyError> {
        match v {
            Value::String(s) => Self::parse_str(s),
            Value::Object(m) => parse_document(m),
            other => err("", format!("expected a policy document object, found {}", kind(other))),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Look a key up case-insensitively (AWS accepts `statement`, `effect`, … in practice we see
/// canonical casing, but element names are documented as case-sensitive only for values).
fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn parse_document(m: &Map<String, Value>) -> Result<PolicyDocument, PolicyError> {
    let version = opt_string(get(m, "Version"), "Version")?;
    let id = opt_string(get(m, "Id"), "Id")?;
    let statements = match get(m, "Statement") {
        None => return err("Statement", "missing"),
        Some(Value::Object(s)) => vec![parse_statement(s, "Statement")?],
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let path = format!("Statement[{i}]");
                match s {
                    Value::Object(s) => parse_statement(s, &path),
                    other => err(&path, format!("expected a statement object, found {}", kind(other))),
                }
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return err("Statement", format!("expected an object or a list, found {}", kind(other))),
    };
    Ok(PolicyDocument { version, id, statements })
}

fn opt_string(v: Option<&Value>, path: &str) -> Result<Option<String>, PolicyError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => err(path, format!("expected a string, found {}", kind(other))),
    }
}

fn parse_statement(m: &Map<String, Value>, path: &str) -> Result<Statement, PolicyError> {
    let sid = opt_string(get(m, "Sid"), &format!("{path}.Sid"))?;
    let effect = match get(m, "Effect") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Allow") => Effect::Allow,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Deny") => Effect::Deny,
        Some(Value::String(s)) => return err(&format!("{path}.Effect"), format!("expected \"Allow\" or \"Deny\", found {s:?}")),
        Some(other) => return err(&format!("{path}.Effect"), format!("expected \"Allow\" or \"Deny\", found {}", kind(other))),
        None => return err(&format!("{path}.Effect"), "missing"),
    };
    let principal = get(m, "Principal").map(|v| parse_principal(v, &format!("{path}.Principal"))).transpose()?;
    let not_principal =
        get(m, "NotPrincipal").map(|v| parse_principal(v, &format!("{path}.NotPrincipal"))).transpose()?;
    let list = |name: &str| -> Result<Option<Vec<String>>, PolicyError> {
        get(m, name).map(|v| string_list(v, &format!("{path}.{name}"))).transpose()
    };
    let action = list("Action")?;
    let not_action = list("NotAction")?;
    if action.is_some() && not_action.is_some() {
        return err(path, "has both Action and NotAction");
    }
    let resource = list("Resource")?;
    let not_resource = list("NotResource")?;
    let conditions = match get(m, "Condition") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => parse_conditions(v, &format!("{path}.Condition"))?,
    };
    Ok(Statement { sid, effect, principal, not_principal, action, not_action, resource, not_resource, conditions })
}

fn parse_principal(v: &Value, path: &str) -> Result<Principal, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Any),
        Value::String(s) => err(path, format!("expected \"*\" or a map such as {{\"AWS\": …}}, found {s:?}")),
        Value::Object(m) => {
            let (mut aws, mut service, mut federated, mut canonical_user) = (vec![], vec![], vec![], vec![]);
            for (k, val) in m {
                let p = format!("{path}.{k}");
                let target = match k.to_ascii_lowercase().as_str() {
                    "aws" => &mut aws,
                    "service" => &mut service,
                    "federated" => &mut federated,
                    "canonicaluser" => &mut canonical_user,
                    _ => return err(&p, "unknown principal type (expected AWS, Service, Federated or CanonicalUser)"),
                };
                target.extend(principal_values(val, &p)?);
            }
            Ok(Principal::Map { aws, service, federated, canonical_user })
        }
        other => err(path, format!("expected \"*\" or an object, found {}", kind(other))),
    }
}

/// Principal values: strings, or bare account ids written as numbers.
fn principal_values(v: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value, p: &str| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_u64() => Ok(format!("{:012}", n.as_u64().unwrap_or_default())),
        other => err(p, format!("expected a string, found {}", kind(other))),
    };
    match v {
        Value::Array(items) => items.iter().enumerate().map(|(i, x)| one(x, &format!("{path}[{i}]"))).collect(),
        other => Ok(vec![one(other, path)?]),
    }
}

fn string_list(v: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::String(s) => Ok(s.clone()),
                other => err(&format!("{path}[{i}]"), format!("expected a string, found {}", kind(other))),
            })
            .collect(),
        other => err(path, format!("expected a string or a list of strings, found {}", kind(other))),
    }
}

fn parse_conditions(v: &Value, path: &str) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = v else {
        return err(path, format!("expected an object of operators, found {}", kind(v)));
    };
    let mut out = Vec::new();
    for (op, keys) in ops {
        let p = format!("{path}.{op}");
        let Value::Object(keys) = keys else {
            return err(&p, format!("expected an object of condition keys, found {}", kind(keys)));
        };
        let operator = Operator::parse(op);
        for (key, vals) in keys {
            let kp = format!("{p}.{key}");
            let values = match vals {
                Value::Array(items) => items.iter().enumerate().map(|(i, x)| scalar(x, &format!("{kp}[{i}]"))).collect::<Result<_, _>>()?,
                other => vec![scalar(other, &kp)?],
            };
            out.push(Condition { operator: operator.clone(), key: key.clone(), values });
        }
    }
    Ok(out)
}

fn scalar(v: &Value, path: &str) -> Result<String, PolicyError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => err(path, format!("expected a string, boolean or number, found {}", kind(other))),
    }
}

// ---------------------------------------------------------------------------------------------
// Serialization: canonical AWS JSON (single values as strings, lists otherwise).

struct OneOrMany<'a>(&'a [String]);

impl Serialize for OneOrMany<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let [one] = self.0 {
            s.serialize_str(one)
        } else {
            let mut seq = s.serialize_seq(Some(self.0.len()))?;
            for x in self.0 {
                seq.serialize_element(x)?;
            }
            seq.end()
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Any => s.serialize_str("*"),
            Principal::Map { aws, service, federated, canonical_user } => {
                let mut m = s.serialize_map(None)?;
                for (k, v) in [("AWS", aws), ("Service", service), ("Federated", federated), ("CanonicalUser", canonical_user)] {
                    if !v.is_empty() {
                        m.serialize_entry(k, &OneOrMany(v))?;
                    }
                }
                m.end()
            }
        }
    }
}

struct Conditions<'a>(&'a [Condition]);

impl Serialize for Conditions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Group clauses by operator, keeping first-appearance order.
        let mut ops: Vec<(&str, Vec<&Condition>)> = Vec::new();
        for c in self.0 {
            match ops.iter_mut().find(|(o, _)| *o == c.operator.raw) {
                Some((_, v)) => v.push(c),
                None => ops.push((&c.operator.raw, vec![c])),
            }
        }
        struct Keys<'a>(&'a [&'a Condition]);
        impl Serialize for Keys<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for c in self.0 {
                    m.serialize_entry(&c.key, &OneOrMany(&c.values))?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(ops.len()))?;
        for (op, cs) in &ops {
            m.serialize_entry(op, &Keys(cs))?;
        }
        m.end()
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(sid) = &self.sid {
            m.serialize_entry("Sid", sid)?;
        }
        m.serialize_entry("Effect", match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })?;
        if let Some(p) = &self.principal {
            m.serialize_entry("Principal", p)?;
        }
        if let Some(p) = &self.not_principal {
            m.serialize_entry("NotPrincipal", p)?;
        }
        for (k, v) in [
            ("Action", &self.action),
            ("NotAction", &self.not_action),
            ("Resource", &self.resource),
            ("NotResource", &self.not_resource),
        ] {
            if let Some(v) = v {
                m.serialize_entry(k, &OneOrMany(v))?;
            }
        }
        if !self.conditions.is_empty() {
            m.serialize_entry("Condition", &Conditions(&self.conditions))?;
        }
        m.end()
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(v) = &self.version {
            m.serialize_entry("Version", v)?;
        }
        if let Some(v) = &self.id {
            m.serialize_entry("Id", v)?;
        }
        m.serialize_entry("Statement", &self.statements)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        PolicyDocument::parse_value(&v).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> PolicyDocument {
        PolicyDocument::parse_value(&v).unwrap()
    }

    #[test]
    fn statement_as_object_or_list() {
        let one = parse(json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}));
        let many = parse(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}));
        assert_eq!(one, many);
    }

    #[test]
    fn principal_spellings() {
        let d = parse(json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": ["123456789012", "arn:aws:iam::210987654321:root"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": 123456789012_u64}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}
        ]}));
        assert_eq!(d.statements[0].principal, Some(Principal::Any));
        let Some(Principal::Map { aws, .. }) = &d.statements[2].principal else { panic!() };
        assert_eq!(aws, &["123456789012", "arn:aws:iam::210987654321:root"]);
        let Some(Principal::Map { aws, .. }) = &d.statements[3].principal else { panic!() };
        assert_eq!(aws, &["123456789012"]);
        let Some(Principal::Map { service, .. }) = &d.statements[4].principal else { panic!() };
        assert_eq!(service.len(), 2);
    }

    #[test]
    fn operators_are_split_into_qualifier_base_and_if_exists() {
        let o = Operator::parse("ForAnyValue:StringLikeIfExists");
        assert_eq!((o.set, o.base.as_str(), o.if_exists), (Some(SetQualifier::ForAnyValue), "StringLike", true));
        let o = Operator::parse("ForAllValues:StringEquals");
        assert_eq!((o.set, o.base.as_str(), o.if_exists), (Some(SetQualifier::ForAllValues), "StringEquals", false));
        let o = Operator::parse("Null");
        assert_eq!((o.set, o.base.as_str(), o.if_exists), (None, "Null", false));
        let o = Operator::parse("é"); // short, multibyte: no panic
        assert_eq!(o.base, "é");
    }

    #[test]
    fn condition_values_of_every_type() {
        let d = parse(json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {
            "Bool": {"aws:MultiFactorAuthPresent": false},
            "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
            "StringEquals": {"sts:ExternalId": ["a", "b"], "aws:PrincipalOrgID": "o-abc"}
        }}}));
        let c = &d.statements[0].conditions;
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].values, ["false"]);
        assert_eq!(c[1].values, ["3600"]);
        assert!(c.iter().any(|c| c.key_is("sts:externalid") && c.values == ["a", "b"]));
    }

    #[test]
    fn url_encoded_and_string_documents() {
        let raw = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let encoded: String = percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string();
        let a = PolicyDocument::parse_str(raw).unwrap();
        let b = PolicyDocument::parse_str(&encoded).unwrap();
        let c = PolicyDocument::parse_value(&Value::String(raw.into())).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        // '+' for spaces, as form encoders write it.
        let plus = "%7B%22Statement%22%3A+%7B%22Effect%22%3A+%22Allow%22%2C+%22Action%22%3A+%22*%22%7D%7D";
        assert_eq!(PolicyDocument::parse_str(plus).unwrap().statements.len(), 1);
    }

    #[test]
    fn errors_name_the_place() {
        let e = PolicyDocument::parse_value(&json!({"Statement": [{"Effect": "Allow"}, {"Effect": "Maybe"}]})).unwrap_err();
        assert_eq!(e.path, "Statement[1].Effect");
        let e = PolicyDocument::parse_value(&json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": [1.5]}}})).unwrap_err();
        assert_eq!(e.path, "Statement.Principal.AWS[0]");
        let e = PolicyDocument::parse_value(&json!({"Version": "2012-10-17"})).unwrap_err();
        assert_eq!(e.path, "Statement");
        let e = PolicyDocument::parse_str("%ZZnot json").unwrap_err();
        assert!(e.message.contains("expected a JSON object"), "{e}");
        let e = PolicyDocument::parse_value(&json!(42)).unwrap_err();
        assert!(e.to_string().contains("found a number"));
        let e = PolicyDocument::parse_value(&json!({"Statement": {"Effect": "Allow", "Condition": {"StringEquals": {"k": {"x": 1}}}}})).unwrap_err();
        assert_eq!(e.path, "Statement.Condition.StringEquals.k");
    }

    #[test]
    fn serialization_round_trips() {
        let d = parse(json!({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root"], "Service": "ec2.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": "x", "aws:PrincipalOrgID": ["o-1", "o-2"]}, "Bool": {"aws:SecureTransport": "true"}}}]}));
        let text = serde_json::to_string(&d).unwrap();
        let back: PolicyDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(back, d);
        assert!(text.contains(r#""Principal":{"AWS":"arn:aws:iam::111122223333:root","Service":"ec2.amazonaws.com"}"#), "{text}");
    }
}
