//! The embedded demo: a small, realistic AWS account export (authorization details, credential
//! report, password policy, account summary) with a mix of good and bad, built into the binary,
//! plus what a live scan adds (the organization and its SCPs, MFA devices, CloudTrail, Access
//! Analyzer and EC2 metadata settings in two regions) as an inventory snapshot; and a small Azure
//! tenant with two subscriptions and a small GCP organization, as `collect --azure` and
//! `collect --gcp` write them.

use crate::import::{ImportError, Texts};
use crate::inventory::Inventory;

/// When the demo export was taken (the credential report's GeneratedTime).
pub const EXPORTED_AT: &str = "2026-11-20T09:00:00Z";

const AUTHORIZATION_DETAILS: &str = include_str!("../fixtures/demo/authorization-details.json");
const CREDENTIAL_REPORT: &str = include_str!("../fixtures/demo/credential-report.csv");
const PASSWORD_POLICY: &str = include_str!("../fixtures/demo/password-policy.json");
const ACCOUNT_SUMMARY: &str = include_str!("../fixtures/demo/account-summary.json");
const ORGANIZATION_AND_REGIONS: &str = include_str!("../fixtures/demo/organization-and-regions.json");
const AZURE_TENANT: &str = include_str!("../fixtures/demo/azure-tenant.json");
const GCP_ORGANIZATION: &str = include_str!("../fixtures/demo/gcp-organization.json");

pub fn texts() -> Texts {
    Texts {
        inventory: vec![
            ("demo/organization-and-regions.json".into(), ORGANIZATION_AND_REGIONS.into()),
            ("demo/azure-tenant.json".into(), AZURE_TENANT.into()),
            ("demo/gcp-organization.json".into(), GCP_ORGANIZATION.into()),
        ],
        authorization_details: vec![("demo/authorization-details.json".into(), AUTHORIZATION_DETAILS.into())],
        credential_report: vec![("demo/credential-report.csv".into(), CREDENTIAL_REPORT.into())],
        password_policy: Some(("demo/password-policy.json".into(), PASSWORD_POLICY.into())),
        account_summary: Some(("demo/account-summary.json".into(), ACCOUNT_SUMMARY.into())),
    }
}

/// The demo inventory. Its `generated_at` (the report's generation time) is the demo's "now", so
/// the demo shows the same findings whenever it is run.
pub fn inventory() -> Result<Inventory, ImportError> {
    let mut inv = texts().load()?;
    let exported = crate::inventory::Timestamp::parse(EXPORTED_AT).ok();
    inv.generated_at = exported;
    for acct in &mut inv.aws.accounts {
        if let crate::inventory::Collected::Collected(report) = &mut acct.credential_report {
            report.generated_at = exported;
        }
    }
    Ok(inv)
}
