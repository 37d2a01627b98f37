//! The AWS policy language: documents in every spelling AWS accepts, ARNs and action wildcards,
//! trust analysis that reads conditions, and the evaluation of a request against every policy
//! that bears on it ([`eval`]).

pub mod arn;
pub mod azure_condition;
pub mod condition;
pub mod document;
pub mod eval;
pub mod guard;
pub mod trust;

pub use document::{Condition, Effect, Operator, PolicyDocument, PolicyError, Principal, SetQualifier, Statement};
