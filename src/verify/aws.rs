//! AWS checklist items: judged from the inventory of the incident's accounts (authorization
//! details, a credential report generated after containment, the account summary).
//!
//! Each item is pass, fail or not evaluated; data that is missing, or older than the containment,
//! is never read as "locked".

use serde_json::json;

use super::incident::{IncidentFile, Principal};
use super::{Item, Part};
use crate::finding::Status;
use crate::inventory::aws::{AuthorizationDetails, AwsAccount, CredentialReport, CredentialReportRow, IamRole, IamUser, ReportTime, UserCredentials};
use crate::inventory::{Collected, Dataset, Timestamp};
use crate::policy::document::{Effect, PolicyDocument, Statement};

/// What the AWS APIs cannot show a verify (for the checklist's "Not covered" notes).
pub const NOTES: &[&str] = &[
    "AWS: a role session issued before containment stays valid until it expires unless the role denies older sessions (aws:TokenIssueTime). The roles a compromised principal could assume are decided for its policies without the lockout (a session it took before the deny-all still works); those of a deleted principal from the trust policies alone, since its own policies are gone. A policy changed inside the window is judged as it is now: CloudTrail, not the inventory, shows what it allowed then.",
    "AWS: when a console password was last changed is only in the credential report (password_last_changed); GetLoginProfile gives the login profile's creation date, which a password change does not move.",
    "AWS: the root user's MFA devices are dated only when they are virtual (ListVirtualMFADevices); hardware and FIDO devices of the root user cannot be listed without its credentials.",
    "AWS: trust-policy changes are found through CloudTrail's LookupEvents, which holds 90 days of management events.",
];

/// AWS managed policies that lock a principal out: deny-all, and the quarantine policies AWS
/// attaches to users whose keys leaked.
const LOCKOUT_POLICIES: &[&str] = &[
    "arn:aws:iam::aws:policy/AWSDenyAll",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
    "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
];

/// One of AWS's lockout policies, in any partition (`arn:aws-us-gov:…`, `arn:aws-cn:…`).
fn is_lockout_policy(policy_arn: &str) -> bool {
    let Some(rest) = policy_arn.strip_prefix("arn:") else { return false };
    let Some((partition, rest)) = rest.split_once(':') else { return false };
    partition.starts_with("aws") && LOCKOUT_POLICIES.iter().any(|p| p.strip_prefix("arn:aws:").is_some_and(|p| p == rest))
}

/// A statement that denies every action on every resource, whatever the request: no condition.
fn denies_everything(s: &Statement) -> bool {
    s.effect == Effect::Deny
        && s.conditions.is_empty()
        && s.principal.is_none()
        && s.not_principal.is_none()
        && s.action.as_ref().is_some_and(|a| a.iter().any(|x| x == "*"))
        && s.resource.as_ref().is_some_and(|r| r.iter().any(|x| x == "*"))
}

/// A statement of the lockout: in a deny-all or quarantine policy, denying everything, or
/// revoking sessions issued before a time.
fn is_lockout(policy: &str, s: &Statement) -> bool {
    is_lockout_policy(policy)
        || denies_everything(s)
        || (s.effect == Effect::Deny && revokes_sessions_before(&PolicyDocument { version: None, id: None, statements: vec![s.clone()] }).is_some())
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

/// IAM user, role and group names ignore case (`Deploy` and `deploy` are one role).
fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Two principals of the incident file are the same IAM principal: same kind and account, names
/// equal ignoring case (a role's path is not part of its identity).
fn same_principal(a: &Principal, b: &Principal) -> bool {
    match (a, b) {
        (Principal::AwsUser { account: x, name: n, .. }, Principal::AwsUser { account: y, name: m, .. })
        | (Principal::AwsRole { account: x, name: n, .. }, Principal::AwsRole { account: y, name: m, .. }) => x == y && same_name(n, m),
        _ => a == b,
    }
}

/// A principal looked up by name in the account's authorization details, as IAM looks names up.
enum Lookup<'a, T: ?Sized> {
    Found(&'a T),
    /// The details were read whole (the section is there, no item of it unreadable) and hold no
    /// principal of that name in any case: IAM has none.
    Gone,
    /// Why absence proves nothing.
    Unknown(String),
}

fn lookup<'a, T>(acct: &'a AwsAccount, section: &str, items: fn(&AuthorizationDetails) -> &[T], name_of: fn(&T) -> &str, name: &str) -> Lookup<'a, T> {
    let d = match acct.authorization_details.require(Dataset::AwsAuthorizationDetails) {
        Ok(d) => d,
        Err(m) => return Lookup::Unknown(format!("account {}: {m}", acct.account_id)),
    };
    let list = items(d);
    if let Some(x) = list.iter().find(|x| same_name(name_of(x), name)) {
        return Lookup::Found(x);
    }
    if let Err(m) = d.section(section, list) {
        return Lookup::Unknown(format!("account {}: {m}", acct.account_id));
    }
    let unreadable: Vec<String> = d.invalid_in(section).filter(|i| i.name.as_deref().is_none_or(|n| same_name(n, name))).map(|i| format!("{} ({})", i.place, i.error)).collect();
    if !unreadable.is_empty() {
        return Lookup::Unknown(format!("account {}: the authorization details could not read {}", acct.account_id, unreadable.join(", ")));
    }
    Lookup::Gone
}

fn lookup_user<'a>(acct: &'a AwsAccount, name: &str) -> Lookup<'a, IamUser> {
    lookup(acct, AuthorizationDetails::USERS, |d| d.users.as_slice(), |u| u.name.as_str(), name)
}

fn lookup_role<'a>(acct: &'a AwsAccount, name: &str) -> Lookup<'a, IamRole> {
    lookup(acct, AuthorizationDetails::ROLES, |d| d.roles.as_slice(), |r| r.name.as_str(), name)
}

/// A user's direct reads, found by name as IAM finds it (a read that found the user preferred).
fn direct_read<'a>(acct: &'a AwsAccount, name: &str) -> Option<&'a UserCredentials> {
    let list = acct.user_credentials.get()?;
    list.iter().find(|u| u.exists && same_name(&u.user, name)).or_else(|| list.iter().find(|u| same_name(&u.user, name)))
}

struct Ctx<'a> {
    inc: &'a IncidentFile,
    /// Every account read: the managed policies a role has attached are looked up here.
    aws: &'a crate::inventory::aws::AwsInventory,
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
    let mut cx = Ctx { inc, aws: &inv.aws, items: Vec::new(), _now: now };
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
        for p in principals.iter() {
            let is_restored = restored.iter().find(|(r, _)| same_principal(r, p)).map(|(_, reference)| *reference);
            match p {
                Principal::AwsUser { account: a, name, arn } if a == account => {
                    let user = lookup_user(acct, name);
                    let deleted = user_containment(&mut cx, acct, &report, &user, name, arn, is_restored, (start, contained));
                    let found = match &user {
                        _ if deleted => Lookup::Gone,
                        Lookup::Found(u) => Lookup::Found(u.arn.as_str()),
                        // The details hold it in no case, but IAM answered for it by name: they disagree.
                        Lookup::Gone if direct_read(acct, name).is_some_and(|d| d.exists) => Lookup::Unknown(format!("the authorization details hold no user {name}, but IAM read its credentials")),
                        Lookup::Gone => Lookup::Gone,
                        Lookup::Unknown(why) => Lookup::Unknown(why.clone()),
                    };
                    assumable_roles_revoked(&mut cx, inv, arn, found, &principals, contained);
                }
                Principal::AwsRole { account: a, name, arn } if a == account => {
                    let role = lookup_role(acct, name);
                    let found = match &role {
                        Lookup::Found(r) => {
                            role_sessions_revoked(&mut cx, Part::Containment, r, arn, None, contained);
                            Lookup::Found(r.arn.as_str())
                        }
                        Lookup::Gone => {
                            cx.push(
                                Part::Containment,
                                Status::Pass,
                                "aws_role_sessions_revoked",
                                Some(arn),
                                Some(arn.to_string()),
                                format!("role {name} no longer exists: the authorization details, read whole, hold no role of that name in any case (a deleted role's sessions stop working)"),
                                json!({}),
                            );
                            Lookup::Gone
                        }
                        Lookup::Unknown(why) => {
                            cx.push(Part::Containment, Status::NotEvaluated, "aws_role_sessions_revoked", Some(arn), Some(arn.to_string()), format!("not evaluated: role {name}: {why}"), json!({}));
                            Lookup::Unknown(why.clone())
                        }
                    };
                    assumable_roles_revoked(&mut cx, inv, arn, found, &principals, contained);
                }
                Principal::AwsRoot { account: a } if a == account => root_containment(&mut cx, acct, &report),
                _ => {}
            }
        }
        persistence(&mut cx, acct, &report, start, contained);
        window_mfa_devices(&mut cx, acct, &report, start, contained);
        recovery(&mut cx, acct, &report, &principals, contained);
    }
    let _ = cx.inc;
    cx.items
}

/// Every role a compromised user or role could assume, as the AWS evaluator decides it (its
/// identity policies, boundary and SCPs against each role's trust policy, transitively and across
/// every account read; allowed or undecided): each must have its sessions revoked since
/// containment, since the attacker may hold one. Reach is judged as it was before the lockout: a
/// role session obtained while the principal was free outlives a deny-all attached since.
fn assumable_roles_revoked(cx: &mut Ctx, inv: &crate::inventory::Inventory, principal: &str, found: Lookup<str>, compromised: &[Principal], contained: Timestamp) {
    let kind = "aws_assumable_roles_sessions_revoked";
    let arn = match found {
        Lookup::Found(arn) => arn,
        Lookup::Gone => {
            // A role session it obtained before it was deleted outlives it; its policies are gone,
            // so every role whose trust could have admitted it counts, and what those reach.
            let mut reached: Vec<&IamRole> = Vec::new();
            let mut gaps = Vec::new();
            for (_, role) in crate::reach::blast::roles_trusting(&inv.aws, principal) {
                if !reached.iter().any(|r| r.arn == role.arn) {
                    reached.push(role);
                }
                match crate::reach::blast::assumable_roles(&inv.aws, &role.arn, &|_, _| false) {
                    Ok((more, g)) => {
                        gaps.extend(g);
                        for a in more {
                            let found = inv.aws.accounts.iter().filter(|x| x.account_id == a.account).filter_map(|x| x.authorization_details.get()).flat_map(|d| d.roles.iter()).find(|r| r.arn == a.role);
                            if let Some(r) = found.filter(|r| !reached.iter().any(|x| x.arn == r.arn)) {
                                reached.push(r);
                            }
                        }
                    }
                    Err(e) => gaps.push(e.to_string()),
                }
            }
            for role in reached.iter().filter(|r| Principal::parse(&r.arn).is_none_or(|r| !compromised.iter().any(|p| same_principal(p, &r)))) {
                role_sessions_revoked(cx, Part::Containment, role, principal, Some(json!({"reached_from": principal, "deleted": true})), contained);
            }
            gaps.sort();
            gaps.dedup();
            let (status, message) = if gaps.is_empty() {
                (Status::Pass, format!("{principal} no longer exists; the {} role(s) whose trust could have admitted it (or that those reach) are each checked for revoked sessions", reached.len()))
            } else {
                (Status::NotEvaluated, format!("not evaluated: {principal} no longer exists, and the roles it could have assumed cannot all be told: {}", gaps.join("; ")))
            };
            cx.push(Part::Containment, status, kind, Some(principal), Some(principal.to_string()), message, json!({"roles": reached.iter().map(|r| r.arn.clone()).collect::<Vec<_>>(), "gaps": gaps}));
            return;
        }
        Lookup::Unknown(why) => {
            cx.push(Part::Containment, Status::NotEvaluated, kind, Some(principal), Some(principal.to_string()), format!("not evaluated: which roles {principal} can assume is unknown: {why}"), json!({}));
            return;
        }
    };
    // What it could assume before the lockout: a session obtained then outlives a deny-all or a
    // quarantine policy attached since, and the revocation of its own sessions.
    let (roles, gaps) = match crate::reach::blast::assumable_roles(&inv.aws, arn, &|policy, s| is_lockout(policy, s)) {
        Ok(r) => r,
        Err(e) => {
            cx.push(Part::Containment, Status::NotEvaluated, kind, Some(principal), Some(principal.to_string()), format!("not evaluated: which roles {principal} can assume is unknown: {e}"), json!({}));
            return;
        }
    };
    let is_compromised = |role_arn: &str| Principal::parse(role_arn).is_some_and(|r| compromised.iter().any(|p| same_principal(p, &r)));
    let mut checked = 0;
    for a in &roles {
        if is_compromised(&a.role) {
            continue; // judged as a compromised principal of its own
        }
        let role = inv.aws.accounts.iter().filter(|x| x.account_id == a.account).filter_map(|x| x.authorization_details.get()).flat_map(|d| d.roles.iter()).find(|r| r.arn == a.role);
        let Some(role) = role else { continue };
        checked += 1;
        let how = json!({"reached_from": principal, "via": a.via, "decision": a.decision, "undecided": a.undecided, "granted_by": a.granted_by, "administrator": a.administrator});
        role_sessions_revoked(cx, Part::Containment, role, principal, Some(how), contained);
    }
    if !gaps.is_empty() {
        cx.push(
            Part::Containment,
            Status::NotEvaluated,
            kind,
            Some(principal),
            Some(principal.to_string()),
            format!("not evaluated: the roles {principal} can assume cannot all be told: {}", gaps.join("; ")),
            json!({"gaps": gaps, "roles": roles.iter().map(|r| r.role.clone()).collect::<Vec<_>>()}),
        );
    } else {
        let message = if roles.is_empty() {
            format!("{principal} can assume no role in the accounts read (the evaluator allows no sts:AssumeRole)")
        } else {
            format!("{principal} can assume {} role(s); each is checked for revoked sessions", roles.len())
        };
        cx.push(Part::Containment, Status::Pass, kind, Some(principal), Some(principal.to_string()), message, json!({"roles": roles.iter().map(|r| r.role.clone()).collect::<Vec<_>>(), "checked": checked}));
    }
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
    user: &Lookup<IamUser>,
    name: &str,
    arn: &str,
    restored: Option<&str>,
    window: (Timestamp, Timestamp),
) -> bool {
    let (start, contained) = window;
    let part = Part::Containment;
    let held = matches!(user, Lookup::Found(_));
    let mut direct = direct_read(acct, name);
    if direct.is_some_and(|d| !d.exists) {
        if held {
            // IAM answered NoSuchEntity under this spelling while the details hold the user under
            // another: that read proves nothing.
            direct = None;
        } else {
            cx.push(part, Status::Pass, "aws_user_deleted", Some(arn), Some(arn.to_string()), format!("user {name} no longer exists (IAM answers NoSuchEntity)"), json!({}));
            return true;
        }
    }
    // The user's row of a fresh report (names ignore case), or why it cannot be used.
    let row: Result<&CredentialReportRow, String> = match report {
        Err(why) => Err(why.clone()),
        Ok(r) => match r.users().find(|r| same_name(&r.user, name)) {
            Some(row) => Ok(row),
            None if direct.is_none() && !held => {
                // Gone from a fresh report, and from the details: the user was deleted, which locks every layer.
                cx.push(part, Status::Pass, "aws_user_deleted", Some(arn), Some(arn.to_string()), format!("user {name} no longer exists (not in the credential report generated after containment)"), json!({}));
                return true;
            }
            None => Err(format!("user {name} exists but is not in the credential report (generated {})", r.generated_at.map(|g| g.to_string()).unwrap_or_default())),
        },
    };
    if let Some(reference) = restored {
        restored_user(cx, acct, direct, &row, name, arn, reference, window);
        return false;
    }
    // Each layer: Ok(list of active credentials as evidence) or Err(why it cannot be told).
    let gap = |c: &crate::inventory::CoverageState, what: &str| format!("{what} could not be read: {}", crate::inventory::Missing { dataset: Dataset::AwsUserCredentials, state: c.clone() });
    let keys: Result<Vec<serde_json::Value>, String> = match direct.map(|d| &d.access_keys) {
        Some(Collected::Collected(list)) => Ok(list.iter().filter(|k| k.active).map(|k| json!({"id": k.id, "created": k.created})).collect()),
        Some(other) => Err(gap(&other.state(), "the access keys")),
        None => row.clone().map(active_keys),
    };
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
        None => match &row {
            Err(why) => Err(why.clone()),
            Ok(r) => match r.password_enabled {
                Some(true) => Ok(Some(r.password_last_changed.at().unwrap_or(contained))),
                Some(false) => Ok(None),
                None => Err(format!("the credential report does not say whether {name} has a console password")),
            },
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
        None => row.clone().map(|r| r.certificates.iter().filter(|c| c.active).count()),
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
    let user = match user {
        Lookup::Found(u) => *u,
        Lookup::Gone => {
            let why = format!("user {name} is in no section of the account's authorization details, though other reads hold it");
            cx.push(part, Status::NotEvaluated, "aws_user_deny_all_attached", Some(arn), Some(arn.to_string()), format!("not evaluated: {why}"), json!({}));
            return false;
        }
        Lookup::Unknown(why) => {
            cx.push(part, Status::NotEvaluated, "aws_user_deny_all_attached", Some(arn), Some(arn.to_string()), format!("not evaluated: {why}"), json!({}));
            return false;
        }
    };
    let details = acct.authorization_details.get();
    let managed = |policy_arn: &str| -> bool {
        is_lockout_policy(policy_arn)
            || details.and_then(|d| d.policies.iter().find(|p| p.arn == policy_arn)).and_then(|p| p.document.as_ref()).is_some_and(|d| d.statements.iter().any(denies_everything))
    };
    let mut via: Vec<String> = user.attached_policies.iter().filter(|p| managed(&p.arn)).map(|p| p.arn.clone()).collect();
    via.extend(user.inline_policies.iter().filter(|p| p.document.as_ref().is_some_and(|d| d.statements.iter().any(denies_everything))).map(|p| format!("inline policy {}", p.name)));
    // A lockout policy as the permissions boundary allows nothing at all.
    if let Some(b) = user.permissions_boundary.as_deref().filter(|b| managed(b)) {
        via.push(format!("{b} (permissions boundary)"));
    }
    for g in &user.groups {
        if let Some(group) = details.and_then(|d| d.groups.iter().find(|x| same_name(&x.name, g))) {
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
    false
}

/// A user given back after sign-off: every credential it holds was issued after containment (keys,
/// signing certificates, service-specific credentials), its console password was changed since,
/// and no MFA device of it was enabled inside the window (the attacker's).
#[allow(clippy::too_many_arguments)]
fn restored_user(
    cx: &mut Ctx,
    acct: &AwsAccount,
    direct: Option<&UserCredentials>,
    row: &Result<&CredentialReportRow, String>,
    name: &str,
    arn: &str,
    reference: &str,
    window: (Timestamp, Timestamp),
) {
    let (start, contained) = window;
    let part = Part::Recovery;
    let gap = |c: &crate::inventory::CoverageState, what: &str| format!("{what} of {name} could not be read: {}", crate::inventory::Missing { dataset: Dataset::AwsUserCredentials, state: c.clone() });
    let before = |t: Option<Timestamp>| t.is_none_or(|t| t < contained);
    // Keys, signing certificates and service-specific credentials: active ones issued before containment.
    let mut old: Vec<serde_json::Value> = Vec::new();
    let mut active: Vec<serde_json::Value> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (what, part_of) in [
        ("access key", direct.map(|d| &d.access_keys)),
        ("signing certificate", direct.map(|d| &d.signing_certificates)),
        ("service-specific credential", direct.map(|d| &d.service_specific)),
    ] {
        match part_of {
            Some(Collected::Collected(list)) => {
                for c in list.iter().filter(|c| c.active) {
                    let v = json!({"credential": format!("{what} {}", c.id), "created": c.created});
                    if before(c.created) {
                        old.push(v.clone());
                    }
                    active.push(v);
                }
            }
            Some(other) => unknown.push(gap(&other.state(), &format!("the {what}s"))),
            None if what == "service-specific credential" => unknown.push(format!("the service-specific credentials of {name} are in no report; they need a live verify with iam:ListServiceSpecificCredentials")),
            None => match row {
                Err(why) => unknown.push(format!("the {what}s of {name}: {why}")),
                Ok(r) => {
                    let slots: Vec<(bool, ReportTime)> = if what == "access key" { r.access_keys.iter().map(|k| (k.active, k.last_rotated)).collect() } else { r.certificates.iter().map(|c| (c.active, c.last_rotated)).collect() };
                    for (i, (on, t)) in slots.into_iter().enumerate() {
                        if on {
                            let v = json!({"credential": format!("{what} {}", i + 1), "created": t.at()});
                            if before(t.at()) {
                                old.push(v.clone());
                            }
                            active.push(v);
                        }
                    }
                }
            },
        }
    }
    let (status, message) = if !old.is_empty() {
        (Status::Fail, format!("user {name} was restored after sign-off ({reference}) but {} active credential(s) date from before containment", old.len()))
    } else if !unknown.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: user {name} was restored after sign-off ({reference}), but {}", unknown.join("; ")))
    } else {
        (Status::Pass, format!("user {name} was restored after sign-off ({reference}); every active credential was issued after containment"))
    };
    cx.push(part, status, "aws_user_restored_with_new_credentials", Some(arn), Some(arn.to_string()), message, json!({"active": active, "not_rotated": old, "reference": reference}));

    // The console password: changed after containment (a login profile created since, or the
    // report's password_last_changed), or none at all.
    let profile = direct.map(|d| &d.login_profile);
    let from_report = |why_profile: Option<String>| -> (Status, String) {
        match row {
            Ok(r) => match (r.password_enabled, r.password_last_changed.at()) {
                (Some(false), _) if why_profile.is_none() => (Status::Pass, format!("user {name} has no console password")),
                (Some(true), Some(t)) if t >= contained => (Status::Pass, format!("user {name}'s console password was changed at {t}, after containment")),
                (Some(true), Some(t)) => (Status::Fail, format!("user {name} was restored after sign-off ({reference}) with the console password it had before containment (last changed {t})")),
                (Some(false), _) => (Status::NotEvaluated, format!("not evaluated: the credential report says {name} has no console password, but {}", why_profile.unwrap_or_default())),
                _ => (Status::NotEvaluated, format!("not evaluated: the credential report does not say when {name}'s console password was last changed")),
            },
            Err(why) => (Status::NotEvaluated, format!("not evaluated: {}whether {name}'s console password was changed since containment is only in the credential report: {why}", why_profile.map(|w| format!("{w}; ")).unwrap_or_default())),
        }
    };
    let (status, message) = match profile {
        Some(Collected::Collected(None)) => (Status::Pass, format!("user {name} has no console password")),
        Some(Collected::Collected(Some(t))) if *t >= contained => (Status::Pass, format!("user {name}'s login profile was created at {t}, after containment: a new password")),
        Some(Collected::Collected(Some(t))) => match from_report(None) {
            (Status::Pass, m) if m.contains("no console password") => (Status::NotEvaluated, format!("not evaluated: IAM holds a login profile of {name} created at {t}, but the credential report says it has no password")),
            other => other,
        },
        Some(other) => from_report(Some(gap(&other.state(), "the login profile"))),
        None => from_report(None),
    };
    cx.push(part, status, "aws_user_restored_password_changed", Some(arn), Some(arn.to_string()), message, json!({"reference": reference}));

    // MFA devices: one enabled inside the window is the attacker's.
    let in_win = |t: Timestamp| t >= start && t <= contained;
    let virtual_for_user: Vec<(&str, Option<Timestamp>)> = acct
        .mfa_devices
        .get()
        .into_iter()
        .flatten()
        .filter(|d| d.user_arn.as_deref().and_then(Principal::parse).is_some_and(|p| matches!(p, Principal::AwsUser { name: n, account: a, .. } if same_name(&n, name) && a == acct.account_id)))
        .map(|d| (d.serial_number.as_str(), d.enabled))
        .collect();
    let (status, message, evidence) = match direct.map(|d| &d.mfa_enabled) {
        Some(Collected::Collected(list)) => {
            let theirs: Vec<serde_json::Value> = list.iter().filter(|d| d.created.is_some_and(in_win)).map(|d| json!({"serial": d.id, "enabled": d.created})).collect();
            let undated: Vec<&str> = list.iter().filter(|d| d.created.is_none()).map(|d| d.id.as_str()).collect();
            if !theirs.is_empty() {
                (Status::Fail, format!("user {name} was restored with {} MFA device(s) enabled inside the window (the attacker's?)", theirs.len()), json!({"devices": theirs}))
            } else if !undated.is_empty() {
                (Status::NotEvaluated, format!("not evaluated: when {name}'s MFA device(s) {} were enabled is unknown", undated.join(", ")), json!({}))
            } else {
                (Status::Pass, format!("user {name}: none of its {} MFA device(s) was enabled inside the window", list.len()), json!({"devices": list.len()}))
            }
        }
        other => {
            let theirs: Vec<serde_json::Value> = virtual_for_user.iter().filter(|(_, t)| t.is_some_and(in_win)).map(|(s, t)| json!({"serial": s, "enabled": t})).collect();
            if !theirs.is_empty() {
                (Status::Fail, format!("user {name} was restored with {} MFA device(s) enabled inside the window (the attacker's?)", theirs.len()), json!({"devices": theirs}))
            } else if row.as_ref().is_ok_and(|r| !r.mfa_active) {
                (Status::Pass, format!("user {name} has no MFA device (credential report generated after containment)"), json!({}))
            } else {
                let why = match other {
                    Some(c) => gap(&c.state(), "the MFA devices (with their enable dates)"),
                    None => format!("the MFA devices of {name} and when each was enabled need iam:ListMFADevices (a live verify)"),
                };
                (Status::NotEvaluated, format!("not evaluated: {why}"), json!({"missing_permission": "iam:ListMFADevices"}))
            }
        }
    };
    cx.push(part, status, "aws_user_restored_mfa_devices", Some(arn), Some(arn.to_string()), message, evidence);
}

/// MFA devices enabled inside the window, on any user: a way back in for whoever enabled them.
/// Each user's devices with their enable dates come from the direct reads; a fresh credential
/// report proves a user has none; the account's virtual devices carry their own dates.
fn window_mfa_devices(cx: &mut Ctx, acct: &AwsAccount, report: &Result<&CredentialReport, String>, start: Timestamp, contained: Timestamp) {
    let account = acct.account_id.as_str();
    let kind = "aws_window_mfa_devices_absent";
    let in_win = |t: Timestamp| t >= start && t <= contained;
    let mut found: Vec<serde_json::Value> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    match acct.mfa_devices.get() {
        Some(list) => found.extend(
            list.iter()
                .filter(|d| d.user_arn.is_some() && d.enabled.is_some_and(in_win))
                .map(|d| json!({"user": d.user_arn, "serial": d.serial_number, "enabled": d.enabled})),
        ),
        None => unknown.push(format!("the account's virtual MFA devices (the root user's among them): {}", acct.mfa_devices.require(Dataset::AwsMfaDevices).err().map(|m| m.to_string()).unwrap_or_default())),
    }
    // Every user of the account: from the details, else from a fresh report.
    let mut users: Vec<&str> = Vec::new();
    match (acct.authorization_details.get().map(|d| d.users()), report) {
        (Some(Ok(list)), _) => users.extend(list.iter().map(|u| u.name.as_str())),
        (_, Ok(r)) => users.extend(r.users().map(|r| r.user.as_str())),
        (_, Err(why)) => unknown.push(format!("the account's users could not be listed (authorization details not read, and {why})")),
    }
    let direct = acct.user_credentials.get();
    for u in users {
        let read = direct.and_then(|l| l.iter().find(|d| d.exists && same_name(&d.user, u))).and_then(|d| d.mfa_enabled.get());
        match read {
            Some(devices) => {
                for d in devices {
                    match d.created {
                        Some(t) if in_win(t) => {
                            if !found.iter().any(|f| f["serial"] == d.id.as_str()) {
                                found.push(json!({"user": u, "serial": d.id, "enabled": t}));
                            }
                        }
                        Some(_) => {}
                        None => unknown.push(format!("when {u}'s MFA device {} was enabled", d.id)),
                    }
                }
            }
            None => match report.as_ref().ok().and_then(|r| r.users().find(|r| same_name(&r.user, u))) {
                Some(row) if !row.mfa_active => {}
                _ => unknown.push(format!("{u}'s MFA devices (iam:ListMFADevices)")),
            },
        }
    }
    let (status, message) = if !found.is_empty() {
        (Status::Fail, format!("account {account}: {} MFA device(s) enabled inside the window are still assigned", found.len()))
    } else if !unknown.is_empty() {
        let n = unknown.len();
        let shown: Vec<String> = unknown.into_iter().take(10).collect();
        (Status::NotEvaluated, format!("not evaluated: account {account}: {n} unknown: {}{}", shown.join("; "), if n > 10 { "; …" } else { "" }))
    } else {
        (Status::Pass, format!("account {account}: no MFA device enabled inside the window is assigned"))
    };
    cx.push(Part::Persistence, status, kind, None, Some(account.to_string()), message, json!({"devices": found}));
}

/// Sessions of a role issued before containment are denied (the "revoke active sessions" inline
/// policy, `aws:TokenIssueTime` at or after containment). `how`: how a compromised principal
/// reaches the role, when it is not compromised itself.
fn role_sessions_revoked(cx: &mut Ctx, part: Part, role: &IamRole, principal: &str, how: Option<serde_json::Value>, contained: Timestamp) {
    let kind = "aws_role_sessions_revoked";
    let mut unreadable: Vec<&str> = role.inline_policies.iter().filter(|p| p.document.is_none()).map(|p| p.name.as_str()).collect();
    let mut cutoff = role.inline_policies.iter().filter_map(|p| p.document.as_ref()).filter_map(revokes_sessions_before).max();
    // The same deny in an attached managed policy or the permissions boundary denies as well.
    // A policy denying everything unconditionally (AWSDenyAll) denies every session, old or new.
    let mut denied_all: Vec<&str> = role.inline_policies.iter().filter(|p| p.document.as_ref().is_some_and(|d| d.statements.iter().any(denies_everything))).map(|p| p.name.as_str()).collect();
    for policy_arn in role.attached_policies.iter().map(|p| p.arn.as_str()).chain(role.permissions_boundary.as_deref()) {
        let managed = cx.aws.accounts.iter().filter_map(|a| a.authorization_details.get()).flat_map(|d| d.policies.iter()).find(|p| p.arn == policy_arn);
        match managed.map(|p| p.document.as_ref()) {
            Some(Some(doc)) => {
                cutoff = cutoff.max(revokes_sessions_before(doc));
                if doc.statements.iter().any(denies_everything) {
                    denied_all.push(policy_arn);
                }
            }
            _ if policy_arn.ends_with(":iam::aws:policy/AWSDenyAll") && is_lockout_policy(policy_arn) => denied_all.push(policy_arn),
            // AWS's own managed policies revoke no session; a customer policy not read might.
            _ if crate::policy::arn::Arn::parse(policy_arn).is_some_and(|a| a.account == "aws") => {}
            _ => unreadable.push(policy_arn),
        }
    }
    let by = if how.is_some() { format!(" (which {principal} can assume)") } else { String::new() };
    let (status, message) = match cutoff {
        _ if !denied_all.is_empty() => (Status::Pass, format!("role {}{by}: every session is denied by {}", role.name, denied_all.join(", "))),
        Some(t) if t >= contained => (Status::Pass, format!("role {}{by}: sessions issued before {t} are denied (containment {contained})", role.name)),
        Some(t) => (Status::Fail, format!("role {}{by}: sessions are revoked only before {t}, earlier than containment at {contained}: sessions issued in between still work", role.name)),
        None if !unreadable.is_empty() => (Status::NotEvaluated, format!("not evaluated: role {}{by}: its policies {} could not be read", role.name, unreadable.join(", "))),
        None => (Status::Fail, format!("role {}{by}: no policy denies sessions issued before containment (aws:TokenIssueTime); a session taken by the attacker stays valid until it expires", role.name)),
    };
    let mut evidence = json!({"revoked_before": cutoff});
    if let Some(h) = how {
        evidence["reached"] = h;
    }
    cx.push(part, status, kind, Some(principal), Some(role.arn.clone()), message, evidence);
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
    // The attacker knew the root password: it must have been changed since containment. The
    // credential report's root row says `not_supported` for it, and no other read API dates it.
    let contained = cx.inc.incident.contained();
    let (status, message) = match root_row.map(|r| r.password_last_changed) {
        Some(ReportTime::At(t)) if t >= contained => (Status::Pass, format!("the root user's password was changed at {t}, after containment")),
        Some(ReportTime::At(t)) => (Status::Fail, format!("the root user's password was last changed at {t}, before containment at {contained}")),
        _ => (
            Status::NotEvaluated,
            "not evaluated: when the root user's password was last changed is in no API Portcullis reads (the credential report gives not_supported for it): confirm it was changed after containment".to_string(),
        ),
    };
    cx.push(Part::Containment, status, "aws_root_password_changed", Some(&arn), Some(arn.clone()), message, json!({}));
    // The root user's signing certificates are only in the credential report.
    let (status, message) = match root_row.map(|r| r.certificates.iter().filter(|c| c.active).count()) {
        Some(0) => (Status::Pass, "the root user has no active signing certificate".to_string()),
        Some(n) => (Status::Fail, format!("the root user still has {n} active signing certificate(s)")),
        None => (Status::NotEvaluated, format!("not evaluated: the root user's signing certificates are only in a credential report generated after containment: {}", report.as_ref().err().cloned().unwrap_or_default())),
    };
    cx.push(Part::Containment, status, "aws_root_signing_certificates_inactive", Some(&arn), Some(arn.clone()), message, json!({}));
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
                    // Signing certificates and service-specific credentials (Git, Bedrock keys) too.
                    for (what, list) in [("signing certificate", &u.signing_certificates), ("service-specific credential", &u.service_specific)] {
                        if let Collected::Collected(list) = list {
                            for c in list.iter().filter(|c| c.active && c.created.is_some_and(|t| t >= start && t <= contained)) {
                                found.push(json!({"user": u.user, "credential": format!("{what} {}", c.id), "created": c.created}));
                            }
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
                for (i, c) in row.certificates.iter().enumerate() {
                    if c.active && in_window(c.last_rotated, start, contained) {
                        found.push(json!({"user": row.user, "arn": row.arn, "credential": format!("signing certificate {}", i + 1), "created": c.last_rotated.at()}));
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
            let mut outside = Vec::new();
            let mut unknown = Vec::new();
            for e in &changes {
                if e.targets.is_empty() {
                    // CloudTrail gave no role name (the event's detail was not read): which role changed is unknown.
                    unknown.push(format!("the role of event {} ({})", e.id, e.name));
                }
                for role_name in &e.targets {
                    // CloudTrail spells the name as the caller did; IAM names ignore case.
                    match lookup_role(acct, role_name) {
                        // Gone since (the details, read whole, hold it in no case): nothing to trust through.
                        Lookup::Gone => {}
                        Lookup::Found(role) => match &role.trust_policy {
                            Some(doc) => {
                                // Federated callers (web identity, SAML) come from outside the account.
                                let parties: Vec<String> = crate::policy::trust::analyze(doc)
                                    .iter()
                                    .flat_map(|g| match &g.trustee {
                                        _ if g.is_public() => vec!["anyone".to_string()],
                                        crate::policy::trust::Trustee::WebIdentity { provider, issuer } => vec![format!("web identities of {issuer} ({provider})")],
                                        crate::policy::trust::Trustee::Saml { provider } => vec![format!("SAML identities of {provider}")],
                                        _ => g.foreign_parties(account).iter().map(|p| format!("{p:?}")).collect(),
                                    })
                                    .collect();
                                if !parties.is_empty() {
                                    outside.push(json!({"role": role.arn, "event": e.id, "event_name": e.name, "time": e.time, "actor": e.actor, "trusts": parties}));
                                }
                            }
                            None => unknown.push(role.arn.clone()),
                        },
                        Lookup::Unknown(_) => unknown.push(role_name.clone()),
                    }
                }
            }
            // LookupEvents holds 90 days of management events: a window starting earlier is not all there.
            if start.days_until(cx._now) > 90 {
                unknown.push(format!("the trust changes from {start} on (CloudTrail's LookupEvents holds only the last 90 days; read the trail's S3 archive)"));
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
    let compromised = |user: &str| principals.iter().any(|p| matches!(p, Principal::AwsUser { name, account: a, .. } if same_name(name, user) && a == account));
    let mut stale = Vec::new();
    for row in r.rows.iter().filter(|row| !compromised(&row.user)) {
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
    let read = |name: &str| all.iter().any(|u| same_name(&u.user, name) && matches!(u.access_keys, Collected::Collected(_)) && matches!(u.login_profile, Collected::Collected(_)));
    details.users.iter().all(|u| read(&u.name)).then_some(all)
}

/// Recovery from the direct reads: access keys by creation date; console passwords' last change is
/// only in the credential report, so that part cannot be proven from them.
fn recovery_direct(cx: &mut Ctx, account: &str, all: &[crate::inventory::aws::UserCredentials], principals: &[Principal], contained: Timestamp, why: &str) {
    let compromised = |name: &str| principals.iter().any(|p| matches!(p, Principal::AwsUser { name: n, account: a, .. } if same_name(n, name) && a == account));
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

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "111122223333";

    /// One account from an authorization-details export (`extra` adds to its top level).
    fn inventory(users: &str, roles: &str, extra: &str) -> crate::inventory::Inventory {
        let text = format!(r#"{{"UserDetailList": [{users}], "GroupDetailList": [], "RoleDetailList": [{roles}], "Policies": []{extra}}}"#);
        crate::import::aws_authorization_details::parse_authorization_details(&text, "details.json").unwrap()
    }

    fn user(name: &str, policy: &str) -> String {
        format!(
            r#"{{"UserName": "{name}", "UserId": "AIDA{name}", "Arn": "arn:aws:iam::{ACCOUNT}:user/{name}", "Path": "/", "CreateDate": "2020-01-01T00:00:00Z", "GroupList": [], "AttachedManagedPolicies": [], "UserPolicyList": [{{"PolicyName": "p", "PolicyDocument": {policy}}}]}}"#
        )
    }

    /// A role trusting the whole account; `revoked` adds the revoke-sessions inline policy.
    fn role(path: &str, name: &str, revoked: Option<&str>) -> String {
        let inline = revoked
            .map(|t| format!(r#"{{"PolicyName": "AWSRevokeOlderSessions", "PolicyDocument": {{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Action": ["*"], "Resource": ["*"], "Condition": {{"DateLessThan": {{"aws:TokenIssueTime": "{t}"}}}}}}]}}}}"#))
            .unwrap_or_default();
        format!(
            r#"{{"RoleName": "{name}", "RoleId": "AROA{name}", "Arn": "arn:aws:iam::{ACCOUNT}:role{path}{name}", "Path": "{path}", "CreateDate": "2020-01-01T00:00:00Z",
                "AssumeRolePolicyDocument": {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}, "Action": "sts:AssumeRole"}}]}},
                "AttachedManagedPolicies": [], "RolePolicyList": [{inline}], "InstanceProfileList": []}}"#
        )
    }

    fn incident(principals: &[&str]) -> IncidentFile {
        let compromised: String = principals.iter().map(|p| format!("[[compromised]]\nprincipal = \"{p}\"\n")).collect();
        IncidentFile::parse(
            &format!("[incident]\nid = \"IR-1\"\nfirst_malicious_activity = \"2026-11-30T02:00:00Z\"\ncontained_at = \"2026-11-30T05:00:00Z\"\n[scope]\naws_accounts = [\"{ACCOUNT}\"]\n{compromised}"),
            "incident.toml",
        )
        .unwrap()
    }

    fn found<'a>(items: &'a [Item], kind: &str, resource: &str) -> Vec<&'a Item> {
        items.iter().filter(|i| i.kind == kind && i.resource.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(resource) || r.ends_with(resource))).collect()
    }

    const NOTHING: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}"#;
    const ASSUME_ANY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}"#;

    #[test]
    fn a_role_named_in_another_case_is_the_same_role() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        // IAM holds `ci/Deploy`; the incident names `deploy` (and through an assumed-role session).
        for p in ["arn:aws:iam::111122223333:role/deploy", "arn:aws:sts::111122223333:assumed-role/DEPLOY/i-0abc"] {
            let inv = inventory("", &role("/ci/", "Deploy", None), "");
            let got = items(&incident(&[p]), &inv, now);
            let it = found(&got, "aws_role_sessions_revoked", "role/ci/Deploy");
            assert_eq!(it.len(), 1, "{got:#?}");
            assert_eq!(it[0].status, Status::Fail, "still there and not revoked: {:?}", it[0]);
            let inv = inventory("", &role("/ci/", "Deploy", Some("2026-11-30T05:10:00Z")), "");
            let got = items(&incident(&[p]), &inv, now);
            assert_eq!(found(&got, "aws_role_sessions_revoked", "role/ci/Deploy")[0].status, Status::Pass);
        }
    }

    #[test]
    fn a_role_is_deleted_only_when_the_details_prove_it() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let inc = incident(&["arn:aws:iam::111122223333:role/Deploy"]);
        // Read whole, no role of that name in any case: deleted.
        let inv = inventory("", &role("/", "Other", None), "");
        let all = items(&inc, &inv, now);
        let it = found(&all, "aws_role_sessions_revoked", "role/Deploy");
        assert_eq!(it.len(), 1);
        assert_eq!(it[0].status, Status::Pass, "{it:?}");
        // A session it took of a role that trusts its account outlives it.
        assert_eq!(found(&all, "aws_role_sessions_revoked", "role/Other")[0].status, Status::Fail, "{all:#?}");
        // No role section, or an unreadable role item: unknown, never deleted.
        let text = format!(r#"{{"UserDetailList": [{}], "GroupDetailList": [], "Policies": []}}"#, user("someone", NOTHING));
        let inv = crate::import::aws_authorization_details::parse_authorization_details(&text, "d.json").unwrap();
        let it: Vec<Item> = items(&inc, &inv, now).into_iter().filter(|i| i.kind == "aws_role_sessions_revoked").collect();
        assert!(it.iter().all(|i| i.status == Status::NotEvaluated) && !it.is_empty(), "{it:?}");
        let inv = inventory("", &format!("{}, {{\"RoleName\": \"deploy\", \"Arn\": 5}}", role("/", "Other", None)), "");
        let it: Vec<Item> = items(&inc, &inv, now).into_iter().filter(|i| i.kind == "aws_role_sessions_revoked").collect();
        assert!(it.iter().all(|i| i.status == Status::NotEvaluated) && !it.is_empty(), "{it:?}");
        // Nothing read: unknown.
        let mut inv = inv;
        inv.aws.accounts[0].authorization_details = Collected::Denied { action: "iam:GetAccountAuthorizationDetails".into(), message: None };
        let it: Vec<Item> = items(&inc, &inv, now).into_iter().filter(|i| i.kind == "aws_role_sessions_revoked").collect();
        assert!(it.iter().all(|i| i.status == Status::NotEvaluated) && !it.is_empty(), "{it:?}");
    }

    #[test]
    fn every_role_a_compromised_principal_can_assume_needs_its_sessions_revoked() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let inc = incident(&["arn:aws:iam::111122223333:user/Build-Bot"]);
        let roles = |revoked: Option<&str>| format!("{}, {}", role("/", "Admin", revoked), role("/", "ReadOnly", Some("2026-11-30T05:00:00Z")));
        // The user (spelled build-bot by IAM) may assume any role: Admin's sessions were never revoked.
        let inv = inventory(&user("build-bot", ASSUME_ANY), &roles(None), "");
        let items_ = items(&inc, &inv, now);
        let admin = found(&items_, "aws_role_sessions_revoked", "role/Admin");
        assert_eq!(admin.len(), 1, "{items_:#?}");
        assert_eq!(admin[0].status, Status::Fail);
        assert_eq!(found(&items_, "aws_role_sessions_revoked", "role/ReadOnly")[0].status, Status::Pass);
        // Revoked since containment: passes.
        let inv = inventory(&user("build-bot", ASSUME_ANY), &roles(Some("2026-11-30T06:00:00Z")), "");
        let items_ = items(&inc, &inv, now);
        assert!(items_.iter().filter(|i| i.kind.contains("role")).all(|i| i.status == Status::Pass), "{items_:#?}");
        // A user that may not assume roles: nothing to revoke.
        let inv = inventory(&user("build-bot", NOTHING), &roles(None), "");
        let items_ = items(&inc, &inv, now);
        assert!(found(&items_, "aws_role_sessions_revoked", "role/Admin").is_empty(), "{items_:#?}");
        assert_eq!(found(&items_, "aws_assumable_roles_sessions_revoked", "user/Build-Bot")[0].status, Status::Pass);
        // A role whose trust policy could not be read may trust it: unknown, not "assumes nothing".
        let broken = role("/", "Broken", None).replace(r#""AssumeRolePolicyDocument": {"#, r#""AssumeRolePolicyDocument": "%7B", "Unused": {"#);
        let inv = inventory(&user("build-bot", NOTHING), &format!("{}, {broken}", roles(None)), "");
        let items_ = items(&inc, &inv, now);
        assert_eq!(found(&items_, "aws_assumable_roles_sessions_revoked", "user/Build-Bot")[0].status, Status::NotEvaluated, "{items_:#?}");
        // Denied everything since by an inline deny-all: a session of Admin taken before the
        // lockout still works, so Admin's older sessions must still be revoked.
        let deny = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#;
        let inv = inventory(&user("build-bot", deny), &roles(None), "");
        let items_ = items(&inc, &inv, now);
        assert_eq!(found(&items_, "aws_role_sessions_revoked", "role/Admin")[0].status, Status::Fail, "{items_:#?}");
        // A deny that is not the lockout (of sts:AssumeRole alone) still counts.
        let scoped = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}, {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}"#;
        let inv = inventory(&user("build-bot", scoped), &roles(None), "");
        let items_ = items(&inc, &inv, now);
        assert!(found(&items_, "aws_role_sessions_revoked", "role/Admin").is_empty(), "{items_:#?}");
    }

    #[test]
    fn a_restored_user_needs_a_new_password_and_no_device_from_the_window() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let mut inc = incident(&["arn:aws:iam::111122223333:user/OPS-Alice"]);
        inc.restored.push(super::super::incident::Restored { principal: "arn:aws:iam::111122223333:user/ops-alice".into(), signed_off_by: "ciso".into(), reference: "IR-1-signoff".into() });
        let run = |profile: Collected<Option<Timestamp>>, mfa: Collected<Vec<crate::inventory::aws::UserCredential>>| {
            let mut inv = inventory(&user("ops-alice", NOTHING), "", "");
            inv.aws.accounts[0].user_credentials = Collected::Collected(vec![UserCredentials {
                user: "ops-alice".into(),
                exists: true,
                read_at: Some(now),
                access_keys: Collected::Collected(Vec::new()),
                login_profile: profile,
                signing_certificates: Collected::Collected(Vec::new()),
                service_specific: Collected::Collected(Vec::new()),
                mfa_devices: Collected::Collected(Vec::new()),
                mfa_enabled: mfa,
            }]);
            let got = items(&inc, &inv, now);
            let status = |kind: &str| got.iter().find(|i| i.kind == kind).map(|i| i.status).unwrap_or_else(|| panic!("no {kind}: {got:#?}"));
            (status("aws_user_restored_password_changed"), status("aws_user_restored_mfa_devices"), status("aws_user_restored_with_new_credentials"))
        };
        let device = |at: Option<&str>| vec![crate::inventory::aws::UserCredential { id: "arn:aws:iam::111122223333:mfa/x".into(), active: true, created: at.map(t), service: None }];
        let none = || Collected::Collected(Vec::new());
        // A login profile created after containment is a new password; none at all is fine too.
        assert_eq!(run(Collected::Collected(Some(t("2026-11-30T06:00:00Z"))), none()), (Status::Pass, Status::Pass, Status::Pass));
        assert_eq!(run(Collected::Collected(None), none()).0, Status::Pass);
        // One from before containment: changed since? Only a fresh credential report could say.
        assert_eq!(run(Collected::Collected(Some(t("2026-01-01T00:00:00Z"))), none()).0, Status::NotEvaluated);
        assert_eq!(run(Collected::Denied { action: "iam:GetLoginProfile".into(), message: None }, none()).0, Status::NotEvaluated);
        // An MFA device enabled inside the window is the attacker's; one of unknown date is unknown.
        assert_eq!(run(Collected::Collected(None), Collected::Collected(device(Some("2026-11-30T03:00:00Z")))).1, Status::Fail);
        assert_eq!(run(Collected::Collected(None), Collected::Collected(device(Some("2025-01-01T00:00:00Z")))).1, Status::Pass);
        assert_eq!(run(Collected::Collected(None), Collected::Collected(device(None))).1, Status::NotEvaluated);
        assert_eq!(run(Collected::Collected(None), Collected::NotRequested).1, Status::NotEvaluated);
    }

    #[test]
    fn a_deleted_principal_is_named_by_its_unique_id_in_the_trust_it_leaves() {
        // IAM rewrites a trust policy's principal to the unique id (AIDA…, AROA…) when that user or
        // role is deleted: a role that trusted the deleted principal no longer names its ARN.
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let by_id = |name: &str, id: &str, revoked: Option<&str>| {
            role("/", name, revoked).replace(r#""AWS": "arn:aws:iam::111122223333:root""#, &format!(r#""AWS": "{id}""#))
        };
        for (p, id) in [("arn:aws:iam::111122223333:role/Deploy", "AROAZZZDELETEDROLE1"), ("arn:aws:iam::111122223333:user/ops/Bob", "AIDAZZZDELETEDUSER1")] {
            let inv = inventory(&user("someone", NOTHING), &by_id("Admin", id, None), "");
            let all = items(&incident(&[p]), &inv, now);
            let admin = found(&all, "aws_role_sessions_revoked", "role/Admin");
            assert_eq!(admin.len(), 1, "{p}: {all:#?}");
            assert_eq!(admin[0].status, Status::Fail, "{p}: {admin:?}");
            let inv = inventory(&user("someone", NOTHING), &by_id("Admin", id, Some("2026-11-30T06:00:00Z")), "");
            let all = items(&incident(&[p]), &inv, now);
            assert_eq!(found(&all, "aws_role_sessions_revoked", "role/Admin")[0].status, Status::Pass, "{all:#?}");
        }
    }

    #[test]
    fn the_lockout_policies_count_in_every_partition() {
        // AWSDenyAll and the quarantine policies live in each partition under its own ARN prefix.
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        for partition in ["aws", "aws-us-gov", "aws-cn"] {
            let acct_user = |u: String| u.replace("arn:aws:", &format!("arn:{partition}:")).replace(r#""AttachedManagedPolicies": []"#, &format!(r#""AttachedManagedPolicies": [{{"PolicyName": "AWSCompromisedKeyQuarantineV2", "PolicyArn": "arn:{partition}:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}}]"#));
            let inv = inventory(&acct_user(user("bob", NOTHING)), "", "");
            let all = items(&incident(&[&format!("arn:{partition}:iam::111122223333:user/bob")]), &inv, now);
            let it: Vec<&Item> = all.iter().filter(|i| i.kind == "aws_user_deny_all_attached").collect();
            assert_eq!(it.len(), 1, "{all:#?}");
            assert_eq!(it[0].status, Status::Pass, "{partition}: {it:?}");
        }
        // AWSDenyAll as the permissions boundary: the user can do nothing.
        let boundary = user("bob", NOTHING).replace(r#""AttachedManagedPolicies": []"#, r#""AttachedManagedPolicies": [], "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/AWSDenyAll"}"#);
        let all = items(&incident(&["arn:aws:iam::111122223333:user/bob"]), &inventory(&boundary, "", ""), now);
        assert_eq!(all.iter().find(|i| i.kind == "aws_user_deny_all_attached").map(|i| i.status), Some(Status::Pass), "{all:#?}");
        assert!(is_lockout_policy("arn:aws-us-gov:iam::aws:policy/AWSDenyAll"));
        assert!(!is_lockout_policy("arn:aws:iam::111122223333:policy/AWSDenyAll"), "a customer policy of that name is not AWS's");
    }

    #[test]
    fn a_trust_set_inside_the_window_to_a_federated_identity_is_outside_the_account() {
        // UpdateAssumeRolePolicy inside the window made the role trust a web identity (any GitHub
        // repository's workflow) or a SAML provider: callers from outside the account.
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let event = |targets: Vec<String>| crate::inventory::aws::TrailEvent {
            id: "e1".into(),
            name: "UpdateAssumeRolePolicy".into(),
            time: Some(Timestamp::parse("2026-11-30T03:00:00Z").unwrap()),
            actor: None,
            targets,
            source_ip: None,
        };
        let oidc = r#"{"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}"#;
        let saml = r#"{"Federated": "arn:aws:iam::111122223333:saml-provider/Okta"}, "Action": "sts:AssumeRoleWithSAML""#;
        // A window older than CloudTrail's 90 days of LookupEvents: the events may be gone.
        let mut inv = inventory(&user("someone", NOTHING), &role("/", "CI", None), "");
        inv.aws.accounts[0].trail_events = Collected::Collected(Vec::new());
        let later = Timestamp::parse("2027-04-01T00:00:00Z").unwrap();
        for (at, want) in [(now, Status::Pass), (later, Status::NotEvaluated)] {
            let all = items(&incident(&["arn:aws:iam::111122223333:user/someone"]), &inv, at);
            assert_eq!(all.iter().find(|i| i.kind == "aws_window_trust_unchanged").map(|i| i.status), Some(want), "{at}: {all:#?}");
        }
        for (trust, targets, want) in [
            (oidc, vec!["ci".to_string()], Status::Fail),
            (saml, vec!["CI".to_string()], Status::Fail),
            // A trust change whose target role CloudTrail did not give: which role is unknown.
            (r#"{"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole""#, vec![], Status::NotEvaluated),
        ] {
            let r = role("/", "CI", None).replace(r#"{"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole""#, trust);
            let mut inv = inventory(&user("someone", NOTHING), &r, "");
            inv.aws.accounts[0].trail_events = Collected::Collected(vec![event(targets)]);
            let all = items(&incident(&["arn:aws:iam::111122223333:user/someone"]), &inv, now);
            let it: Vec<&Item> = all.iter().filter(|i| i.kind == "aws_window_trust_unchanged").collect();
            assert_eq!(it.len(), 1, "{all:#?}");
            assert_eq!(it[0].status, want, "{trust}: {it:?}");
        }
    }

    #[test]
    fn a_compromised_root_is_contained_only_when_its_password_and_certificates_are_known() {
        // The account summary says no root key and MFA on: the password the attacker knew, and a
        // signing certificate, are still unaccounted for.
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let mut inv = inventory(&user("someone", NOTHING), "", "");
        inv.aws.accounts[0].account_summary = Collected::Collected(serde_json::from_str(r#"{"AccountAccessKeysPresent": 0, "AccountMFAEnabled": 1}"#).unwrap());
        let all = items(&incident(&["arn:aws:iam::111122223333:root"]), &inv, now);
        let root: Vec<&Item> = all.iter().filter(|i| i.kind.contains("_root_")).collect();
        assert!(root.iter().any(|i| i.kind == "aws_root_password_changed" && i.status == Status::NotEvaluated), "{root:#?}");
        assert!(root.iter().any(|i| i.kind == "aws_root_signing_certificates_inactive" && i.status == Status::NotEvaluated), "{root:#?}");
        assert!(root.iter().all(|i| i.status != Status::Pass || i.kind == "aws_root_access_keys_absent" || i.kind == "aws_root_mfa_enabled"), "{root:#?}");
    }

    #[test]
    fn a_role_in_an_account_not_read_that_the_policy_names_is_a_gap() {
        // The user may assume a role of another account (named, or in any account): that
        // account's roles were not read, so whether their sessions were revoked is unknown.
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        for resource in ["arn:aws:iam::999988887777:role/Admin", "arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws-us-gov:iam::999988887777:role/*"] {
            let policy = format!(r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "{resource}"}}]}}"#);
            let inv = inventory(&user("bob", &policy), &role("/", "Local", None), "");
            let all = items(&incident(&["arn:aws:iam::111122223333:user/bob"]), &inv, now);
            let it = found(&all, "aws_assumable_roles_sessions_revoked", "user/bob");
            assert_eq!(it.len(), 1, "{all:#?}");
            assert_eq!(it[0].status, Status::NotEvaluated, "{resource}: {it:?}");
        }
        // A role of an account that was read is judged there, not a gap.
        let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111122223333:role/Local"}]}"#;
        let inv = inventory(&user("bob", policy), &role("/", "Local", Some("2026-11-30T06:00:00Z")), "");
        let all = items(&incident(&["arn:aws:iam::111122223333:user/bob"]), &inv, now);
        assert_eq!(found(&all, "aws_assumable_roles_sessions_revoked", "user/bob")[0].status, Status::Pass, "{all:#?}");
    }

    #[test]
    fn sessions_revoked_by_a_managed_policy_or_boundary_count() {
        // The deny on aws:TokenIssueTime works wherever the role's policies hold it: an attached
        // managed policy or its permissions boundary, not only the console's inline policy.
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let revoke = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-11-30T06:00:00Z"}}}]}"#;
        let policy = format!(
            r#"{{"PolicyName": "Revoke", "PolicyId": "ANPAREVOKE", "Arn": "arn:aws:iam::{ACCOUNT}:policy/Revoke", "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 1, "IsAttachable": true, "PolicyVersionList": [{{"Document": {revoke}, "VersionId": "v1", "IsDefaultVersion": true}}]}}"#
        );
        for how in [
            r#""AttachedManagedPolicies": [{"PolicyName": "Revoke", "PolicyArn": "arn:aws:iam::111122223333:policy/Revoke"}]"#,
            r#""AttachedManagedPolicies": [], "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/Revoke"}"#,
            // Denied everything: no session of it works, whenever issued.
            r#""AttachedManagedPolicies": [{"PolicyName": "AWSDenyAll", "PolicyArn": "arn:aws:iam::aws:policy/AWSDenyAll"}]"#,
        ] {
            let r = role("/", "Deploy", None).replace(r#""AttachedManagedPolicies": []"#, how);
            let text = format!(r#"{{"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [{r}], "Policies": [{policy}]}}"#);
            let inv = crate::import::aws_authorization_details::parse_authorization_details(&text, "details.json").unwrap();
            let all = items(&incident(&["arn:aws:iam::111122223333:role/Deploy"]), &inv, now);
            let it = found(&all, "aws_role_sessions_revoked", "role/Deploy");
            assert_eq!(it.len(), 1, "{all:#?}");
            assert_eq!(it[0].status, Status::Pass, "{how}: {it:?}");
        }
    }

    #[test]
    fn a_role_reached_through_a_group_or_another_account_needs_its_sessions_revoked() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        // The user's group (named in another case) grants sts:AssumeRole; the user's own policy nothing.
        let u = user("bob", NOTHING).replace(r#""GroupList": []"#, r#""GroupList": ["Ops"]"#);
        let group = format!(r#"{{"GroupName": "Ops", "GroupId": "AGPAOPS", "Arn": "arn:aws:iam::{ACCOUNT}:group/Ops", "Path": "/", "CreateDate": "2020-01-01T00:00:00Z", "AttachedManagedPolicies": [], "GroupPolicyList": [{{"PolicyName": "g", "PolicyDocument": {ASSUME_ANY}}}]}}"#);
        let text = format!(r#"{{"UserDetailList": [{u}], "GroupDetailList": [{group}], "RoleDetailList": [{}], "Policies": []}}"#, role("/", "Admin", None));
        let inv = crate::import::aws_authorization_details::parse_authorization_details(&text, "details.json").unwrap();
        let all = items(&incident(&["arn:aws:iam::111122223333:user/BOB"]), &inv, now);
        let admin = found(&all, "aws_role_sessions_revoked", "role/Admin");
        assert_eq!(admin.len(), 1, "{all:#?}");
        assert_eq!(admin[0].status, Status::Fail);
        // Chained through a role of another account: bob -> B:Hop -> A:Target (trusting Hop alone).
        let hop = role("/", "Hop", None).replace(ACCOUNT, "444455556666").replace(r#""RolePolicyList": []"#, &format!(r#""RolePolicyList": [{{"PolicyName": "a", "PolicyDocument": {ASSUME_ANY}}}]"#));
        let hop = hop.replace(r#""AWS": "arn:aws:iam::444455556666:root""#, r#""AWS": "arn:aws:iam::111122223333:root""#);
        let target = role("/", "Target", None).replace(r#""AWS": "arn:aws:iam::111122223333:root""#, r#""AWS": "arn:aws:iam::444455556666:role/Hop""#);
        let mut inv = inventory(&user("bob", ASSUME_ANY), &target, "");
        let other = inventory("", &hop, "");
        inv.aws.accounts.extend(other.aws.accounts);
        assert_eq!(inv.aws.accounts.iter().map(|a| a.account_id.as_str()).collect::<Vec<_>>(), ["111122223333", "444455556666"]);
        let all = items(&incident(&["arn:aws:iam::111122223333:user/bob"]), &inv, now);
        let t = found(&all, "aws_role_sessions_revoked", "role/Target");
        assert_eq!(t.len(), 1, "{all:#?}");
        assert_eq!(t[0].status, Status::Fail);
    }

    #[test]
    fn a_signing_certificate_uploaded_inside_the_window_is_a_window_credential() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let mut inv = inventory(&user("someone", NOTHING), "", "");
        let row: CredentialReportRow = serde_json::from_value(json!({
            "user": "other", "arn": "arn:aws:iam::111122223333:user/other", "password_enabled": false,
            "certificates": [{"active": true, "last_rotated": "2026-11-30T03:00:00Z"}, {"active": false}],
        }))
        .unwrap();
        inv.aws.accounts[0].credential_report = Collected::Collected(CredentialReport { generated_at: Some(now), rows: vec![row], read_at: Some(now), missing_columns: Vec::new() });
        let all = items(&incident(&["arn:aws:iam::111122223333:user/someone"]), &inv, now);
        assert_eq!(all.iter().find(|i| i.kind == "aws_window_credentials_inactive").map(|i| i.status), Some(Status::Fail), "{all:#?}");
    }

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
