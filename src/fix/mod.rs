//! Fixes: reviewable artifacts for the failing findings, rendered with minijinja from
//! `templates/fixes/<cloud>/`. A check's metadata names its templates (`fix = [...]`); each template
//! `<name>.json.j2` has a sibling `<name>.toml` saying what it prevents and what it would affect.
//!
//! Fixes are never applied: they are files a person reviews (a README per directory says how to
//! apply and how to roll back each one). Data walks one way here too: findings and the inventory
//! in, artifacts out.

pub mod aws;

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

macro_rules! aws_template {
    ($name:literal) => {
        (
            concat!("aws/", $name),
            include_str!(concat!("../../templates/fixes/aws/", $name, ".json.j2")),
            include_str!(concat!("../../templates/fixes/aws/", $name, ".toml")),
        )
    };
}

/// The fix templates, embedded: (cloud/name, template text, info text).
const TEMPLATES: &[(&str, &str, &str)] = &[
    aws_template!("scp_protect_cloudtrail"),
    aws_template!("scp_deny_leave_organization"),
    aws_template!("scp_deny_root_user"),
    aws_template!("scp_require_imdsv2"),
    aws_template!("scp_protect_access_analyzer"),
    aws_template!("scp_restrict_access_key_creation"),
    aws_template!("scp_protect_break_glass_roles"),
];


/// The names of every template (`aws/scp_protect_cloudtrail`, …).
pub fn template_names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(n, _, _)| *n)
}

pub(crate) fn info(name: &str) -> Result<TemplateInfo, FixError> {
    let (_, _, text) = TEMPLATES.iter().find(|(n, _, _)| *n == name).ok_or_else(|| FixError::Template { name: name.into(), message: "no such template".into() })?;
    toml::from_str(text).map_err(|e| FixError::Template { name: name.into(), message: e.to_string() })
}

/// Render a JSON template: values are JSON-encoded by the template engine (autoescape for
/// `.json`), and the result must parse.
pub(crate) fn render_json(name: &str, ctx: minijinja::Value) -> Result<serde_json::Value, FixError> {
    let (_, text, _) = TEMPLATES.iter().find(|(n, _, _)| *n == name).ok_or_else(|| FixError::Template { name: name.into(), message: "no such template".into() })?;
    let err = |message: String| FixError::Template { name: name.into(), message };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Json);
    env.add_template("t.json", text).map_err(|e| err(e.to_string()))?;
    let out = env.get_template("t.json").and_then(|t| t.render(ctx)).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&out).map_err(|e| err(format!("renders invalid JSON: {e}")))
}

/// Plan the fixes for a scan's failing findings.
pub fn plan(scan: &Scan, inv: &Inventory, opts: &FixOptions) -> Result<FixSet, FixError> {
    let mut set = FixSet::default();
    aws::plan(scan, inv, opts, &mut set)?;
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
            let ctx = minijinja::context! { exempt => vec!["arn:aws:iam::*:role/BreakGlass"], key_admins => vec!["arn:aws:iam::*:role/IdentityAdmin"] };
            let v = render_json(name, ctx).unwrap();
            assert!(v.as_array().is_some_and(|a| !a.is_empty()), "{name}: a list of statements");
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
    fn role_names_are_validated() {
        assert!(FixOptions { break_glass_roles: vec!["BreakGlass".into()], ..Default::default() }.validate().is_ok());
        assert!(FixOptions { break_glass_roles: vec!["*".into()], ..Default::default() }.validate().is_err());
        assert!(FixOptions { access_key_admin_roles: vec!["a/b".into()], ..Default::default() }.validate().is_err());
    }
}
