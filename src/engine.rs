//! The engine: select checks, run them over every scope of the inventory, turn missing data into
//! `not_evaluated`, and decide the exit code.
//!
//! Work is linear in the inventory: each check walks its scope once. Accounts are spread over the
//! machine's cores, and each core's findings stay where they were produced (no second copy of a
//! million findings). The order is deterministic: account, then check (registry order), then
//! resource (inventory order).

use std::collections::{BTreeMap, BTreeSet};

use crate::checks::aws::AwsContext;
use crate::checks::{did_you_mean, id_matches, scope_resource};
use crate::checks::{self, Check, CheckMeta, Cx, MetaError, Runner, ScopeKind};
use crate::finding::{Category, Finding, Resource, Severity, Status};
use crate::inventory::aws::AwsAccount;
use crate::import::terraform::{Action as PlanAction, PlannedResource};
use crate::inventory::{Cloud, CoverageEntry, Dataset, Inventory, Missing, Timestamp};

pub use crate::settings::Settings;

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The time ages are measured against. `None` = now.
    pub now: Option<Timestamp>,
    /// Run only these checks (ids or `*` patterns). `None` = every check whose scopes the inventory has.
    pub only: Option<Vec<String>>,
    pub skip: Vec<String>,
    /// Run only checks of these categories (empty = all), then drop those of `skip_categories`.
    pub categories: Vec<Category>,
    pub skip_categories: Vec<Category>,
    /// Run only checks of these (effective) severities; empty = all.
    pub severities: Vec<Severity>,
    /// Skip checks of these (effective) severities.
    pub skip_severities: Vec<Severity>,
    /// Run only checks of these services (`iam`, `cloudtrail`, `entra`, …); empty = all.
    pub services: Vec<String>,
    /// A plan-only scan: a dataset no planned resource belongs to (in some account, region,
    /// subscription or project) is outside what the plan describes, not a gap; its
    /// `not_requested` findings are dropped.
    pub plan_only: bool,
    /// Threshold overrides: check id → parameter → value.
    pub params: BTreeMap<String, BTreeMap<String, i64>>,
    /// Severity overrides: check id → severity.
    pub severity: BTreeMap<String, Severity>,
    pub settings: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{}", unknown_message(.0))]
    UnknownChecks(Vec<(String, Option<String>)>),
    #[error("check {check} has no parameter {param:?} (it has: {known})")]
    UnknownParam { check: String, param: String, known: String },
    #[error("check {check}: {param} = {value} is out of range ({range})")]
    BadParam { check: String, param: String, value: i64, range: String },
    #[error("no check is selected ({0}); see `portcullis checks list`")]
    NothingSelected(String),
    #[error("unknown service {0:?} (known: {1})")]
    UnknownService(String, String),
    #[error(transparent)]
    Meta(#[from] MetaError),
}

fn unknown_message(ids: &[(String, Option<String>)]) -> String {
    let items: Vec<String> = ids
        .iter()
        .map(|(id, near)| match near {
            Some(n) => format!("{id:?} (did you mean {n}?)"),
            None => format!("{id:?}"),
        })
        .collect();
    format!("unknown check id{} {} (see `portcullis checks list`)", if ids.len() > 1 { "s" } else { "" }, items.join(", "))
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

    /// Keep only the findings `keep` accepts (what the outputs show; the gate judges before this).
    pub fn retain(&mut self, mut keep: impl FnMut(&Finding<'a>) -> bool) {
        for chunk in &mut self.0 {
            chunk.retain(&mut keep);
        }
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
    /// Finding fingerprint → the fix artifacts (paths under `--fixes DIR`) that address it; empty
    /// unless fixes were planned.
    pub fixes: BTreeMap<String, Vec<String>>,
    /// Baseline states and suppressions of the failing findings (empty without `--baseline` or
    /// `--suppressions`).
    pub triage: crate::gate::Triage,
    /// Resources of a Terraform plan (address, file, line), when a plan was a source.
    pub planned: Vec<PlannedResource>,
}

impl Scan<'_> {
    /// The planned resource a finding is about, if it comes from a Terraform plan.
    pub fn planned_for(&self, f: &Finding) -> Option<&PlannedResource> {
        if self.planned.is_empty() {
            return None;
        }
        self.planned.iter().find(|p| p.action != PlanAction::Delete && p.id == f.resource.id && p.checks.iter().any(|c| c == f.check_id))
    }
}

/// Which scope kinds the inventory has at least one scope of.
pub fn scope_kinds(inv: &Inventory) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    if !inv.aws.accounts.is_empty() {
        out.insert(ScopeKind::AwsAccount.as_str());
    }
    if !inv.azure.tenants.is_empty() {
        out.insert(ScopeKind::AzureTenant.as_str());
    }
    if inv.azure.tenants.iter().any(|t| !t.subscriptions.is_empty()) {
        out.insert(ScopeKind::AzureSubscription.as_str());
    }
    if inv.gcp.organizations().next().is_some() {
        out.insert(ScopeKind::GcpOrganization.as_str());
    }
    if !inv.gcp.projects.is_empty() {
        out.insert(ScopeKind::GcpProject.as_str());
    }
    out
}

/// Pick the checks to run: by id (all unknown ids reported at once), category and cloud.
/// `clouds` limits the default selection (no `only`) to the clouds the sources cover.
pub fn select_for(clouds: &[Cloud], opts: &ScanOptions) -> Result<Vec<&'static Check>, EngineError> {
    let all = checks::all()?;
    let ids = || all.iter().map(|c| c.meta.id.as_str());
    let mut unknown: Vec<(String, Option<String>)> = Vec::new();
    for id in opts.only.iter().flatten().chain(&opts.skip).chain(opts.params.keys()).chain(opts.severity.keys()) {
        if !ids().any(|k| id_matches(id, k)) && !unknown.iter().any(|(u, _)| u == id) {
            unknown.push((id.clone(), did_you_mean(id, ids())));
        }
    }
    if !unknown.is_empty() {
        return Err(EngineError::UnknownChecks(unknown));
    }
    let services: BTreeSet<&str> = all.iter().map(|c| c.meta.service.as_str()).collect();
    if let Some(bad) = opts.services.iter().find(|s| !services.contains(s.as_str())) {
        return Err(EngineError::UnknownService(bad.clone(), services.into_iter().collect::<Vec<_>>().join(", ")));
    }
    let severity_of = |c: &Check| opts.severity.get(&c.meta.id).copied().unwrap_or(c.meta.severity);
    let selected: Vec<&'static Check> = all
        .iter()
        .filter(|c| match &opts.only {
            Some(only) => only.iter().any(|p| id_matches(p, &c.meta.id)),
            None => clouds.contains(&c.meta.cloud),
        })
        .filter(|c| !opts.skip.iter().any(|p| id_matches(p, &c.meta.id)))
        .filter(|c| opts.categories.is_empty() || opts.categories.contains(&c.meta.category))
        .filter(|c| !opts.skip_categories.contains(&c.meta.category))
        .filter(|c| opts.severities.is_empty() || opts.severities.contains(&severity_of(c)))
        .filter(|c| !opts.skip_severities.contains(&severity_of(c)))
        .filter(|c| opts.services.is_empty() || opts.services.contains(&c.meta.service))
        .collect();
    if selected.is_empty() {
        let narrowed = opts.skip.is_empty() && opts.categories.is_empty() && opts.skip_categories.is_empty() && opts.severities.is_empty() && opts.skip_severities.is_empty() && opts.services.is_empty();
        let how = match (&opts.only, narrowed) {
            (Some(o), _) if o.is_empty() => "the check list is empty".to_string(),
            (_, false) => "the selection and the skips leave nothing".to_string(),
            (None, true) => "the sources describe no cloud scope".to_string(),
            (Some(_), true) => "the selection names no check".to_string(),
        };
        return Err(EngineError::NothingSelected(how));
    }
    Ok(selected)
}

/// Pick the checks to run for an inventory.
pub fn select(inv: &Inventory, opts: &ScanOptions) -> Result<Vec<&'static Check>, EngineError> {
    let clouds: Vec<Cloud> = [Cloud::Aws, Cloud::Azure, Cloud::Gcp]
        .into_iter()
        .filter(|c| match c {
            Cloud::Aws => !inv.aws.accounts.is_empty(),
            Cloud::Azure => !inv.azure.is_empty(),
            Cloud::Gcp => !inv.gcp.is_empty(),
        })
        .collect();
    if clouds.is_empty() && opts.only.is_none() {
        // Nothing to scan: still select (every check) so that each says why it was not evaluated.
        return select_for(&[Cloud::Aws, Cloud::Azure, Cloud::Gcp], opts);
    }
    select_for(&clouds, opts)
}

/// The datasets a set of checks reads: what a live collection has to fetch.
pub fn datasets_of(checks: &[&Check]) -> BTreeSet<Dataset> {
    checks.iter().flat_map(|c| c.datasets.iter().copied()).collect()
}

/// The largest value a threshold may take: a day count up to ten years, anything else up to 1,000.
fn param_range(name: &str) -> (i64, i64) {
    if name.ends_with("_days") {
        (1, 3650)
    } else {
        (1, 1000)
    }
}

/// Resolve each selected check's metadata (severity overrides) and thresholds (defaults, then
/// configuration, each within its range).
/// A selected check's effective metadata and thresholds.
type Resolved = (CheckMeta, BTreeMap<String, i64>);

fn resolve(selected: &[&'static Check], opts: &ScanOptions) -> Result<Vec<Resolved>, EngineError> {
    selected
        .iter()
        .map(|c| {
            let mut meta = c.meta.clone();
            if let Some(s) = opts.severity.iter().find(|(p, _)| id_matches(p, &meta.id)).map(|(_, s)| *s) {
                meta.severity = s;
            }
            let mut p = c.meta.params.clone();
            for (k, v) in opts.params.get(&c.meta.id).into_iter().flatten() {
                if !p.contains_key(k) {
                    let known = c.meta.params.keys().cloned().collect::<Vec<_>>().join(", ");
                    return Err(EngineError::UnknownParam { check: c.meta.id.clone(), param: k.clone(), known: if known.is_empty() { "none".into() } else { known } });
                }
                let (lo, hi) = param_range(k);
                if *v < lo || *v > hi {
                    return Err(EngineError::BadParam { check: c.meta.id.clone(), param: k.clone(), value: *v, range: format!("{lo} to {hi}") });
                }
                p.insert(k.clone(), *v);
            }
            Ok((meta, p))
        })
        .collect()
}

pub fn scan<'a>(inv: &'a Inventory, opts: &ScanOptions) -> Result<Scan<'a>, EngineError> {
    let selected = select(inv, opts)?;
    let resolved = resolve(&selected, opts)?;
    let now = opts.now.unwrap_or_else(Timestamp::now);
    let aws = AwsContext::new(&inv.aws, opts.settings.clone());

    let accounts = &inv.aws.accounts;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(accounts.len().max(1));
    let chunk = accounts.len().div_ceil(threads).max(1);
    let mut chunks: Vec<Vec<Finding<'a>>> = std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .chunks(chunk)
            .map(|part| {
                let (selected, resolved, aws) = (&selected, &resolved, &aws);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for a in part {
                        run_aws_account(a, aws, selected, resolved, now, &mut out);
                    }
                    out
                })
            })
            .collect();
        // A worker that panicked must not turn into accounts with no findings: re-raise.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });

    // Azure and GCP scopes: tenants, subscriptions, organizations, projects.
    let mut other = Vec::new();
    for (check, (meta, params)) in selected.iter().zip(&resolved) {
        let mut run = |scope: &'a str, f: &mut dyn FnMut(&mut Cx<'_, 'a>) -> Result<(), Missing>| {
            let start = other.len();
            let mut cx = Cx { meta, params, now, settings: &opts.settings, account: scope, out: &mut other };
            if let Err(missing) = f(&mut cx) {
                other.truncate(start);
                let mut cx = Cx { meta, params, now, settings: &opts.settings, account: scope, out: &mut other };
                cx.missing(scope_resource(check.scope(), scope), &missing);
            }
        };
        match check.runner {
            Runner::AwsAccount(_) => {}
            Runner::AzureTenant(f) => {
                for t in &inv.azure.tenants {
                    run(&t.tenant_id, &mut |cx| f(t, cx));
                }
            }
            Runner::AzureSubscription(f) => {
                for t in &inv.azure.tenants {
                    for sub in &t.subscriptions {
                        run(&sub.subscription_id, &mut |cx| f(sub, t, cx));
                    }
                }
            }
            Runner::GcpOrganization(f) => {
                for n in inv.gcp.organizations() {
                    run(&n.id, &mut |cx| f(n, &inv.gcp, cx));
                }
            }
            Runner::GcpProject(f) => {
                for p in &inv.gcp.projects {
                    run(&p.project_id, &mut |cx| f(p, &inv.gcp, cx));
                }
            }
        }
    }
    chunks.push(other);

    // A check the user asked for whose scopes the sources do not have at all: say so.
    let kinds = scope_kinds(inv);
    let uncovered: Vec<Finding<'a>> = selected
        .iter()
        .zip(&resolved)
        .filter(|(check, _)| !kinds.contains(check.scope().as_str()))
        .map(|(check, (meta, _))| nothing_to_evaluate(check, meta, inv))
        .collect();
    chunks.push(uncovered);
    if opts.plan_only {
        only_planned(&mut chunks, &inv.terraform, &selected, &resolved);
    }
    if !inv.terraform.is_empty() {
        mark_planned(&mut chunks, &inv.terraform);
    }
    let findings = Findings(chunks);
    Ok(Scan { findings, coverage: inv.coverage(), checks: selected, now, fixes: BTreeMap::new(), triage: Default::default(), planned: inv.terraform.clone() })
}

/// A scan that ran no check (a plan that touches nothing Portcullis reads): empty findings.
pub fn empty<'a>(inv: &'a Inventory, opts: &ScanOptions) -> Scan<'a> {
    Scan {
        findings: Findings::default(),
        coverage: inv.coverage(),
        checks: Vec::new(),
        now: opts.now.unwrap_or_else(Timestamp::now),
        fixes: BTreeMap::new(),
        triage: Default::default(),
        planned: inv.terraform.clone(),
    }
}

/// A plan-only scan reports on the planned resources and nothing else: a finding about anything
/// else (a placeholder scope, a service account only named by a binding) would claim what the
/// plan cannot show. A planned resource a selected check gave no verdict on gets a
/// `not_evaluated` finding, so nothing planned is silently skipped.
fn only_planned<'a>(chunks: &mut Vec<Vec<Finding<'a>>>, planned: &'a [PlannedResource], selected: &[&'static Check], resolved: &[Resolved]) {
    let linked: BTreeSet<(&str, &str)> = planned
        .iter()
        .filter(|p| p.action != PlanAction::Delete)
        .flat_map(|p| p.checks.iter().map(move |c| (p.id.as_str(), c.as_str())))
        .collect();
    let mut seen: BTreeSet<(String, &'static str)> = BTreeSet::new();
    for c in chunks.iter_mut() {
        c.retain(|f| linked.contains(&(f.resource.id.as_ref(), f.check_id)));
        seen.extend(c.iter().map(|f| (f.resource.id.to_string(), f.check_id)));
    }
    // Checks judge what concerns them (the cross-account check says nothing of a role that trusts
    // no other account); a check silent on every planned resource of its kind is what is suspect.
    let spoke: BTreeSet<&str> = seen.iter().map(|(_, c)| *c).collect();
    let mut extra = Vec::new();
    for p in planned.iter().filter(|p| p.action != PlanAction::Delete) {
        for (check, (meta, _)) in selected.iter().zip(resolved) {
            let id = check.meta.id_static;
            if !p.checks.iter().any(|c| c == id) || spoke.contains(id) || seen.contains(&(p.id.clone(), id)) {
                continue;
            }
            seen.insert((p.id.clone(), id));
            let resource = Resource { id: p.id.as_str().into(), name: p.address.as_str().into(), kind: "terraform_resource" };
            extra.push(gap_finding(check, meta, resource, format!("not evaluated: {id} gave no verdict on planned resource {}", p.address)));
        }
    }
    chunks.push(extra);
}

/// Findings about resources of a Terraform plan name its address and planned action; a verdict
/// that rests on an attribute known only after apply becomes `not_evaluated`, naming it.
fn mark_planned(chunks: &mut [Vec<Finding<'_>>], planned: &[PlannedResource]) {
    let mut by_id: std::collections::HashMap<&str, Vec<&PlannedResource>> = std::collections::HashMap::new();
    for p in planned.iter().filter(|p| p.action != PlanAction::Delete) {
        by_id.entry(p.id.as_str()).or_default().push(p);
    }
    for f in chunks.iter_mut().flatten() {
        let Some(list) = by_id.get(f.resource.id.as_ref()) else { continue };
        let mine: Vec<&&PlannedResource> = list.iter().filter(|p| p.checks.iter().any(|c| c == f.check_id)).collect();
        let Some(first) = mine.first() else { continue };
        if mine.len() == 1 {
            f.with("terraform_address", first.address.as_str());
        } else {
            f.with("terraform_address", serde_json::Value::from(mine.iter().map(|p| p.address.clone()).collect::<Vec<_>>()));
        }
        f.with("terraform_action", first.action.as_str());
        if let Some(file) = &first.file {
            f.with("terraform_file", format!("{file}:{}", first.line.unwrap_or(1)));
        }
        let unknown: Vec<(&&&PlannedResource, &crate::import::terraform::UnknownAttr)> =
            mine.iter().flat_map(|p| p.unknown.iter().filter(|u| u.checks.iter().any(|c| c == f.check_id)).map(move |u| (p, u))).collect();
        if let Some((p, u)) = unknown.first() {
            let names: Vec<String> = unknown.iter().map(|(p, u)| format!("{} of {}", u.attribute, p.address)).collect();
            // A failure in what is known stands when the unknown part was left out; otherwise (a
            // placeholder took its place, or the verdict is a pass) nothing can be concluded.
            let stands = f.status == Status::Fail && unknown.iter().all(|(_, u)| u.omitted);
            if stands {
                f.with("known_after_apply", names.join(", "));
            } else {
                if f.status != Status::NotEvaluated {
                    f.status = Status::NotEvaluated;
                    f.message = format!("not evaluated: {} of {} is known only after apply, so the plan cannot show whether it is safe", u.attribute, p.address);
                }
                f.with("known_after_apply", names.join(", "));
            }
        }
    }
}

fn run_aws_account<'a>(
    acct: &'a AwsAccount,
    aws: &AwsContext<'a>,
    selected: &[&'static Check],
    resolved: &[Resolved],
    now: Timestamp,
    out: &mut Vec<Finding<'a>>,
) {
    for (check, (meta, params)) in selected.iter().zip(resolved) {
        let Runner::AwsAccount(run) = check.runner else { continue };
        let start = out.len();
        let mut cx = Cx { meta, params, now, settings: &aws.settings, account: &acct.account_id, out: &mut *out };
        // Nothing the check reads was collected for this account: say why without running it.
        let result = match aws.none_collected(acct, check.datasets) {
            Some(missing) => Err(missing),
            None => run(acct, aws, &mut cx),
        };
        if let Err(missing) = result {
            // Partial results would read as a clean account: replace them with one honest finding.
            out.truncate(start);
            let mut cx = Cx { meta, params, now, settings: &aws.settings, account: &acct.account_id, out: &mut *out };
            cx.missing(scope_resource(ScopeKind::AwsAccount, &acct.account_id), &missing);
        }
    }
}

fn nothing_to_evaluate(check: &Check, meta: &CheckMeta, inv: &Inventory) -> Finding<'static> {
    let what = match check.scope() {
        ScopeKind::AwsAccount => "AWS account",
        ScopeKind::AzureTenant => "Azure tenant",
        ScopeKind::AzureSubscription => "Azure subscription",
        ScopeKind::GcpOrganization => "GCP organization",
        ScopeKind::GcpProject => "GCP project",
    };
    let resource = Resource { id: check.meta.cloud.as_str().into(), name: format!("no {what}").into(), kind: "scope" };
    // No scope because the listing itself was refused or failed: that is the reason to give.
    let listing = match check.scope() {
        ScopeKind::GcpProject | ScopeKind::GcpOrganization => inv.gcp.hierarchy.require(crate::inventory::Dataset::GcpHierarchy).err(),
        _ => None,
    };
    let message = match listing {
        Some(m) => format!("not evaluated: no {what} could be listed: {m}"),
        None => format!("not evaluated: the sources describe no {what}"),
    };
    gap_finding(check, meta, resource, message)
}

/// A `not_evaluated` finding the engine itself emits (no scope to run over, a silent check).
fn gap_finding<'a>(check: &Check, meta: &CheckMeta, resource: Resource<'a>, message: String) -> Finding<'a> {
    Finding {
        check_id: check.meta.id_static,
        status: Status::NotEvaluated,
        severity: meta.severity,
        category: check.meta.category,
        cloud: check.meta.cloud,
        account: "",
        region: None,
        resource,
        message,
        detail: None,
        evidence: Default::default(),
    }
}

pub use crate::gate::{Gate, Verdict};

#[cfg(test)]
mod tests {
    use super::*;

    fn f(check: &'static str, status: Status) -> Finding<'static> {
        Finding {
            check_id: check,
            status,
            severity: Severity::High,
            category: Category::Credentials,
            cloud: Cloud::Aws,
            account: "111122223333",
            region: None,
            resource: Resource { id: "r".into(), name: "r".into(), kind: "aws_account" },
            message: String::new(),
            detail: None,
            evidence: Default::default(),
        }
    }

    #[test]
    fn the_gate_counts_each_incomplete_check_once() {
        // Findings arrive account by account, so one check's gaps are not adjacent.
        let findings = Findings(vec![
            vec![f("b_check", Status::NotEvaluated), f("a_check", Status::NotEvaluated)],
            vec![f("b_check", Status::NotEvaluated), f("a_check", Status::NotEvaluated)],
        ]);
        let v = Gate { fail_on: Some(Severity::High), allow_incomplete: false }.verdict(&findings, &Default::default());
        assert_eq!(v.code, 3);
        assert!(v.reason.starts_with("2 check(s) could not be fully evaluated (a_check, b_check)"), "{}", v.reason);
    }

    #[test]
    fn selecting_nothing_is_an_error_and_patterns_select() {
        let none = ScanOptions { only: Some(vec![]), ..Default::default() };
        assert!(matches!(select_for(&[Cloud::Aws], &none), Err(EngineError::NothingSelected(_))));
        let same = ScanOptions { only: Some(vec!["aws_iam_root_mfa_enabled".into()]), skip: vec!["aws_iam_root_*".into()], ..Default::default() };
        assert!(matches!(select_for(&[Cloud::Aws], &same), Err(EngineError::NothingSelected(_))));
        let pattern = ScanOptions { only: Some(vec!["aws_iam_root_*".into()]), ..Default::default() };
        assert_eq!(select_for(&[Cloud::Aws], &pattern).unwrap().len(), 3);
        let typo = ScanOptions { only: Some(vec!["aws_iam_root_mfa_enabld".into(), "nope".into()]), ..Default::default() };
        let e = select_for(&[Cloud::Aws], &typo).err().unwrap().to_string();
        assert!(e.contains("\"aws_iam_root_mfa_enabld\" (did you mean aws_iam_root_mfa_enabled?), \"nope\""), "{e}");
    }
}
