//! `aws iam get-account-authorization-details` output (one page object, or a list of pages).
//! Policy documents may be JSON objects or URL-encoded strings, as the API returns them.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::{from_json, ImportError};
use crate::inventory::aws::{
    default_version, iam_path, AttachedPolicy, AuthorizationDetails, AwsAccount, IamGroup, IamRole, IamUser, InlinePolicy, InvalidItem,
    ManagedPolicy,
};
use crate::inventory::{Collected, Inventory, Timestamp};
use crate::policy::arn::{account_of, is_account_id, Arn};
use crate::policy::PolicyDocument;

/// One page. Items are kept as JSON values and read one by one, so that one malformed item is
/// reported by itself instead of hiding the whole account.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    user_detail_list: Option<Vec<Value>>,
    group_detail_list: Option<Vec<Value>>,
    role_detail_list: Option<Vec<Value>>,
    policies: Option<Vec<Value>>,
    #[serde(default)]
    is_truncated: bool,
    marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawUser {
    path: Option<String>,
    user_name: String,
    user_id: String,
    arn: String,
    create_date: Option<Timestamp>,
    #[serde(default)]
    group_list: Vec<String>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
    #[serde(default)]
    user_policy_list: Vec<RawInline>,
    permissions_boundary: Option<RawBoundary>,
    #[serde(default)]
    tags: Vec<RawTag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawGroup {
    path: Option<String>,
    group_name: String,
    group_id: String,
    arn: String,
    create_date: Option<Timestamp>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
    #[serde(default)]
    group_policy_list: Vec<RawInline>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRole {
    path: Option<String>,
    role_name: String,
    role_id: String,
    arn: String,
    create_date: Option<Timestamp>,
    assume_role_policy_document: Option<Value>,
    #[serde(default)]
    instance_profile_list: Vec<RawInstanceProfile>,
    #[serde(default)]
    role_policy_list: Vec<RawInline>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
    permissions_boundary: Option<RawBoundary>,
    #[serde(default)]
    tags: Vec<RawTag>,
    role_last_used: Option<RawLastUsed>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAttached {
    policy_name: Option<String>,
    policy_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInline {
    policy_name: String,
    policy_document: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBoundary {
    permissions_boundary_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTag {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInstanceProfile {
    arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawLastUsed {
    last_used_date: Option<Timestamp>,
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPolicy {
    // moto omits PolicyName and PolicyId here; both can be derived from the ARN.
    policy_name: Option<String>,
    policy_id: Option<String>,
    arn: String,
    path: Option<String>,
    default_version_id: Option<String>,
    attachment_count: Option<u32>,
    is_attachable: Option<bool>,
    #[serde(default)]
    policy_version_list: Vec<RawVersion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawVersion {
    document: Option<Value>,
    version_id: Option<String>,
    #[serde(default)]
    is_default_version: bool,
}

/// Parse an authorization-details export into a one-account inventory.
///
/// A section (`RoleDetailList`, …) absent from every page is recorded as missing, not as empty. A
/// malformed item (a trust policy that does not parse, a user that is not an object) is recorded
/// with its place and the rest is kept. An export whose last page says `IsTruncated: true` lacks
/// pages: the dataset is recorded as failed, naming the marker, so no check passes on part of it.
pub fn parse_authorization_details(text: &str, origin: &str) -> Result<Inventory, ImportError> {
    let pages: Vec<Page> = if text.trim_start().starts_with('[') {
        from_json(text, origin)?
    } else {
        vec![from_json(text, origin)?]
    };
    let mut details = AuthorizationDetails::default();
    let mut seen = [false; 4];
    let truncated = pages.last().filter(|p| p.is_truncated).map(|p| p.marker.clone().unwrap_or_default());
    let many = pages.len() > 1;
    for (pi, page) in pages.into_iter().enumerate() {
        let place = |section: &str, i: usize| if many { format!("[{pi}].{section}[{i}]") } else { format!("{section}[{i}]") };
        let invalid = &mut details.invalid;
        if let Some(list) = page.user_detail_list {
            seen[0] = true;
            read_items(list, AuthorizationDetails::USERS, &place, invalid, "UserName", |v: RawUser, at| Ok(user(v, at)), &mut details.users);
        }
        if let Some(list) = page.group_detail_list {
            seen[1] = true;
            read_items(list, AuthorizationDetails::GROUPS, &place, invalid, "GroupName", |v: RawGroup, at| Ok(group(v, at)), &mut details.groups);
        }
        if let Some(list) = page.role_detail_list {
            seen[2] = true;
            read_items(list, AuthorizationDetails::ROLES, &place, invalid, "RoleName", |v: RawRole, at| Ok(role(v, at)), &mut details.roles);
        }
        if let Some(list) = page.policies {
            seen[3] = true;
            read_items(list, AuthorizationDetails::POLICIES, &place, invalid, "Arn", |v: RawPolicy, at| Ok(policy(v, at)), &mut details.policies);
        }
    }
    for (present, name) in seen.iter().zip([AuthorizationDetails::USERS, AuthorizationDetails::GROUPS, AuthorizationDetails::ROLES, AuthorizationDetails::POLICIES]) {
        if !present {
            details.missing_sections.push(name.to_string());
        }
    }
    let account_id = account_of_details(&details, origin)?;
    let mut acct = AwsAccount::new(account_id);
    acct.authorization_details = match truncated {
        Some(marker) => Collected::Failed {
            error: format!(
                "{origin}: the export is truncated (IsTruncated: true{}): pages are missing; export every page (the AWS CLI does unless --max-items is given) and pass them together",
                if marker.is_empty() { String::new() } else { format!(", Marker {}", short(&marker)) }
            ),
        },
        None => Collected::Collected(details),
    };
    let mut inv = Inventory::default();
    inv.sources.push(format!("aws authorization details: {origin}"));
    inv.aws.accounts.push(acct);
    Ok(inv)
}

fn short(s: &str) -> String {
    if s.chars().count() > 24 { format!("{}…", s.chars().take(24).collect::<String>()) } else { s.to_string() }
}

/// Read each item of a section; a malformed one is recorded (with its name if it has one) and skipped.
fn read_items<R: DeserializeOwned, T>(
    list: Vec<Value>,
    section: &str,
    place: &dyn Fn(&str, usize) -> String,
    invalid: &mut Vec<InvalidItem>,
    name_key: &str,
    map: impl Fn(R, &str) -> Result<T, String>,
    out: &mut Vec<T>,
) {
    for (i, v) in list.into_iter().enumerate() {
        let at = place(section, i);
        let name = v.get(name_key).and_then(Value::as_str).map(str::to_string);
        let item = serde_path_to_error::deserialize::<_, R>(&v)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.into_inner().to_string();
                if path == "." { msg } else { format!("{path}: {msg}") }
            })
            .and_then(|r| map(r, &at));
        match item {
            Ok(t) => out.push(t),
            Err(error) => invalid.push(InvalidItem { section: section.to_string(), place: at, name, error }),
        }
    }
}

/// Parse a policy document found at `place`; the error names the place.
fn document(v: &Value, place: &str) -> Result<PolicyDocument, String> {
    PolicyDocument::parse_value(v).map_err(|e| format!("{place}: {e}"))
}

/// Every principal and customer-managed policy must belong to one account. ARNs without an account
/// id (malformed, or odd spellings) do not decide it, but two accounts in one file are an error.
fn account_of_details(d: &AuthorizationDetails, origin: &str) -> Result<String, ImportError> {
    let arns = d
        .users
        .iter()
        .map(|u| (u.arn.as_str(), "UserDetailList"))
        .chain(d.groups.iter().map(|g| (g.arn.as_str(), "GroupDetailList")))
        .chain(d.roles.iter().map(|r| (r.arn.as_str(), "RoleDetailList")))
        .chain(d.policies.iter().filter(|p| !p.is_aws_managed()).map(|p| (p.arn.as_str(), "Policies")));
    let mut found: Option<(String, String)> = None;
    for (arn, list) in arns {
        let Some(acct) = account_of(arn).filter(|a| is_account_id(a)) else { continue };
        match &found {
            None => found = Some((acct.to_string(), arn.to_string())),
            Some((a, first)) if a != acct => {
                return Err(ImportError::invalid(
                    origin,
                    list,
                    format!("describes more than one account: {first} and {arn}; export one account per file"),
                ))
            }
            _ => {}
        }
    }
    found.map(|(a, _)| a).ok_or_else(|| {
        let first_bad = d.invalid.first().map(|b| format!(" ({}: {})", b.place, b.error)).unwrap_or_default();
        ImportError::invalid(origin, "", format!("contains no user, group, role or customer-managed policy with an account id to tell which account it describes{first_bad}"))
    })
}

fn attached(list: Vec<RawAttached>) -> Vec<AttachedPolicy> {
    list.into_iter()
        .map(|a| AttachedPolicy { name: a.policy_name.unwrap_or_else(|| name_from_arn(&a.policy_arn)), arn: a.policy_arn })
        .collect()
}

fn inline(list: Vec<RawInline>, at: &str, field: &str) -> Vec<InlinePolicy> {
    list.into_iter()
        .enumerate()
        .map(|(i, p)| match document(&p.policy_document, &format!("{at}.{field}[{i}].PolicyDocument")) {
            Ok(d) => InlinePolicy { name: p.policy_name, document: Some(d), error: None },
            Err(e) => InlinePolicy { name: p.policy_name, document: None, error: Some(e) },
        })
        .collect()
}

fn tags(list: Vec<RawTag>) -> BTreeMap<String, String> {
    list.into_iter().map(|t| (t.key, t.value)).collect()
}

fn path(p: Option<String>) -> String {
    iam_path(p.as_deref())
}

/// `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole` → `AWSLambdaBasicExecutionRole`.
pub(crate) fn name_from_arn(arn: &str) -> String {
    Arn::parse(arn).map(|a| a.resource).unwrap_or(arn).rsplit('/').next().unwrap_or(arn).to_string()
}

fn user(u: RawUser, at: &str) -> IamUser {
    IamUser {
        name: u.user_name,
        id: u.user_id,
        arn: u.arn,
        path: path(u.path),
        created: u.create_date,
        groups: u.group_list,
        attached_policies: attached(u.attached_managed_policies),
        inline_policies: inline(u.user_policy_list, at, "UserPolicyList"),
        permissions_boundary: u.permissions_boundary.map(|b| b.permissions_boundary_arn),
        tags: tags(u.tags),
    }
}

fn group(g: RawGroup, at: &str) -> IamGroup {
    IamGroup {
        name: g.group_name,
        id: g.group_id,
        arn: g.arn,
        path: path(g.path),
        created: g.create_date,
        attached_policies: attached(g.attached_managed_policies),
        inline_policies: inline(g.group_policy_list, at, "GroupPolicyList"),
    }
}

fn role(r: RawRole, at: &str) -> IamRole {
    let (last_used, last_used_region) = match r.role_last_used {
        Some(l) => (l.last_used_date, l.region),
        None => (None, None),
    };
    let (trust_policy, trust_policy_error) = match &r.assume_role_policy_document {
        None | Some(Value::Null) => (None, Some(format!("{at}: no AssumeRolePolicyDocument"))),
        Some(v) => match document(v, &format!("{at}.AssumeRolePolicyDocument")) {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e)),
        },
    };
    IamRole {
        name: r.role_name,
        id: r.role_id,
        arn: r.arn,
        path: path(r.path),
        created: r.create_date,
        trust_policy,
        trust_policy_error,
        attached_policies: attached(r.attached_managed_policies),
        inline_policies: inline(r.role_policy_list, at, "RolePolicyList"),
        permissions_boundary: r.permissions_boundary.map(|b| b.permissions_boundary_arn),
        last_used,
        last_used_region,
        instance_profiles: r.instance_profile_list.into_iter().map(|p| p.arn).collect(),
        tags: tags(r.tags),
    }
}

fn policy(p: RawPolicy, at: &str) -> ManagedPolicy {
    let raw = default_version(p.policy_version_list, p.default_version_id.as_deref(), |v| v.is_default_version, |v| v.version_id.as_deref())
        .and_then(|v| v.document);
    let (document, document_error) = match raw.as_ref().map(|v| document(v, &format!("{at}.PolicyVersionList.Document"))) {
        Some(Ok(d)) => (Some(d), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    ManagedPolicy {
        name: p.policy_name.unwrap_or_else(|| name_from_arn(&p.arn)),
        id: p.policy_id,
        arn: p.arn,
        path: path(p.path),
        default_version_id: p.default_version_id,
        attachment_count: p.attachment_count,
        is_attachable: p.is_attachable.unwrap_or(true),
        document,
        document_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE_ENCODED: &str = r#"{"RoleDetailList": [{"Path": "/", "RoleName": "r", "RoleId": "AROA1", "Arn": "arn:aws:iam::111122223333:role/r",
        "CreateDate": "2024-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"}],
        "Policies": [{"Arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "DefaultVersionId": "v2",
           "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Statement": []}},
                                 {"VersionId": "v2", "IsDefaultVersion": true, "Document": "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22logs%3A*%22%2C%22Resource%22%3A%22*%22%7D%7D"}]}]}"#;

    #[test]
    fn decodes_url_encoded_documents_and_derives_policy_names() {
        let inv = parse_authorization_details(ROLE_ENCODED, "t.json").unwrap();
        let acct = &inv.aws.accounts[0];
        assert_eq!(acct.account_id, "111122223333");
        let d = acct.authorization_details.get().unwrap();
        assert_eq!(d.roles[0].trust_policy.as_ref().unwrap().statements.len(), 1);
        assert_eq!(d.policies[0].name, "AWSLambdaBasicExecutionRole");
        assert!(d.policies[0].is_aws_managed());
        assert_eq!(d.policies[0].document.as_ref().unwrap().statements.len(), 1, "default version kept");
    }

    #[test]
    fn pages_are_merged() {
        let page = r#"{"UserDetailList": [{"UserName": "a", "UserId": "AIDA1", "Arn": "arn:aws:iam::111122223333:user/a"}]}"#;
        let two = format!("[{page}, {}]", page.replace("user/a", "user/b").replace("\"a\"", "\"b\""));
        let inv = parse_authorization_details(&two, "pages.json").unwrap();
        assert_eq!(inv.aws.accounts[0].authorization_details.get().unwrap().users.len(), 2);
    }

    #[test]
    fn one_bad_item_is_isolated_and_named() {
        let bad = ROLE_ENCODED.replace("%22Allow%22%2C%22Principal", "%22Perhaps%22%2C%22Principal");
        let two = bad.replace("\"RoleDetailList\": [{", "\"RoleDetailList\": [{\"RoleName\": \"ok\", \"RoleId\": \"AROA2\", \"Arn\": \"arn:aws:iam::111122223333:role/ok\", \"AssumeRolePolicyDocument\": {\"Statement\": []}}, {");
        let inv = parse_authorization_details(&two, "export.json").unwrap();
        let d = inv.aws.accounts[0].authorization_details.get().unwrap();
        assert_eq!(d.roles.len(), 2, "both roles kept");
        assert!(d.roles[0].trust_policy.is_some());
        let e = d.roles[1].trust_policy_error.as_deref().unwrap();
        assert!(e.starts_with("RoleDetailList[1].AssumeRolePolicyDocument: Statement[0].Effect"), "{e}");
        // A role without a trust document is not a role that trusts no one.
        let none = r#"{"RoleDetailList": [{"RoleName": "r", "RoleId": "AROA1", "Arn": "arn:aws:iam::111122223333:role/r"}]}"#;
        let inv = parse_authorization_details(none, "n.json").unwrap();
        let r = &inv.aws.accounts[0].authorization_details.get().unwrap().roles[0];
        assert!(r.trust_policy.is_none() && r.trust_policy_error.as_deref().unwrap().contains("no AssumeRolePolicyDocument"));
        // A user that is not well formed is recorded, the others are kept; an odd ARN does not abort.
        let users = r#"{"UserDetailList": [{"UserName": 3}, {"UserName": "odd", "UserId": "AIDA9", "Arn": "arn:aws:iam:::user/odd"},
            {"UserName": "a", "UserId": "AIDA1", "Arn": "arn:aws:iam::111122223333:user/a"}]}"#;
        let inv = parse_authorization_details(users, "u.json").unwrap();
        let d = inv.aws.accounts[0].authorization_details.get().unwrap();
        assert_eq!(d.users.len(), 2);
        assert_eq!(d.invalid[0].place, "UserDetailList[0]");
        assert!(d.invalid[0].error.contains("UserName"), "{:?}", d.invalid);
        let e = parse_authorization_details("{\"UserDetailList\": [{\"UserName\": 3}]}", "u.json").unwrap_err().to_string();
        assert!(e.contains("UserDetailList[0]"), "{e}");
        let e = parse_authorization_details("not json", "x.json").unwrap_err().to_string();
        assert!(e.starts_with("x.json: not JSON"), "{e}");
        let e = parse_authorization_details("{}", "empty.json").unwrap_err().to_string();
        assert!(e.contains("which account"), "{e}");
    }

    #[test]
    fn absent_sections_and_truncated_exports_are_gaps() {
        let roles_only = r#"{"RoleDetailList": [{"RoleName": "r", "RoleId": "AROA1", "Arn": "arn:aws:iam::111122223333:role/r", "AssumeRolePolicyDocument": {"Statement": []}}]}"#;
        let inv = parse_authorization_details(roles_only, "r.json").unwrap();
        let d = inv.aws.accounts[0].authorization_details.get().unwrap();
        assert_eq!(d.missing_sections, ["UserDetailList", "GroupDetailList", "Policies"]);
        assert!(d.users().is_err() && d.roles().is_ok());
        let cov = inv.coverage();
        assert_eq!(cov[0].state.label(), "partial", "{cov:?}");
        let truncated = roles_only.replace("{\"RoleDetailList\"", "{\"IsTruncated\": true, \"Marker\": \"AAAA\", \"RoleDetailList\"");
        let inv = parse_authorization_details(&truncated, "t.json").unwrap();
        let a = &inv.aws.accounts[0].authorization_details;
        assert_eq!(a.state().label(), "failed");
        assert!(format!("{:?}", a.state()).contains("truncated"));
        let mixed = r#"{"UserDetailList": [{"UserName": "a", "UserId": "1", "Arn": "arn:aws:iam::111122223333:user/a"},
                                          {"UserName": "b", "UserId": "2", "Arn": "arn:aws:iam::444455556666:user/b"}]}"#;
        let e = parse_authorization_details(mixed, "m.json").unwrap_err().to_string();
        assert!(e.contains("more than one account"), "{e}");
    }
}
