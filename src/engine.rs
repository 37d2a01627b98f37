//! The engine: select checks, run them over every scope of the inventory, turn missing data into
//! `not_evaluated`, and decide the exit code.
//!
//! Work is linear in the inventory: each check walks its scope once. Accounts are spread over the
//! machine's cores, and each core's findings stay where they were produced (no second copy of a
//! million findings). The order is deterministic: account, then check (registry order), then
//! resource (inventory order).

use std::collections::BTreeMap;

use crate::checks::{self, Check, Cx, MetaError, Runner};
use crate::finding::{Finding, Resource, Severity, Status};
use crate::inventory::aws::{AwsAccount, AwsOrganization};
use crate::inventory::{Cloud, Collected, CoverageEntry, Inventory, Timestamp};

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

/// Findings in account, check, resource order, kept in the chunks the engine produced them in.
#[derive(Debug, Default)]
pub struct Findings<'a>(Vec<Vec<Finding<'a>>>);

impl<'a> Findings<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &Finding<'a>> + Clone {
        self.0.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'s, 'a> IntoIterator for &'s Findings<'a> {
    type Item = &'s Finding<'a>;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'s, Vec<Finding<'a>>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().flatten()
    }
}

/// The result of a scan: findings, coverage, and which checks ran.
pub struct Scan<'a> {
    pub findings: Findings<'a>,
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

pub fn scan<'a>(inv: &'a Inventory, opts: &ScanOptions) -> Result<Scan<'a>, EngineError> {
    let selected = select(inv, opts)?;
    let params = resolve_params(&selected, opts)?;
    let now = opts.now.unwrap_or_else(Timestamp::now);

    let accounts = &inv.aws.accounts;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(accounts.len().max(1));
    let chunk = accounts.len().div_ceil(threads).max(1);
    let mut chunks: Vec<Vec<Finding<'a>>> = std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .chunks(chunk)
            .map(|part| {
                let (selected, params) = (&selected, &params);
                let org = &inv.aws.organization;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for a in part {
                        run_account(a, org, selected, params, now, &mut out);
                    }
                    out
                })
            })
            .collect();
        // A worker that panicked must not turn into accounts with no findings: re-raise.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    // A check the user asked for whose cloud the sources do not cover at all: say so.
    let uncovered: Vec<Finding<'a>> = selected
        .iter()
        .filter(|check| match check.meta.cloud {
            Cloud::Aws => accounts.is_empty(),
            Cloud::Azure => inv.azure.is_empty(),
            Cloud::Gcp => inv.gcp.is_empty(),
        })
        .map(|check| nothing_to_evaluate(check))
        .collect();
    chunks.push(uncovered);
    let findings = Findings(chunks);
    Ok(Scan { findings, coverage: inv.coverage(), checks: selected, now })
}

fn run_account<'a>(acct: &'a AwsAccount, org: &'a Collected<Option<AwsOrganization>>, selected: &[&'static Check], params: &[BTreeMap<String, i64>], now: Timestamp, out: &mut Vec<Finding<'a>>) {
    for (check, params) in selected.iter().zip(params) {
        let Runner::Aws(run) = check.runner;
        let start = out.len();
        let mut cx = Cx { meta: &check.meta, params, now, account: &acct.account_id, aws_org: org, out: &mut *out };
        if let Err(missing) = run(acct, &mut cx) {
            // Partial results would read as a clean account: replace them with one honest finding.
            out.truncate(start);
            let mut cx = Cx { meta: &check.meta, params, now, account: &acct.account_id, aws_org: org, out: &mut *out };
            cx.not_evaluated(account_resource(&acct.account_id), format!("not evaluated: {missing}"))
                .with("dataset", missing.dataset.to_string())
                .with("coverage", missing.state.label())
                .with("missing_permission", match &missing.state {
                    crate::inventory::CoverageState::Denied { action, .. } => Some(action.as_str()),
                    _ => None,
                });
        }
    }
}

pub fn account_resource(account: &str) -> Resource<'_> {
    Resource { id: account.into(), name: account.into(), kind: "aws_account" }
}

fn nothing_to_evaluate(check: &Check) -> Finding<'static> {
    Finding {
        check_id: check.meta.id_static,
        status: Status::NotEvaluated,
        severity: check.meta.severity,
        category: check.meta.category,
        cloud: check.meta.cloud,
        account: "",
        region: None,
        resource: Resource { id: check.meta.cloud.as_str().into(), name: format!("no {} scope", check.meta.cloud).into(), kind: "scope" },
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
    pub fn verdict(&self, findings: &Findings<'_>) -> Verdict {
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
