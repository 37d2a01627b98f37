//! Every check against its fixtures (`fixtures/checks/<cloud>/<id>/{pass,fail,not_evaluated}*.json`):
//! the verdicts must match the file names, and an insta snapshot shows each finding's status,
//! resource and message together.

use std::fmt::Write as _;
use std::path::Path;

use portcullis::checks;
use portcullis::engine::{scan, ScanOptions};
use portcullis::finding::Status;
use portcullis::import::parse_snapshot;

#[test]
fn every_check_matches_its_fixtures() {
    let mut problems = Vec::new();
    for check in checks::all().unwrap() {
        let id = &check.meta.id;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checks").join(check.meta.cloud.as_str()).join(id);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (every check needs fixtures)", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let names: Vec<String> = files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        for kind in ["pass", "fail"] {
            if !names.iter().any(|n| n.starts_with(kind)) {
                problems.push(format!("{id}: no {kind}*.json fixture"));
            }
        }
        let mut snap = String::new();
        for (path, name) in files.iter().zip(&names) {
            let text = std::fs::read_to_string(path).unwrap();
            let inv = parse_snapshot(&text, name).unwrap_or_else(|e| panic!("{e}"));
            let opts = ScanOptions { now: inv.generated_at, only: Some(vec![id.clone()]), ..Default::default() };
            let result = scan(&inv, &opts).unwrap();
            let fs: Vec<_> = result.findings.iter().collect();
            // The datasets the registry declares are all the check reads: with every other dataset
            // forgotten, the findings are the same (lazy collection relies on it).
            let mut only_declared = inv.clone();
            only_declared.retain_datasets(&check.datasets.iter().copied().collect());
            let again = scan(&only_declared, &opts).unwrap();
            if again.findings.iter().collect::<Vec<_>>() != fs {
                problems.push(format!("{id}/{name}: reads a dataset the registry does not declare"));
            }
            let count = |s: Status| fs.iter().filter(|f| f.status == s).count();
            let ok = if name.starts_with("pass") {
                !fs.is_empty() && count(Status::Pass) == fs.len()
            } else if name.starts_with("fail") {
                count(Status::Fail) > 0 && count(Status::NotEvaluated) == 0
            } else if name.starts_with("not_evaluated") {
                count(Status::NotEvaluated) > 0 && count(Status::Pass) == 0
            } else {
                problems.push(format!("{id}/{name}: name must start with pass, fail or not_evaluated"));
                true
            };
            if !ok {
                problems.push(format!("{id}/{name}: unexpected verdicts {:?}", fs.iter().map(|f| (f.status, &f.message)).collect::<Vec<_>>()));
            }
            let _ = writeln!(snap, "# {name}");
            for f in &fs {
                let detail = f.detail.as_deref().map(|d| format!(" [{d}]")).unwrap_or_default();
                let _ = writeln!(snap, "{:<13} {}{detail}: {}", f.status.as_str(), f.resource.name, f.message);
            }
        }
        insta::assert_snapshot!(id.as_str(), snap);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
