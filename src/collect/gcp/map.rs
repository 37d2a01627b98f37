//! Pure mappings from the client crates' models to the inventory, and errors to coverage.

use google_cloud_gax::error::rpc::{Code, StatusDetails};
use google_cloud_gax::error::Error;

use crate::inventory::gcp::{
    AuditConfig, GcpInventory, GcpOrganization, GcpProject, IamBinding, IamPolicy, LogSink, OrgPolicy, ServiceAccountKey,
};
use crate::inventory::{Collected, ScopeKind, ScopeNode, Timestamp};

/// The service's status (or the transport error) and its causes, in one line.
pub fn one_line(e: &Error) -> String {
    let head = match e.status() {
        Some(s) => format!("{}: {}", s.code.name(), s.message),
        None => e.to_string(),
    };
    crate::collect::one_line(&crate::collect::with_sources(head, e))
}

fn error_info(e: &Error) -> Option<&google_cloud_rpc::model::ErrorInfo> {
    e.status()?.details.iter().find_map(|d| match d {
        StatusDetails::ErrorInfo(i) => Some(i),
        _ => None,
    })
}

/// A disabled API (`SERVICE_DISABLED`), told apart from a refused permission by its reason.
pub fn service_disabled(e: &Error) -> Option<String> {
    let info = error_info(e)?;
    (info.reason == "SERVICE_DISABLED").then(|| info.metadata.get("service").cloned().unwrap_or_else(|| info.domain.clone()))
}

pub fn is_not_found(e: &Error) -> bool {
    e.status().is_some_and(|s| s.code == Code::NotFound) || e.http_status_code() == Some(404)
}

/// A failed read as coverage: denied with the permission named (the service's own, from the
/// `ErrorInfo`, when it gives one), a disabled API as a failure that says so.
pub fn gap<T>(e: &Error, permission: &str) -> Collected<T> {
    if let Some(service) = service_disabled(e) {
        return Collected::Failed { error: format!("the {service} API is disabled in the caller's project (SERVICE_DISABLED)") };
    }
    let denied = e.status().is_some_and(|s| matches!(s.code, Code::PermissionDenied | Code::Unauthenticated))
        || matches!(e.http_status_code(), Some(401 | 403));
    if denied {
        let named = error_info(e).and_then(|i| i.metadata.get("permission")).cloned();
        return Collected::Denied { action: named.unwrap_or_else(|| permission.to_string()), message: Some(one_line(e)) };
    }
    Collected::Failed { error: one_line(e) }
}

/// Why the bulk read was not used.
pub fn asset_gap(e: &Error) -> Collected<()> {
    match gap::<()>(e, "cloudasset.assets.searchAllIamPolicies") {
        Collected::Denied { action, message } => Collected::Denied {
            action,
            message: Some(format!("{}; read each IAM policy with getIamPolicy instead", message.unwrap_or_default())),
        },
        Collected::Failed { error } => Collected::Failed { error: format!("{error}; read each IAM policy with getIamPolicy instead") },
        other => other,
    }
}

fn ts(t: &Option<google_cloud_wkt::Timestamp>) -> Option<Timestamp> {
    let t = t.as_ref()?;
    Timestamp::from_unix(t.seconds(), u32::try_from(t.nanos()).unwrap_or(0))
}

pub fn organization(o: &google_cloud_resourcemanager_v3::model::Organization) -> GcpOrganization {
    let customer = match &o.owner {
        Some(google_cloud_resourcemanager_v3::model::organization::Owner::DirectoryCustomerId(c)) => Some(c.clone()),
        _ => None,
    };
    GcpOrganization { name: o.name.clone(), domain: Some(o.display_name.clone()).filter(|d| !d.is_empty()), customer_id: customer }
}

pub fn folder(f: &google_cloud_resourcemanager_v3::model::Folder) -> ScopeNode {
    ScopeNode {
        id: f.name.clone(),
        name: Some(f.display_name.clone()).filter(|d| !d.is_empty()),
        kind: ScopeKind::GcpFolder,
        parent: Some(f.parent.clone()).filter(|p| !p.is_empty()),
        state: f.state.name().map(str::to_string),
    }
}

pub fn project(p: &google_cloud_resourcemanager_v3::model::Project) -> GcpProject {
    GcpProject {
        project_id: p.project_id.clone(),
        name: p.name.clone(),
        parent: Some(p.parent.clone()).filter(|x| !x.is_empty()),
        iam_policy: Collected::NotRequested,
        service_accounts: Collected::NotRequested,
        org_policies: Collected::NotRequested,
        sinks: Collected::NotRequested,
        custom_roles: Collected::NotRequested,
    }
}

pub fn custom_role(r: &google_cloud_iam_admin_v1::model::Role) -> crate::inventory::gcp::CustomRole {
    crate::inventory::gcp::CustomRole {
        name: r.name.clone(),
        permissions: r.included_permissions.clone(),
        // An ALPHA role's stage is left out of the response (it is the enum's zero value).
        stage: r.stage.name().map(str::to_string),
        deleted: r.deleted,
    }
}

pub fn predefined_role(r: &google_cloud_iam_admin_v1::model::Role) -> crate::inventory::gcp::PredefinedRole {
    crate::inventory::gcp::PredefinedRole { name: r.name.clone(), permissions: r.included_permissions.clone(), stage: r.stage.name().map(str::to_string) }
}

/// Version 3: conditional bindings come back with their conditions.
pub fn policy_options() -> google_cloud_iam_v1::model::GetPolicyOptions {
    google_cloud_iam_v1::model::GetPolicyOptions::new().set_requested_policy_version(3)
}

pub fn policy(p: &google_cloud_iam_v1::model::Policy) -> IamPolicy {
    IamPolicy {
        bindings: p
            .bindings
            .iter()
            .map(|b| IamBinding {
                role: b.role.clone(),
                members: b.members.clone(),
                condition_expression: b.condition.as_ref().map(|c| c.expression.clone()).filter(|e| !e.is_empty()),
            })
            .collect(),
        audit_configs: p
            .audit_configs
            .iter()
            .map(|a| AuditConfig {
                service: a.service.clone(),
                log_types: a.audit_log_configs.iter().filter_map(|l| l.log_type.name().map(str::to_string)).collect(),
                exempted_members: a.audit_log_configs.iter().flat_map(|l| l.exempted_members.iter().cloned()).collect(),
            })
            .collect(),
        audit_configs_unread: false,
    }
}

pub fn key(k: &google_cloud_iam_admin_v1::model::ServiceAccountKey) -> ServiceAccountKey {
    ServiceAccountKey {
        name: k.name.clone(),
        key_type: k.key_type.name().unwrap_or("KEY_TYPE_UNSPECIFIED").to_string(),
        key_origin: k.key_origin.name().map(str::to_string),
        valid_after: ts(&k.valid_after_time),
        valid_before: ts(&k.valid_before_time),
        disabled: k.disabled,
    }
}

/// The effective policy of one constraint. Only an unconditional `enforce: true` counts as
/// enforced (a conditional rule enforces for some resources only); `allowAll` lists `*`. A
/// conditional rule that loosens the constraint (`enforce: false`, `allowAll`, allowed values) is
/// kept as an exception with its condition, never merged into the unconditional values.
pub fn org_policy(constraint: &str, p: &google_cloud_orgpolicy_v2::model::Policy) -> OrgPolicy {
    use google_cloud_orgpolicy_v2::model::policy_spec::policy_rule::Kind;
    let rules = p.spec.as_ref().map(|s| s.rules.as_slice()).unwrap_or_default();
    let mut out = OrgPolicy { constraint: constraint.to_string(), enforced: None, allowed_values: vec![], denied_values: vec![], conditional_exceptions: vec![] };
    for r in rules {
        let condition = r.condition.as_ref().map(|c| c.expression.trim().to_string()).filter(|e| !e.is_empty());
        if let Some(cond) = condition {
            let loosens = match &r.kind {
                Some(Kind::Enforce(false)) => Some("not enforced".to_string()),
                Some(Kind::AllowAll(true)) => Some("allows all values".to_string()),
                Some(Kind::Values(v)) if !v.allowed_values.is_empty() => Some(format!("allows {}", v.allowed_values.join(", "))),
                _ => None,
            };
            out.conditional_exceptions.extend(loosens.map(|what| format!("{what} when {cond}")));
            continue;
        }
        match &r.kind {
            Some(Kind::Enforce(b)) => {
                let now = out.enforced.unwrap_or(false);
                out.enforced = Some(now || *b);
            }
            Some(Kind::Values(v)) => {
                out.allowed_values.extend(v.allowed_values.iter().cloned());
                out.denied_values.extend(v.denied_values.iter().cloned());
            }
            Some(Kind::AllowAll(true)) => out.allowed_values.push("*".into()),
            Some(Kind::DenyAll(true)) => out.denied_values.push("*".into()),
            _ => {}
        }
    }
    out
}

pub fn sink(s: &google_cloud_logging_v2::model::LogSink) -> LogSink {
    LogSink {
        name: s.name.clone(),
        destination: s.destination.clone(),
        filter: Some(s.filter.clone()).filter(|f| !f.is_empty()),
        disabled: s.disabled,
        include_children: s.include_children,
        exclusions: s.exclusions.iter().filter(|e| !e.disabled).map(|e| format!("{} ({})", e.name, e.filter)).collect(),
    }
}

/// Spread the bulk search over the tree: each result is the policy set directly on its resource;
/// a resource the complete search did not return has no policy of its own.
pub fn apply_bulk(inv: &mut GcpInventory, results: Vec<google_cloud_asset_v1::model::IamPolicySearchResult>) {
    const PREFIX: &str = "//cloudresourcemanager.googleapis.com/";
    for n in &mut inv.nodes {
        n.iam_policy = Collected::Collected(IamPolicy::default());
    }
    for p in &mut inv.projects {
        if p.iam_policy.is_not_requested() {
            p.iam_policy = Collected::Collected(IamPolicy::default());
        }
    }
    for n in &mut inv.nodes {
        if let Collected::Collected(p) = &mut n.iam_policy {
            p.audit_configs_unread = true;
        }
    }
    for p in &mut inv.projects {
        if let Collected::Collected(p) = &mut p.iam_policy {
            p.audit_configs_unread = true;
        }
    }
    for r in results {
        let Some(resource) = r.resource.strip_prefix(PREFIX) else { continue };
        let Some(mut pol) = r.policy.as_ref().map(policy) else { continue };
        // The search returns bindings; an audit configuration it happens to carry is kept, but
        // its absence proves nothing.
        pol.audit_configs_unread = pol.audit_configs.is_empty();
        if let Some(n) = inv.nodes.iter_mut().find(|n| n.name == resource) {
            n.iam_policy = Collected::Collected(pol);
        } else if let Some(p) = inv.projects.iter_mut().find(|p| resource == format!("projects/{}", p.project_id) || resource == p.name) {
            if let Collected::Collected(_) = p.iam_policy {
                p.iam_policy = Collected::Collected(pol);
            }
        }
    }
}

/// IAM policies the deadline cut off.
pub fn deadline_gap(inv: &mut GcpInventory) {
    let late = || Collected::Failed { error: crate::collect::DEADLINE_PASSED.into() };
    for n in inv.nodes.iter_mut().filter(|n| n.iam_policy.is_not_requested()) {
        n.iam_policy = late();
    }
    for p in inv.projects.iter_mut().filter(|p| p.iam_policy.is_not_requested()) {
        p.iam_policy = late();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: serde_json::Value) -> google_cloud_orgpolicy_v2::model::Policy {
        serde_json::from_value(serde_json::json!({"name": "projects/1/policies/c", "spec": {"rules": rules}})).unwrap()
    }

    #[test]
    fn a_conditional_rule_that_loosens_is_an_exception_not_a_value() {
        // Enforced, except on resources tagged sandbox.
        let p = org_policy("c", &policy(serde_json::json!([{"enforce": true}, {"enforce": false, "condition": {"expression": "resource.matchTag('1/env', 'sandbox')"}}])));
        assert_eq!(p.enforced, Some(true));
        assert_eq!(p.conditional_exceptions, ["not enforced when resource.matchTag('1/env', 'sandbox')"]);
        // Extra directories allowed under a condition are not the unconditional list.
        let p = org_policy("c", &policy(serde_json::json!([{"values": {"allowedValues": ["C0own"]}}, {"values": {"allowedValues": ["C0partner"]}, "condition": {"expression": "resource.matchTag('1/x', 'y')"}}, {"allowAll": true, "condition": {"expression": "true"}}])));
        assert_eq!(p.allowed_values, ["C0own"]);
        assert_eq!(p.conditional_exceptions.len(), 2, "{:?}", p.conditional_exceptions);
        // Conditional enforcement alone is not enforcement.
        let p = org_policy("c", &policy(serde_json::json!([{"enforce": true, "condition": {"expression": "resource.matchTag('1/env', 'prod')"}}])));
        assert_ne!(p.enforced, Some(true));
        assert!(p.conditional_exceptions.is_empty());
    }

    #[test]
    fn a_sink_keeps_its_enabled_exclusions() {
        let s: google_cloud_logging_v2::model::LogSink = serde_json::from_value(serde_json::json!({
            "name": "org", "destination": "logging.googleapis.com/projects/p/locations/global/buckets/b", "includeChildren": true,
            "exclusions": [{"name": "no-data-access", "filter": "LOG_ID(\"cloudaudit.googleapis.com/data_access\")"}, {"name": "off", "filter": "x", "disabled": true}]
        }))
        .unwrap();
        let m = sink(&s);
        assert_eq!(m.exclusions.len(), 1, "{:?}", m.exclusions);
        assert!(m.exclusions[0].starts_with("no-data-access"));
    }
}
