//! What checks may consult besides the inventory: the allow-lists that say what is trusted, and
//! freshness limits. Plain data, filled from the configuration and the command line.

use serde::{Deserialize, Serialize};

/// Settings the checks read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Accounts, organizations, tenants, domains and OIDC subjects the user declares trusted.
    pub trusted: Trusted,
    /// A credential report generated longer than this before it was read is too old to pass on.
    pub max_report_age: time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { trusted: Trusted::default(), max_report_age: time::Duration::hours(4) }
    }
}

/// What the user declares trusted: "inside" means proven inside (the organization that was read)
/// or listed here. Everything else is outside.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Trusted {
    /// AWS account ids (12 digits) outside the scanned organization that may be trusted.
    #[serde(default)]
    pub aws_accounts: Vec<String>,
    /// AWS organization ids (`o-…`) whose members may be trusted.
    #[serde(default)]
    pub aws_organizations: Vec<String>,
    /// OIDC subject patterns accepted even though they are broad (e.g. `repo:acme/*`).
    #[serde(default)]
    pub oidc_subjects: Vec<String>,
    /// Entra tenant ids allowed to manage subscriptions (Lighthouse) or be guests' home.
    #[serde(default)]
    pub azure_tenants: Vec<String>,
    /// Domains whose GCP identities are inside.
    #[serde(default)]
    pub gcp_domains: Vec<String>,
    /// GCP project ids outside the scan whose service accounts are inside (a security-tooling
    /// project, a central CI project).
    #[serde(default)]
    pub gcp_projects: Vec<String>,
}

