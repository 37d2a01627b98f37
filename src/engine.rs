//! The engine: select checks, run them over every scope of the inventory, turn missing data into
//! `not_evaluated`, and decide the exit code.
//!
//! Work is linear in the inventory: each check walks its scope once. Accounts are spread over the
//! machine's cores; the order of findings is deterministic (registry order, then account order).

use std::collections::BTreeMap;

use crate::checks::{self, Check, Cx, MetaError, Runner};
use crate::finding::{Finding, Resource, Severity, Status};
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Cloud, CoverageEntry, Inventory, Timestamp};

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The time ages are measured against. `None` = now.
    pub now: Option<Timestamp>,
    /// Run only these checks (ids). `None` = every check whose cloud the inventory covers.
    pub only: Option<Vec<String>>,
    pub skip: Vec<String>,
    /// Threshold overrides: check id → parameter → value.
    pub params: BTreeMap<String, BTreeMap<String, i64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("unknown check id {0:?} (see `portcullis checks list`)")]
    UnknownCheck(String),
    #[error("check {check} has no parameter {param:?} (it has: {known})")]
    UnknownParam { check: String, param: String, known: String },
    #[error(transparent)]
    Meta(#[from] MetaError),
}

/// The result of a scan: findings, coverage, and which checks ran.
pub struct Scan {
    pub findings: Vec<Finding>,
    pub coverage: Vec<CoverageEntry>,
    pub checks: Vec<&'static Check>,
    pub now: Timestamp,
}

/// Pick the checks to run.
pub fn select(inv: &Inventory, opts: &ScanOptions) -> Result<Vec<&'static Check>, EngineError> {
    let all = checks::all()?;
    for id in opts.only.iter().flatten().chain(&opts.skip).chain(opts.params.keys()) {
        if !all.iter().any(|c| &c.meta.id == id) {
            return Err(EngineError::UnknownCheck(id.clone()));
        }
    }
    let present = |cloud: Cloud| match cloud {
        Cloud::Aws => !inv.aws.accounts.is_empty(),
        Cloud::Azure => !inv.azure.is_empty(),
        Cloud::Gcp => !inv.gcp.is_empty(),
    };
    Ok(all
        .iter()
        .filter(|c| match &opts.only {
            Some(only) => only.contains(&c.meta.id),
            None => present(c.meta.cloud),
        })
        .filter(|c| !opts.skip.contains(&c.meta.id))
        .collect())
}

/// Resolve each selected check's thresholds: metadata defaults, then configuration.
fn resolve_params(selected: &[&'static Check], opts: &ScanOptions) -> Result<Vec<BTreeMap<String, i64>>, EngineError> {
    selected
        .iter()
        .map(|c| {
            let mut p = c.meta.params.clone();
            for (k, v) in opts.params.get(&c.meta.id).into_iter().flatten() {
                if !p.contains_key(k) {
                    let known = c.meta.params.keys().cloned().collect::<Vec<_>>().join(", ");
                    return Err(EngineError::UnknownParam { check: c.meta.id.clone(), param: k.clone(), known: if known.is_empty() { "none".into() } else { known } });
                }
                p.insert(k.clone(), *v);
            }
            Ok(p)
        })
        .collect()
}

pub fn scan(inv: &Inventory, opts: &ScanOptions) -> Result<Scan, EngineError> {
    let selected = select(inv, opts)?;
    let params = resolve_params(&selected, opts)?;
    let now = opts.now.unwrap_or_else(Timestamp::now);

    let accounts = &inv.aws.accounts;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(accounts.len().max(1));
    let chunk = accounts.len().div_ceil(threads).max(1);
    let per_chunk: Vec<Vec<Vec<Finding>>> = std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .chunks(chunk)
            .map(|part| {
                let (selected, params) = (&selected, &params);
                s.spawn(move || part.iter().map(|a| run_account(a, selected, params, now)).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    // Each account's findings come out in check order; interleave them into check, then account.
    let mut iters: Vec<_> = per_chunk.into_iter().flatten().map(|v| v.into_iter().peekable()).collect();
    let mut findings = Vec::new();
    for check in &selected {
        for it in iters.iter_mut() {
            while let Some(f) = it.next_if(|f| f.check_id == check.meta.id_static) {
                findings.push(f);
            }
        }
    }
    // A check the user asked for whose cloud the sources do not cover at all: say so.
    for check in &selected {
        let covered = match check.meta.cloud {
            Cloud::Aws => !accounts.is_empty(),
            Cloud::Azure => !inv.azure.is_empty(),
            Cloud::Gcp => !inv.gcp.is_empty(),
        };
        if !covered {
            findings.push(nothing_to_evaluate(check));
        }
    }
    Ok(Scan { findings, coverage: inv.coverage(), checks: selected, now })
}

fn run_account(acct: &AwsAccount, selected: &[&'static Check], params: &[BTreeMap<String, i64>], now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    for (check, params) in selected.iter().zip(params) {
        let Runner::Aws(run) = check.runner;
        let start = out.len();
        let mut cx = Cx { meta: &check.meta, params, now, account: &acct.account_id, out: &mut out };
        if let Err(missing) = run(acct, &mut cx) {
            // Partial results would read as a clean account: replace them with one honest finding.
            out.truncate(start);
            let mut cx = Cx { meta: &check.meta, params, now, account: &acct.account_id, out: &mut out };
            cx.not_evaluated(account_resource(&acct.account_id), format!("not evaluated: {missing}"))
                .with("dataset", missing.dataset.to_string())
                .with("coverage", missing.state.label())
                .with("missing_permission", match &missing.state {
                    crate::inventory::CoverageState::Denied { action, .. } => serde_json::Value::from(action.clone()),
                    _ => serde_json::Value::Null,
                });
        }
    }
    out
}

pub fn account_resource(account: &str) -> Resource {
    Resource { id: account.to_string(), name: account.to_string(), kind: "aws_account" }
}

fn nothing_to_evaluate(check: &Check) -> Finding {
    Finding {
        check_id: check.meta.id_static,
        status: Status::NotEvaluated,
        severity: check.meta.severity,
        category: check.meta.category,
        cloud: check.meta.cloud,
        account: String::new(),
        region: None,
        resource: Resource { id: check.meta.cloud.to_string(), name: format!("no {} scope", check.meta.cloud), kind: "scope" },
        message: format!("not evaluated: the sources describe no {} account, subscription or project", check.meta.cloud),
        detail: None,
        evidence: Default::default(),
    }
}

/// The `--fail-on` gate and its exit code (DESIGN §5).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gate {
    pub fail_on: Option<Severity>,
    pub allow_incomplete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// 0 clean, 1 failing findings at or above the threshold, 3 incomplete.
    pub code: u8,
    pub reason: String,
}

impl Gate {
    /// Failing findings decide first (1): a known failure matters more than a gap. Then gaps (3).
    pub fn verdict(&self, findings: &[Finding]) -> Verdict {
        let Some(threshold) = self.fail_on else {
            return Verdict { code: 0, reason: "no --fail-on given".into() };
        };
        let failing = findings.iter().filter(|f| f.status == Status::Fail && f.severity >= threshold).count();
        if failing > 0 {
            return Verdict { code: 1, reason: format!("{failing} failing finding(s) at or above {threshold}") };
        }
        let mut missing: Vec<&str> =
            findings.iter().filter(|f| f.status == Status::NotEvaluated).map(|f| f.check_id).collect();
        missing.dedup();
        if !missing.is_empty() && !self.allow_incomplete {
            return Verdict {
                code: 3,
                reason: format!("{} check(s) could not be fully evaluated ({}); pass --allow-incomplete to accept", missing.len(), missing.join(", ")),
            };
        }
        Verdict { code: 0, reason: format!("no failing finding at or above {threshold}") }
    }
}
