//! App registration and service principal secrets and certificates expire, within N days of
//! their creation, and expired ones are removed.

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::azure::{AzureTenant, EntraServicePrincipal};
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AzureApplications, Dataset::AzureServicePrincipals];
pub const PARAMS: &[&str] = &["max_lifetime_days"];

fn resource(a: &EntraServicePrincipal) -> Resource<'_> {
    let kind = if a.kind == "application" { "azure_entra_application" } else { "azure_entra_service_principal" };
    Resource { id: a.id.as_str().into(), name: a.display_name.as_str().into(), kind }
}

pub fn run<'a>(t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let apps = t.applications.require(Dataset::AzureApplications)?;
    let sps = t.service_principals.require(Dataset::AzureServicePrincipals)?;
    let limit = cx.param("max_lifetime_days");
    for a in apps.iter().chain(sps.iter()).filter(|a| !a.credentials.is_empty()) {
        let mut problems = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for c in &a.credentials {
            let before = problems.len();
            let name = c.display_name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&c.key_id);
            match (c.start, c.end) {
                (_, None) => problems.push(format!("{} {name:?} never expires", c.kind)),
                (_, Some(end)) if end < cx.now => problems.push(format!("{} {name:?} expired {} days ago and is still present", c.kind, end.days_until(cx.now))),
                (Some(start), Some(end)) if start.days_until(end) > limit => {
                    problems.push(format!("{} {name:?} is valid for {} days (limit {limit})", c.kind, start.days_until(end)))
                }
                // No start: measure from now, the most charitable reading that is still honest.
                (None, Some(end)) if cx.now.days_until(end) > limit => {
                    problems.push(format!("{} {name:?} is valid for {} more days (limit {limit})", c.kind, cx.now.days_until(end)))
                }
                _ => {}
            }
            if problems.len() > before {
                keys.push(format!("{}:{}", c.kind, c.key_id));
            }
        }
        let n = a.credentials.len();
        if problems.is_empty() {
            cx.pass(resource(a), format!("{}: {n} credential(s), each expiring within {limit} days of creation", a.display_name));
        } else {
            cx.fail(resource(a), format!("{}: {}", a.display_name, problems.join("; "))).with("credentials", n as i64).with("app_id", a.app_id.as_str()).with("problem_credentials", keys);
        }
    }
    Ok(())
}
