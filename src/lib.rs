//! Portcullis: audit cloud accounts against account compromise.
//!
//! Data walks one way: sources ([`import`]) → [`inventory`] → [`checks`] (run by [`engine`]) →
//! [`finding`]s → outputs ([`report`]).

pub mod inventory;
pub mod import;
pub mod policy;
