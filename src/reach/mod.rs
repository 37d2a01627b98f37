//! Reach: what a principal may do, from the inventory's policies, for blast radius and
//! privilege-escalation analysis. [`aws`] gathers the policies that bear on a principal; the
//! decision itself is [`crate::policy::eval`]; [`paths`] is the escalation catalogue and
//! [`escalation`] finds its paths in an account. [`azure`] is the Azure RBAC privilege model that
//! every Azure RBAC check asks; [`gcp`] is the GCP role-permission model that every GCP privilege
//! check asks. [`blast`] draws one principal's blast radius in any cloud ([`blast_azure`],
//! [`blast_gcp`] for Entra and GCP principals), asking those same models.

pub mod aws;
pub mod azure;
pub mod blast;
pub mod blast_azure;
pub mod blast_gcp;
pub mod entra;
pub mod escalation;
pub mod gcp;
pub mod gcp_member;
pub mod paths;
