//! The fuzz targets (`portcullis::fuzz`) on every test run, on the stable toolchain: each replays
//! its seeds (taken from the fixtures), every input a fuzzer ever crashed it with
//! (`fuzz/regressions/<target>/`), and a fixed, seeded set of mutations of the seeds (bytes
//! flipped, cut, repeated, spliced, JSON tokens inserted), for a short fixed budget. None may
//! panic. Coverage-guided fuzzing proper runs under libFuzzer: `benches/fuzz.sh SECONDS`.
//!
//! `PORTCULLIS_FUZZ_SEEDS=DIR cargo test --test fuzz_corpus write_seeds -- --ignored` writes the
//! seeds as libFuzzer corpora (`DIR/<target>/…`), which is what `benches/fuzz.sh` starts from.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn json_files(dir: &str) -> Vec<(PathBuf, Value)> {
    let mut v = Vec::new();
    files(&root().join(dir), "json", &mut v);
    v.into_iter().filter_map(|p| Some((p.clone(), serde_json::from_str(&std::fs::read_to_string(&p).ok()?).ok()?))).collect()
}

/// Every value in `v` (depth first) that `keep` picks.
fn walk<'a>(v: &'a Value, keep: &dyn Fn(&Value) -> bool, out: &mut Vec<&'a Value>) {
    if keep(v) {
        out.push(v);
    }
    match v {
        Value::Array(a) => a.iter().for_each(|x| walk(x, keep, out)),
        Value::Object(o) => o.values().for_each(|x| walk(x, keep, out)),
        _ => {}
    }
}

/// The seeds of each target, from the fixtures.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let read = |p: &str| std::fs::read(root().join(p)).unwrap();
    let mut out: Vec<Vec<u8>> = match target {
        "policy" => {
            let mut docs = Vec::new();
            for (_, v) in json_files("fixtures") {
                let mut found = Vec::new();
                walk(&v, &|x| x.get("Statement").is_some(), &mut found);
                docs.extend(found.into_iter().map(|d| serde_json::to_vec(d).unwrap()));
            }
            docs
        }
        "authorization_details" => vec![read("fixtures/demo/authorization-details.json")],
        "credential_report" => vec![read("fixtures/demo/credential-report.csv")],
        "terraform_plan" => json_files("fixtures/plans").into_iter().map(|(p, _)| std::fs::read(p).unwrap()).collect(),
        "snapshot" => {
            let mut v: Vec<Vec<u8>> = json_files("fixtures/checks").into_iter().map(|(p, _)| std::fs::read(p).unwrap()).collect();
            for f in ["azure-tenant.json", "gcp-organization.json", "organization-and-regions.json"] {
                v.push(read(&format!("fixtures/demo/{f}")));
            }
            v
        }
        // List pages in the shape Graph and Resource Manager answer with, made from the Azure
        // fake's scenarios: every list of objects in them, as `{"value": [...]}`.
        "azure_response" => {
            let mut pages = Vec::new();
            for (_, v) in json_files("fixtures/azure") {
                let mut lists = Vec::new();
                walk(&v, &|x| x.as_array().is_some_and(|a| a.first().is_some_and(Value::is_object)), &mut lists);
                pages.extend(lists.into_iter().map(|l| serde_json::to_vec(&serde_json::json!({"value": l})).unwrap()));
                pages.push(serde_json::to_vec(&v).unwrap());
            }
            pages
        }
        // Every object and list of objects in the GCP fake's scenarios (projects, policies,
        // keys, sinks, org policies in their API shapes).
        "gcp_response" => {
            let mut docs = Vec::new();
            for (_, v) in json_files("fixtures/gcp") {
                let mut found = Vec::new();
                walk(&v, &|x| x.is_object() || x.as_array().is_some_and(|a| a.first().is_some_and(Value::is_object)), &mut found);
                docs.extend(found.into_iter().map(|d| serde_json::to_vec(d).unwrap()));
            }
            docs
        }
        other => panic!("no seeds for {other}"),
    };
    out.sort();
    out.dedup();
    assert!(!out.is_empty(), "{target}: no seeds");
    out
}

/// Inputs fuzzers crashed a target with, kept as regression tests.
fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v = Vec::new();
    let dir = root().join("fuzz/regressions").join(target);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            v.push((e.path(), std::fs::read(e.path()).unwrap()));
        }
    }
    v.sort();
    v
}

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const TOKENS: &[&str] = &[
    "null", "[]", "{}", "\"\"", "\"*\"", "-1", "0", "1e309", "18446744073709551616", "true", "\"arn:aws:iam::*:root\"",
    "\"\\u0000\"", "\"9999-12-31T23:59:59Z\"", "\"N/A\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "\"é\"",
    ",", ":", "\"", "\n", "{\"collected\": null}", "{\"denied\": {}}",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64) + 1);
                v.drain(i..i + n);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64) + 1);
                let part = v[i..i + n].to_vec();
                v.splice(i..i, part);
            }
            3 => {
                let i = rng.below(len + 1);
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(i..i, t.iter().copied());
            }
            4 if !other.is_empty() => {
                let i = rng.below(len + 1);
                let j = rng.below(other.len());
                let n = rng.below((other.len() - j).min(256) + 1);
                v.splice(i..i, other[j..j + n].iter().copied());
            }
            _ => v.truncate(rng.below(len + 1)),
        }
    }
    v
}

/// Run `f` on `input`; a panic fails the test, leaving the input where the message says.
fn run_one(target: &str, f: fn(&[u8]), input: &[u8], what: &str) {
    if catch_unwind(AssertUnwindSafe(|| f(input))).is_err() {
        let dir = root().join("target/fuzz-failures").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("{:016x}", input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)));
        let path = dir.join(&name);
        std::fs::write(&path, input).unwrap();
        panic!("{target} panicked on {what}; the input is in {} (move it to fuzz/regressions/{target}/ once fixed)", path.display());
    }
}

#[test]
fn no_target_panics_on_seeds_regressions_or_mutations() {
    // Quiet: the panics are caught and reported with their input.
    std::panic::set_hook(Box::new(|_| {}));
    let budget = Duration::from_millis(std::env::var("PORTCULLIS_FUZZ_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000));
    for (target, f) in portcullis::fuzz::TARGETS {
        let seeds = seeds(target);
        for (i, s) in seeds.iter().enumerate() {
            run_one(target, *f, s, &format!("seed {i}"));
        }
        let regressions = regressions(target);
        for (p, input) in &regressions {
            run_one(target, *f, input, &p.display().to_string());
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
        let started = Instant::now();
        let mut runs = 0;
        while started.elapsed() < budget {
            let seed = &seeds[rng.below(seeds.len())];
            let other = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, seed, other);
            run_one(target, *f, &input, &format!("mutation {runs}"));
            runs += 1;
        }
        eprintln!("{target}: {} seeds, {} regressions, {runs} mutations in {:?}", seeds.len(), regressions.len(), started.elapsed());
        assert!(runs > 0);
    }
    let _ = std::panic::take_hook();
}

/// The seeds as libFuzzer corpora, for `benches/fuzz.sh`.
#[test]
#[ignore]
fn write_seeds() {
    let Some(dir) = std::env::var_os("PORTCULLIS_FUZZ_SEEDS") else { return };
    for (target, _) in portcullis::fuzz::TARGETS {
        let d = Path::new(&dir).join(target);
        std::fs::create_dir_all(&d).unwrap();
        for (i, s) in seeds(target).iter().enumerate() {
            std::fs::write(d.join(format!("seed-{i:04}")), s).unwrap();
        }
    }
}
