//! Pure mappings from ARM and Graph JSON items to the inventory model. An item without the
//! fields a check relies on is an error for the whole dataset (never silently dropped).

use serde::Deserialize;
use serde_json::Value;

use crate::inventory::azure::{
    AppRoleGrant, DelegatedGrant, DirectoryObject, DirectoryRef, FederatedCredential,
    AzureCredential, AzurePolicyAssignment, AzureRoleAssignment, AzureRoleDefinition, DiagnosticSetting,
    DirectoryRoleAssignment, DirectoryRoleDefinition, EntraServicePrincipal, EntraUser, GroupMember, LighthouseAuthorization, LighthouseDelegation,
    RegistrationDetail, SignInActivity,
};
use crate::inventory::{ScopeKind, ScopeNode, Timestamp};

pub type MapResult<T> = Result<T, String>;

fn each<T, R: for<'de> Deserialize<'de>>(items: &[Value], what: &str, f: impl Fn(R) -> MapResult<T>) -> MapResult<Vec<T>> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let r: R = serde_json::from_value(v.clone()).map_err(|e| format!("{what} item {i}: {e}"))?;
            f(r).map_err(|e| format!("{what} item {i}: {e}"))
        })
        .collect()
}

/// Azure and Graph write `0001-01-01T00:00:00Z` for "never"; that is no time at all.
fn time(s: &Option<String>) -> Option<Timestamp> {
    let t = Timestamp::parse(s.as_deref()?).ok()?;
    (t.0.year() > 1970).then_some(t)
}

// ---- Resource Manager ------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmSubscription {
    subscription_id: String,
    display_name: Option<String>,
    state: Option<String>,
    tenant_id: Option<String>,
}

/// `(id, display name, state, tenant)` of each subscription.
pub fn subscriptions(items: &[Value]) -> MapResult<Vec<(String, Option<String>, Option<String>, Option<String>)>> {
    each(items, "subscription", |s: ArmSubscription| Ok((s.subscription_id, s.display_name, s.state, s.tenant_id)))
}

/// The management-group tree from `managementGroups/{root}?$expand=children&$recurse=true`,
/// flattened: management groups and subscriptions with parent links.
pub fn management_tree(root: &Value) -> MapResult<Vec<ScopeNode>> {
    let mut out = Vec::new();
    let name = root.get("name").and_then(Value::as_str).ok_or("the root management group has no name")?;
    let props = root.get("properties").unwrap_or(&Value::Null);
    out.push(ScopeNode {
        id: name.to_string(),
        name: props.get("displayName").and_then(Value::as_str).map(str::to_string),
        kind: ScopeKind::AzureManagementGroup,
        parent: None,
        state: None,
    });
    walk_children(props.get("children"), name, &mut out, 0)?;
    Ok(out)
}

fn walk_children(children: Option<&Value>, parent: &str, out: &mut Vec<ScopeNode>, depth: usize) -> MapResult<()> {
    if depth > 10 {
        return Err("management-group tree deeper than Azure allows".into());
    }
    let Some(Value::Array(children)) = children else { return Ok(()) };
    for c in children {
        let name = c.get("name").and_then(Value::as_str).ok_or("a management-group child has no name")?;
        let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
        let kind = if ty.to_ascii_lowercase().ends_with("subscriptions") { ScopeKind::AzureSubscription } else { ScopeKind::AzureManagementGroup };
        out.push(ScopeNode {
            id: name.to_string(),
            name: c.get("displayName").and_then(Value::as_str).map(str::to_string),
            kind,
            parent: Some(parent.to_string()),
            state: None,
        });
        if kind == ScopeKind::AzureManagementGroup {
            walk_children(c.get("children"), name, out, depth + 1)?;
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct ArmItem<P> {
    id: Option<String>,
    name: Option<String>,
    properties: P,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmRoleAssignment {
    scope: String,
    role_definition_id: String,
    principal_id: String,
    principal_type: Option<String>,
    condition: Option<String>,
    created_on: Option<String>,
    end_date_time: Option<String>,
}

pub fn role_assignments(items: &[Value]) -> MapResult<Vec<AzureRoleAssignment>> {
    each(items, "role assignment", |a: ArmItem<ArmRoleAssignment>| {
        let p = a.properties;
        Ok(AzureRoleAssignment {
            id: a.id.or(a.name).unwrap_or_default(),
            scope: p.scope,
            role_definition_id: p.role_definition_id,
            principal_id: p.principal_id,
            principal_type: p.principal_type,
            condition: p.condition.filter(|c| !c.is_empty()),
            created: time(&p.created_on),
            end: time(&p.end_date_time),
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmRoleDefinition {
    role_name: String,
    #[serde(rename = "type")]
    role_type: Option<String>,
    #[serde(default)]
    assignable_scopes: Vec<String>,
    #[serde(default)]
    permissions: Vec<ArmPermission>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmPermission {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    not_actions: Vec<String>,
    #[serde(default)]
    data_actions: Vec<String>,
    #[serde(default)]
    not_data_actions: Vec<String>,
    #[serde(default)]
    condition: Option<String>,
}

pub fn role_definitions(items: &[Value]) -> MapResult<Vec<AzureRoleDefinition>> {
    each(items, "role definition", |d: ArmItem<ArmRoleDefinition>| {
        let p = d.properties;
        Ok(AzureRoleDefinition {
            id: d.id.or(d.name).unwrap_or_default(),
            role_name: p.role_name,
            role_type: p.role_type.unwrap_or_else(|| "CustomRole".into()),
            assignable_scopes: p.assignable_scopes,
            actions: p.permissions.iter().flat_map(|x| x.actions.iter().cloned()).collect(),
            not_actions: p.permissions.iter().flat_map(|x| x.not_actions.iter().cloned()).collect(),
            data_actions: p.permissions.iter().flat_map(|x| x.data_actions.iter().cloned()).collect(),
            not_data_actions: p.permissions.iter().flat_map(|x| x.not_data_actions.iter().cloned()).collect(),
            // Every block, whole: the flat lists above cannot say which notActions take back
            // which actions, nor carry a block's condition.
            permission_blocks: p
                .permissions
                .iter()
                .map(|x| crate::inventory::azure::RolePermissions {
                    actions: x.actions.clone(),
                    not_actions: x.not_actions.clone(),
                    data_actions: x.data_actions.clone(),
                    not_data_actions: x.not_data_actions.clone(),
                    condition: x.condition.clone().filter(|c| !c.trim().is_empty()),
                })
                .collect(),
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmPolicyAssignment {
    scope: Option<String>,
    policy_definition_id: String,
    display_name: Option<String>,
    enforcement_mode: Option<String>,
}

pub fn policy_assignments(items: &[Value]) -> MapResult<Vec<AzurePolicyAssignment>> {
    each(items, "policy assignment", |a: ArmItem<ArmPolicyAssignment>| {
        let p = a.properties;
        Ok(AzurePolicyAssignment {
            id: a.id.or(a.name).unwrap_or_default(),
            scope: p.scope.unwrap_or_default(),
            policy_definition_id: p.policy_definition_id,
            display_name: p.display_name,
            enforcement_mode: p.enforcement_mode,
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmDiagnosticSetting {
    workspace_id: Option<String>,
    storage_account_id: Option<String>,
    event_hub_authorization_rule_id: Option<String>,
    marketplace_partner_id: Option<String>,
    #[serde(default)]
    logs: Vec<ArmLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmLog {
    category: Option<String>,
    category_group: Option<String>,
    #[serde(default)]
    enabled: bool,
}

pub fn diagnostic_settings(items: &[Value]) -> MapResult<Vec<DiagnosticSetting>> {
    each(items, "diagnostic setting", |d: ArmItem<ArmDiagnosticSetting>| {
        let p = d.properties;
        let on = p.logs.iter().filter(|l| l.enabled);
        Ok(DiagnosticSetting {
            id: d.id.clone().unwrap_or_default(),
            name: d.name.or(d.id).unwrap_or_default(),
            enabled_categories: on.clone().filter_map(|l| l.category.clone()).collect(),
            enabled_category_groups: on.filter_map(|l| l.category_group.clone()).collect(),
            workspace_id: p.workspace_id.filter(|s| !s.is_empty()),
            storage_account_id: p.storage_account_id.filter(|s| !s.is_empty()),
            event_hub_authorization_rule_id: p.event_hub_authorization_rule_id.filter(|s| !s.is_empty()),
            marketplace_partner_id: p.marketplace_partner_id.filter(|s| !s.is_empty()),
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmRegistrationAssignment {
    registration_definition_id: Option<String>,
    registration_definition: Option<ArmItem<ArmRegistrationDefinition>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmRegistrationDefinition {
    registration_definition_name: Option<String>,
    managed_by_tenant_id: String,
    managed_by_tenant_name: Option<String>,
    #[serde(default)]
    authorizations: Vec<ArmAuthorization>,
    #[serde(default)]
    eligible_authorizations: Vec<ArmAuthorization>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmAuthorization {
    principal_id: String,
    principal_id_display_name: Option<String>,
    role_definition_id: String,
    #[serde(default)]
    delegated_role_definition_ids: Vec<String>,
}

/// Registration assignments read with `$expandRegistrationDefinition=true`. An assignment whose
/// definition did not come with it cannot say who holds what: an error, not an empty delegation.
pub fn lighthouse(items: &[Value]) -> MapResult<Vec<LighthouseDelegation>> {
    each(items, "registration assignment", |a: ArmItem<ArmRegistrationAssignment>| {
        let id = a.id.or(a.name).unwrap_or_default();
        let Some(def) = a.properties.registration_definition else {
            return Err(format!(
                "{id}: the registration definition {} was not expanded",
                a.properties.registration_definition_id.unwrap_or_default()
            ));
        };
        let d = def.properties;
        let auth = |x: &ArmAuthorization, eligible| LighthouseAuthorization {
            principal_id: x.principal_id.clone(),
            principal_name: x.principal_id_display_name.clone(),
            role_definition_id: crate::inventory::azure::role_guid(&x.role_definition_id),
            eligible,
            delegated_role_definition_ids: x.delegated_role_definition_ids.clone(),
        };
        let scope = id.split("/providers/Microsoft.ManagedServices").next().filter(|s| !s.is_empty()).map(str::to_string);
        Ok(LighthouseDelegation {
            id,
            scope,
            managed_by_tenant_id: d.managed_by_tenant_id,
            managed_by_tenant_name: d.managed_by_tenant_name,
            definition_name: d.registration_definition_name,
            authorizations: d
                .authorizations
                .iter()
                .map(|x| auth(x, false))
                .chain(d.eligible_authorizations.iter().map(|x| auth(x, true)))
                .collect(),
        })
    })
}

// ---- Microsoft Graph -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUser {
    id: String,
    user_principal_name: Option<String>,
    account_enabled: Option<bool>,
    user_type: Option<String>,
    creation_type: Option<String>,
    created_date_time: Option<String>,
    sign_in_activity: Option<GraphSignIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphSignIn {
    last_sign_in_date_time: Option<String>,
    last_non_interactive_sign_in_date_time: Option<String>,
    last_successful_sign_in_date_time: Option<String>,
}

/// Users, and (when `signInActivity` was selected) their sign-in activity.
pub fn users(items: &[Value]) -> MapResult<(Vec<EntraUser>, Vec<SignInActivity>)> {
    let both = each(items, "user", |u: GraphUser| {
        let sign_in = u.sign_in_activity.as_ref().map(|s| SignInActivity {
            user_id: u.id.clone(),
            last_sign_in: time(&s.last_sign_in_date_time),
            last_non_interactive_sign_in: time(&s.last_non_interactive_sign_in_date_time),
            last_successful_sign_in: time(&s.last_successful_sign_in_date_time),
        });
        let user = EntraUser {
            user_principal_name: u.user_principal_name.unwrap_or_else(|| u.id.clone()),
            id: u.id,
            account_enabled: u.account_enabled,
            user_type: u.user_type,
            created: time(&u.created_date_time),
            creation_type: u.creation_type,
        };
        // A user the answer gives no activity for has never signed in.
        let sign_in = sign_in.unwrap_or(SignInActivity {
            user_id: user.id.clone(),
            last_sign_in: None,
            last_non_interactive_sign_in: None,
            last_successful_sign_in: None,
        });
        Ok((user, sign_in))
    })?;
    Ok(both.into_iter().unzip())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUserRead {
    id: String,
    user_principal_name: Option<String>,
    account_enabled: Option<bool>,
    sign_in_sessions_valid_from_date_time: Option<String>,
    user_type: Option<String>,
    creation_type: Option<String>,
    last_password_change_date_time: Option<String>,
}

/// One user read by itself (`GET /users/{id}` with `signInSessionsValidFromDateTime`).
pub fn user_read(v: &Value) -> Result<DirectoryObject, String> {
    let u: GraphUserRead = serde_json::from_value(v.clone()).map_err(|e| format!("user: {e}"))?;
    let sessions = u.sign_in_sessions_valid_from_date_time;
    if sessions.as_deref().is_some_and(|s| time(&Some(s.to_string())).is_none()) {
        return Err(format!("user {}: signInSessionsValidFromDateTime {sessions:?} is not a time", u.id));
    }
    Ok(DirectoryObject::User {
        user_principal_name: u.user_principal_name.unwrap_or_else(|| u.id.clone()),
        id: u.id,
        account_enabled: u.account_enabled,
        sessions_valid_from: time(&sessions),
        user_type: u.user_type,
        creation_type: u.creation_type,
        last_password_change: time(&u.last_password_change_date_time),
        // Read next, each by its own call (the collector fills them).
        owned_objects: crate::inventory::Collected::NotRequested,
        app_role_assignments: crate::inventory::Collected::NotRequested,
        oauth2_permission_grants: crate::inventory::Collected::NotRequested,
    })
}

/// A `directoryObject` collection (owners, owned objects). An object without an id is an error;
/// one without `@odata.type` is `unknown`. `of`: the object they own, for owners.
pub fn directory_refs(items: &[Value], of: Option<&str>) -> MapResult<Vec<DirectoryRef>> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let id = v.get("id").and_then(Value::as_str).ok_or(format!("directory object {i} has no id"))?;
            let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            Ok(DirectoryRef {
                id: id.to_string(),
                kind: s("@odata.type").map(|t| t.trim_start_matches("#microsoft.graph.").to_string()).unwrap_or_else(|| "unknown".into()),
                display_name: s("displayName"),
                user_principal_name: s("userPrincipalName"),
                app_id: s("appId"),
                of: of.map(str::to_string),
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphAppRoleAssignment {
    id: String,
    app_role_id: String,
    resource_id: String,
    resource_display_name: Option<String>,
    principal_id: String,
    principal_type: Option<String>,
    created_date_time: Option<String>,
}

pub fn app_role_grants(items: &[Value]) -> MapResult<Vec<AppRoleGrant>> {
    each(items, "app role assignment", |a: GraphAppRoleAssignment| {
        Ok(AppRoleGrant {
            id: a.id,
            app_role_id: a.app_role_id,
            resource_id: a.resource_id,
            resource_display_name: a.resource_display_name,
            principal_id: a.principal_id,
            principal_type: a.principal_type,
            created: time(&a.created_date_time),
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphDelegatedGrant {
    id: String,
    client_id: String,
    consent_type: Option<String>,
    principal_id: Option<String>,
    resource_id: String,
    scope: Option<String>,
}

pub fn delegated_grants(items: &[Value]) -> MapResult<Vec<DelegatedGrant>> {
    each(items, "oauth2 permission grant", |g: GraphDelegatedGrant| {
        Ok(DelegatedGrant {
            id: g.id,
            client_id: g.client_id,
            consent_type: g.consent_type,
            principal_id: g.principal_id.filter(|p| !p.is_empty()),
            resource_id: g.resource_id,
            scope: g.scope.unwrap_or_default().trim().to_string(),
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphFederated {
    name: Option<String>,
    issuer: String,
    subject: Option<String>,
}

pub fn federated_credentials(items: &[Value]) -> MapResult<Vec<FederatedCredential>> {
    each(items, "federated identity credential", |f: GraphFederated| {
        Ok(FederatedCredential { name: f.name.unwrap_or_default(), issuer: f.issuer, subject: f.subject.unwrap_or_default() })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphRegistration {
    id: String,
    user_principal_name: Option<String>,
    is_mfa_registered: Option<bool>,
    #[serde(default)]
    methods_registered: Vec<String>,
}

pub fn registration_details(items: &[Value]) -> MapResult<Vec<RegistrationDetail>> {
    each(items, "registration detail", |r: GraphRegistration| {
        Ok(RegistrationDetail {
            id: r.id,
            user_principal_name: r.user_principal_name,
            is_mfa_registered: r.is_mfa_registered.ok_or("isMfaRegistered missing")?,
            methods_registered: r.methods_registered,
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphApp {
    id: String,
    app_id: Option<String>,
    display_name: Option<String>,
    service_principal_type: Option<String>,
    app_owner_organization_id: Option<String>,
    account_enabled: Option<bool>,
    created_date_time: Option<String>,
    #[serde(default)]
    password_credentials: Vec<GraphCredential>,
    #[serde(default)]
    key_credentials: Vec<GraphCredential>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphCredential {
    key_id: Option<String>,
    display_name: Option<String>,
    start_date_time: Option<String>,
    end_date_time: Option<String>,
}

/// Applications (`service_principals = false`) or service principals, with credential metadata
/// (the secret value is never requested; `secretText` is always null in lists anyway).
pub fn apps(items: &[Value], service_principals: bool) -> MapResult<Vec<EntraServicePrincipal>> {
    each(items, if service_principals { "service principal" } else { "application" }, |a: GraphApp| {
        let cred = |c: &GraphCredential, kind: &str| AzureCredential {
            key_id: c.key_id.clone().unwrap_or_default(),
            kind: kind.to_string(),
            display_name: c.display_name.clone(),
            start: time(&c.start_date_time),
            end: time(&c.end_date_time),
        };
        let kind = if !service_principals {
            "application"
        } else if a.service_principal_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("ManagedIdentity")) {
            "managed_identity"
        } else {
            "service_principal"
        };
        Ok(EntraServicePrincipal {
            app_id: a.app_id.unwrap_or_default(),
            display_name: a.display_name.unwrap_or_else(|| a.id.clone()),
            id: a.id,
            kind: kind.to_string(),
            owner_tenant_id: a.app_owner_organization_id,
            account_enabled: a.account_enabled,
            created: time(&a.created_date_time),
            credentials: a
                .password_credentials
                .iter()
                .map(|c| cred(c, "secret"))
                .chain(a.key_credentials.iter().map(|c| cred(c, "certificate")))
                .collect(),
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphRoleAssignment {
    principal_id: String,
    role_definition_id: String,
    directory_scope_id: Option<String>,
    end_date_time: Option<String>,
    principal: Option<Value>,
}

pub fn directory_roles(items: &[Value]) -> MapResult<Vec<DirectoryRoleAssignment>> {
    each(items, "directory role assignment", |r: GraphRoleAssignment| {
        let principal_type = r
            .principal
            .as_ref()
            .and_then(|p| p.get("@odata.type"))
            .and_then(Value::as_str)
            .map(|t| t.trim_start_matches("#microsoft.graph.").to_string());
        let principal_name = r.principal.as_ref().and_then(|p| {
            ["userPrincipalName", "displayName"].iter().find_map(|k| p.get(*k).and_then(Value::as_str)).map(str::to_string)
        });
        Ok(DirectoryRoleAssignment {
            principal_id: r.principal_id,
            role_definition_id: r.role_definition_id.to_ascii_lowercase(),
            directory_scope_id: r.directory_scope_id.unwrap_or_else(|| "/".into()),
            principal_type,
            principal_name,
            end: time(&r.end_date_time),
        })
    })
}

/// A group's transitive members, of every type (`@odata.type`: user, servicePrincipal, device,
/// orgContact, group). A member without an id is an error; one without a type is `unknown`.
pub fn members(items: &[Value]) -> MapResult<Vec<GroupMember>> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let id = v.get("id").and_then(Value::as_str).ok_or(format!("member {i} has no id"))?;
            let kind = v.get("@odata.type").and_then(Value::as_str).map(|t| t.trim_start_matches("#microsoft.graph.")).unwrap_or("unknown");
            Ok(GroupMember { id: id.to_string(), kind: kind.to_string(), access: None })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphGroupEligibility {
    principal_id: String,
    access_id: Option<String>,
    principal: Option<Value>,
}

/// PIM for Groups eligibility instances of one group: who may activate membership or ownership.
pub fn group_eligibility(items: &[Value]) -> MapResult<Vec<GroupMember>> {
    each(items, "group eligibility", |e: GraphGroupEligibility| {
        let kind = e
            .principal
            .as_ref()
            .and_then(|p| p.get("@odata.type"))
            .and_then(Value::as_str)
            .map(|t| t.trim_start_matches("#microsoft.graph.").to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(GroupMember { id: e.principal_id, kind, access: e.access_id })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphRoleDefinition {
    id: String,
    template_id: Option<String>,
    display_name: Option<String>,
    is_built_in: Option<bool>,
    is_enabled: Option<bool>,
    is_privileged: Option<bool>,
    #[serde(default)]
    role_permissions: Vec<GraphRolePermission>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphRolePermission {
    #[serde(default)]
    allowed_resource_actions: Vec<String>,
}

/// Directory role definitions (`unifiedRoleDefinition`), from beta (with `isPrivileged`) or v1.0.
pub fn directory_role_definitions(items: &[Value]) -> MapResult<Vec<DirectoryRoleDefinition>> {
    each(items, "directory role definition", |d: GraphRoleDefinition| {
        Ok(DirectoryRoleDefinition {
            display_name: d.display_name.unwrap_or_else(|| d.id.clone()),
            id: d.id.to_ascii_lowercase(),
            template_id: d.template_id.map(|t| t.to_ascii_lowercase()),
            is_built_in: d.is_built_in,
            is_enabled: d.is_enabled,
            is_privileged: d.is_privileged,
            allowed_resource_actions: d.role_permissions.into_iter().flat_map(|p| p.allowed_resource_actions).collect(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn never_is_no_time() {
        let (u, s) = users(&[json!({"id":"1","userPrincipalName":"a@x","accountEnabled":true,"signInActivity":{"lastSignInDateTime":"0001-01-01T00:00:00Z","lastNonInteractiveSignInDateTime":"2026-01-02T00:00:00Z"}})]).unwrap();
        assert_eq!(u[0].account_enabled, Some(true));
        assert_eq!(s[0].last_sign_in, None);
        assert!(s[0].latest().is_some());
    }

    #[test]
    fn a_block_s_not_actions_take_back_only_its_own_actions() {
        let d = role_definitions(&[json!({"id":"/providers/Microsoft.Authorization/roleDefinitions/c1","properties":{"roleName":"Ops","type":"CustomRole","permissions":[
            {"actions":["*"],"notActions":["Microsoft.Authorization/*/Write"]},
            {"actions":["Microsoft.Authorization/roleAssignments/write"],"notActions":[]}]}})])
        .unwrap();
        assert!(d[0].grants("Microsoft.Authorization/roleAssignments/write"));
        assert!(!d[0].grants("Microsoft.Authorization/roleDefinitions/write"));
        // One block: the flat lists are the role.
        let one = role_definitions(&[json!({"id":"c2","properties":{"roleName":"Contrib","permissions":[{"actions":["*"],"notActions":["Microsoft.Authorization/*/Write"]}]}})]).unwrap();
        assert_eq!(one[0].permission_blocks.len(), 1);
        assert!(!one[0].grants("microsoft.authorization/roleassignments/write"));
    }

    #[test]
    fn every_block_keeps_its_four_lists_and_its_condition() {
        let d = role_definitions(&[json!({"id":"/providers/Microsoft.Authorization/roleDefinitions/c3","properties":{"roleName":"Vault ops","type":"CustomRole","permissions":[
            {"actions":["Microsoft.KeyVault/vaults/read"],"notActions":[],"dataActions":[],"notDataActions":[]},
            {"actions":[],"notActions":[],"dataActions":["Microsoft.KeyVault/vaults/secrets/*"],"notDataActions":["Microsoft.KeyVault/vaults/secrets/setSecret/action"],
             "condition":"((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})))","conditionVersion":"2.0"}]}})])
        .unwrap();
        let b = &d[0].permission_blocks;
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].data_actions, ["Microsoft.KeyVault/vaults/secrets/*"]);
        assert_eq!(b[1].not_data_actions, ["Microsoft.KeyVault/vaults/secrets/setSecret/action"]);
        assert!(b[1].condition.is_some() && b[0].condition.is_none());
        assert!(b[1].grants_data("microsoft.keyvault/VAULTS/secrets/getSecret/action"));
        assert!(!b[1].grants_data("Microsoft.KeyVault/vaults/secrets/setSecret/action"));
        assert_eq!(d[0].data_actions, ["Microsoft.KeyVault/vaults/secrets/*"]);
    }

    #[test]
    fn group_members_keep_every_type_and_eligibility_its_access() {
        let m = members(&[json!({"@odata.type":"#microsoft.graph.user","id":"u1"}),json!({"@odata.type":"#microsoft.graph.servicePrincipal","id":"sp1"}),json!({"id":"x"})]).unwrap();
        assert_eq!(m.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), ["user", "servicePrincipal", "unknown"]);
        assert!(members(&[json!({"@odata.type":"#microsoft.graph.user"})]).is_err(), "a member without an id is an error");
        let e = group_eligibility(&[json!({"id":"i","groupId":"g","principalId":"p1","accessId":"owner","principal":{"@odata.type":"#microsoft.graph.servicePrincipal","id":"p1"}})]).unwrap();
        assert_eq!((e[0].id.as_str(), e[0].kind.as_str(), e[0].access.as_deref()), ("p1", "servicePrincipal", Some("owner")));
    }

    #[test]
    fn role_definitions_keep_is_privileged_only_when_given() {
        let beta = directory_role_definitions(&[json!({"id":"F2EF992C-3AFB-46B9-B7CF-A126EE74C451","templateId":"F2EF992C-3AFB-46B9-B7CF-A126EE74C451","displayName":"Global Reader","isBuiltIn":true,"isEnabled":true,"isPrivileged":true,
            "rolePermissions":[{"allowedResourceActions":["a/b"],"condition":null},{"allowedResourceActions":["c/d"],"condition":"$ResourceIsSelf"}]})]).unwrap();
        assert_eq!(beta[0].id, "f2ef992c-3afb-46b9-b7cf-a126ee74c451");
        assert_eq!(beta[0].is_privileged, Some(true));
        assert_eq!(beta[0].allowed_resource_actions, ["a/b", "c/d"]);
        let v1 = directory_role_definitions(&[json!({"id":"c1","displayName":"Custom","isBuiltIn":false,"rolePermissions":[]})]).unwrap();
        assert_eq!(v1[0].is_privileged, None, "absent is unknown, never false");
    }

    #[test]
    fn missing_enabled_is_unknown_not_disabled() {
        let (u, _) = users(&[json!({"id":"1","userPrincipalName":"a@x"})]).unwrap();
        assert_eq!(u[0].account_enabled, None);
    }

    #[test]
    fn tree_flattens_with_parents() {
        let root = json!({"name":"t","properties":{"displayName":"Tenant Root Group","children":[
            {"name":"prod","type":"Microsoft.Management/managementGroups","children":[
                {"name":"sub1","type":"/subscriptions","displayName":"S1"}]}]}});
        let n = management_tree(&root).unwrap();
        assert_eq!(n.len(), 3);
        assert_eq!(n[2].kind, ScopeKind::AzureSubscription);
        assert_eq!(n[2].parent.as_deref(), Some("prod"));
    }

    #[test]
    fn unexpanded_lighthouse_is_an_error() {
        assert!(lighthouse(&[json!({"id":"x","properties":{"registrationDefinitionId":"d"}})]).is_err());
    }

    #[test]
    fn registration_without_mfa_flag_is_an_error() {
        assert!(registration_details(&[json!({"id":"1"})]).is_err());
    }

    #[test]
    fn relationships_of_one_principal_keep_what_verify_judges() {
        // directoryObject collections: the type from @odata.type, whatever else is given.
        let owners = directory_refs(
            &[json!({"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "a@x.example"}), json!({"@odata.type": "#microsoft.graph.servicePrincipal", "id": "s1", "appId": "app1", "displayName": "ci"}), json!({"id": "z"})],
            Some("40000000-0000-4000-8000-000000000001"),
        )
        .unwrap();
        assert_eq!((owners[0].kind.as_str(), owners[0].user_principal_name.as_deref()), ("user", Some("a@x.example")));
        assert_eq!((owners[1].kind.as_str(), owners[1].app_id.as_deref(), owners[1].of.as_deref()), ("servicePrincipal", Some("app1"), Some("40000000-0000-4000-8000-000000000001")));
        assert_eq!(owners[2].kind, "unknown");
        assert!(directory_refs(&[json!({"@odata.type": "#microsoft.graph.user"})], None).is_err());
        // appRoleAssignment and oAuth2PermissionGrant as Graph v1.0 documents them.
        let a = app_role_grants(&[json!({"id": "x", "appRoleId": "r", "createdDateTime": "2026-11-28T05:40:00Z", "deletedDateTime": null, "principalDisplayName": "ci", "principalId": "s1", "principalType": "ServicePrincipal", "resourceDisplayName": "Microsoft Graph", "resourceId": "g"})]).unwrap();
        assert_eq!(a[0].created.map(|t| t.to_string()), Some("2026-11-28T05:40:00Z".into()));
        let g = delegated_grants(&[json!({"id": "y", "clientId": "s1", "consentType": "AllPrincipals", "principalId": null, "resourceId": "g", "scope": " Mail.Read "})]).unwrap();
        assert_eq!((g[0].principal_id.as_deref(), g[0].scope.as_str()), (None, "Mail.Read"));
        assert!(app_role_grants(&[json!({"id": "x"})]).is_err());
        // One user read: the password's last change and creationType are kept.
        let DirectoryObject::User { last_password_change, creation_type, owned_objects, .. } = user_read(&json!({"id": "u1", "userPrincipalName": "a@x.example", "lastPasswordChangeDateTime": "2026-11-29T12:40:00Z", "creationType": "Invitation"})).unwrap() else { panic!() };
        assert_eq!(last_password_change.map(|t| t.to_string()), Some("2026-11-29T12:40:00Z".into()));
        assert_eq!(creation_type.as_deref(), Some("Invitation"));
        assert!(owned_objects.is_not_requested());
    }
}
