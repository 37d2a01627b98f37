//! `--terraform-plan FILE`: the JSON of `terraform show -json PLAN` (format 1.x) as planned changes
//! to the inventory.
//!
//! Each supported resource of the aws, azurerm, azuread and google providers becomes the inventory
//! item a live read would give (a role with its parsed trust policy, a trail, an instance's
//! metadata options, a custom role definition, an application secret, a project IAM binding, …),
//! with the action Terraform plans for it. Two uses:
//!
//! - **Plan only**: the items make an inventory of their own, and only the checks that judge a
//!   resource on its own attributes run (a plan cannot show a credential report, MFA, or the rest of
//!   an account). Which ones is declared here, per resource type ([`TYPES`]).
//! - **On top of a live source**: creations and updates replace or add the live item, deletions
//!   remove it, so the gate sees the posture after the change.
//!
//! A value Terraform knows only after apply is unknown, never secure: the item gets the insecure
//! placeholder and the checks that read that attribute give `not_evaluated` for it, naming the
//! attribute (see [`PlannedResource::unknown`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ImportError;
use crate::inventory::aws::{AccessKeySlot, AwsAccount, AwsRegion, AuthorizationDetails, CredentialReport, Ec2Instance, Ec2Metadata, Ec2MetadataDefaults, IamRole, IdentityProviders, OidcProvider, PasswordPolicy, ReportTime, ServiceControlPolicy, Trail};
use crate::inventory::azure::{AzureCredential, AzureRoleDefinition, AzureSubscription, AzureTenant, DiagnosticSetting, EntraServicePrincipal, LighthouseAuthorization, LighthouseDelegation};
use crate::inventory::gcp::{AuditConfig, GcpProject, IamBinding, IamPolicy, OrgPolicy, ServiceAccount, ServiceAccountKey};
use crate::inventory::{Cloud, Collected, Inventory, Timestamp};
use crate::policy::PolicyDocument;

/// A resource type the plan reader understands, and the checks that judge it from the plan alone.
pub struct TypeInfo {
    pub rtype: &'static str,
    pub cloud: Cloud,
    /// Checks whose verdict on this resource depends only on its own attributes (and the
    /// allow-lists): they run on a plan-only scan.
    pub checks: &'static [&'static str],
}

/// Every supported resource type. A type with no checks feeds the live + plan view only.
pub const TYPES: &[TypeInfo] = &[
    TypeInfo { rtype: "aws_iam_role", cloud: Cloud::Aws, checks: &["aws_iam_role_trust_not_public", "aws_iam_role_cross_account_trust_restricted", "aws_iam_role_oidc_trust_subject_restricted"] },
    TypeInfo { rtype: "aws_iam_openid_connect_provider", cloud: Cloud::Aws, checks: &[] },
    TypeInfo { rtype: "aws_iam_account_password_policy", cloud: Cloud::Aws, checks: &["aws_iam_password_policy_strong"] },
    TypeInfo { rtype: "aws_cloudtrail", cloud: Cloud::Aws, checks: &["aws_cloudtrail_log_file_validation", "aws_cloudtrail_kms_encryption"] },
    TypeInfo { rtype: "aws_instance", cloud: Cloud::Aws, checks: &["aws_ec2_instance_imdsv2_required"] },
    TypeInfo { rtype: "aws_ec2_instance_metadata_defaults", cloud: Cloud::Aws, checks: &["aws_ec2_account_imdsv2_default"] },
    TypeInfo { rtype: "aws_iam_access_key", cloud: Cloud::Aws, checks: &[] },
    TypeInfo { rtype: "aws_organizations_policy", cloud: Cloud::Aws, checks: &[] },
    TypeInfo { rtype: "aws_organizations_policy_attachment", cloud: Cloud::Aws, checks: &[] },
    TypeInfo { rtype: "azurerm_role_definition", cloud: Cloud::Azure, checks: &["azure_rbac_custom_role_no_wildcard"] },
    TypeInfo { rtype: "azurerm_lighthouse_definition", cloud: Cloud::Azure, checks: &["azure_lighthouse_delegation_restricted"] },
    TypeInfo { rtype: "azurerm_monitor_diagnostic_setting", cloud: Cloud::Azure, checks: &[] },
    TypeInfo { rtype: "azuread_application_password", cloud: Cloud::Azure, checks: &["azure_entra_app_credential_lifetime_limited"] },
    TypeInfo { rtype: "azuread_application_certificate", cloud: Cloud::Azure, checks: &["azure_entra_app_credential_lifetime_limited"] },
    TypeInfo { rtype: "google_project_iam_member", cloud: Cloud::Gcp, checks: &["gcp_iam_no_public_access", "gcp_iam_members_in_allowed_domains", "gcp_iam_service_account_not_privileged"] },
    TypeInfo { rtype: "google_project_iam_binding", cloud: Cloud::Gcp, checks: &["gcp_iam_no_public_access", "gcp_iam_members_in_allowed_domains", "gcp_iam_service_account_not_privileged"] },
    TypeInfo { rtype: "google_project_iam_policy", cloud: Cloud::Gcp, checks: &["gcp_iam_no_public_access", "gcp_iam_members_in_allowed_domains", "gcp_iam_service_account_not_privileged"] },
    TypeInfo { rtype: "google_service_account_iam_member", cloud: Cloud::Gcp, checks: &["gcp_iam_impersonation_inside_organization"] },
    TypeInfo { rtype: "google_service_account_iam_binding", cloud: Cloud::Gcp, checks: &["gcp_iam_impersonation_inside_organization"] },
    TypeInfo { rtype: "google_service_account_key", cloud: Cloud::Gcp, checks: &["gcp_iam_service_account_user_managed_key_absent"] },
    TypeInfo { rtype: "google_project_iam_audit_config", cloud: Cloud::Gcp, checks: &[] },
    TypeInfo { rtype: "google_org_policy_policy", cloud: Cloud::Gcp, checks: &[] },
    TypeInfo { rtype: "google_project_organization_policy", cloud: Cloud::Gcp, checks: &[] },
];

/// The checks a plan-only scan can run: judged from a planned resource alone.
pub fn plan_checks() -> BTreeSet<&'static str> {
    TYPES.iter().flat_map(|t| t.checks.iter().copied()).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// Delete and create again (`["delete","create"]` or `["create","delete"]`).
    Replace,
    Delete,
    NoOp,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        }
    }
}

/// An attribute known only after apply, and the checks whose verdict it decides.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnknownAttr {
    pub attribute: String,
    pub checks: Vec<String>,
    /// The unknown part was left out of the item (a member, an action, a credential) rather than
    /// given an insecure placeholder: a failure found in what is known stands, a pass does not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub omitted: bool,
}

/// Where a finding's resource comes from in the plan: kept in the inventory so that findings name
/// the Terraform address and SARIF can point at the file and line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedResource {
    /// The resource id findings use (ARN, Azure id, GCP name).
    pub id: String,
    pub address: String,
    pub action: Action,
    /// Checks whose findings on `id` are about this resource.
    pub checks: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<UnknownAttr>,
    /// The `.tf` file (relative to the working directory when it is inside it) and line of the
    /// resource block, when the configuration's module directory could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// One planned item in inventory terms.
#[derive(Debug, Clone)]
pub enum Item {
    AwsRole(IamRole),
    AwsOidc(OidcProvider),
    AwsPasswordPolicy(PasswordPolicy),
    AwsTrail { region: String, trail: Trail },
    AwsInstance { region: String, instance: Ec2Instance },
    AwsMetadataDefaults { region: String, defaults: Ec2MetadataDefaults },
    /// A new active access key for an IAM user (by user name).
    AwsAccessKey { user: String },
    /// A Service Control Policy; `document` is `None` when its content is known only after apply.
    AwsScp { id: String, name: String, document: Option<PolicyDocument> },
    /// An SCP attached to a root, OU or account (`policy` is the SCP's id, or its address when the
    /// plan creates it).
    AwsScpAttachment { policy: String, target: String },
    AzureRoleDefinition { subscription: String, definition: AzureRoleDefinition },
    AzureLighthouse { subscription: String, delegation: LighthouseDelegation },
    AzureDiagnostic { subscription: String, setting: DiagnosticSetting },
    AzureAppCredential { app: EntraServicePrincipal, credential: Option<AzureCredential> },
    GcpBinding { project: String, binding: IamBinding, authoritative: bool },
    /// `google_project_iam_policy`: the project's whole policy (bindings and audit configs).
    GcpProjectPolicy { project: String, policy: IamPolicy },
    GcpSaBinding { project: String, email: String, binding: IamBinding, authoritative: bool },
    GcpKey { project: String, email: String, key: ServiceAccountKey },
    GcpAuditConfig { project: String, config: AuditConfig },
    /// A project-level org policy; `policy` is `None` when its rules are known only after apply.
    GcpOrgPolicy { project: String, constraint: String, policy: Option<OrgPolicy> },
}

#[derive(Debug, Clone)]
pub struct Change {
    pub action: Action,
    pub item: Item,
    pub planned: PlannedResource,
}

/// A parsed plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub origin: String,
    pub terraform_version: Option<String>,
    pub changes: Vec<Change>,
    /// The AWS account, Azure tenant and GCP project the plan's provider configuration or known
    /// values name (used when the resources do not say).
    pub aws_account: Option<String>,
    pub azure_tenant: Option<String>,
    /// Resource types in the plan Portcullis does not read, with counts.
    pub unsupported: BTreeMap<String, usize>,
    /// Addresses of supported resources whose change Terraform deferred to a later plan: nothing
    /// about them is known yet.
    pub deferred: Vec<String>,
}

// ----------------------------------------------------------------------------------- values

/// A planned attribute: known, unknown until apply, or absent/null.
#[derive(Debug, Clone, PartialEq)]
enum Tv<'a> {
    Known(&'a Value),
    Unknown,
    Null,
}

/// `after` with its `after_unknown` mask.
#[derive(Clone, Copy)]
struct Vals<'a> {
    after: &'a Value,
    unknown: &'a Value,
}

impl<'a> Vals<'a> {
    fn get(&self, key: &str) -> Tv<'a> {
        if self.unknown.get(key).is_some_and(|u| u.as_bool() == Some(true)) {
            return Tv::Unknown;
        }
        match self.after.get(key) {
            None | Some(Value::Null) => Tv::Null,
            Some(v) => Tv::Known(v),
        }
    }

    /// The first element of a nested block list (`metadata_options[0]`).
    fn block(&self, key: &str) -> Result<Option<Vals<'a>>, ()> {
        match self.get(key) {
            Tv::Unknown => Err(()),
            Tv::Null => Ok(None),
            Tv::Known(v) => {
                let Some(first) = v.as_array().and_then(|a| a.first()) else { return Ok(None) };
                let mask = self.unknown.get(key).and_then(|u| u.as_array()).and_then(|a| a.first()).unwrap_or(&Value::Null);
                Ok(Some(Vals { after: first, unknown: mask }))
            }
        }
    }

    fn blocks(&self, key: &str) -> Result<Vec<Vals<'a>>, ()> {
        match self.get(key) {
            Tv::Unknown => Err(()),
            Tv::Null => Ok(Vec::new()),
            Tv::Known(v) => {
                let masks = self.unknown.get(key).and_then(|u| u.as_array());
                Ok(v.as_array()
                    .map(|a| a.iter().enumerate().map(|(i, b)| Vals { after: b, unknown: masks.and_then(|m| m.get(i)).unwrap_or(&Value::Null) }).collect())
                    .unwrap_or_default())
            }
        }
    }

    fn str(&self, key: &str) -> Tv<'a> {
        self.get(key)
    }

    fn known_str(&self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            Tv::Known(v) => v.as_str().filter(|s| !s.is_empty()),
            _ => None,
        }
    }

    fn bool_or(&self, key: &str, default: bool) -> Result<bool, ()> {
        match self.get(key) {
            Tv::Known(v) => Ok(v.as_bool().unwrap_or(default)),
            Tv::Null => Ok(default),
            Tv::Unknown => Err(()),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, ()> {
        match self.get(key) {
            Tv::Unknown => Err(()),
            Tv::Null => Ok(Vec::new()),
            Tv::Known(v) => {
                let masks = self.unknown.get(key).and_then(|u| u.as_array());
                if masks.is_some_and(|m| m.iter().any(|x| x.as_bool() == Some(true))) {
                    return Err(());
                }
                Ok(v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default())
            }
        }
    }
}

// ----------------------------------------------------------------------------------- parsing

/// Read and parse a plan file. `root` is the Terraform root module's directory (default: the plan
/// file's directory), used to find each resource's `.tf` file and line.
pub fn load(path: &Path, root: Option<&Path>) -> Result<Plan, ImportError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::Io { option: "--terraform-plan ".into(), origin: origin.clone(), reason: super::io_reason(&e) })?;
    let root = root.map(Path::to_path_buf).or_else(|| path.parent().map(Path::to_path_buf)).unwrap_or_default();
    parse(&text, &origin, Some(&root))
}

pub fn parse(text: &str, origin: &str, root: Option<&Path>) -> Result<Plan, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::invalid(origin, format!("line {} column {}", e.line(), e.column()), format!("not JSON: {e}")))?;
    let fv = doc.get("format_version").and_then(Value::as_str).ok_or_else(|| {
        ImportError::invalid(origin, "", "no format_version: give the JSON of `terraform show -json PLANFILE`, not the binary plan or `terraform plan` text")
    })?;
    if !fv.starts_with("1.") && fv != "0.2" && fv != "0.1" {
        return Err(ImportError::invalid(origin, "format_version", format!("plan format {fv:?} is not supported (1.x is)")));
    }
    if doc.get("errored").and_then(Value::as_bool) == Some(true) {
        return Err(ImportError::invalid(origin, "errored", "Terraform could not finish this plan (errored: true): it is incomplete and cannot be applied; fix the plan first"));
    }
    let changes = doc.get("resource_changes").and_then(Value::as_array);
    if changes.is_none() && doc.get("planned_values").is_none() {
        return Err(ImportError::invalid(origin, "", "no resource_changes: this is a state file or another document, not a plan"));
    }
    let mut plan = Plan { origin: origin.to_string(), terraform_version: doc.get("terraform_version").and_then(Value::as_str).map(str::to_string), ..Plan::default() };
    let config = Config::new(&doc, root);
    plan.aws_account = find_aws_account(&doc);
    plan.azure_tenant = config.provider_constant("azuread", "tenant_id").or_else(|| config.provider_constant("azurerm", "tenant_id"));
    let index = Index::new(changes.map(Vec::as_slice).unwrap_or_default());
    for d in doc.get("deferred_changes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let rc = d.get("resource_change").unwrap_or(&Value::Null);
        if rc.get("type").and_then(Value::as_str).is_some_and(|t| TYPES.iter().any(|x| x.rtype == t)) {
            plan.deferred.push(rc.get("address").and_then(Value::as_str).unwrap_or("?").to_string());
        }
    }
    for (i, rc) in changes.map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        let place = format!("resource_changes[{i}]");
        if rc.get("mode").and_then(Value::as_str).unwrap_or("managed") != "managed" {
            continue;
        }
        let Some(rtype) = rc.get("type").and_then(Value::as_str) else {
            return Err(ImportError::invalid(origin, place, "no type"));
        };
        let address = rc.get("address").and_then(Value::as_str).unwrap_or(rtype).to_string();
        let Some(info) = TYPES.iter().find(|t| t.rtype == rtype) else {
            if ["aws_", "azurerm_", "azuread_", "google_"].iter().any(|p| rtype.starts_with(p)) {
                *plan.unsupported.entry(rtype.to_string()).or_default() += 1;
            }
            continue;
        };
        let change = rc.get("change").ok_or_else(|| ImportError::invalid(origin, &place, "no change"))?;
        let actions: Vec<&str> = change.get("actions").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        // Deletion is looked for anywhere in the list; `forget` leaves the object in the cloud.
        let has = |a: &str| actions.contains(&a);
        let action = if has("delete") && has("create") {
            Action::Replace
        } else if has("delete") {
            Action::Delete
        } else if has("create") {
            Action::Create
        } else if has("update") {
            Action::Update
        } else if actions.is_empty() {
            return Err(ImportError::invalid(origin, format!("{place}.change.actions"), format!("{address}: no actions")));
        } else {
            // no-op, read, forget, or an action added by a later Terraform: the object stays as planned.
            Action::NoOp
        };
        // A deletion is judged on what exists (before); everything else on what will (after).
        let (after, unknown) = if action == Action::Delete {
            (change.get("before").unwrap_or(&Value::Null), &Value::Null)
        } else {
            (change.get("after").unwrap_or(&Value::Null), change.get("after_unknown").unwrap_or(&Value::Null))
        };
        if !after.is_object() {
            return Err(ImportError::invalid(origin, format!("{place}.change"), format!("{address}: no planned values")));
        }
        let cx = Ctx { v: Vals { after, unknown }, address: &address, config: &config, plan_account: plan.aws_account.as_deref(), index: &index, rc };
        let Some((item, id, mut unknown_attrs)) = map(rtype, &cx) else { continue };
        let checks: Vec<String> = info.checks.iter().map(|c| c.to_string()).collect();
        unknown_attrs.retain(|u| !u.checks.is_empty());
        let (file, line) = config.location(&address, rtype).unzip();
        plan.changes.push(Change {
            action,
            item,
            planned: PlannedResource { id, address, action, checks, unknown: unknown_attrs, file, line: line.flatten() },
        });
    }
    Ok(plan)
}

/// The AWS account: from a known ARN in the plan or prior state, or `aws_caller_identity`.
fn find_aws_account(doc: &Value) -> Option<String> {
    fn walk(v: &Value, out: &mut Option<String>) {
        if out.is_some() {
            return;
        }
        match v {
            Value::Object(m) => {
                if let Some(a) = m.get("account_id").and_then(Value::as_str).filter(|a| crate::policy::arn::is_account_id(a)) {
                    *out = Some(a.to_string());
                    return;
                }
                if let Some(arn) = m.get("arn").and_then(Value::as_str) {
                    // Organizations ARNs name the management account, not the one the plan changes.
                    if let Some(a) = crate::policy::arn::Arn::parse(arn).filter(|a| a.service != "organizations").map(|a| a.account).filter(|a| crate::policy::arn::is_account_id(a)) {
                        *out = Some(a.to_string());
                        return;
                    }
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = None;
    for key in ["prior_state", "resource_changes", "planned_values"] {
        if let Some(v) = doc.get(key) {
            walk(v, &mut out);
        }
    }
    out
}

/// Addresses of the planned resources by type, for references to resources created in the same plan.
struct Index<'a> {
    by_address: BTreeMap<String, &'a Value>,
}

impl<'a> Index<'a> {
    fn new(changes: &'a [Value]) -> Self {
        let by_address = changes
            .iter()
            .filter_map(|rc| Some((rc.get("address")?.as_str()?.to_string(), rc.get("change")?.get("after")?)))
            .collect();
        Index { by_address }
    }

    fn after(&self, address: &str) -> Option<&'a Value> {
        self.by_address.get(address).copied()
    }
}

struct Ctx<'a> {
    v: Vals<'a>,
    address: &'a str,
    config: &'a Config<'a>,
    plan_account: Option<&'a str>,
    index: &'a Index<'a>,
    rc: &'a Value,
}

impl Ctx<'_> {
    /// An attribute known only after apply, replaced by an insecure placeholder.
    fn unknown(&self, attribute: &str, checks: &[&str]) -> UnknownAttr {
        UnknownAttr { attribute: attribute.to_string(), checks: checks.iter().map(|c| c.to_string()).collect(), omitted: false }
    }

    /// An attribute known only after apply, left out of the item.
    fn omitted(&self, attribute: &str, checks: &[&str]) -> UnknownAttr {
        UnknownAttr { omitted: true, ..self.unknown(attribute, checks) }
    }

    fn account(&self) -> String {
        self.plan_account.unwrap_or(PLAN_SCOPE).to_string()
    }

    /// The AWS region: the resource's own `region` (provider 6), its ARN, or the provider's.
    fn region(&self) -> String {
        if let Some(r) = self.v.known_str("region") {
            return r.to_string();
        }
        if let Some(r) = self.v.known_str("arn").and_then(crate::policy::arn::Arn::parse).map(|a| a.region.to_string()).filter(|r| !r.is_empty()) {
            return r;
        }
        let key = self.rc.get("provider_name").and_then(Value::as_str).unwrap_or("aws");
        self.config.provider_constant(provider_short(key), "region").unwrap_or_else(|| UNKNOWN_REGION.to_string())
    }

    /// The address a reference expression of this resource points at (`aws_iam_role.x` from
    /// `aws_iam_role.x.id`), resolved within the resource's module.
    fn reference(&self, attribute: &str, rtype: &str) -> Option<String> {
        let refs = self.config.references(self.address, attribute);
        let module = module_prefix(self.address);
        refs.iter().find_map(|r| {
            let mut parts = r.split('.');
            let (t, n) = (parts.next()?, parts.next()?);
            (t == rtype).then(|| format!("{module}{t}.{n}"))
        })
    }
}

/// The scope name of a plan-only scan when the plan does not say (no ARN, no provider constant).
pub const PLAN_SCOPE: &str = "planned";
pub const UNKNOWN_REGION: &str = "unknown-region";

fn provider_short(full: &str) -> &str {
    // registry.terraform.io/hashicorp/aws → aws
    full.rsplit('/').next().unwrap_or(full)
}

/// `module.a.module.b.aws_iam_role.x[0]` → `module.a.module.b.`
fn module_prefix(address: &str) -> String {
    let mut out = String::new();
    let mut rest = address;
    while let Some(r) = rest.strip_prefix("module.") {
        let end = r.find('.').unwrap_or(r.len());
        out.push_str(&format!("module.{}.", &r[..end]));
        rest = r.get(end + 1..).unwrap_or("");
    }
    out
}

/// The resource's name, as findings show it: the cloud name if known, else the address.
fn name_or(v: &Vals, key: &str, address: &str) -> String {
    v.known_str(key).map(str::to_string).unwrap_or_else(|| address.to_string())
}

fn map(rtype: &str, cx: &Ctx) -> Option<(Item, String, Vec<UnknownAttr>)> {
    let v = &cx.v;
    let mut unknown = Vec::new();
    match rtype {
        "aws_iam_role" => {
            let name = name_or(v, "name", cx.address);
            let path = v.known_str("path").unwrap_or("/").to_string();
            let arn = v.known_str("arn").map(str::to_string).unwrap_or_else(|| format!("arn:aws:iam::{}:role{}{}", cx.account(), path, name));
            let (trust_policy, trust_policy_error) = match v.str("assume_role_policy") {
                Tv::Known(Value::String(s)) => match PolicyDocument::parse_str(s) {
                    Ok(d) => (Some(d), None),
                    Err(e) => (None, Some(format!("the planned trust policy does not parse: {e}"))),
                },
                Tv::Known(other) => match PolicyDocument::parse_value(other) {
                    Ok(d) => (Some(d), None),
                    Err(e) => (None, Some(format!("the planned trust policy does not parse: {e}"))),
                },
                Tv::Unknown => {
                    unknown.push(cx.unknown("assume_role_policy", &["aws_iam_role_trust_not_public", "aws_iam_role_cross_account_trust_restricted", "aws_iam_role_oidc_trust_subject_restricted"]));
                    (None, Some(format!("the trust policy of {} is known only after apply", cx.address)))
                }
                Tv::Null => (None, Some(format!("{} has no assume_role_policy in the plan", cx.address))),
            };
            let role = IamRole {
                name,
                id: v.known_str("unique_id").unwrap_or(cx.address).to_string(),
                arn: arn.clone(),
                path,
                created: None,
                trust_policy,
                trust_policy_error,
                attached_policies: Vec::new(),
                inline_policies: Vec::new(),
                permissions_boundary: v.known_str("permissions_boundary").map(str::to_string),
                last_used: None,
                last_used_region: None,
                instance_profiles: Vec::new(),
                tags: Default::default(),
            };
            Some((Item::AwsRole(role), arn, unknown))
        }
        "aws_iam_openid_connect_provider" => {
            let url = v.known_str("url").map(str::to_string);
            let host = url.as_deref().map(|u| u.trim_start_matches("https://").to_string()).unwrap_or_else(|| cx.address.to_string());
            let arn = v.known_str("arn").map(str::to_string).unwrap_or_else(|| format!("arn:aws:iam::{}:oidc-provider/{host}", cx.account()));
            let client_ids = v.strings("client_id_list").unwrap_or_default();
            Some((Item::AwsOidc(OidcProvider { arn: arn.clone(), url, client_ids, created: None }), arn, unknown))
        }
        "aws_iam_account_password_policy" => {
            let checks = ["aws_iam_password_policy_strong"];
            let mut num = |k: &str| match v.get(k) {
                Tv::Known(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0),
                Tv::Null => None,
                Tv::Unknown => {
                    unknown.push(cx.unknown(k, &checks));
                    None
                }
            };
            let (min, max_age, reuse) = (num("minimum_password_length"), num("max_password_age"), num("password_reuse_prevention"));
            let mut flag = |k: &str, default: bool| {
                v.bool_or(k, default).unwrap_or_else(|_| {
                    unknown.push(UnknownAttr { attribute: k.to_string(), checks: checks.iter().map(|c| c.to_string()).collect(), omitted: false });
                    false
                })
            };
            // The provider's defaults: every requirement off, users may change their password.
            let p = PasswordPolicy {
                minimum_password_length: min,
                require_symbols: flag("require_symbols", false),
                require_numbers: flag("require_numbers", false),
                require_uppercase_characters: flag("require_uppercase_characters", false),
                require_lowercase_characters: flag("require_lowercase_characters", false),
                allow_users_to_change_password: flag("allow_users_to_change_password", true),
                expire_passwords: max_age.is_some(),
                max_password_age: max_age,
                password_reuse_prevention: reuse,
                hard_expiry: flag("hard_expiry", false),
            };
            Some((Item::AwsPasswordPolicy(p), cx.account(), unknown))
        }
        "aws_cloudtrail" => {
            let region = cx.region();
            let name = name_or(v, "name", cx.address);
            let arn = v.known_str("arn").map(str::to_string).unwrap_or_else(|| format!("arn:aws:cloudtrail:{region}:{}:trail/{name}", cx.account()));
            let validation = v.bool_or("enable_log_file_validation", false).unwrap_or_else(|_| {
                unknown.push(cx.unknown("enable_log_file_validation", &["aws_cloudtrail_log_file_validation"]));
                false
            });
            let kms_key_id = match v.str("kms_key_id") {
                Tv::Known(k) => k.as_str().filter(|s| !s.is_empty()).map(str::to_string),
                Tv::Null => None,
                Tv::Unknown => {
                    unknown.push(cx.unknown("kms_key_id", &["aws_cloudtrail_kms_encryption"]));
                    None
                }
            };
            let multi_region = v.bool_or("is_multi_region_trail", false).unwrap_or(false);
            let logging = v.bool_or("enable_logging", true).ok();
            // Without selectors a trail records every management event.
            // Advanced selectors decide on their own terms: not modelled here, so unknown.
            let advanced = v.blocks("advanced_event_selector").map(|a| !a.is_empty()).unwrap_or(true);
            let management_events = match v.blocks("event_selector") {
                _ if advanced => None,
                Ok(sel) if sel.is_empty() => Some("All".to_string()),
                Ok(sel) => sel
                    .iter()
                    .filter(|s| s.bool_or("include_management_events", true).unwrap_or(false))
                    .map(|s| s.known_str("read_write_type").unwrap_or("All").to_string())
                    .max_by_key(|t| if t == "All" { 2 } else { 1 }),
                Err(()) => None,
            };
            let trail = Trail {
                name,
                arn: arn.clone(),
                home_region: v.known_str("home_region").unwrap_or(&region).to_string(),
                multi_region,
                organization_trail: v.bool_or("is_organization_trail", false).unwrap_or(false),
                log_file_validation: validation,
                kms_key_id,
                logging,
                management_events,
                status_error: None,
                s3_bucket: v.known_str("s3_bucket_name").map(str::to_string),
            };
            Some((Item::AwsTrail { region, trail }, arn, unknown))
        }
        "aws_instance" => {
            let region = cx.region();
            let instance_id = v.known_str("id").unwrap_or(cx.address).to_string();
            let checks = ["aws_ec2_instance_imdsv2_required"];
            let (tokens, endpoint) = match v.block("metadata_options") {
                Ok(Some(m)) => {
                    let t = match m.get("http_tokens") {
                        Tv::Known(t) => t.as_str().unwrap_or("optional").to_string(),
                        _ => {
                            unknown.push(cx.unknown("metadata_options.http_tokens", &checks));
                            "optional".to_string()
                        }
                    };
                    let e = match m.get("http_endpoint") {
                        Tv::Known(e) => e.as_str().unwrap_or("enabled").to_string(),
                        _ => "enabled".to_string(),
                    };
                    (t, e)
                }
                // Not set: the AMI and the account default decide, after apply.
                Ok(None) | Err(()) => {
                    unknown.push(cx.unknown("metadata_options", &checks));
                    ("optional".to_string(), "enabled".to_string())
                }
            };
            let id = format!("arn:aws:ec2:{region}:{}:instance/{instance_id}", cx.account());
            let state = if cx.rc.pointer("/change/actions/0").and_then(Value::as_str) == Some("create") { "planned" } else { "running" };
            Some((Item::AwsInstance { region, instance: Ec2Instance { instance_id, state: state.into(), http_tokens: tokens, http_endpoint: endpoint } }, id, unknown))
        }
        "aws_ec2_instance_metadata_defaults" => {
            let region = cx.region();
            let http_tokens = match v.get("http_tokens") {
                Tv::Known(t) => t.as_str().filter(|t| *t != "no-preference").map(str::to_string),
                Tv::Null => None,
                Tv::Unknown => {
                    unknown.push(cx.unknown("http_tokens", &["aws_ec2_account_imdsv2_default"]));
                    None
                }
            };
            let http_endpoint = v.known_str("http_endpoint").filter(|e| *e != "no-preference").map(str::to_string);
            let id = format!("arn:aws:ec2:{region}:{}:settings", cx.account());
            Some((Item::AwsMetadataDefaults { region, defaults: Ec2MetadataDefaults { http_tokens, http_endpoint } }, id, unknown))
        }
        "aws_iam_access_key" => {
            let user = v.known_str("user").map(str::to_string).or_else(|| {
                let u = cx.reference("user", "aws_iam_user")?;
                cx.index.after(&u)?.get("name")?.as_str().map(str::to_string)
            })?;
            if v.known_str("status").is_some_and(|s| s.eq_ignore_ascii_case("Inactive")) {
                return None;
            }
            let id = format!("arn:aws:iam::{}:user/{user}", cx.account());
            Some((Item::AwsAccessKey { user }, id, unknown))
        }
        "aws_organizations_policy" => {
            if v.known_str("type").is_some_and(|t| t != "SERVICE_CONTROL_POLICY") {
                return None;
            }
            let id = v.known_str("id").unwrap_or(cx.address).to_string();
            let document = match v.get("content") {
                Tv::Known(Value::String(c)) => PolicyDocument::parse_str(c).ok(),
                _ => None,
            };
            Some((Item::AwsScp { id: id.clone(), name: name_or(v, "name", cx.address), document }, id, unknown))
        }
        "aws_organizations_policy_attachment" => {
            let policy = v.known_str("policy_id").map(str::to_string).or_else(|| cx.reference("policy_id", "aws_organizations_policy"))?;
            let target = v.known_str("target_id")?.to_string();
            Some((Item::AwsScpAttachment { policy: policy.clone(), target }, policy, unknown))
        }
        "google_org_policy_policy" => {
            // `parent = "projects/p"`, `name = "projects/p/policies/<constraint>"`.
            let name = v.known_str("name")?;
            let project = v.known_str("parent").or(Some(name)).and_then(|p| p.strip_prefix("projects/")).map(|p| p.split('/').next().unwrap_or(p).to_string())?;
            let constraint = name.rsplit("/policies/").next()?.to_string();
            let policy = v.block("spec").ok().flatten().and_then(|spec| {
                let rules = spec.blocks("rules").ok()?;
                let mut enforced = None;
                for r in &rules {
                    match r.get("enforce") {
                        Tv::Known(e) => enforced = Some(e.as_str().map(|s| s.eq_ignore_ascii_case("TRUE")).or(e.as_bool()).unwrap_or(false)),
                        Tv::Unknown => return None,
                        Tv::Null => {}
                    }
                    if r.block("condition").ok().flatten().is_some() {
                        // A conditional rule enforces only sometimes: not counted as enforced.
                        enforced = Some(false);
                    }
                }
                Some(OrgPolicy { constraint: constraint.clone(), enforced, allowed_values: Vec::new(), denied_values: Vec::new(), conditional_exceptions: Vec::new() })
            });
            let id = format!("//cloudresourcemanager.googleapis.com/projects/{project}");
            Some((Item::GcpOrgPolicy { project, constraint, policy }, id, unknown))
        }
        "google_project_organization_policy" => {
            let project = gcp_project(cx);
            let constraint = v.known_str("constraint")?;
            // The inventory names constraints without the `constraints/` prefix, as the API's short form.
            let constraint = constraint.trim_start_matches("constraints/").to_string();
            let policy = match v.block("boolean_policy") {
                Ok(Some(b)) => match b.get("enforced") {
                    Tv::Known(e) => Some(OrgPolicy { constraint: constraint.clone(), enforced: e.as_bool(), allowed_values: Vec::new(), denied_values: Vec::new(), conditional_exceptions: Vec::new() }),
                    _ => None,
                },
                Ok(None) => Some(OrgPolicy { constraint: constraint.clone(), enforced: None, allowed_values: Vec::new(), denied_values: Vec::new(), conditional_exceptions: Vec::new() }),
                Err(()) => None,
            };
            let id = format!("//cloudresourcemanager.googleapis.com/projects/{project}");
            Some((Item::GcpOrgPolicy { project, constraint, policy }, id, unknown))
        }
        "azurerm_role_definition" => {
            let scope = v.known_str("scope").unwrap_or("");
            let subscription = subscription_of(scope).or_else(|| cx.config.provider_constant("azurerm", "subscription_id")).unwrap_or_else(|| PLAN_SCOPE.to_string());
            let name = name_or(v, "name", cx.address);
            let id = v
                .known_str("role_definition_resource_id")
                .map(str::to_string)
                .unwrap_or_else(|| format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{}", v.known_str("role_definition_id").unwrap_or(cx.address)));
            let checks = ["azure_rbac_custom_role_no_wildcard"];
            let (mut actions, mut not_actions, mut blocks) = (Vec::new(), Vec::new(), Vec::new());
            let (mut data_actions, mut not_data_actions) = (Vec::new(), Vec::new());
            match v.blocks("permissions") {
                Ok(perms) => {
                    for p in perms {
                        match (p.strings("actions"), p.strings("not_actions"), p.strings("data_actions"), p.strings("not_data_actions")) {
                            (Ok(a), Ok(n), Ok(da), Ok(nd)) => {
                                actions.extend(a.iter().cloned());
                                not_actions.extend(n.iter().cloned());
                                data_actions.extend(da.iter().cloned());
                                not_data_actions.extend(nd.iter().cloned());
                                blocks.push(crate::inventory::azure::RolePermissions { actions: a, not_actions: n, data_actions: da, not_data_actions: nd, condition: None });
                            }
                            _ => unknown.push(cx.omitted("permissions", &checks)),
                        }
                    }
                }
                Err(()) => unknown.push(cx.omitted("permissions", &checks)),
            }
            let mut assignable_scopes = v.strings("assignable_scopes").unwrap_or_else(|_| {
                unknown.push(cx.unknown("assignable_scopes", &checks));
                Vec::new()
            });
            // Unset, the provider makes the role assignable at its own scope.
            if assignable_scopes.is_empty() && !scope.is_empty() {
                assignable_scopes.push(scope.to_string());
            }
            let permission_blocks = if blocks.len() > 1 { blocks } else { Vec::new() };
            let definition = AzureRoleDefinition {
                id: id.clone(),
                role_name: name,
                role_type: "CustomRole".into(),
                assignable_scopes,
                actions,
                not_actions,
                data_actions,
                not_data_actions,
                permission_blocks,
            };
            Some((Item::AzureRoleDefinition { subscription, definition }, id, unknown))
        }
        "azurerm_lighthouse_definition" => {
            let scope = v.known_str("scope").unwrap_or("");
            let subscription = subscription_of(scope).or_else(|| cx.config.provider_constant("azurerm", "subscription_id")).unwrap_or_else(|| PLAN_SCOPE.to_string());
            let checks = ["azure_lighthouse_delegation_restricted"];
            let tenant = match v.get("managing_tenant_id") {
                Tv::Known(t) => t.as_str().unwrap_or_default().to_string(),
                _ => {
                    unknown.push(cx.unknown("managing_tenant_id", &checks));
                    String::new()
                }
            };
            let mut authorizations = Vec::new();
            for (key, eligible) in [("authorization", false), ("eligible_authorization", true)] {
                match v.blocks(key) {
                    Ok(list) => {
                        for a in list {
                            let (Some(principal_id), Some(role)) = (a.known_str("principal_id"), a.known_str("role_definition_id")) else {
                                unknown.push(cx.omitted(key, &checks));
                                continue;
                            };
                            authorizations.push(LighthouseAuthorization {
                                principal_id: principal_id.to_string(),
                                principal_name: a.known_str("principal_display_name").map(str::to_string),
                                role_definition_id: role.to_string(),
                                eligible,
                                delegated_role_definition_ids: a.strings("delegated_role_definition_ids").unwrap_or_default(),
                            });
                        }
                    }
                    Err(()) => unknown.push(cx.omitted(key, &checks)),
                }
            }
            let id = v.known_str("id").map(str::to_string).unwrap_or_else(|| format!("/subscriptions/{subscription}/providers/Microsoft.ManagedServices/registrationAssignments/{}", cx.address));
            let delegation = LighthouseDelegation {
                id: id.clone(),
                scope: Some(format!("/subscriptions/{subscription}")),
                managed_by_tenant_id: tenant,
                managed_by_tenant_name: None,
                definition_name: Some(name_or(v, "name", cx.address)),
                authorizations,
            };
            Some((Item::AzureLighthouse { subscription, delegation }, id, unknown))
        }
        "azurerm_monitor_diagnostic_setting" => {
            let target = v.known_str("target_resource_id")?;
            let subscription = target.strip_prefix("/subscriptions/").filter(|s| !s.contains('/'))?.to_ascii_lowercase();
            let mut cats = Vec::new();
            let mut groups = Vec::new();
            for l in v.blocks("enabled_log").unwrap_or_default().iter().chain(v.blocks("log").unwrap_or_default().iter()) {
                if l.bool_or("enabled", true).unwrap_or(true) {
                    cats.extend(l.known_str("category").map(str::to_string));
                    groups.extend(l.known_str("category_group").map(str::to_string));
                }
            }
            // A destination known only after apply (a new workspace) is still a destination.
            let dest = |k: &str| match v.get(k) {
                Tv::Known(d) => d.as_str().map(str::to_string),
                Tv::Unknown => Some(format!("(known after apply: {k})")),
                Tv::Null => None,
            };
            let name = name_or(v, "name", cx.address);
            let id = format!("{target}/providers/microsoft.insights/diagnosticSettings/{name}");
            let setting = DiagnosticSetting {
                id: id.clone(),
                name,
                enabled_categories: cats,
                enabled_category_groups: groups,
                workspace_id: dest("log_analytics_workspace_id"),
                storage_account_id: dest("storage_account_id"),
                event_hub_authorization_rule_id: dest("eventhub_authorization_rule_id"),
                marketplace_partner_id: dest("partner_solution_id"),
            };
            Some((Item::AzureDiagnostic { subscription, setting }, id, unknown))
        }
        "azuread_application_password" | "azuread_application_certificate" => {
            let checks = ["azure_entra_app_credential_lifetime_limited"];
            // The application: by object id when known, else the azuread_application it references.
            let app_ref = cx.reference("application_id", "azuread_application").or_else(|| cx.reference("application_object_id", "azuread_application"));
            let known_id = v.known_str("application_id").or_else(|| v.known_str("application_object_id")).map(|s| s.trim_start_matches("/applications/").to_string());
            let (app_id, display_name) = match (&known_id, &app_ref) {
                (Some(id), _) => (id.clone(), app_ref.as_ref().and_then(|a| cx.index.after(a)).and_then(|a| a.get("display_name")).and_then(Value::as_str).unwrap_or(id).to_string()),
                (None, Some(a)) => (a.clone(), cx.index.after(a).and_then(|x| x.get("display_name")).and_then(Value::as_str).unwrap_or(a).to_string()),
                (None, None) => (cx.address.to_string(), cx.address.to_string()),
            };
            let start = v.known_str("start_date").and_then(|s| Timestamp::parse(s).ok());
            let end = match v.get("end_date") {
                Tv::Known(e) => e.as_str().and_then(|s| Timestamp::parse(s).ok()),
                _ => match v.known_str("end_date_relative").and_then(go_duration) {
                    // Relative to the apply: measured from the scan time by the check's `now`.
                    Some(d) => Timestamp::from_unix(Timestamp::now().unix_millis() / 1000 + d.whole_seconds(), 0),
                    None => {
                        if matches!(v.get("end_date"), Tv::Unknown) {
                            unknown.push(cx.omitted("end_date", &checks));
                        }
                        None
                    }
                },
            };
            let end_unknown = unknown.iter().any(|u| u.attribute == "end_date");
            let credential = AzureCredential {
                key_id: v.known_str("key_id").unwrap_or(cx.address).to_string(),
                kind: if rtype.ends_with("certificate") { "certificate".into() } else { "secret".into() },
                display_name: v.known_str("display_name").map(str::to_string),
                start,
                end,
            };
            let app = EntraServicePrincipal { id: app_id.clone(), app_id: app_id.clone(), display_name, kind: "application".into(), owner_tenant_id: None, credentials: Vec::new(), account_enabled: None, created: None };
            // A credential whose end is unknown is left out: the others are still judged.
            let credential = (!end_unknown).then_some(credential);
            Some((Item::AzureAppCredential { app, credential }, app_id, unknown))
        }
        "google_project_iam_member" | "google_project_iam_binding" => {
            let checks = ["gcp_iam_no_public_access", "gcp_iam_members_in_allowed_domains", "gcp_iam_service_account_not_privileged"];
            let project = gcp_project(cx);
            let role = match v.get("role") {
                Tv::Known(r) => r.as_str().unwrap_or_default().to_string(),
                _ => {
                    unknown.push(cx.omitted("role", &checks));
                    "(known after apply)".to_string()
                }
            };
            let members = binding_members(cx, rtype, &checks, &mut unknown);
            let condition_expression = v.block("condition").ok().flatten().and_then(|c| c.known_str("expression").map(str::to_string));
            let id = format!("//cloudresourcemanager.googleapis.com/projects/{project}");
            Some((Item::GcpBinding { project, binding: IamBinding { role, members, condition_expression }, authoritative: rtype.ends_with("_binding") }, id, unknown))
        }
        "google_project_iam_policy" => {
            let checks = ["gcp_iam_no_public_access", "gcp_iam_members_in_allowed_domains", "gcp_iam_service_account_not_privileged"];
            let project = gcp_project(cx);
            // policy_data: the JSON of a google_iam_policy data source ({"bindings": [...], "auditConfigs": [...]}).
            let parsed = match v.get("policy_data") {
                Tv::Known(Value::String(text)) => serde_json::from_str::<Value>(text).ok(),
                _ => None,
            };
            let mut policy = IamPolicy::default();
            match parsed {
                Some(doc) => {
                    for b in doc.get("bindings").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                        policy.bindings.push(IamBinding {
                            role: b.get("role").and_then(Value::as_str).unwrap_or_default().to_string(),
                            members: b.get("members").and_then(Value::as_array).map(|m| m.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
                            condition_expression: b.pointer("/condition/expression").and_then(Value::as_str).map(str::to_string),
                        });
                    }
                    for a in doc.get("auditConfigs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                        for c in a.get("auditLogConfigs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                            policy.audit_configs.push(AuditConfig {
                                service: a.get("service").and_then(Value::as_str).unwrap_or("allServices").to_string(),
                                log_types: c.get("logType").and_then(Value::as_str).map(|t| vec![t.to_string()]).unwrap_or_default(),
                                exempted_members: c.get("exemptedMembers").and_then(Value::as_array).map(|m| m.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
                            });
                        }
                    }
                }
                // Unknown or unreadable: the policy replaces everything, so nothing can be said.
                None => unknown.push(cx.unknown("policy_data", &checks)),
            }
            let id = format!("//cloudresourcemanager.googleapis.com/projects/{project}");
            Some((Item::GcpProjectPolicy { project, policy }, id, unknown))
        }
        "google_service_account_iam_member" | "google_service_account_iam_binding" => {
            let checks = ["gcp_iam_impersonation_inside_organization"];
            let (project, email) = service_account_of(cx, "service_account_id")?;
            let role = match v.get("role") {
                Tv::Known(r) => r.as_str().unwrap_or_default().to_string(),
                _ => {
                    unknown.push(cx.unknown("role", &checks));
                    "roles/iam.serviceAccountTokenCreator".to_string()
                }
            };
            let members = binding_members(cx, rtype, &checks, &mut unknown);
            let id = format!("//iam.googleapis.com/projects/{project}/serviceAccounts/{email}");
            Some((Item::GcpSaBinding { project, email, binding: IamBinding { role, members, condition_expression: None }, authoritative: rtype.ends_with("_binding") }, id, unknown))
        }
        "google_service_account_key" => {
            let (project, email) = service_account_of(cx, "service_account_id")?;
            let key = ServiceAccountKey {
                name: v.known_str("name").unwrap_or(cx.address).to_string(),
                key_type: "USER_MANAGED".into(),
                key_origin: Some(if v.known_str("public_key_data").is_some() { "USER_PROVIDED".into() } else { "GOOGLE_PROVIDED".into() }),
                valid_after: v.known_str("valid_after").and_then(|s| Timestamp::parse(s).ok()),
                valid_before: v.known_str("valid_before").and_then(|s| Timestamp::parse(s).ok()),
                disabled: false,
            };
            let id = format!("//iam.googleapis.com/projects/{project}/serviceAccounts/{email}");
            Some((Item::GcpKey { project, email, key }, id, unknown))
        }
        "google_project_iam_audit_config" => {
            let project = gcp_project(cx);
            let service = v.known_str("service").unwrap_or("allServices").to_string();
            let mut log_types = Vec::new();
            let mut exempted = Vec::new();
            for c in v.blocks("audit_log_config").unwrap_or_default() {
                log_types.extend(c.known_str("log_type").map(str::to_string));
                exempted.extend(c.strings("exempted_members").unwrap_or_default());
            }
            let id = format!("//cloudresourcemanager.googleapis.com/projects/{project}");
            Some((Item::GcpAuditConfig { project, config: AuditConfig { service, log_types, exempted_members: exempted } }, id, unknown))
        }
        _ => None,
    }
}

/// The members of a `google_*_iam_member` (one) or `_iam_binding` (a list). A member known only
/// after apply is left out (and recorded), unless it is a service account this plan creates.
fn binding_members(cx: &Ctx, rtype: &str, checks: &[&str], unknown: &mut Vec<UnknownAttr>) -> Vec<String> {
    if rtype.ends_with("_member") {
        match (cx.v.get("member"), planned_service_account(cx, "member")) {
            (Tv::Known(m), _) => vec![m.as_str().unwrap_or_default().to_string()],
            // `member = google_service_account.x.member`: a service account of this plan.
            (_, Some(email)) => vec![format!("serviceAccount:{email}")],
            _ => {
                unknown.push(cx.omitted("member", checks));
                Vec::new()
            }
        }
    } else {
        cx.v.strings("members").unwrap_or_else(|_| {
            unknown.push(cx.omitted("members", checks));
            Vec::new()
        })
    }
}

/// `/subscriptions/<id>/…` → `<id>` (lowercase).
fn subscription_of(scope: &str) -> Option<String> {
    let rest = scope.strip_prefix("/subscriptions/")?;
    let id = rest.split('/').next()?;
    crate::inventory::azure::is_guid(id).then(|| id.to_ascii_lowercase())
}

fn gcp_project(cx: &Ctx) -> String {
    cx.v.known_str("project")
        .map(|p| p.trim_start_matches("projects/").to_string())
        .or_else(|| cx.config.provider_constant("google", "project"))
        .unwrap_or_else(|| PLAN_SCOPE.to_string())
}

/// The project and email of the service account an attribute names: `projects/p/serviceAccounts/e`,
/// an email, or a reference to a `google_service_account` of the plan.
fn service_account_of(cx: &Ctx, key: &str) -> Option<(String, String)> {
    if let Some(s) = cx.v.known_str(key) {
        if let Some(rest) = s.strip_prefix("projects/") {
            let (p, e) = rest.split_once("/serviceAccounts/")?;
            let project = if p == "-" { e.split('@').nth(1).and_then(|d| d.strip_suffix(".iam.gserviceaccount.com")).unwrap_or(p) } else { p };
            return Some((project.to_string(), e.to_string()));
        }
        if s.contains('@') {
            let project = s.split('@').nth(1).and_then(|d| d.strip_suffix(".iam.gserviceaccount.com")).map(str::to_string).unwrap_or_else(|| gcp_project(cx));
            return Some((project, s.to_string()));
        }
    }
    let email = planned_service_account(cx, key)?;
    let project = email.split('@').nth(1).and_then(|d| d.strip_suffix(".iam.gserviceaccount.com")).map(str::to_string).unwrap_or_else(|| gcp_project(cx));
    Some((project, email))
}

/// The email of a `google_service_account` of this plan that an attribute references.
fn planned_service_account(cx: &Ctx, key: &str) -> Option<String> {
    let sa = cx.reference(key, "google_service_account")?;
    let after = cx.index.after(&sa)?;
    let account_id = after.get("account_id").and_then(Value::as_str)?;
    let project = after.get("project").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| gcp_project(cx));
    Some(format!("{account_id}@{project}.iam.gserviceaccount.com"))
}

/// Go durations as the azuread provider takes them: `8760h`, `240h30m`.
fn go_duration(s: &str) -> Option<time::Duration> {
    let mut total = 0i64;
    let mut num = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        total = total.checked_add(match c {
            'h' => n.checked_mul(3600)?,
            'm' => n.checked_mul(60)?,
            's' => n,
            _ => return None,
        })?;
    }
    (num.is_empty() && total > 0).then(|| time::Duration::seconds(total))
}

// ----------------------------------------------------------------------------------- configuration

/// The plan's `configuration`: provider constants, reference expressions, and module directories
/// (to find a resource's `.tf` file and line).
struct Config<'a> {
    doc: &'a Value,
    root: Option<PathBuf>,
}

impl<'a> Config<'a> {
    fn new(doc: &'a Value, root: Option<&Path>) -> Self {
        Config { doc, root: root.map(Path::to_path_buf) }
    }

    /// `provider "aws" { region = "eu-west-1" }` → `eu-west-1` (a constant only; a variable is unknown).
    fn provider_constant(&self, provider: &str, key: &str) -> Option<String> {
        let pc = self.doc.pointer("/configuration/provider_config")?.as_object()?;
        pc.iter()
            .filter(|(k, p)| *k == provider || p.get("name").and_then(Value::as_str) == Some(provider))
            .find_map(|(_, p)| p.pointer(&format!("/expressions/{key}/constant_value")).and_then(Value::as_str).map(str::to_string))
    }

    /// The configuration module of an address, and the directory it lives in (relative to root).
    fn module(&self, address: &str) -> Option<(&'a Value, Option<PathBuf>)> {
        let mut module = self.doc.pointer("/configuration/root_module")?;
        let mut dir = self.root.clone();
        let prefix = module_prefix(address);
        for call in prefix.split("module.").filter(|s| !s.is_empty()) {
            let name = call.trim_end_matches('.');
            let name = name.split('[').next().unwrap_or(name);
            let c = module.get("module_calls")?.get(name)?;
            let source = c.get("source").and_then(Value::as_str).unwrap_or("");
            dir = match (&dir, source.starts_with("./") || source.starts_with("../")) {
                (Some(d), true) => Some(d.join(source)),
                _ => None,
            };
            module = c.get("module")?;
        }
        Some((module, dir))
    }

    /// The configuration block of a resource (`aws_iam_role.deploy`, whatever its index).
    fn resource(&self, address: &str) -> Option<(&'a Value, Option<PathBuf>)> {
        let (module, dir) = self.module(address)?;
        let local = address.strip_prefix(&module_prefix(address)).unwrap_or(address);
        let local = local.split('[').next().unwrap_or(local);
        let r = module.get("resources")?.as_array()?.iter().find(|r| r.get("address").and_then(Value::as_str) == Some(local))?;
        Some((r, dir))
    }

    fn references(&self, address: &str, attribute: &str) -> Vec<String> {
        self.resource(address)
            .and_then(|(r, _)| r.pointer(&format!("/expressions/{attribute}/references")).and_then(Value::as_array).cloned())
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    /// The `.tf` file and line of `resource "TYPE" "NAME"`, from the module's directory.
    fn location(&self, address: &str, rtype: &str) -> Option<(String, Option<u32>)> {
        let (_, dir) = self.resource(address)?;
        let dir = dir?;
        let local = address.strip_prefix(&module_prefix(address)).unwrap_or(address);
        let name = local.split('[').next()?.strip_prefix(&format!("{rtype}."))?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "tf")).collect();
        files.sort();
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else { continue };
            for (i, line) in text.lines().enumerate() {
                let words: Vec<&str> = line.split_whitespace().collect();
                if words.len() >= 3 && words[0] == "resource" && words[1].trim_matches('"') == rtype && words[2].trim_matches('"') == name {
                    return Some((display_path(&f), u32::try_from(i + 1).ok()));
                }
            }
        }
        None
    }
}

/// A path relative to the working directory when it is inside it (what SARIF consumers resolve
/// against the repository), with `/` separators and `..` folded.
fn display_path(p: &Path) -> String {
    let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let rel = std::env::current_dir().ok().and_then(|cwd| std::fs::canonicalize(cwd).ok()).and_then(|cwd| abs.strip_prefix(&cwd).ok().map(Path::to_path_buf));
    let shown = rel.unwrap_or(abs);
    shown.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

// ----------------------------------------------------------------------------------- applying

impl Plan {
    /// The checks a plan-only scan of this plan runs: those judging the resource types it plans
    /// (deletions aside: a resource about to be gone is not judged on its own).
    pub fn checks(&self) -> BTreeSet<String> {
        self.changes.iter().filter(|c| c.action != Action::Delete).flat_map(|c| c.planned.checks.iter().cloned()).collect()
    }

    pub fn describe(&self) -> String {
        let count = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        let mut s = format!(
            "terraform plan {}: {} supported resource(s) ({} to create, {} to update, {} to replace, {} to delete, {} unchanged)",
            self.origin,
            self.changes.len(),
            count(Action::Create),
            count(Action::Update),
            count(Action::Replace),
            count(Action::Delete),
            count(Action::NoOp)
        );
        if !self.unsupported.is_empty() {
            let n: usize = self.unsupported.values().sum();
            s.push_str(&format!("; {n} other resource(s) not read"));
        }
        if !self.deferred.is_empty() {
            s.push_str(&format!("; {} change(s) deferred by Terraform, not judged: {}", self.deferred.len(), self.deferred.join(", ")));
        }
        s
    }

    /// Apply the plan: on top of `inv` (live or file sources), or, when `inv` is empty, as an
    /// inventory of its own (plan only). In a plan-only inventory, only the datasets the plan's
    /// items belong to are collected, holding exactly the planned items. Returns the addresses of
    /// changes no live scope matched (they are judged in a scope of their own).
    pub fn apply(&self, inv: &mut Inventory) -> Vec<String> {
        let plan_only = inv.aws.accounts.is_empty() && inv.azure.tenants.is_empty() && inv.gcp.projects.is_empty();
        let mut unplaced = Vec::new();
        // Policies before their attachments, whatever order the plan lists them in.
        let (attachments, rest): (Vec<&Change>, Vec<&Change>) = self.changes.iter().partition(|c| matches!(c.item, Item::AwsScpAttachment { .. }));
        for c in rest.into_iter().chain(attachments) {
            if !apply_one(inv, c, plan_only, self) {
                // No live scope is the one the plan changes: judge it on its own rather than drop it.
                apply_one(inv, c, true, self);
                unplaced.push(c.planned.address.clone());
            }
        }
        inv.terraform.extend(self.changes.iter().map(|c| c.planned.clone()));
        inv.sources.push(self.describe());
        unplaced
    }
}

/// The collected list of a dataset to change: in a plan-only inventory a missing dataset starts
/// empty; on top of a live source a dataset that was not read stays a gap (a plan does not fill it).
fn list<T: Default>(c: &mut Collected<T>, plan_only: bool) -> Option<&mut T> {
    if plan_only && !matches!(c, Collected::Collected(_)) {
        *c = Collected::Collected(T::default());
    }
    match c {
        Collected::Collected(v) => Some(v),
        _ => None,
    }
}

fn upsert<T>(items: &mut Vec<T>, item: T, same: impl Fn(&T) -> bool, delete: bool) {
    items.retain(|x| !same(x));
    if !delete {
        items.push(item);
    }
}

fn aws_account<'i>(inv: &'i mut Inventory, plan: &Plan, plan_only: bool) -> Option<&'i mut AwsAccount> {
    let want = plan.aws_account.clone();
    let accounts = &mut inv.aws.accounts;
    let pos = match &want {
        Some(a) => accounts.iter().position(|x| &x.account_id == a),
        // Unknown account: the only live account if there is exactly one.
        None => (accounts.len() == 1).then_some(0),
    };
    match pos {
        Some(i) => Some(&mut accounts[i]),
        None if plan_only || accounts.is_empty() => {
            if !plan_only {
                return None;
            }
            accounts.push(AwsAccount::new(want.unwrap_or_else(|| PLAN_SCOPE.to_string())));
            accounts.last_mut()
        }
        None => None,
    }
}

fn aws_region<'a>(acct: &'a mut AwsAccount, region: &str, plan_only: bool) -> Option<&'a mut AwsRegion> {
    if let Some(i) = acct.regions.iter().position(|r| r.region == region) {
        return Some(&mut acct.regions[i]);
    }
    if !plan_only {
        return None;
    }
    acct.regions.push(AwsRegion::new(region));
    acct.regions.last_mut()
}

fn azure_subscription<'a>(inv: &'a mut Inventory, plan: &Plan, sub: &str, plan_only: bool) -> Option<&'a mut AzureSubscription> {
    let t = inv.azure.tenants.iter().position(|t| t.subscriptions.iter().any(|s| s.subscription_id.eq_ignore_ascii_case(sub)));
    if let Some(t) = t {
        let s = inv.azure.tenants[t].subscriptions.iter().position(|s| s.subscription_id.eq_ignore_ascii_case(sub))?;
        return Some(&mut inv.azure.tenants[t].subscriptions[s]);
    }
    if !plan_only {
        return None;
    }
    let tenant = azure_tenant(inv, plan, true)?;
    tenant.subscriptions.push(AzureSubscription::new(sub));
    tenant.subscriptions.last_mut()
}

fn azure_tenant<'a>(inv: &'a mut Inventory, plan: &Plan, plan_only: bool) -> Option<&'a mut AzureTenant> {
    let pos = match &plan.azure_tenant {
        Some(t) => inv.azure.tenants.iter().position(|x| x.tenant_id.eq_ignore_ascii_case(t)),
        None => (inv.azure.tenants.len() == 1).then_some(0),
    };
    match pos {
        Some(i) => Some(&mut inv.azure.tenants[i]),
        None if plan_only => {
            inv.azure.tenants.push(AzureTenant::new(plan.azure_tenant.clone().unwrap_or_else(|| PLAN_SCOPE.to_string())));
            inv.azure.tenants.last_mut()
        }
        None => None,
    }
}

fn gcp_project_mut<'a>(inv: &'a mut Inventory, project: &str, plan_only: bool) -> Option<&'a mut GcpProject> {
    if let Some(i) = inv.gcp.projects.iter().position(|p| p.project_id == project) {
        return Some(&mut inv.gcp.projects[i]);
    }
    if !plan_only {
        return None;
    }
    if inv.gcp.hierarchy.is_not_requested() {
        inv.gcp.hierarchy = Collected::Collected(Vec::new());
    }
    // A plan alone says nothing of the folders and organization above a project: plan-only
    // scans judge the planned project's own policy, placed at the top of its own tree (with
    // `--inventory`, the project read there keeps its real place).
    if let Collected::Collected(tree) = &mut inv.gcp.hierarchy {
        if !tree.iter().any(|n| n.id == project) {
            tree.push(crate::inventory::ScopeNode { id: project.to_string(), name: Some(project.to_string()), kind: crate::inventory::ScopeKind::GcpProject, parent: None, state: None });
        }
    }
    inv.gcp.projects.push(GcpProject {
        project_id: project.to_string(),
        name: project.to_string(),
        parent: None,
        iam_policy: Collected::NotRequested,
        service_accounts: Collected::NotRequested,
        org_policies: Collected::NotRequested,
        sinks: Collected::NotRequested,
        custom_roles: Collected::NotRequested,
    });
    inv.gcp.projects.last_mut()
}

fn service_account<'a>(accounts: &'a mut Vec<ServiceAccount>, email: &str) -> &'a mut ServiceAccount {
    if let Some(i) = accounts.iter().position(|s| s.email.eq_ignore_ascii_case(email)) {
        return &mut accounts[i];
    }
    accounts.push(ServiceAccount { email: email.to_string(), unique_id: email.to_string(), disabled: false, keys: Vec::new(), iam_policy: Collected::Collected(IamPolicy::default()) });
    accounts.last_mut().expect("just pushed")
}

fn apply_one(inv: &mut Inventory, c: &Change, plan_only: bool, plan: &Plan) -> bool {
    let delete = c.action == Action::Delete;
    if plan_only && delete {
        // A plan-only view has nothing to delete from; the resource is simply not there after apply.
        return true;
    }
    match &c.item {
        Item::AwsRole(role) => {
            let Some(a) = aws_account(inv, plan, plan_only) else { return false };
            if let Some(d) = list::<AuthorizationDetails>(&mut a.authorization_details, plan_only) {
                upsert(&mut d.roles, role.clone(), |r| r.arn == role.arn || r.name == role.name, delete);
            }
        }
        Item::AwsOidc(p) => {
            let Some(a) = aws_account(inv, plan, plan_only) else { return false };
            if let Some(d) = list::<IdentityProviders>(&mut a.identity_providers, plan_only) {
                upsert(&mut d.oidc, p.clone(), |x| x.arn == p.arn || (x.url.is_some() && x.url == p.url), delete);
            }
        }
        Item::AwsPasswordPolicy(p) => {
            let Some(a) = aws_account(inv, plan, plan_only) else { return false };
            if plan_only || matches!(a.password_policy, Collected::Collected(_)) {
                a.password_policy = Collected::Collected(if delete { None } else { Some(p.clone()) });
            }
        }
        Item::AwsTrail { region, trail } => {
            let Some(a) = aws_account(inv, plan, plan_only) else { return false };
            // A trail is seen from every region it covers; update it wherever it appears.
            let regions: Vec<String> = if plan_only { vec![region.clone()] } else { a.regions.iter().map(|r| r.region.clone()).collect() };
            if !regions.iter().any(|r| r == &trail.home_region || r == region) {
                return false;
            }
            for r in regions {
                let Some(reg) = aws_region(a, &r, plan_only) else { continue };
                if let Some(list) = list::<Vec<Trail>>(&mut reg.cloudtrail, plan_only) {
                    let visible = trail.multi_region || r == trail.home_region || list.iter().any(|t| t.arn == trail.arn || t.name == trail.name);
                    if visible || plan_only {
                        upsert(list, trail.clone(), |t| t.arn == trail.arn || t.name == trail.name, delete);
                    }
                }
            }
        }
        Item::AwsInstance { region, instance } => {
            let Some(a) = aws_account(inv, plan, plan_only) else { return false };
            let Some(reg) = aws_region(a, region, plan_only) else { return false };
            if let Some(m) = list::<Ec2Metadata>(&mut reg.ec2_metadata, plan_only) {
                upsert(&mut m.instances, instance.clone(), |i| i.instance_id == instance.instance_id, delete);
            }
        }
        Item::AwsMetadataDefaults { region, defaults } => {
            let Some(a) = aws_account(inv, plan, plan_only) else { return false };
            let Some(reg) = aws_region(a, region, plan_only) else { return false };
            if plan_only || matches!(reg.ec2_metadata_defaults, Collected::Collected(_)) {
                reg.ec2_metadata_defaults = Collected::Collected(if delete { Ec2MetadataDefaults::default() } else { defaults.clone() });
            }
        }
        Item::AwsAccessKey { user } => {
            if plan_only {
                return true;
            }
            let Some(a) = aws_account(inv, plan, plan_only) else { return false };
            let Some(report) = list::<CredentialReport>(&mut a.credential_report, false) else { return true };
            let now = ReportTime::At(Timestamp::now());
            if let Some(row) = report.rows.iter_mut().find(|r| &r.user == user) {
                if delete {
                    // Which slot holds the deleted key is not in the report: keep both (a key still
                    // counted can only fail a check, never pass one).
                    return true;
                }
                if let Some(slot) = row.access_keys.iter_mut().find(|k| !k.active) {
                    *slot = AccessKeySlot { active: true, last_rotated: now, ..AccessKeySlot::default() };
                }
            }
        }
        Item::AwsScp { id, name, document } => {
            if plan_only {
                return true;
            }
            let Collected::Collected(Some(org)) = &mut inv.aws.organization else { return true };
            let targets = org.scps.iter().find(|p| &p.id == id).map(|p| p.targets.clone()).unwrap_or_default();
            org.scps.retain(|p| &p.id != id);
            // Content known only after apply counts as no guardrail: it cannot be credited.
            if let (false, Some(document)) = (delete, document) {
                let arn = format!("arn:aws:organizations::{}:policy/{id}", org.management_account_id);
                org.scps.push(ServiceControlPolicy { id: id.clone(), name: name.clone(), arn, aws_managed: false, document: document.clone(), targets });
            }
        }
        Item::AwsScpAttachment { policy, target } => {
            if plan_only {
                return true;
            }
            let Collected::Collected(Some(org)) = &mut inv.aws.organization else { return true };
            if let Some(p) = org.scps.iter_mut().find(|p| &p.id == policy) {
                p.targets.retain(|t| t != target);
                if !delete {
                    p.targets.push(target.clone());
                }
            }
        }
        Item::GcpOrgPolicy { project, constraint, policy } => {
            if plan_only {
                return true;
            }
            let Some(p) = gcp_project_mut(inv, project, false) else { return false };
            let Some(list) = list::<Vec<OrgPolicy>>(&mut p.org_policies, false) else { return true };
            list.retain(|x| &x.constraint != constraint);
            if let (false, Some(policy)) = (delete, policy) {
                list.push(policy.clone());
            }
        }
        Item::AzureRoleDefinition { subscription, definition } => {
            let Some(s) = azure_subscription(inv, plan, subscription, plan_only) else { return false };
            if let Some(l) = list::<Vec<AzureRoleDefinition>>(&mut s.role_definitions, plan_only) {
                upsert(l, definition.clone(), |d| d.id.eq_ignore_ascii_case(&definition.id) || (d.is_custom() && d.role_name == definition.role_name), delete);
            }
        }
        Item::AzureLighthouse { subscription, delegation } => {
            let Some(s) = azure_subscription(inv, plan, subscription, plan_only) else { return false };
            if let Some(l) = list::<Vec<LighthouseDelegation>>(&mut s.lighthouse, plan_only) {
                upsert(l, delegation.clone(), |d| d.id.eq_ignore_ascii_case(&delegation.id) || (d.definition_name.is_some() && d.definition_name == delegation.definition_name), delete);
            }
        }
        Item::AzureDiagnostic { subscription, setting } => {
            let Some(s) = azure_subscription(inv, plan, subscription, plan_only) else { return false };
            if let Some(l) = list::<Vec<DiagnosticSetting>>(&mut s.diagnostic_settings, plan_only) {
                upsert(l, setting.clone(), |d| d.name.eq_ignore_ascii_case(&setting.name), delete);
            }
        }
        Item::AzureAppCredential { app, credential } => {
            let Some(t) = azure_tenant(inv, plan, plan_only) else { return false };
            // The check reads service principals' credentials too: a plan-only tenant has the
            // plan's (none), not an unread list.
            list::<Vec<EntraServicePrincipal>>(&mut t.service_principals, plan_only);
            let Some(apps) = list::<Vec<EntraServicePrincipal>>(&mut t.applications, plan_only) else { return true };
            let a = match apps.iter().position(|a| a.id.eq_ignore_ascii_case(&app.id) || a.app_id.eq_ignore_ascii_case(&app.app_id)) {
                Some(i) => &mut apps[i],
                None => {
                    if delete {
                        return true;
                    }
                    apps.push(app.clone());
                    apps.last_mut().expect("just pushed")
                }
            };
            if let Some(credential) = credential {
                upsert(&mut a.credentials, credential.clone(), |k| k.key_id == credential.key_id, delete);
            }
        }
        Item::GcpBinding { project, binding, authoritative } => {
            let Some(p) = gcp_project_mut(inv, project, plan_only) else { return false };
            let Some(pol) = list::<IamPolicy>(&mut p.iam_policy, plan_only) else { return true };
            if *authoritative {
                // google_project_iam_binding owns every member of its role.
                pol.bindings.retain(|b| b.role != binding.role || b.condition_expression != binding.condition_expression);
                if !delete {
                    pol.bindings.push(binding.clone());
                }
            } else {
                for m in &binding.members {
                    match pol.bindings.iter_mut().find(|b| b.role == binding.role && b.condition_expression == binding.condition_expression) {
                        Some(b) if delete => b.members.retain(|x| x != m),
                        Some(b) if !b.members.contains(m) => b.members.push(m.clone()),
                        Some(_) => {}
                        None if !delete => pol.bindings.push(binding.clone()),
                        None => {}
                    }
                }
            }
        }
        Item::GcpProjectPolicy { project, policy } => {
            let Some(p) = gcp_project_mut(inv, project, plan_only) else { return false };
            let Some(pol) = list::<IamPolicy>(&mut p.iam_policy, plan_only) else { return true };
            // Authoritative: it replaces the project's bindings and audit configuration.
            *pol = if delete { IamPolicy::default() } else { policy.clone() };
        }
        Item::GcpSaBinding { project, email, binding, authoritative } => {
            let Some(p) = gcp_project_mut(inv, project, plan_only) else { return false };
            let Some(sas) = list::<Vec<ServiceAccount>>(&mut p.service_accounts, plan_only) else { return true };
            let sa = service_account(sas, email);
            let Some(pol) = list::<IamPolicy>(&mut sa.iam_policy, true) else { return true };
            if *authoritative {
                pol.bindings.retain(|b| b.role != binding.role);
                if !delete {
                    pol.bindings.push(binding.clone());
                }
            } else if delete {
                for b in pol.bindings.iter_mut().filter(|b| b.role == binding.role) {
                    b.members.retain(|m| !binding.members.contains(m));
                }
            } else {
                match pol.bindings.iter_mut().find(|b| b.role == binding.role) {
                    Some(b) => b.members.extend(binding.members.iter().filter(|m| !b.members.contains(m)).cloned().collect::<Vec<_>>()),
                    None => pol.bindings.push(binding.clone()),
                }
            }
        }
        Item::GcpKey { project, email, key } => {
            let Some(p) = gcp_project_mut(inv, project, plan_only) else { return false };
            let Some(sas) = list::<Vec<ServiceAccount>>(&mut p.service_accounts, plan_only) else { return true };
            let sa = service_account(sas, email);
            upsert(&mut sa.keys, key.clone(), |k| k.name == key.name, delete);
        }
        Item::GcpAuditConfig { project, config } => {
            let Some(p) = gcp_project_mut(inv, project, plan_only) else { return false };
            let Some(pol) = list::<IamPolicy>(&mut p.iam_policy, plan_only) else { return true };
            upsert(&mut pol.audit_configs, config.clone(), |a| a.service == config.service, delete);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_never_panic() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plans");
        let odd = [Value::Null, Value::from(1), Value::from("x"), serde_json::json!([]), serde_json::json!({}), serde_json::json!([1, {"a": null}]), Value::from(true)];
        for cloud in ["aws", "azure", "gcp"] {
            let text = std::fs::read_to_string(format!("{dir}/{cloud}/plan.json")).unwrap();
            let base: Value = serde_json::from_str(&text).unwrap();
            let n = base["resource_changes"].as_array().unwrap().len();
            for i in 0..n {
                let keys: Vec<String> = base["resource_changes"][i]["change"]["after"].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                for k in keys.iter().chain(["after_unknown".to_string()].iter()) {
                    for v in &odd {
                        let mut doc = base.clone();
                        if k == "after_unknown" {
                            doc["resource_changes"][i]["change"]["after_unknown"] = v.clone();
                        } else {
                            doc["resource_changes"][i]["change"]["after"][k] = v.clone();
                            doc["resource_changes"][i]["change"]["after_unknown"][k] = v.clone();
                        }
                        if let Ok(plan) = parse(&doc.to_string(), "p.json", None) {
                            let mut inv = Inventory::default();
                            plan.apply(&mut inv);
                        }
                    }
                }
            }
            // Whole sections of the wrong type.
            for key in ["resource_changes", "configuration", "prior_state"] {
                for v in &odd {
                    let mut doc = base.clone();
                    doc[key] = v.clone();
                    let _ = parse(&doc.to_string(), "p.json", None);
                }
            }
        }
    }

    #[test]
    fn module_prefixes_and_durations() {
        assert_eq!(module_prefix("module.a.module.b[\"x\"].aws_iam_role.r[0]"), "module.a.module.b[\"x\"].");
        assert_eq!(module_prefix("aws_iam_role.r"), "");
        assert_eq!(go_duration("8760h"), Some(time::Duration::hours(8760)));
        assert_eq!(go_duration("1h30m"), Some(time::Duration::minutes(90)));
        assert_eq!(go_duration("10d"), None);
        assert_eq!(go_duration(""), None);
    }

    #[test]
    fn refuses_what_is_not_a_plan() {
        for (text, want) in [
            ("not json", "not JSON"),
            ("{}", "no format_version"),
            ("{\"format_version\": \"1.0\", \"values\": {}}", "not a plan"),
            ("{\"format_version\": \"9.0\", \"resource_changes\": []}", "not supported"),
            ("{\"format_version\": \"1.2\", \"resource_changes\": [{\"type\": \"aws_iam_role\", \"address\": \"aws_iam_role.r\", \"change\": {\"actions\": []}}]}", "no actions"),
            ("{\"format_version\": \"1.2\", \"errored\": true, \"resource_changes\": []}", "could not finish"),
        ] {
            let e = parse(text, "p.json", None).unwrap_err().to_string();
            assert!(e.starts_with("p.json") && e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn unknown_values_are_never_secure() {
        let text = r#"{"format_version":"1.2","resource_changes":[
          {"address":"aws_instance.web","mode":"managed","type":"aws_instance","name":"web","provider_name":"registry.terraform.io/hashicorp/aws",
           "change":{"actions":["create"],"after":{"metadata_options":[{"http_endpoint":"enabled"}]},"after_unknown":{"id":true,"metadata_options":[{"http_tokens":true}]}}},
          {"address":"aws_cloudtrail.t","mode":"managed","type":"aws_cloudtrail","name":"t",
           "change":{"actions":["create"],"after":{"name":"t","enable_log_file_validation":true},"after_unknown":{"kms_key_id":true,"arn":true}}}]}"#;
        let plan = parse(text, "p.json", None).unwrap();
        let web = &plan.changes[0];
        let Item::AwsInstance { instance, .. } = &web.item else { panic!() };
        assert_eq!(instance.http_tokens, "optional", "the placeholder is the insecure value");
        assert_eq!(web.planned.unknown[0].attribute, "metadata_options.http_tokens");
        assert_eq!(web.planned.id, "arn:aws:ec2:unknown-region:planned:instance/aws_instance.web");
        let t = &plan.changes[1];
        assert_eq!(t.planned.unknown.len(), 1);
        assert_eq!(t.planned.unknown[0].checks, ["aws_cloudtrail_kms_encryption"]);
    }
}
