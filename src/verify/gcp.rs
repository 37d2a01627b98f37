//! GCP checklist items, judged over the incident's projects: each compromised service account
//! disabled (or every key of it disabled), each compromised user or group removed from every
//! binding, keys created inside the window, and keys not rotated since containment.

use serde_json::json;

use super::incident::{IncidentFile, Principal};
use super::{Item, Part};
use crate::finding::Status;
use crate::inventory::gcp::{GcpProject, ServiceAccount, ServiceAccountKey};
use crate::inventory::{Dataset, Inventory, Timestamp};

/// What a verify with GCP principals or projects reads.
pub const DATASETS: &[Dataset] = &[Dataset::GcpHierarchy, Dataset::GcpIamPolicy, Dataset::GcpServiceAccounts];

/// A user-managed key that can still sign (Google's own keys cannot be disabled or leaked).
fn usable(k: &ServiceAccountKey, now: Timestamp) -> bool {
    k.key_type.eq_ignore_ascii_case("USER_MANAGED") && !k.disabled && k.valid_before.is_none_or(|t| t > now)
}

fn key_json(sa: &ServiceAccount, k: &ServiceAccountKey) -> serde_json::Value {
    json!({"service_account": sa.email, "key": k.name.rsplit('/').next().unwrap_or(&k.name), "valid_after": k.valid_after, "origin": k.key_origin})
}

fn item(part: Part, status: Status, kind: &'static str, principal: Option<&str>, resource: Option<&str>, message: String, evidence: serde_json::Value) -> Item {
    Item { part, status, kind, principal: principal.map(str::to_string), resource: resource.map(str::to_string), message, evidence }
}

/// Every GCP item of the incident.
pub fn items(inc: &IncidentFile, inv: &Inventory, now: Timestamp) -> Vec<Item> {
    let members: Vec<String> = inc.principals().into_iter().filter_map(|p| if let Principal::GcpMember(m) = p { Some(m) } else { None }).collect();
    if members.is_empty() && inc.scope.gcp_projects.is_empty() {
        return Vec::new();
    }
    let (start, contained) = (inc.incident.start(), inc.incident.contained());
    let mut out = Vec::new();
    // The projects in scope, as read (or an item saying which were not).
    let mut projects: Vec<&GcpProject> = Vec::new();
    for id in &inc.scope.gcp_projects {
        match inv.gcp.projects.iter().find(|p| p.project_id.eq_ignore_ascii_case(id.trim())) {
            Some(p) => projects.push(p),
            None => out.push(item(Part::Containment, Status::NotEvaluated, "gcp_project_read", None, Some(id), format!("not evaluated: project {id} was not read (verify with --gcp)"), json!({}))),
        }
    }
    let restored: Vec<(String, &str)> =
        inc.restored.iter().filter_map(|r| match Principal::parse(&r.principal) { Some(Principal::GcpMember(m)) => Some((m.to_ascii_lowercase(), r.reference.as_str())), _ => None }).collect();
    let mut compromised_sas = Vec::new();
    for m in &members {
        let reference = restored.iter().find(|(r, _)| r.eq_ignore_ascii_case(m)).map(|(_, reference)| *reference);
        match m.split_once(':') {
            Some(("serviceAccount", email)) => {
                compromised_sas.push(email.to_ascii_lowercase());
                out.push(service_account(inv, &projects, m, email, reference, contained, now));
            }
            _ => out.push(member_bindings(inv, &projects, m, reference)),
        }
    }
    // Keys created inside the window, and keys older than containment.
    let mut window_keys = Vec::new();
    let mut stale = Vec::new();
    let mut unread = Vec::new();
    for p in &projects {
        let Some(sas) = p.service_accounts.get() else {
            unread.push(p.service_accounts.require(Dataset::GcpServiceAccounts).err().map(|m| format!("{}: {m}", p.project_id)).unwrap_or_default());
            continue;
        };
        for sa in sas {
            let compromised = compromised_sas.contains(&sa.email.to_ascii_lowercase());
            for k in sa.keys.iter().filter(|k| usable(k, now)) {
                if k.valid_after.is_some_and(|t| t >= start && t <= contained) {
                    window_keys.push(key_json(sa, k));
                }
                // A compromised account's keys are judged in containment (or as restored).
                if !compromised && k.valid_after.is_none_or(|t| t < contained) {
                    stale.push(key_json(sa, k));
                }
            }
        }
    }
    let scope = projects.iter().map(|p| p.project_id.as_str()).collect::<Vec<_>>().join(", ");
    // Keys found fail; otherwise unread projects leave it unknown; otherwise it passes.
    let judge = |keys: &[serde_json::Value], fail: &str, pass: &str| {
        if !keys.is_empty() {
            (Status::Fail, format!("{} service-account key(s) {fail}", keys.len()))
        } else if !unread.is_empty() {
            (Status::NotEvaluated, format!("not evaluated: service accounts not read in {}", unread.join("; ")))
        } else if projects.is_empty() {
            (Status::NotEvaluated, "not evaluated: no project in scope was read".to_string())
        } else {
            (Status::Pass, format!("projects {scope}: {pass}"))
        }
    };
    let (status, message) = judge(&window_keys, "created inside the window can still sign", "no service-account key created inside the window can sign");
    out.push(item(Part::Persistence, status, "gcp_window_keys_disabled", None, None, message, json!({"keys": window_keys})));
    let (status, message) = judge(&stale, "issued before containment were not rotated", "every usable service-account key was issued after containment");
    out.push(item(Part::Recovery, status, "gcp_keys_rotated", None, None, message, json!({"not_rotated": stale})));
    out
}

fn service_account(inv: &Inventory, projects: &[&GcpProject], member: &str, email: &str, restored: Option<&str>, contained: Timestamp, now: Timestamp) -> Item {
    let found = inv.gcp.projects.iter().find_map(|p| p.service_accounts.get().and_then(|l| l.iter().find(|s| s.email.eq_ignore_ascii_case(email))).map(|s| (p, s)));
    let Some((project, sa)) = found else {
        // name@PROJECT.iam.gserviceaccount.com lives in PROJECT: gone from a complete read of it.
        let home = email.split_once('@').and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"));
        let home_read = home.and_then(|h| projects.iter().find(|p| p.project_id.eq_ignore_ascii_case(h))).filter(|p| p.service_accounts.get().is_some());
        return match home_read {
            Some(p) => item(
                Part::Containment,
                Status::Pass,
                "gcp_service_account_deleted",
                Some(member),
                Some(&p.project_id),
                format!("{email} no longer exists in project {} (deleted: it cannot sign in; it can be undeleted for 30 days)", p.project_id),
                json!({}),
            ),
            None => item(
                Part::Containment,
                Status::NotEvaluated,
                "gcp_service_account_locked",
                Some(member),
                None,
                format!("not evaluated: {email} is in no project read (its project must be in [scope] gcp_projects and readable)"),
                json!({}),
            ),
        };
    };
    let keys: Vec<serde_json::Value> = sa.keys.iter().filter(|k| usable(k, now)).map(|k| key_json(sa, k)).collect();
    let evidence = json!({"disabled": sa.disabled, "usable_keys": keys, "project": project.project_id});
    if let Some(reference) = restored {
        let old: Vec<&serde_json::Value> =
            keys.iter().filter(|k| k.get("valid_after").and_then(|t| t.as_str()).and_then(|t| Timestamp::parse(t).ok()).is_none_or(|t| t < contained)).collect();
        let (status, message) = if old.is_empty() {
            (Status::Pass, format!("{email} was restored after sign-off ({reference}); every usable key was created after containment"))
        } else {
            (Status::Fail, format!("{email} was restored after sign-off ({reference}) but {} usable key(s) date from before containment", old.len()))
        };
        return item(Part::Recovery, status, "gcp_service_account_restored_with_new_keys", Some(member), Some(&project.project_id), message, evidence);
    }
    let (status, message) = if sa.disabled {
        (Status::Pass, format!("{email} is disabled"))
    } else if keys.is_empty() {
        (Status::Pass, format!("{email} is not disabled, but none of its user-managed keys can sign (disabled, expired or deleted)"))
    } else {
        (Status::Fail, format!("{email} is enabled and {} of its keys can still sign", keys.len()))
    };
    item(Part::Containment, status, "gcp_service_account_locked", Some(member), Some(&project.project_id), message, evidence)
}

/// A compromised user or group: no binding in scope (the projects, their folders and organization,
/// the service accounts in them) still grants it anything.
fn member_bindings(inv: &Inventory, projects: &[&GcpProject], member: &str, restored: Option<&str>) -> Item {
    let mut grants = Vec::new();
    let mut unread = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for p in projects {
        match inv.gcp.effective_iam(p) {
            Err(m) => unread.push(format!("{}: {m}", p.project_id)),
            Ok(policies) => {
                for (resource, policy) in policies {
                    if !seen.insert(resource.to_string()) {
                        continue;
                    }
                    for b in policy.bindings.iter().filter(|b| b.members.iter().any(|x| x.eq_ignore_ascii_case(member))) {
                        grants.push(json!({"resource": resource, "role": b.role, "condition": b.condition_expression}));
                    }
                }
            }
        }
        for sa in p.service_accounts.get().into_iter().flatten() {
            match sa.iam_policy.get() {
                Some(policy) => {
                    for b in policy.bindings.iter().filter(|b| b.members.iter().any(|x| x.eq_ignore_ascii_case(member))) {
                        grants.push(json!({"resource": sa.email, "role": b.role, "condition": b.condition_expression}));
                    }
                }
                None => unread.push(format!("the IAM policy of {}", sa.email)),
            }
        }
        if p.service_accounts.get().is_none() {
            unread.push(format!("the service accounts of {}", p.project_id));
        }
    }
    let (part, kind) = if restored.is_some() { (Part::Recovery, "gcp_member_restored") } else { (Part::Containment, "gcp_member_bindings_removed") };
    let (status, message) = if let Some(reference) = restored {
        (Status::Pass, format!("{member} was restored after sign-off ({reference}); it holds {} binding(s) in scope", grants.len()))
    } else if !grants.is_empty() {
        (Status::Fail, format!("{member} still holds {} role binding(s) in scope", grants.len()))
    } else if !unread.is_empty() || projects.is_empty() {
        (Status::NotEvaluated, format!("not evaluated: {member} holds no binding in what was read, but {}", if unread.is_empty() { "no project in scope was read".to_string() } else { format!("these were not read: {}", unread.join("; ")) }))
    } else {
        (Status::Pass, format!("{member} holds no role binding on the projects in scope, their folders and organization, or their service accounts"))
    };
    item(part, status, kind, Some(member), None, message, json!({"bindings": grants}))
}

/// What GCP verification cannot see, said in every output.
pub const NOTES: &[&str] = &[
    "GCP: service accounts carry no creation time and IAM policies no change history: accounts created and bindings added inside the window are found only through Cloud Audit Logs, which verify does not read (keys created inside the window are found).",
    "GCP: an uploaded key's validAfterTime comes from its certificate, which whoever uploads it chooses; one dated after containment is taken as a rotation.",
    "GCP: a user's Google Workspace or Cloud Identity state (suspension, sign-in cookies, 2-Step Verification) is not readable through the Cloud APIs; check it in the Admin console. A role held through a group is not expanded.",
];
