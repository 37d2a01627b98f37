//! AWS checklist items: judged from the inventory of the incident's accounts (authorization
//! details, a credential report generated after containment, the account summary).
//!
//! Each item is pass, fail or not evaluated; data that is missing, or older than the containment,
//! is never read as "locked".

use serde_json::json;

use super::incident::{IncidentFile, Principal};
use super::{Item, Part};
use crate::finding::Status;
use crate::inventory::aws::{AwsAccount, CredentialReport, CredentialReportRow, IamRole, IamUser, ReportTime};
use crate::inventory::{Collected, Dataset, Timestamp};
use crate::policy::document::{Effect, PolicyDocument, Statement};

/// AWS managed policies that lock a principal out: deny-all, and the quarantine policies AWS
/// attaches to users whose keys leaked.
const LOCKOUT_POLICIES: &[&str] = &[
    "arn:aws:iam::aws:policy/AWSDenyAll",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
];

/// A statement that denies every action on every resource, whatever the request: no condition.
fn denies_everything(s: &Statement) -> bool {
    s.effect == Effect::Deny
        && s.conditions.is_empty()
        && s.principal.is_none()
        && s.not_principal.is_none()
        && s.action.as_ref().is_some_and(|a| a.iter().any(|x| x == "*"))
        && s.resource.as_ref().is_some_and(|r| r.iter().any(|x| x == "*"))
}

/// The earliest `aws:TokenIssueTime` before which every session is denied by this document (the
/// "revoke active sessions" policy); `None` if it has no such statement.
fn revokes_sessions_before(doc: &PolicyDocument) -> Option<Timestamp> {
    doc.statements
        .iter()
        .filter(|s| s.effect == Effect::Deny && s.action.as_ref().is_some_and(|a| a.iter().any(|x| x == "*")) && s.resource.as_ref().is_some_and(|r| r.iter().any(|x| x == "*")))
        .filter(|s| s.conditions.len() == 1)
        .filter_map(|s| {
            let c = &s.conditions[0];
            let op = c.operator.base.to_ascii_lowercase();
            // DateLessThan / DateLessThanEquals on the token's issue time, and nothing weakening it.
            (c.key_is("aws:TokenIssueTime") && (op == "datelessthan" || op == "datelessthanequals") && c.operator.set.is_none() && !c.operator.if_exists)
                .then(|| c.values.iter().filter_map(|v| Timestamp::parse(v).ok()).min())
                .flatten()
        })
        .max()
}

struct Ctx<'a> {
    inc: &'a IncidentFile,
    items: Vec<Item>,
    _now: Timestamp,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(&mut self, part: Part, status: Status, kind: &'static str, principal: Option<&str>, resource: Option<String>, message: String, evidence: serde_json::Value) {
        self.items.push(Item { part, status, kind, principal: principal.map(str::to_string), resource, message, evidence });
    }
}

/// The credential report, when it was generated after containment (else why not).
fn fresh_report(acct: &AwsAccount, contained: Timestamp) -> Result<&CredentialReport, String> {
    let r = acct.credential_report.require(Dataset::AwsCredentialReport).map_err(|m| m.to_string())?;
    if !r.missing_columns.is_empty() {
        return Err(format!("the credential report lacks the column(s) {}", r.missing_columns.join(", ")));
    }
    match r.generated_at {
        Some(g) if g >= contained => Ok(r),
        Some(g) => Err(format!("the credential report was generated at {g}, before containment at {contained}: it cannot show the lockout (a live verify regenerates it)")),
        None => Err("the credential report's generation time is unknown".into()),
    }
}

fn active_keys(row: &CredentialReportRow) -> Vec<serde_json::Value> {
    row.access_keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.active)
        .map(|(i, k)| json!({"slot": i + 1, "last_rotated": k.last_rotated.at(), "last_used": k.last_used_date.at()}))
        .collect()
}

fn in_window(t: ReportTime, start: Timestamp, end: Timestamp) -> bool {
    t.at().is_some_and(|t| t >= start && t <= end)
}

/// Every AWS item of the incident.
pub fn items(inc: &IncidentFile, inv: &crate::inventory::Inventory, now: Timestamp) -> Vec<Item> {
    let mut cx = Ctx { inc, items: Vec::new(), _now: now };
    let (start, contained) = (inc.incident.start(), inc.incident.contained());
    let principals: Vec<Principal> = inc.principals().into_iter().filter(|p| p.cloud() == crate::inventory::Cloud::Aws).collect();
    let restored: Vec<(Principal, &str)> = inc.restored.iter().filter_map(|r| Principal::parse(&r.principal).map(|p| (p, r.reference.as_str()))).collect();
    for account in &inc.scope.aws_accounts {
        let account = account.trim();
        let Some(acct) = inv.aws.accounts.iter().find(|a| a.account_id == account) else {
            for p in principals.iter().filter(|p| matches!(p, Principal::AwsUser { account: a, .. } | Principal::AwsRole { account: a, .. } | Principal::AwsRoot { account: a } if a == account)) {
                cx.push(Part::Containment, Status::NotEvaluated, "aws_account_read", Some(&describe(p)), Some(account.to_string()), format!("account {account} was not read: nothing about its principals can be verified"), json!({}));
            }
            cx.push(Part::Persistence, Status::NotEvaluated, "aws_account_read", None, Some(account.to_string()), format!("account {account} was not read"), json!({}));
            continue;
        };
        let report = fresh_report(acct, contained);
        let details = acct.authorization_details.get();
        for p in principals.iter() {
            let is_restored = restored.iter().find(|(r, _)| r == p).map(|(_, reference)| *reference);
            match p {
                Principal::AwsUser { account: a, name, arn } if a == account => {
                    user_containment(&mut cx, acct, &report, details.and_then(|d| d.users.iter().find(|u| &u.name == name)), details.is_some(), name, arn, is_restored, (start, contained))
                }
                Principal::AwsRole { account: a, name, arn } if a == account => {
                    let role = details.and_then(|d| d.roles.iter().find(|r| &r.name == name));
                    role_sessions_revoked(&mut cx, Part::Containment, role, details.is_some(), arn, arn, contained);
                }
                Principal::AwsRoot { account: a } if a == account => root_containment(&mut cx, acct, &report),
                _ => {}
            }
        }
        persistence(&mut cx, acct, &report, start, contained);
        recovery(&mut cx, acct, &report, &principals, contained);
        cross_account(&mut cx, inv, account, &principals, contained);
    }
    let _ = cx.inc;
    cx.items
}

fn describe(p: &Principal) -> String {
    match p {
        Principal::AwsUser { arn, .. } | Principal::AwsRole { arn, .. } => arn.clone(),
        Principal::AwsRoot { account } => format!("arn:aws:iam::{account}:root"),
        Principal::AzureUser(s) | Principal::GcpMember(s) => s.clone(),
    }
}

/// The four credential layers of a user, from the direct reads when there are some, else from a
/// credential report generated after containment.
#[allow(clippy::too_many_arguments)]
fn user_containment(
    cx: &mut Ctx,
    acct: &AwsAccount,
    report: &Result<&CredentialReport, String>,
    user: Option<&IamUser>,
    details_read: bool,
    name: &str,
    arn: &str,
    restored: Option<&str>,
    window: (Timestamp, Timestamp),
) {
    let (start, contained) = window;
    let part = Part::Containment;
    let direct = acct.user_credentials.get().and_then(|list| list.iter().find(|u| u.user == name));
    if let Some(d) = direct.filter(|d| !d.exists) {
        let _ = d;
        cx.push(part, Status::Pass, "aws_user_deleted", Some(arn), Some(arn.to_string()), format!("user {name} no longer exists (IAM answers NoSuchEntity)"), json!({}));
        return;
    }
    let row = report.as_ref().ok().and_then(|r| r.rows.iter().find(|r| r.user == name));
    if direct.is_none() {
        if let (Ok(_), None) = (report, row) {
            // Gone from a fresh report: the user was deleted, which locks every layer.
            cx.push(part, Status::Pass, "aws_user_deleted", Some(arn), Some(arn.to_string()), format!("user {name} no longer exists (not in the credential report generated after containment)"), json!({}));
            return;
        }
    }
    // Each layer: Ok(list of active credentials as evidence) or Err(why it cannot be told).
    let gap = |c: &crate::inventory::CoverageState, what: &str| format!("{what} could not be read: {}", crate::inventory::Missing { dataset: Dataset::AwsUserCredentials, state: c.clone() });
    let keys: Result<Vec<serde_json::Value>, String> = match direct.map(|d| &d.access_keys) {
        Some(Collected::Collected(list)) => Ok(list.iter().filter(|k| k.active).map(|k| json!({"id": k.id, "created": k.created})).collect()),
        Some(other) => Err(gap(&other.state(), "the access keys")),
        None => report.clone().map(|_| row.map(active_keys).unwrap_or_default()),
    };
    if let Some(reference) = restored {
        // Given back after sign-off: only keys created after containment may be active.
        let (status, message) = match &keys {
            Ok(keys) => {
                let created = |k: &serde_json::Value| k.get("created").or_else(|| k.get("last_rotated")).and_then(|t| t.as_str()).and_then(|t| Timestamp::parse(t).ok());
                let old = keys.iter().filter(|k| created(k).is_none_or(|t| t < contained)).count();
                if old == 0 {
                    (Status::Pass, format!("user {name} was restored after sign-off ({reference}); every active key was created after containment"))
                } else {
                    (Status::Fail, format!("user {name} was restored after sign-off ({reference}) but {old} active key(s) date from before containment"))
                }
            }
            Err(why) => (Status::NotEvaluated, format!("not evaluated: {why}")),
        };
        cx.push(Part::Recovery, status, "aws_user_restored_with_new_credentials", Some(arn), Some(arn.to_string()), message, json!({"active_keys": keys.clone().unwrap_or_default(), "reference": reference}));
        return;
    }
    let (status, message) = match &keys {
        Ok(k) if k.is_empty() => (Status::Pass, format!("user {name} has no active access key")),
        Ok(k) => (Status::Fail, format!("user {name} still has {} active access key(s): {}", k.len(), k.iter().map(|x| x.get("id").and_then(|i| i.as_str()).map(str::to_string).unwrap_or_else(|| x.to_string())).collect::<Vec<_>>().join(", "))),
        Err(why) => (Status::NotEvaluated, format!("not evaluated: {why}")),
    };
    cx.push(part, status, "aws_user_access_keys_inactive", Some(arn), Some(arn.to_string()), message, json!({"active_keys": keys.clone().unwrap_or_default()}));
    // Keys of this user created inside the window: the attacker's own.
    if let Some(Collected::Collected(list)) = direct.map(|d| &d.access_keys) {
        let theirs: Vec<serde_json::Value> = list.iter().filter(|k| k.active && k.created.is_some_and(|t| t >= start && t <= contained)).map(|k| json!({"id": k.id, "created": k.created})).collect();
        let (status, message) = if theirs.is_empty() {
            (Status::Pass, format!("user {name}: no key created inside the window is active"))
        } else {
            (Status::Fail, format!("user {name}: {} key(s) created inside the window are still active (the attacker's?)", theirs.len()))
        };
        cx.push(Part::Persistence, status, "aws_user_window_keys_inactive", Some(arn), Some(arn.to_string()), message, json!({"keys": theirs}));
    }
    let password: Result<Option<Timestamp>, String> = match direct.map(|d| &d.login_profile) {
        Some(Collected::Collected(p)) => Ok(*p),
        Some(other) => Err(gap(&other.state(), "the login profile")),
        None => match (report, row.and_then(|r| r.password_enabled)) {
            (Err(why), _) => Err(why.clone()),
            (Ok(_), Some(true)) => Ok(Some(row.and_then(|r| r.password_last_changed.at()).unwrap_or(contained))),
            (Ok(_), Some(false)) => Ok(None),
            (Ok(_), None) => Err(format!("the credential report does not say whether {name} has a console password")),
        },
    };
    let (status, message) = match &password {
        Ok(None) => (Status::Pass, format!("user {name} has no console password")),
        Ok(Some(_)) => (Status::Fail, format!("user {name} can still sign in to the console (its login profile exists)")),
        Err(why) => (Status::NotEvaluated, format!("not evaluated: {why}")),
    };
    cx.push(part, status, "aws_user_console_password_removed", Some(arn), Some(arn.to_string()), message, json!({}));
    let certs: Result<usize, String> = match direct.map(|d| &d.signing_certificates) {
        Some(Collected::Collected(list)) => Ok(list.iter().filter(|c| c.active).count()),
        Some(other) => Err(gap(&other.state(), "the signing certificates")),
        None => report.clone().map(|_| row.map(|r| r.certificates.iter().filter(|c| c.active).count()).unwrap_or(0)),
    };
    let (status, message) = match certs {
        Ok(0) => (Status::Pass, format!("user {name} has no active signing certificate")),
        Ok(n) => (Status::Fail, format!("user {name} still has {n} active signing certificate(s)")),
        Err(why) => (Status::NotEvaluated, format!("not evaluated: {why}")),
    };
    cx.push(part, status, "aws_user_signing_certificates_inactive", Some(arn), Some(arn.to_string()), message, json!({}));
    // Service-specific credentials (CodeCommit, Keyspaces, Bedrock) are only in the direct reads.
    let (status, message, evidence) = match direct.map(|d| &d.service_specific) {
        Some(Collected::Collected(list)) => {
            let active: Vec<serde_json::Value> = list.iter().filter(|c| c.active).map(|c| json!({"id": c.id, "service": c.service})).collect();
            if active.is_empty() {
                (Status::Pass, format!("user {name} has no active service-specific credential"), json!({}))
            } else {
                (Status::Fail, format!("user {name} still has {} active service-specific credential(s)", active.len()), json!({"credentials": active}))
            }
        }
        Some(other) => (Status::NotEvaluated, format!("not evaluated: {}", gap(&other.state(), "the service-specific credentials")), json!({})),
        None => (
            Status::NotEvaluated,
            format!("not evaluated: user {name}'s service-specific credentials are in no report; they need a live verify with iam:ListServiceSpecificCredentials"),
            json!({"missing_permission": "iam:ListServiceSpecificCredentials"}),
        ),
    };
    cx.push(part, status, "aws_user_service_specific_credentials_inactive", Some(arn), Some(arn.to_string()), message, evidence);
    // The lockout policy: deny-all, or AWS's quarantine policy, attached to the user or a group.
    let Some(user) = user else {
        let why = if details_read { format!("user {name} is not in the account's authorization details") } else { "authorization details were not read".to_string() };
        cx.push(part, Status::NotEvaluated, "aws_user_deny_all_attached", Some(arn), Some(arn.to_string()), format!("not evaluated: {why}"), json!({}));
        return;
    };
    let details = acct.authorization_details.get();
    let managed = |policy_arn: &str| -> bool {
        LOCKOUT_POLICIES.contains(&policy_arn)
            || details.and_then(|d| d.policies.iter().find(|p| p.arn == policy_arn)).and_then(|p| p.document.as_ref()).is_some_and(|d| d.statements.iter().any(denies_everything))
    };
    let mut via: Vec<String> = user.attached_policies.iter().filter(|p| managed(&p.arn)).map(|p| p.arn.clone()).collect();
    via.extend(user.inline_policies.iter().filter(|p| p.document.as_ref().is_some_and(|d| d.statements.iter().any(denies_everything))).map(|p| format!("inline policy {}", p.name)));
    for g in &user.groups {
        if let Some(group) = details.and_then(|d| d.groups.iter().find(|x| &x.name == g)) {
            via.extend(group.attached_policies.iter().filter(|p| managed(&p.arn)).map(|p| format!("{} (group {g})", p.arn)));
            via.extend(group.inline_policies.iter().filter(|p| p.document.as_ref().is_some_and(|d| d.statements.iter().any(denies_everything))).map(|p| format!("inline policy {} (group {g})", p.name)));
        }
    }
    let (status, message) = if via.is_empty() {
        (Status::Fail, format!("user {name} has no deny-all or quarantine policy attached: whatever credential it still has keeps its permissions"))
    } else {
        (Status::Pass, format!("user {name} is denied everything by {}", via.join(", ")))
    };
    cx.push(part, status, "aws_user_deny_all_attached", Some(arn), Some(arn.to_string()), message, json!({"lockout_policies": via}));
}

/// Sessions of a role issued before containment are denied (the "revoke active sessions" inline
/// policy, `aws:TokenIssueTime` at or after containment).
fn role_sessions_revoked(cx: &mut Ctx, part: Part, role: Option<&IamRole>, details_read: bool, principal: &str, arn: &str, contained: Timestamp) {
    let kind = "aws_role_sessions_revoked";
    let Some(role) = role else {
        let why = if details_read { format!("role {arn} is not in the account's authorization details (deleted roles have no sessions left)") } else { "authorization details were not read".into() };
        let status = if details_read { Status::Pass } else { Status::NotEvaluated };
        cx.push(part, status, kind, Some(principal), Some(arn.to_string()), why, json!({}));
        return;
    };
    let unreadable: Vec<&str> = role.inline_policies.iter().filter(|p| p.document.is_none()).map(|p| p.name.as_str()).collect();
    let cutoff = role.inline_policies.iter().filter_map(|p| p.document.as_ref()).filter_map(revokes_sessions_before).max();
    let (status, message) = match cutoff {
        Some(t) if t >= contained => (Status::Pass, format!("role {}: sessions issued before {t} are denied (containment {contained})", role.name)),
        Some(t) => (Status::Fail, format!("role {}: sessions are revoked only before {t}, earlier than containment at {contained}: sessions issued in between still work", role.name)),
        None if !unreadable.is_empty() => (Status::NotEvaluated, format!("not evaluated: role {}'s inline policies {} could not be read", role.name, unreadable.join(", "))),
        None => (Status::Fail, format!("role {}: no policy denies sessions issued before containment (aws:TokenIssueTime); a session taken by the attacker stays valid until it expires", role.name)),
    };
    cx.push(part, status, kind, Some(principal), Some(role.arn.clone()), message, json!({"revoked_before": cutoff}));
}

fn root_containment(cx: &mut Ctx, acct: &AwsAccount, report: &Result<&CredentialReport, String>) {
    let arn = format!("arn:aws:iam::{}:root", acct.account_id);
    let summary = acct.account_summary.get();
    let root_row = report.as_ref().ok().and_then(|r| r.rows.iter().find(|r| r.is_root()));
    let keys = summary.and_then(|s| s.root_access_keys_present()).or(root_row.map(|r| r.access_keys.iter().any(|k| k.active)));
    let (status, message) = match keys {
        Some(false) => (Status::Pass, "the root user has no access key".to_string()),
        Some(true) => (Status::Fail, "the root user still has an access key".to_string()),
        None => (Status::NotEvaluated, "not evaluated: neither the account summary nor a fresh credential report was read".to_string()),
    };
    cx.push(Part::Containment, status, "aws_root_access_keys_absent", Some(&arn), Some(arn.clone()), message, json!({}));
    let mfa = summary.and_then(|s| s.root_mfa_enabled()).or(root_row.map(|r| r.mfa_active));
    let (status, message) = match mfa {
        Some(true) => (Status::Pass, "the root user has MFA".to_string()),
        Some(false) => (Status::Fail, "the root user has no MFA".to_string()),
        None => (Status::NotEvaluated, "not evaluated: neither the account summary nor a fresh credential report was read".to_string()),
    };
    cx.push(Part::Containment, status, "aws_root_mfa_enabled", Some(&arn), Some(arn.clone()), message, json!({}));
}

fn persistence(cx: &mut Ctx, acct: &AwsAccount, report: &Result<&CredentialReport, String>, start: Timestamp, contained: Timestamp) {
    let account = acct.account_id.as_str();
    // Credentials created inside the window and still active.
    match report {
        Err(why) => match everyone_read(acct) {
            Some(all) => {
                let mut found = Vec::new();
                for u in all {
                    if let Collected::Collected(keys) = &u.access_keys {
                        for k in keys.iter().filter(|k| k.active && k.created.is_some_and(|t| t >= start && t <= contained)) {
                            found.push(json!({"user": u.user, "credential": format!("access key {}", k.id), "created": k.created}));
                        }
                    }
                    if let Collected::Collected(Some(t)) = &u.login_profile {
                        if *t >= start && *t <= contained {
                            found.push(json!({"user": u.user, "credential": "console password", "created": t}));
                        }
                    }
                }
                let (status, message) = if found.is_empty() {
                    (Status::Pass, format!("account {account}: no credential created inside the window is active (every user read directly)"))
                } else {
                    (Status::Fail, format!("account {account}: {} credential(s) created inside the window are still active", found.len()))
                };
                cx.push(Part::Persistence, status, "aws_window_credentials_inactive", None, Some(account.to_string()), message, json!({"credentials": found}));
            }
            None => cx.push(Part::Persistence, Status::NotEvaluated, "aws_window_credentials_inactive", None, Some(account.to_string()), format!("not evaluated: {why}"), json!({})),
        },
        Ok(r) => {
            let mut found = Vec::new();
            for row in &r.rows {
                for (i, k) in row.access_keys.iter().enumerate() {
                    if k.active && in_window(k.last_rotated, start, contained) {
                        found.push(json!({"user": row.user, "arn": row.arn, "credential": format!("access key {}", i + 1), "created": k.last_rotated.at()}));
                    }
                }
                if row.password_enabled == Some(true) && in_window(row.password_last_changed, start, contained) {
                    found.push(json!({"user": row.user, "arn": row.arn, "credential": "console password", "set": row.password_last_changed.at()}));
                }
            }
            let (status, message) = if found.is_empty() {
                (Status::Pass, format!("account {account}: no credential created inside the window is active"))
            } else {
                (Status::Fail, format!("account {account}: {} credential(s) created inside the window are still active", found.len()))
            };
            cx.push(Part::Persistence, status, "aws_window_credentials_inactive", None, Some(account.to_string()), message, json!({"credentials": found}));
        }
    }
    // Principals created inside the window.
    match acct.authorization_details.get() {
        None => cx.push(Part::Persistence, Status::NotEvaluated, "aws_window_principals_absent", None, Some(account.to_string()), "not evaluated: authorization details were not read".into(), json!({})),
        Some(d) => {
            let created = |t: Option<Timestamp>| t.is_some_and(|t| t >= start && t <= contained);
            let mut found: Vec<String> = d.users.iter().filter(|u| created(u.created)).map(|u| u.arn.clone()).collect();
            found.extend(d.roles.iter().filter(|r| created(r.created)).map(|r| r.arn.clone()));
            found.extend(d.groups.iter().filter(|g| created(g.created)).map(|g| g.arn.clone()));
            let (status, message) = if found.is_empty() {
                (Status::Pass, format!("account {account}: no user, role or group created inside the window remains"))
            } else {
                (Status::Fail, format!("account {account}: {} principal(s) created inside the window remain: {}", found.len(), found.join(", ")))
            };
            cx.push(Part::Persistence, status, "aws_window_principals_absent", None, Some(account.to_string()), message, json!({"principals": found}));
        }
    }
    // Trust changes to existing roles leave no trace in the inventory: CloudTrail's record says.
    match acct.trail_events.get() {
        None => {
            let why = acct.trail_events.require(Dataset::AwsTrailEvents).err().map(|m| m.to_string()).unwrap_or_default();
            cx.push(
                Part::Persistence,
                Status::NotEvaluated,
                "aws_window_trust_unchanged",
                None,
                Some(account.to_string()),
                format!("not evaluated: account {account}: trust policy changes inside the window need CloudTrail (cloudtrail:LookupEvents): {why}"),
                json!({"missing_permission": "cloudtrail:LookupEvents"}),
            );
        }
        Some(events) => {
            let changes: Vec<&crate::inventory::aws::TrailEvent> = events.iter().filter(|e| e.name == "UpdateAssumeRolePolicy" || e.name == "CreateRole").collect();
            let roles = acct.authorization_details.get().map(|d| d.roles.as_slice());
            let mut outside = Vec::new();
            let mut unknown = Vec::new();
            for e in &changes {
                for role_name in &e.targets {
                    match roles.map(|r| r.iter().find(|x| &x.name == role_name)) {
                        // Gone since: nothing to trust through.
                        Some(None) => {}
                        Some(Some(role)) => match &role.trust_policy {
                            Some(doc) => {
                                let parties: Vec<String> = crate::policy::trust::analyze(doc)
                                    .iter()
                                    .flat_map(|g| if g.is_public() { vec!["anyone".to_string()] } else { g.foreign_parties(account).iter().map(|p| format!("{p:?}")).collect() })
                                    .collect();
                                if !parties.is_empty() {
                                    outside.push(json!({"role": role.arn, "event": e.id, "event_name": e.name, "time": e.time, "actor": e.actor, "trusts": parties}));
                                }
                            }
                            None => unknown.push(role.arn.clone()),
                        },
                        None => unknown.push(role_name.clone()),
                    }
                }
            }
            let (status, message) = if !outside.is_empty() {
                (Status::Fail, format!("account {account}: {} role(s) whose trust was set inside the window still trust principals outside the account", outside.len()))
            } else if !unknown.is_empty() {
                (Status::NotEvaluated, format!("not evaluated: account {account}: the trust of {} (changed inside the window) could not be read", unknown.join(", ")))
            } else {
                (Status::Pass, format!("account {account}: CloudTrail shows {} trust change(s) inside the window, and no role they touched trusts outside the account now", changes.len()))
            };
            cx.push(Part::Persistence, status, "aws_window_trust_unchanged", None, Some(account.to_string()), message, json!({"roles": outside, "events": changes.len()}));
        }
    }
}

fn recovery(cx: &mut Ctx, acct: &AwsAccount, report: &Result<&CredentialReport, String>, principals: &[Principal], contained: Timestamp) {
    let account = acct.account_id.as_str();
    let Ok(r) = report else {
        let why = report.as_ref().err().cloned().unwrap_or_default();
        match everyone_read(acct) {
            Some(all) => recovery_direct(cx, account, all, principals, contained, &why),
            None => {
                for kind in ["aws_credentials_rotated", "aws_console_users_mfa"] {
                    cx.push(Part::Recovery, Status::NotEvaluated, kind, None, Some(account.to_string()), format!("not evaluated: {why}"), json!({}));
                }
            }
        }
        return;
    };
    let compromised = |arn: &str| principals.iter().any(|p| matches!(p, Principal::AwsUser { arn: a, .. } if a == arn));
    let mut stale = Vec::new();
    for row in r.rows.iter().filter(|row| !compromised(&row.arn)) {
        for (i, k) in row.access_keys.iter().enumerate() {
            if k.active && k.last_rotated.at().is_none_or(|t| t < contained) {
                stale.push(json!({"user": row.user, "credential": format!("access key {}", i + 1), "last_rotated": k.last_rotated.at()}));
            }
        }
        if row.password_enabled == Some(true) && !row.is_root() && row.password_last_changed.at().is_none_or(|t| t < contained) {
            stale.push(json!({"user": row.user, "credential": "console password", "last_changed": row.password_last_changed.at()}));
        }
    }
    let (status, message) = if stale.is_empty() {
        (Status::Pass, format!("account {account}: every active credential was issued or rotated after containment"))
    } else {
        (Status::Fail, format!("account {account}: {} credential(s) issued before containment were not rotated", stale.len()))
    };
    cx.push(Part::Recovery, status, "aws_credentials_rotated", None, Some(account.to_string()), message, json!({"not_rotated": stale}));
    let no_mfa: Vec<&str> = r.rows.iter().filter(|row| row.password_enabled == Some(true) && !row.mfa_active && !row.is_root()).map(|row| row.user.as_str()).collect();
    let (status, message) = if no_mfa.is_empty() {
        (Status::Pass, format!("account {account}: every console user has MFA"))
    } else {
        (Status::Fail, format!("account {account}: console users without MFA: {}", no_mfa.join(", ")))
    };
    cx.push(Part::Recovery, status, "aws_console_users_mfa", None, Some(account.to_string()), message, json!({"users": no_mfa}));
}

/// Every user of the account read directly (keys and login profile), when the authorization
/// details list them all: what stands in for a credential report that predates containment.
fn everyone_read(acct: &AwsAccount) -> Option<&Vec<crate::inventory::aws::UserCredentials>> {
    let all = acct.user_credentials.get()?;
    let details = acct.authorization_details.get()?;
    let read = |name: &str| all.iter().any(|u| u.user == name && matches!(u.access_keys, Collected::Collected(_)) && matches!(u.login_profile, Collected::Collected(_)));
    details.users.iter().all(|u| read(&u.name)).then_some(all)
}

/// Recovery from the direct reads: access keys by creation date; console passwords' last change is
/// only in the credential report, so that part cannot be proven from them.
fn recovery_direct(cx: &mut Ctx, account: &str, all: &[crate::inventory::aws::UserCredentials], principals: &[Principal], contained: Timestamp, why: &str) {
    let compromised = |name: &str| principals.iter().any(|p| matches!(p, Principal::AwsUser { name: n, account: a, .. } if n == name && a == account));
    let mut stale = Vec::new();
    let mut console = Vec::new();
    let mut no_mfa = Vec::new();
    let mut mfa_unknown = Vec::new();
    for u in all.iter().filter(|u| u.exists && !compromised(&u.user)) {
        if let Collected::Collected(keys) = &u.access_keys {
            for k in keys.iter().filter(|k| k.active && k.created.is_none_or(|t| t < contained)) {
                stale.push(json!({"user": u.user, "credential": format!("access key {}", k.id), "created": k.created}));
            }
        }
        if let Collected::Collected(Some(_)) = &u.login_profile {
            console.push(u.user.clone());
            match &u.mfa_devices {
                Collected::Collected(d) if d.is_empty() => no_mfa.push(u.user.clone()),
                Collected::Collected(_) => {}
                _ => mfa_unknown.push(u.user.clone()),
            }
        }
    }
    let (status, message) = if !stale.is_empty() {
        (Status::Fail, format!("account {account}: {} access key(s) issued before containment were not rotated", stale.len()))
    } else if !console.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: every access key was issued after containment, but whether the console passwords of {} were changed is only in the credential report, and {why}", console.join(", ")))
    } else {
        (Status::Pass, format!("account {account}: every active credential was issued after containment (every user read directly)"))
    };
    cx.push(Part::Recovery, status, "aws_credentials_rotated", None, Some(account.to_string()), message, json!({"not_rotated": stale}));
    let (status, message) = if !no_mfa.is_empty() {
        (Status::Fail, format!("account {account}: console users without MFA: {}", no_mfa.join(", ")))
    } else if !mfa_unknown.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: the MFA devices of {} could not be read", mfa_unknown.join(", ")))
    } else {
        (Status::Pass, format!("account {account}: every console user has MFA"))
    };
    cx.push(Part::Recovery, status, "aws_console_users_mfa", None, Some(account.to_string()), message, json!({"users": no_mfa}));
}

/// Roles in the incident's accounts that a compromised principal of another account could assume:
/// the attacker may hold sessions there too, so each must have them revoked.
fn cross_account(cx: &mut Ctx, inv: &crate::inventory::Inventory, account: &str, principals: &[Principal], contained: Timestamp) {
    let Some(acct) = inv.aws.accounts.iter().find(|a| a.account_id == account) else { return };
    let Some(details) = acct.authorization_details.get() else { return };
    for p in principals {
        let (p_account, p_arn) = match p {
            Principal::AwsUser { account, arn, .. } | Principal::AwsRole { account, arn, .. } => (account.as_str(), arn.as_str()),
            _ => continue,
        };
        if p_account == account {
            continue;
        }
        for role in &details.roles {
            let Some(doc) = &role.trust_policy else { continue };
            let reaches = crate::policy::trust::analyze(doc).iter().any(|g| match &g.trustee {
                crate::policy::trust::Trustee::Anyone => true,
                crate::policy::trust::Trustee::Account { account: a, arn, whole_account } => a == p_account && (*whole_account || arn == p_arn),
                _ => false,
            });
            if reaches {
                role_sessions_revoked(cx, Part::Persistence, Some(role), true, p_arn, &role.arn, contained);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_revocation_is_read_from_the_deny_on_token_issue_time() {
        let doc = |cond: &str| PolicyDocument::parse_str(&format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{cond}}}]}}"#)).unwrap();
        let t = Timestamp::parse("2026-11-30T06:00:00Z").unwrap();
        assert_eq!(revokes_sessions_before(&doc(r#"{"DateLessThan":{"aws:TokenIssueTime":"2026-11-30T06:00:00Z"}}"#)), Some(t));
        // IfExists, a set qualifier, another key or a second condition weaken it: not counted.
        for weak in [
            r#"{"DateLessThanIfExists":{"aws:TokenIssueTime":"2026-11-30T06:00:00Z"}}"#,
            r#"{"DateLessThan":{"aws:CurrentTime":"2026-11-30T06:00:00Z"}}"#,
            r#"{"DateLessThan":{"aws:TokenIssueTime":"2026-11-30T06:00:00Z"},"Bool":{"aws:MultiFactorAuthPresent":"false"}}"#,
            r#"{"DateGreaterThan":{"aws:TokenIssueTime":"2026-11-30T06:00:00Z"}}"#,
        ] {
            assert_eq!(revokes_sessions_before(&doc(weak)), None, "{weak}");
        }
        let deny_all = PolicyDocument::parse_str(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#).unwrap();
        assert!(denies_everything(&deny_all.statements[0]));
        let scoped = PolicyDocument::parse_str(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}}"#).unwrap();
        assert!(!denies_everything(&scoped.statements[0]), "a condition makes it a partial deny");
    }
}
