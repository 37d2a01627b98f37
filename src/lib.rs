//! Portcullis: audit cloud accounts against account compromise.
//!
//! Data walks one way: sources ([`import`]) → [`inventory`] → [`checks`] (run by [`engine`]) →
//! [`finding`]s → outputs ([`report`], and [`fix`] artifacts).

pub mod inventory;
pub mod app;
pub mod checks;
pub mod collect;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod finding;
pub mod fix;
#[doc(hidden)]
pub mod fuzz;
pub mod gate;
pub mod import;
pub mod policy;
pub mod reach;
pub mod report;
pub mod settings;
pub mod verify;
