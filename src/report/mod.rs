//! Outputs. Each renders a finished [`Scan`](crate::engine::Scan); none recomputes a verdict.

pub mod blast;
pub mod compliance;
pub mod html;
pub mod json;
pub mod markdown;
pub mod ocsf;
pub mod sarif;
pub mod table;

use crate::finding::{Finding, Status};

/// Pass / fail / not-evaluated counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub not_evaluated: usize,
}

impl Counts {
    pub fn add(&mut self, f: &Finding) {
        match f.status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::NotEvaluated => self.not_evaluated += 1,
        }
    }
}
