//! Reach: what a principal may do, from the inventory's policies, for blast radius and
//! privilege-escalation analysis. [`aws`] gathers the policies that bear on a principal; the
//! decision itself is [`crate::policy::eval`]; [`paths`] is the escalation catalogue and
//! [`escalation`] finds its paths in an account.

pub mod aws;
pub mod blast;
pub mod escalation;
pub mod paths;
