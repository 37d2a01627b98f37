//! Reach: what a principal may do, from the inventory's policies, for blast radius and
//! privilege-escalation analysis. [`aws`] gathers the policies that bear on a principal; the
//! decision itself is [`crate::policy::eval`].

pub mod aws;
