//! Scale beyond one machine: four `collect --shard I/4` processes run in parallel against a moto
//! organization of 40 accounts; `portcullis merge` puts them back together, and the merged scan
//! equals the unsharded one. A shard that never arrived is named, and its accounts are reported
//! as not evaluated, never silently missing.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use support::{portcullis_command, Front, Moto, Reply, Request};

const NOW: &str = "2026-11-30T12:00:00Z";

/// What moto lacks: Access Analyzer (no analyzer anywhere) and GetInstanceMetadataDefaults (no
/// account-level default), in their documented shapes.
fn front(moto: &Moto) -> Front {
    Front::start(
        moto.port,
        Arc::new(|req: &Request| match req.scope().0.as_str() {
            "access-analyzer" => Reply::Serve(200, vec![("Content-Type".into(), "application/json".into())], json!({"analyzers": []}).to_string().into_bytes()),
            "ec2" if req.body_str().contains("Action=GetInstanceMetadataDefaults") => Reply::Serve(
                200,
                vec![("Content-Type".into(), "text/xml".into())],
                b"<GetInstanceMetadataDefaultsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId><accountLevel/></GetInstanceMetadataDefaultsResponse>".to_vec(),
            ),
            _ => Reply::Forward,
        }),
    )
}

fn run(moto: &Moto, front: &Front, args: &[&str]) -> std::process::Output {
    let (mut cmd, _home) = portcullis_command(&moto.endpoint(), &[("EC2", front), ("ACCESSANALYZER", front)], args);
    cmd.output().unwrap()
}

fn collect_args<'a>(out: &'a str, shard: Option<&'a str>) -> Vec<&'a str> {
    let mut v = vec!["collect", "--aws", "--aws-org", "--aws-regions", "us-east-1", "--concurrency", "4", "--quiet", "--out", out];
    if let Some(s) = shard {
        v.extend(["--shard", s]);
    }
    v
}

fn scan(moto: &Moto, front: &Front, inventories: &[&Path]) -> (std::process::Output, Value) {
    let mut args: Vec<String> = vec!["scan".into(), "--json".into(), "-".into(), "--now".into(), NOW.into()];
    for p in inventories {
        args.push("--inventory".into());
        args.push(p.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(moto, front, &refs);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, doc)
}

/// A message with its numbers masked: the collections ran a minute apart, so ages may differ by one.
fn masked(m: &str) -> String {
    let mut out = String::new();
    for c in m.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// (check, account, resource) → (status, message with numbers masked): the verdicts of a scan.
fn verdicts(doc: &Value) -> BTreeMap<(String, String, String), (String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (f["check_id"].as_str().unwrap().into(), f["account"].as_str().unwrap_or("").into(), f["resource"]["id"].as_str().unwrap().into()),
                (f["status"].as_str().unwrap().into(), masked(f["message"].as_str().unwrap_or(""))),
            )
        })
        .collect()
}

/// The findings whose status or message differ, for a readable failure.
fn differences(got: &BTreeMap<(String, String, String), (String, String)>, want: &BTreeMap<(String, String, String), (String, String)>) -> Vec<String> {
    let keys: BTreeSet<_> = got.keys().chain(want.keys()).collect();
    keys.into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .map(|k| format!("{k:?}: {:?} (unsharded: {:?})", got.get(k), want.get(k)))
        .collect()
}

fn accounts_in(snapshot: &Path) -> BTreeSet<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(snapshot).unwrap()).unwrap();
    v["aws"]["accounts"].as_array().map(|a| a.iter().map(|x| x["account_id"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

#[test]
fn four_parallel_shards_merge_to_the_unsharded_scan() {
    let Some(moto) = Moto::start() else { return };
    let started = std::time::Instant::now();
    let seeded = moto.seed(&["wide", "--accounts", "40"]);
    let all: BTreeSet<String> = seeded["accounts"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    assert_eq!(all.len(), 40);
    let front = front(&moto);
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();

    eprintln!("seeded in {:?}", started.elapsed());
    // The unsharded collection and its scan: the reference.
    let started = std::time::Instant::now();
    let full = path("full.json");
    let out = run(&moto, &front, &collect_args(&full, None));
    eprintln!("unsharded collection: {:?}", started.elapsed());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(accounts_in(Path::new(&full)), all);
    let (_, reference) = scan(&moto, &front, &[Path::new(&full)]);
    let expected = verdicts(&reference);
    assert!(expected.len() > 200, "the reference scan judged too little ({} findings)", expected.len());

    let started = std::time::Instant::now();
    // Four shard processes at once, as a Kubernetes Indexed Job runs them: the index from
    // JOB_COMPLETION_INDEX, `{shard}` in the output path, the directory created by the first.
    let names: Vec<String> = (0..4).map(|i| path(&format!("shards/{i}.json"))).collect();
    let pattern = path("shards/{shard}.json");
    let mut children = Vec::new();
    for i in 0..4 {
        let (mut cmd, home) = portcullis_command(&moto.endpoint(), &[("EC2", &front), ("ACCESSANALYZER", &front)], &collect_args(&pattern, Some("auto/4")));
        cmd.env("JOB_COMPLETION_INDEX", i.to_string());
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
        children.push((cmd.spawn().unwrap(), home));
    }
    for (child, _home) in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    // Each shard holds its own accounts, together all 40, none twice; only shard 0 the organization.
    let mut union = BTreeSet::new();
    for (i, n) in names.iter().enumerate() {
        let mine = accounts_in(Path::new(n));
        assert!(!mine.is_empty() && mine.len() < 25, "shard {i} took {} accounts", mine.len());
        for a in &mine {
            assert!(union.insert(a.clone()), "account {a} in two shards");
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(n).unwrap()).unwrap();
        assert_eq!(v["shard"]["index"], i);
        assert_eq!(v["shard"]["aws_accounts"].as_array().unwrap().len(), 40, "each shard records the whole listing");
        assert_eq!(v["aws"]["organization"].is_object(), i == 0, "shard {i}: {}", v["aws"]["organization"]);
    }
    assert_eq!(union, all);
    eprintln!("four shards collected in {:?}", started.elapsed());

    // merge, then scan: the same verdicts as the unsharded scan.
    let merged = path("merged.json");
    let mut args = vec!["merge", "--out", merged.as_str()];
    args.extend(names.iter().map(String::as_str));
    let out = run(&moto, &front, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, doc) = scan(&moto, &front, &[Path::new(&merged)]);
    let diff = differences(&verdicts(&doc), &expected);
    assert!(diff.is_empty(), "the merged scan differs from the unsharded one:\n{}", diff.join("\n"));
    // And `scan --inventory` with the directory of shards: merge and scan in one step.
    let shards_dir = dir.path().join("shards");
    let (_, doc) = scan(&moto, &front, &[shards_dir.as_path()]);
    let diff = differences(&verdicts(&doc), &expected);
    assert!(diff.is_empty(), "scanning the four shards differs from the unsharded scan:\n{}", diff.join("\n"));

    // Shard 2 never arrives: merge names it, and its accounts are not evaluated, saying why.
    let missing = accounts_in(Path::new(&names[2]));
    let partial = path("partial.json");
    let out = run(&moto, &front, &["merge", "--out", &partial, &names[0], &names[1], &names[3]]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: shard 2/4 did not arrive"), "{stderr}");
    assert_eq!(accounts_in(Path::new(&partial)), all, "the missing shard's accounts are kept, as gaps");
    let (out, doc) = scan(&moto, &front, &[Path::new(&partial)]);
    let mut gaps = 0;
    for ((check, account, resource), (status, message)) in verdicts(&doc) {
        let before = expected.get(&(check.clone(), account.clone(), resource.clone())).map(|v| v.0.clone());
        if missing.contains(&account) && !check.starts_with("aws_organizations_") {
            // What rests on the account's own data is not evaluated, naming the shard; what
            // rests on the organization's (shard 0's SCPs) is judged as before.
            assert_eq!(status, "not_evaluated", "{check} {account} {resource}");
            assert!(message.contains("shard #/# of the collection did not arrive"), "{check} {account}: {message}");
            gaps += 1;
        } else {
            assert_eq!(Some(&status), before.as_ref(), "{check} {account} {resource}");
        }
    }
    assert!(gaps >= missing.len(), "{gaps} gaps for {} accounts", missing.len());
    assert!(String::from_utf8_lossy(&out.stdout).contains("shard 2/4 of the collection did not arrive"));
    // Even with every other check passing, the gate says the scan is incomplete.
    let out2 = run(&moto, &front, &["scan", "--inventory", &partial, "--checks", "aws_iam_root_access_key_absent", "--fail-on", "critical", "--quiet"]);
    assert_eq!(out2.status.code(), Some(3), "{}", String::from_utf8_lossy(&out2.stderr));

    // Refused: a shard given twice, and shards of different counts.
    let out = run(&moto, &front, &["merge", "--out", &path("twice.json"), &names[0], &names[0]]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("both shard 0/4"), "{}", String::from_utf8_lossy(&out.stderr));
    let three = path("three-1.json");
    let out = run(&moto, &front, &collect_args(&three, Some("1/3")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&moto, &front, &["merge", "--out", &path("mixed.json"), &names[0], &three]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("same count"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn shard_usage_errors() {
    // Without a live source, and with a bad value: usage errors, before anything is read.
    for (args, says) in [
        (vec!["collect", "--demo", "--shard", "0/2", "--out", "/tmp/x.json"], "live collection"),
        (vec!["collect", "--aws", "--shard", "2/2", "--out", "/tmp/x.json"], "numbered from 0"),
        (vec!["collect", "--aws", "--shard", "two", "--out", "/tmp/x.json"], "I/N"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis")).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Collect unsharded and in `n` shards through `command`, then check that scanning the shards'
/// directory gives the unsharded scan's verdicts, and that leaving one shard out makes exactly its
/// scopes' own findings not evaluated.
fn sharded_equals_whole(command: &dyn Fn(&[&str]) -> std::process::Command, source: &[&str], n: u32, config: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let collect = |out: &str, shard: Option<String>| {
        let mut args = vec!["collect"];
        args.extend_from_slice(source);
        args.extend(["--quiet", "--out", out]);
        let shard = shard.unwrap_or_default();
        if !shard.is_empty() {
            args.extend(["--shard", shard.as_str()]);
        }
        let out = command(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let scan = |inventory: &Path| {
        let inv = inventory.display().to_string();
        let cfg = config.display().to_string();
        let out = command(&["scan", "--inventory", &inv, "--config", &cfg, "--json", "-", "--quiet", "--now", NOW]).output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        verdicts(&doc)
    };
    let full = dir.path().join("full.json");
    collect(&full.display().to_string(), None);
    let expected = scan(&full);
    assert!(expected.len() > 10, "{expected:?}");
    let pattern = dir.path().join("shards/{shard}.json").display().to_string();
    for i in 0..n {
        collect(&pattern, Some(format!("{i}/{n}")));
    }
    let got = scan(&dir.path().join("shards"));
    let diff = differences(&got, &expected);
    assert!(diff.is_empty(), "the sharded scan differs:\n{}", diff.join("\n"));

    // Without the last shard: its scopes' findings are not evaluated, naming it.
    let last = dir.path().join(format!("shards/{}.json", n - 1));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&last).unwrap()).unwrap();
    let moved = dir.path().join("left-out.json");
    std::fs::rename(&last, &moved).unwrap();
    let got = scan(&dir.path().join("shards"));
    let label = masked(&format!("shard {}/{n} of the collection did not arrive", n - 1));
    let gaps = got.values().filter(|(s, m)| s == "not_evaluated" && m.contains(&label)).count();
    let held = v["azure"]["tenants"].as_array().into_iter().flatten().map(|t| t["subscriptions"].as_array().map_or(0, Vec::len)).sum::<usize>()
        + v["gcp"]["projects"].as_array().map_or(0, Vec::len);
    eprintln!("shard {}/{n} held {held} scope(s); without it {gaps} finding(s) name it", n - 1);
    if held > 0 {
        assert!(gaps >= held, "{gaps} findings name the missing shard, which held {held} scope(s): {got:?}");
    }
}

#[test]
fn azure_subscriptions_and_gcp_projects_shard_too() {
    if let Some(azure) = support::azure::AzureFake::start("tenant.json", &[]) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = support::azure::trust_config(dir.path());
        sharded_equals_whole(&|args| azure.command(args), &["--azure"], 2, &cfg);
    }
    if let Some(gcp) = support::gcp::GcpFake::start("org.json", &[]) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("portcullis.toml");
        std::fs::write(&cfg, "").unwrap();
        sharded_equals_whole(&|args| gcp.command(args), &["--gcp", "--gcp-organization", support::gcp::ORG], 3, &cfg);
    }
}
