//! The incident file (`verify --incident incident.toml`, DESIGN §5): who was compromised, the
//! window, the scope, who was given access back after sign-off, and the structural fixes expected.
//! Validated on load; every error names the table and key.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checks::{self, did_you_mean, id_matches};
use crate::inventory::{Cloud, Timestamp};

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct IncidentError {
    pub origin: String,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IncidentFile {
    pub incident: Incident,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub compromised: Vec<Compromised>,
    #[serde(default)]
    pub restored: Vec<Restored>,
    #[serde(default)]
    pub fixes: Fixes,
    /// Who responded: the principals trusted to hold power over the compromised ones (to mint
    /// tokens or keys for a service account, own an app, re-enable a user). Anyone else who can is
    /// a way back in.
    #[serde(default)]
    pub response: Response,
    /// Principals whose blast radius (what they can reach, `portcullis blast-radius`) goes into the
    /// report: usually the compromised ones.
    #[serde(default)]
    pub blast_radius: BlastRadiusList,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BlastRadiusList {
    /// Principals of any cloud: AWS user or role ARNs (assumed-role session ARNs name their
    /// role) or access key ids; Entra object ids, appIds or UPNs (users, service principals,
    /// managed identities); GCP members (`serviceAccount:`, `user:`, `group:`) or bare
    /// service-account emails.
    #[serde(default)]
    pub principals: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Principals as each cloud names them: AWS ARNs, Entra object ids or UPNs, GCP members
    /// (`user:`, `group:`, `serviceAccount:`, `domain:`…).
    #[serde(default)]
    pub team: Vec<String>,
}

impl Response {
    /// Whether `member` is on the response team. Spellings are compared as each cloud does:
    /// case-insensitively for Entra UPNs and object ids, GCP members and IAM names (ARNs whose
    /// paths and names differ only in case name the same IAM principal).
    pub fn includes(&self, member: &str) -> bool {
        let m = canonical(member);
        self.team.iter().any(|t| canonical(t) == m)
    }
}

/// One spelling per principal, for comparing: a bare service-account email gains its
/// `serviceAccount:` prefix; the rest is compared ignoring case, as each cloud does for these names.
fn canonical(s: &str) -> String {
    match Principal::parse(s) {
        Some(Principal::GcpMember(m)) => m.to_ascii_lowercase(),
        _ => s.trim().to_ascii_lowercase(),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub id: String,
    /// Start of the window: the first malicious activity known.
    pub first_malicious_activity: String,
    /// End of the lockout: everything after this must show the principal locked.
    pub contained_at: String,
    #[serde(skip)]
    pub window_start: Option<Timestamp>,
    #[serde(skip)]
    pub window_end: Option<Timestamp>,
}

impl Incident {
    pub fn start(&self) -> Timestamp {
        self.window_start.expect("validated on load")
    }

    pub fn contained(&self) -> Timestamp {
        self.window_end.expect("validated on load")
    }
}

/// Where to look; an empty list means none of that cloud.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default)]
    pub aws_accounts: Vec<String>,
    #[serde(default)]
    pub azure_subscriptions: Vec<String>,
    #[serde(default)]
    pub gcp_projects: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Compromised {
    /// As the cloud names it: an AWS ARN, an Entra object id or UPN, a GCP member.
    pub principal: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Restored {
    pub principal: String,
    pub signed_off_by: String,
    pub reference: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fixes {
    /// Checks that must now pass everywhere in scope.
    #[serde(default)]
    pub checks: Vec<String>,
}

/// A principal as the incident names it, recognized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    AwsUser { account: String, name: String, arn: String },
    AwsRole { account: String, name: String, arn: String },
    AwsRoot { account: String },
    /// An Entra object id (GUID) or user principal name.
    AzureUser(String),
    /// `serviceAccount:email`, `user:email` or a bare service-account email.
    GcpMember(String),
}

impl Principal {
    /// Recognize a principal by its spelling; `None` if it is none of the forms above.
    pub fn parse(s: &str) -> Option<Principal> {
        let s = s.trim();
        if let Some(arn) = crate::policy::arn::Arn::parse(s) {
            if arn.service != "iam" && arn.service != "sts" || !crate::policy::arn::is_account_id(arn.account) {
                return None;
            }
            let account = arn.account.to_string();
            let (kind, rest) = arn.resource.split_once('/').unwrap_or((arn.resource, ""));
            let name = rest.rsplit('/').next().unwrap_or(rest).to_string();
            return match (arn.service, kind) {
                ("iam", "root") | ("iam", "") if arn.resource == "root" => Some(Principal::AwsRoot { account }),
                ("iam", "user") if !name.is_empty() => Some(Principal::AwsUser { account, name, arn: s.to_string() }),
                ("iam", "role") if !name.is_empty() => Some(Principal::AwsRole { account, name, arn: s.to_string() }),
                // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION: the role is what must be locked.
                ("sts", "assumed-role") => {
                    let role = rest.split('/').next().unwrap_or_default().to_string();
                    (!role.is_empty()).then(|| Principal::AwsRole { arn: format!("arn:{}:iam::{account}:role/{role}", arn.partition), account, name: role })
                }
                _ => None,
            };
        }
        if crate::inventory::azure::is_guid(s) {
            return Some(Principal::AzureUser(s.to_ascii_lowercase()));
        }
        // GCP members, their kind spelled in any case (and kept in GCP's own spelling).
        for prefix in ["serviceAccount:", "user:", "group:"] {
            if let Some(email) = s.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &s[prefix.len()..]) {
                return email.contains('@').then(|| Principal::GcpMember(format!("{prefix}{email}")));
            }
        }
        if s.to_ascii_lowercase().ends_with(".iam.gserviceaccount.com") && s.contains('@') {
            return Some(Principal::GcpMember(format!("serviceAccount:{s}")));
        }
        // A UPN (alice@contoso.com): Entra.
        if s.contains('@') && !s.contains(char::is_whitespace) {
            return Some(Principal::AzureUser(s.to_ascii_lowercase()));
        }
        None
    }

    pub fn cloud(&self) -> Cloud {
        match self {
            Principal::AwsUser { .. } | Principal::AwsRole { .. } | Principal::AwsRoot { .. } => Cloud::Aws,
            Principal::AzureUser(_) => Cloud::Azure,
            Principal::GcpMember(_) => Cloud::Gcp,
        }
    }
}

impl IncidentFile {
    pub fn load(path: &Path) -> Result<IncidentFile, IncidentError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| IncidentError { origin: origin.clone(), message: format!("cannot read: {}", crate::import::io_reason(&e)) })?;
        IncidentFile::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &str) -> Result<IncidentFile, IncidentError> {
        let err = |message: String| IncidentError { origin: origin.to_string(), message };
        let mut f: IncidentFile = toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        if f.incident.id.trim().is_empty() {
            return Err(err("[incident] id must not be empty".into()));
        }
        let time = |key: &str, v: &str| Timestamp::parse(v).map_err(|_| err(format!("[incident] {key} = {v:?} is not an RFC 3339 time (like 2026-11-30T02:14:00Z)")));
        let start = time("first_malicious_activity", &f.incident.first_malicious_activity)?;
        let end = time("contained_at", &f.incident.contained_at)?;
        if end < start {
            return Err(err(format!("[incident] contained_at ({end}) is before first_malicious_activity ({start})")));
        }
        f.incident.window_start = Some(start);
        f.incident.window_end = Some(end);
        if let Some(a) = f.scope.aws_accounts.iter().find(|a| !crate::policy::arn::is_account_id(a.trim())) {
            return Err(err(format!("[scope] aws_accounts: {a:?} is not a 12-digit AWS account id")));
        }
        if let Some(s) = f.scope.azure_subscriptions.iter().find(|s| !crate::inventory::azure::is_guid(s.trim())) {
            return Err(err(format!("[scope] azure_subscriptions: {s:?} is not a subscription id (a GUID)")));
        }
        if f.compromised.is_empty() {
            return Err(err("no [[compromised]] principal: name at least one (an AWS ARN, an Entra object id or UPN, a GCP member)".into()));
        }
        for (table, list) in [("compromised", f.compromised.iter().map(|c| &c.principal).collect::<Vec<_>>()), ("restored", f.restored.iter().map(|r| &r.principal).collect())] {
            for (i, p) in list.iter().enumerate() {
                let Some(parsed) = Principal::parse(p) else {
                    return Err(err(format!(
                        "[[{table}]] #{}: {p:?} is not a principal Portcullis recognizes (an IAM user or role ARN, an assumed-role ARN, an account root ARN, an Entra object id or UPN, or a GCP member such as serviceAccount:name@project.iam.gserviceaccount.com)",
                        i + 1
                    )));
                };
                // An AWS principal in an account outside the scope would not be looked at.
                if let Principal::AwsUser { account, .. } | Principal::AwsRole { account, .. } | Principal::AwsRoot { account } = &parsed {
                    if !f.scope.aws_accounts.iter().any(|a| a.trim() == account) {
                        return Err(err(format!("[[{table}]] #{}: {p:?} is in account {account}, which [scope] aws_accounts does not list", i + 1)));
                    }
                }
            }
        }
        if f.scope.gcp_projects.is_empty() && f.principals().iter().any(|p| p.cloud() == Cloud::Gcp) {
            return Err(err("a GCP principal is named but [scope] gcp_projects is empty: list the projects to look in".into()));
        }
        if let Some(bad) = f.scope.gcp_projects.iter().find(|p| !crate::collect::gcp::is_project_id(p.trim())) {
            return Err(err(format!("[scope] gcp_projects: {bad:?} is not a project id")));
        }
        for (i, r) in f.restored.iter().enumerate() {
            if r.signed_off_by.trim().is_empty() || r.reference.trim().is_empty() {
                return Err(err(format!("[[restored]] #{}: signed_off_by and reference must not be empty", i + 1)));
            }
        }
        let all = checks::all().map_err(|e| err(e.to_string()))?;
        for c in &f.fixes.checks {
            if !all.iter().any(|k| id_matches(c, &k.meta.id)) {
                let hint = did_you_mean(c, all.iter().map(|k| k.meta.id.as_str())).map(|n| format!(" (did you mean {n}?)")).unwrap_or_default();
                return Err(err(format!("[fixes] checks: unknown check id {c:?}{hint}")));
            }
        }
        Ok(f)
    }

    pub fn principals(&self) -> Vec<Principal> {
        self.compromised.iter().filter_map(|c| Principal::parse(&c.principal)).collect()
    }
}

/// `verify --init`: the template, with comments.
pub const TEMPLATE: &str = r#"# Portcullis incident file: what `portcullis verify --incident FILE` checks.
# Times are RFC 3339 (UTC with Z, or an offset). Principals are spelled as each cloud names them.

[incident]
id = "IR-2026-041"
first_malicious_activity = "2026-11-30T02:14:00Z"   # start of the window: earliest attacker activity known
contained_at = "2026-11-30T05:40:00Z"               # when the attacker's last credential was disabled
# Sessions must be revoked at or after contained_at (revoke last): a session issued before the
# revocation but after contained_at would otherwise survive. Credentials issued before it count
# as not rotated.

# Where to look. An empty list means none of that cloud. Every AWS principal below must be in an
# account listed here.
[scope]
aws_accounts = ["111122223333"]
azure_subscriptions = []
gcp_projects = []

# Each compromised principal: an IAM user or role ARN, an assumed-role session ARN (the role is
# checked), an account root (arn:aws:iam::111122223333:root), an Entra user's object id or UPN,
# an Entra app's appId or object id, or a GCP member (serviceAccount:ci@project.iam.gserviceaccount.com,
# user:alice@example.com). Azure principals are looked up in the tenant read with --azure; GCP
# principals in [scope] gcp_projects.
[[compromised]]
principal = "arn:aws:iam::111122223333:user/jenkins-ci"

# Access given back after sign-off (verify checks that what is restored matches this list).
# [[restored]]
# principal = "arn:aws:iam::111122223333:user/ops-alice"
# signed_off_by = "security@acme.example"
# reference = "IR-2026-041-signoff"

# Structural fixes: checks that must now pass everywhere in scope (see `portcullis checks list`).
[fixes]
checks = ["aws_organizations_scp_protects_cloudtrail"]

# Who responded: the principals allowed to hold power over the compromised ones (mint tokens or
# keys for a compromised service account, own a compromised app, re-enable a user). Anyone else
# who can is reported as a way back in.
# [response]
# team = ["group:incident-response@example.com", "arn:aws:iam::111122223333:role/IncidentResponse"]

# What these principals could reach (what they hold, their permissions by risk, the roles and
# identities they can become, their privilege-escalation paths), for the report: the scope of the
# damage. Any cloud: AWS user or role ARNs; Entra object ids, appIds or UPNs; GCP members
# (serviceAccount:, user:, group:). Informational, it does not change the verdict.
# [blast_radius]
# principals = ["arn:aws:iam::111122223333:user/jenkins-ci", "ci-bot@contoso.com", "serviceAccount:deployer@prod-app.iam.gserviceaccount.com"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_and_errors_name_the_key() {
        let f = IncidentFile::parse(TEMPLATE, "incident.toml").unwrap();
        assert_eq!(f.principals(), vec![Principal::AwsUser { account: "111122223333".into(), name: "jenkins-ci".into(), arn: "arn:aws:iam::111122223333:user/jenkins-ci".into() }]);
        assert!(f.incident.contained() > f.incident.start());
        for (bad, want) in [
            (TEMPLATE.replace("2026-11-30T05:40:00Z", "2026-11-29T05:40:00Z"), "is before first_malicious_activity"),
            (TEMPLATE.replace("2026-11-30T05:40:00Z", "yesterday"), "contained_at = \"yesterday\" is not an RFC 3339 time"),
            (TEMPLATE.replace("aws_organizations_scp_protects_cloudtrail", "aws_organizations_scp_protect_cloudtrail"), "did you mean aws_organizations_scp_protects_cloudtrail?"),
            (TEMPLATE.replace("user/jenkins-ci", "group/admins"), "is not a principal Portcullis recognizes"),
            (TEMPLATE.replace("aws_accounts = [\"111122223333\"]", "aws_accounts = [\"444455556666\"]"), "which [scope] aws_accounts does not list"),
            (TEMPLATE.replace("[[compromised]]\nprincipal = \"arn:aws:iam::111122223333:user/jenkins-ci\"\n", ""), "no [[compromised]] principal"),
            (TEMPLATE.replace("contained_at", "contained"), "unknown field `contained`"),
        ] {
            let e = IncidentFile::parse(&bad, "incident.toml").unwrap_err().to_string();
            assert!(e.starts_with("incident.toml: ") && e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn principals_are_recognized_by_their_spelling() {
        let p = |s: &str| Principal::parse(s);
        assert_eq!(p("arn:aws:iam::111122223333:root"), Some(Principal::AwsRoot { account: "111122223333".into() }));
        assert_eq!(
            p("arn:aws:sts::111122223333:assumed-role/Deploy/i-0abc"),
            Some(Principal::AwsRole { account: "111122223333".into(), name: "Deploy".into(), arn: "arn:aws:iam::111122223333:role/Deploy".into() })
        );
        assert!(matches!(p("arn:aws:iam::111122223333:role/ci/Deploy"), Some(Principal::AwsRole { name, .. }) if name == "Deploy"));
        assert_eq!(p("72F988BF-86F1-41AF-91AB-2D7CD011DB47"), Some(Principal::AzureUser("72f988bf-86f1-41af-91ab-2d7cd011db47".into())));
        assert_eq!(p("Alice@Contoso.com"), Some(Principal::AzureUser("alice@contoso.com".into())));
        assert_eq!(p("ci@proj.iam.gserviceaccount.com"), Some(Principal::GcpMember("serviceAccount:ci@proj.iam.gserviceaccount.com".into())));
        assert_eq!(p("user:bob@example.com"), Some(Principal::GcpMember("user:bob@example.com".into())));
        assert_eq!(p("CI@Proj.IAM.GServiceAccount.com"), Some(Principal::GcpMember("serviceAccount:CI@Proj.IAM.GServiceAccount.com".into())));
        assert_eq!(p("ServiceAccount:ci@proj.iam.gserviceaccount.com"), Some(Principal::GcpMember("serviceAccount:ci@proj.iam.gserviceaccount.com".into())));
        assert_eq!(p("GROUP:ir@example.com"), Some(Principal::GcpMember("group:ir@example.com".into())));
        let team = Response { team: vec!["ci@proj.iam.gserviceaccount.com".into(), "Group:IR@Example.com".into(), "Alice@Contoso.com".into()] };
        assert!(team.includes("serviceAccount:CI@proj.iam.gserviceaccount.com") && team.includes("group:ir@example.com") && team.includes("alice@contoso.com"));
        assert!(!team.includes("user:ir@example.com") && !team.includes("serviceAccount:ci2@proj.iam.gserviceaccount.com"));
        for bad in ["", "jenkins-ci", "arn:aws:s3:::bucket", "arn:aws:iam::*:user/x", "arn:aws:iam::111122223333:group/g", "user:nobody"] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
