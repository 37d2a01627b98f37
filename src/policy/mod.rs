//! The AWS policy language: documents in every spelling AWS accepts, ARNs and action wildcards,
//! and trust analysis that reads conditions.

pub mod arn;
pub mod condition;
pub mod document;
pub mod guard;
pub mod trust;

pub use document::{Condition, Effect, Operator, PolicyDocument, PolicyError, Principal, SetQualifier, Statement};
