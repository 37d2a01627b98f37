//! The compliance view of a scan: per framework, every requirement with the checks that map to it
//! and their pass / fail / not-evaluated counts. Requirements no check covers are listed as
//! `not_covered`; covered ones whose checks did not run in this scan as `not_run`.

use serde::Serialize;

use super::Counts;
use crate::checks::compliance::{self, Framework};
use crate::checks::{self, Check};
use crate::engine::Scan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementStatus {
    /// Some mapped check failed on some resource.
    Fail,
    /// Nothing failed, but some mapped check could not be evaluated somewhere.
    NotEvaluated,
    /// Every finding of the mapped checks passed.
    Pass,
    /// The mapped checks ran and found nothing to judge (no such resources).
    NoFindings,
    /// Checks map to it, but none of them ran in this scan (not selected, or no such scope).
    NotRun,
    /// No Portcullis check maps to it.
    NotCovered,
}

impl RequirementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementStatus::Fail => "fail",
            RequirementStatus::NotEvaluated => "not_evaluated",
            RequirementStatus::Pass => "pass",
            RequirementStatus::NoFindings => "no_findings",
            RequirementStatus::NotRun => "not_run",
            RequirementStatus::NotCovered => "not_covered",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequirementStatus::Fail => "failing",
            RequirementStatus::NotEvaluated => "not evaluated",
            RequirementStatus::Pass => "passing",
            RequirementStatus::NoFindings => "nothing to judge",
            RequirementStatus::NotRun => "not run",
            RequirementStatus::NotCovered => "not covered",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Every check that maps to it (whether or not it ran).
    pub checks: Vec<&'static str>,
    pub status: RequirementStatus,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkView {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub requirements: Vec<RequirementView>,
    /// Requirements by status.
    pub summary: Summary,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub requirements: usize,
    pub covered: usize,
    pub fail: usize,
    pub not_evaluated: usize,
    pub pass: usize,
    pub no_findings: usize,
    pub not_run: usize,
    pub not_covered: usize,
}

/// The view of one framework. `counts(check)` gives a check's counts in this scan, `None` when
/// it did not run.
fn view(fw: &Framework, all: &[&Check], counts: &dyn Fn(&str) -> Option<Counts>) -> FrameworkView {
    let mut summary = Summary { requirements: fw.requirements.len(), ..Summary::default() };
    let requirements = fw
        .requirements
        .iter()
        .map(|r| {
            let mapped = fw.checks_for(r, all);
            let mut total = Counts::default();
            let mut ran = false;
            for c in &mapped {
                if let Some(n) = counts(&c.meta.id) {
                    ran = true;
                    total.pass += n.pass;
                    total.fail += n.fail;
                    total.not_evaluated += n.not_evaluated;
                }
            }
            let status = if mapped.is_empty() {
                RequirementStatus::NotCovered
            } else if !ran {
                RequirementStatus::NotRun
            } else if total.fail > 0 {
                RequirementStatus::Fail
            } else if total.not_evaluated > 0 {
                RequirementStatus::NotEvaluated
            } else if total.pass > 0 {
                RequirementStatus::Pass
            } else {
                RequirementStatus::NoFindings
            };
            match status {
                RequirementStatus::Fail => summary.fail += 1,
                RequirementStatus::NotEvaluated => summary.not_evaluated += 1,
                RequirementStatus::Pass => summary.pass += 1,
                RequirementStatus::NoFindings => summary.no_findings += 1,
                RequirementStatus::NotRun => summary.not_run += 1,
                RequirementStatus::NotCovered => summary.not_covered += 1,
            }
            // A title in the framework's words where it may be given, else the mapped checks' titles.
            let title = fw.titles.get(r).cloned().or_else(|| {
                (!mapped.is_empty()).then(|| mapped.iter().map(|c| c.meta.title.as_str()).collect::<Vec<_>>().join("; "))
            });
            RequirementView {
                id: r.clone(),
                section: fw.section_of(r).map(str::to_string),
                title,
                checks: mapped.iter().map(|c| c.meta.id_static).collect(),
                status,
                counts: total,
            }
        })
        .collect();
    summary.covered = summary.requirements - summary.not_covered;
    FrameworkView { name: fw.name.clone(), slug: fw.slug.clone(), url: fw.url.clone(), requirements, summary }
}

/// The frameworks that concern a scan: those of the clouds its checks cover, and ATT&CK.
pub fn for_scan(scan: &Scan) -> Vec<FrameworkView> {
    let (Ok(all), Ok(fws)) = (checks::all(), compliance::frameworks()) else {
        return Vec::new(); // metadata errors stop a scan before it gets here
    };
    let all: Vec<&Check> = all.iter().collect();
    let mut per_check: std::collections::HashMap<&str, Counts> = scan.checks.iter().map(|c| (c.meta.id.as_str(), Counts::default())).collect();
    for f in &scan.findings {
        if let Some(n) = per_check.get_mut(f.check_id) {
            n.add(f);
        }
    }
    let counts = |id: &str| per_check.get(id).copied();
    let clouds: std::collections::BTreeSet<_> = scan.checks.iter().map(|c| c.meta.cloud).collect();
    fws.iter()
        .filter(|fw| fw.cloud.map_or(!clouds.is_empty(), |c| clouds.contains(&c)))
        .map(|fw| view(fw, &all, &counts))
        .collect()
}

/// One framework without a scan (`checks list --compliance`): which checks cover what.
pub fn catalogue(fw: &Framework) -> FrameworkView {
    let all: Vec<&Check> = checks::all().map(|a| a.iter().collect()).unwrap_or_default();
    view(fw, &all, &|_| None)
}

/// Uncovered requirement ids, for a one-line list.
pub fn uncovered(v: &FrameworkView) -> Vec<&str> {
    v.requirements.iter().filter(|r| r.status == RequirementStatus::NotCovered).map(|r| r.id.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncovered_requirements_are_listed_not_hidden() {
        let fw = compliance::find("cis-aws").unwrap().unwrap();
        let v = catalogue(fw);
        assert_eq!(v.requirements.len(), fw.requirements.len());
        let r114 = v.requirements.iter().find(|r| r.id == "1.14").unwrap();
        assert_eq!(r114.checks, vec!["aws_iam_access_key_rotated"]);
        assert_eq!(r114.status, RequirementStatus::NotRun);
        let r11 = v.requirements.iter().find(|r| r.id == "1.1").unwrap();
        assert_eq!(r11.status, RequirementStatus::NotCovered);
        assert!(r11.checks.is_empty() && r11.title.is_none());
        assert_eq!(v.summary.covered + v.summary.not_covered, v.summary.requirements);
    }
}
