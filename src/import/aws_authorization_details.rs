//! `aws iam get-account-authorization-details` output (one page object, or a list of pages).
//! Policy documents may be JSON objects or URL-encoded strings, as the API returns them.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{from_json, ImportError};
use crate::inventory::aws::{
    AttachedPolicy, AuthorizationDetails, AwsAccount, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy,
};
use crate::inventory::{Collected, Inventory, Timestamp};
use crate::policy::arn::{account_of, is_account_id, Arn};
use crate::policy::PolicyDocument;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    #[serde(default)]
    user_detail_list: Vec<RawUser>,
    #[serde(default)]
    group_detail_list: Vec<RawGroup>,
    #[serde(default)]
    role_detail_list: Vec<RawRole>,
    #[serde(default)]
    policies: Vec<RawPolicy>,
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
    assume_role_policy_document: PolicyDocument,
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
    policy_document: PolicyDocument,
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
    document: Option<PolicyDocument>,
    version_id: Option<String>,
    #[serde(default)]
    is_default_version: bool,
}

/// Parse an authorization-details export into a one-account inventory.
pub fn parse_authorization_details(text: &str, origin: &str) -> Result<Inventory, ImportError> {
    let pages: Vec<Page> = if text.trim_start().starts_with('[') {
        from_json(text, origin)?
    } else {
        vec![from_json(text, origin)?]
    };
    let mut details = AuthorizationDetails::default();
    for page in pages {
        details.users.extend(page.user_detail_list.into_iter().map(user));
        details.groups.extend(page.group_detail_list.into_iter().map(group));
        details.roles.extend(page.role_detail_list.into_iter().map(role));
        details.policies.extend(page.policies.into_iter().map(policy));
    }
    let account_id = account_of_details(&details, origin)?;
    let mut acct = AwsAccount::new(account_id);
    acct.authorization_details = Collected::Collected(details);
    let mut inv = Inventory::default();
    inv.sources.push(format!("aws authorization details: {origin}"));
    inv.aws.accounts.push(acct);
    Ok(inv)
}

/// Every principal and customer-managed policy must belong to one account.
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
        let acct = account_of(arn).filter(|a| is_account_id(a)).ok_or_else(|| {
            ImportError::invalid(origin, list, format!("{arn:?} is not an IAM ARN with an account id"))
        })?;
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
        ImportError::invalid(origin, "", "contains no users, groups, roles or customer-managed policies to tell which account it describes")
    })
}

fn attached(list: Vec<RawAttached>) -> Vec<AttachedPolicy> {
    list.into_iter()
        .map(|a| AttachedPolicy { name: a.policy_name.unwrap_or_else(|| name_from_arn(&a.policy_arn)), arn: a.policy_arn })
        .collect()
}

fn inline(list: Vec<RawInline>) -> Vec<InlinePolicy> {
    list.into_iter().map(|p| InlinePolicy { name: p.policy_name, document: p.policy_document }).collect()
}

fn tags(list: Vec<RawTag>) -> BTreeMap<String, String> {
    list.into_iter().map(|t| (t.key, t.value)).collect()
}

fn path(p: Option<String>) -> String {
    p.unwrap_or_else(|| "/".into())
}

/// `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole` → `AWSLambdaBasicExecutionRole`.
pub(crate) fn name_from_arn(arn: &str) -> String {
    Arn::parse(arn).map(|a| a.resource).unwrap_or(arn).rsplit('/').next().unwrap_or(arn).to_string()
}

fn user(u: RawUser) -> IamUser {
    IamUser {
        name: u.user_name,
        id: u.user_id,
        arn: u.arn,
        path: path(u.path),
        created: u.create_date,
        groups: u.group_list,
        attached_policies: attached(u.attached_managed_policies),
        inline_policies: inline(u.user_policy_list),
        permissions_boundary: u.permissions_boundary.map(|b| b.permissions_boundary_arn),
        tags: tags(u.tags),
    }
}

fn group(g: RawGroup) -> IamGroup {
    IamGroup {
        name: g.group_name,
        id: g.group_id,
        arn: g.arn,
        path: path(g.path),
        created: g.create_date,
        attached_policies: attached(g.attached_managed_policies),
        inline_policies: inline(g.group_policy_list),
    }
}

fn role(r: RawRole) -> IamRole {
    let (last_used, last_used_region) = match r.role_last_used {
        Some(l) => (l.last_used_date, l.region),
        None => (None, None),
    };
    IamRole {
        name: r.role_name,
        id: r.role_id,
        arn: r.arn,
        path: path(r.path),
        created: r.create_date,
        trust_policy: r.assume_role_policy_document,
        attached_policies: attached(r.attached_managed_policies),
        inline_policies: inline(r.role_policy_list),
        permissions_boundary: r.permissions_boundary.map(|b| b.permissions_boundary_arn),
        last_used,
        last_used_region,
        instance_profiles: r.instance_profile_list.into_iter().map(|p| p.arn).collect(),
        tags: tags(r.tags),
    }
}

fn policy(p: RawPolicy) -> ManagedPolicy {
    let default_version = p.default_version_id.clone();
    let document = p
        .policy_version_list
        .into_iter()
        .find(|v| v.is_default_version || (default_version.is_some() && v.version_id == default_version))
        .and_then(|v| v.document);
    ManagedPolicy {
        name: p.policy_name.unwrap_or_else(|| name_from_arn(&p.arn)),
        id: p.policy_id,
        arn: p.arn,
        path: path(p.path),
        default_version_id: p.default_version_id,
        attachment_count: p.attachment_count.unwrap_or(0),
        is_attachable: p.is_attachable.unwrap_or(true),
        document,
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
        assert_eq!(d.roles[0].trust_policy.statements.len(), 1);
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
    fn errors_name_file_and_place() {
        let bad = ROLE_ENCODED.replace("%22Allow%22%2C%22Principal", "%22Perhaps%22%2C%22Principal");
        let e = parse_authorization_details(&bad, "export.json").unwrap_err().to_string();
        assert!(e.starts_with("export.json: RoleDetailList[0].AssumeRolePolicyDocument"), "{e}");
        assert!(e.contains("Statement[0].Effect"), "{e}");
        let e = parse_authorization_details("{\"UserDetailList\": [{\"UserName\": 3}]}", "u.json").unwrap_err().to_string();
        assert!(e.contains("UserDetailList[0].UserName"), "{e}");
        let e = parse_authorization_details("not json", "x.json").unwrap_err().to_string();
        assert!(e.starts_with("x.json: line 1 column "), "{e}");
        let e = parse_authorization_details("{}", "empty.json").unwrap_err().to_string();
        assert!(e.contains("which account"), "{e}");
        let mixed = r#"{"UserDetailList": [{"UserName": "a", "UserId": "1", "Arn": "arn:aws:iam::111122223333:user/a"},
                                          {"UserName": "b", "UserId": "2", "Arn": "arn:aws:iam::444455556666:user/b"}]}"#;
        let e = parse_authorization_details(mixed, "m.json").unwrap_err().to_string();
        assert!(e.contains("more than one account"), "{e}");
    }
}
