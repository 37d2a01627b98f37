//! Real parts for the live-collection tests: a moto server (started here on 127.0.0.1 and a free
//! port) and a small local front server that serves what moto lacks (IAM Access Analyzer,
//! `GetInstanceMetadataDefaults`) in their documented shapes, injects faults (a refused
//! `AssumeRole`), and forwards everything else to moto. Both record every API call, so tests can
//! prove that a scan only reads.
#![allow(dead_code)]

pub mod azure;
pub mod gcp;
pub mod ocsf;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The moto venv's python (`.ci/run` creates it), or `PORTCULLIS_MOTO_PYTHON`.
pub fn moto_python() -> Option<PathBuf> {
    let p = std::env::var_os("PORTCULLIS_MOTO_PYTHON").map(PathBuf::from).unwrap_or_else(|| root().join(".ci/tools/moto/bin/python"));
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("PORTCULLIS_REQUIRE_TOOLS").is_some() {
        panic!("moto is required (PORTCULLIS_REQUIRE_TOOLS is set) but {} does not exist; run .ci/run", p.display());
    }
    eprintln!("skipping: moto not installed at {} (run .ci/run)", p.display());
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Moto {
    child: Child,
    pub port: u16,
    pub recording: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Option<Moto> {
        let python = moto_python()?;
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("recording.jsonl");
        for _ in 0..5 {
            let port = free_port();
            let log = std::fs::File::create(dir.path().join("moto.log")).unwrap();
            let child = Command::new(&python)
                .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .env("MOTO_ENABLE_RECORDING", "True")
                .env("MOTO_RECORDER_FILEPATH", &recording)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start moto");
            let mut m = Moto { child, port, recording: recording.clone(), _dir: tempfile::tempdir().unwrap() };
            if m.wait_ready() {
                m._dir = dir;
                return Some(m);
            }
            let _ = m.child.kill(); // port taken in the meantime: try another
        }
        panic!("moto did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok((status, _)) = http(self.port, "GET", "/moto-api/", &[], b"") {
                if status == 200 {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Run `fixtures/moto/seed.py` with these arguments; its stdout is JSON.
    pub fn seed(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(moto_python().unwrap())
            .arg(root().join("fixtures/moto/seed.py"))
            .args(["--endpoint", &self.endpoint()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "seed failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn reset_recording(&self) {
        let (s, _) = http(self.port, "POST", "/moto-api/recorder/reset-recording", &[], b"").unwrap();
        assert_eq!(s, 200);
    }

    /// Every call moto saw since the last reset: (service, action).
    pub fn recorded(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let headers: BTreeMap<String, String> = v["headers"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string())).collect())
                    .unwrap_or_default();
                let body = match (v["body"].as_str(), v["body_encoded"].as_bool()) {
                    (Some(b), Some(true)) => {
                        use base64::Engine;
                        String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default()).into_owned()
                    }
                    (Some(b), _) => b.to_string(),
                    _ => String::new(),
                };
                identify(&headers, v["method"].as_str().unwrap_or(""), v["url"].as_str().unwrap_or(""), &body)
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (service from the SigV4 scope, action from the body, query, target header or REST route).
pub fn identify(headers: &BTreeMap<String, String>, method: &str, url: &str, body: &str) -> (String, String) {
    let service = headers
        .get("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("?")
        .to_string();
    let form_action = |s: &str| s.split('&').find_map(|kv| kv.strip_prefix("Action=")).map(str::to_string);
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let action = form_action(body)
        .or_else(|| form_action(query))
        .or_else(|| headers.get("x-amz-target").and_then(|t| t.rsplit('.').next()).map(str::to_string))
        .unwrap_or_else(|| {
            let path = url.split('?').next().unwrap_or("");
            let path = path.split_once("://").map(|(_, r)| r.split_once('/').map(|(_, p)| p).unwrap_or("")).unwrap_or(path.trim_start_matches('/'));
            format!("{method} /{path}")
        });
    (service, action)
}

/// A minimal HTTP/1.1 request to 127.0.0.1:port; returns (status, body).
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text_end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4).unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..text_end]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, raw[text_end..].to_vec()))
}

/// One request the front server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
    /// (service, region, access key id) from the SigV4 credential scope.
    pub fn scope(&self) -> (String, String, String) {
        let cred = self.headers.get("authorization").and_then(|a| a.split("Credential=").nth(1)).unwrap_or("");
        let parts: Vec<&str> = cred.split(['/', ',']).collect();
        let get = |i: usize| parts.get(i).copied().unwrap_or("").to_string();
        (get(3), get(2), get(0))
    }
    pub fn action(&self) -> (String, String) {
        identify(&self.headers, &self.method, &self.target, &self.body_str())
    }
}

pub enum Reply {
    /// status, headers, body
    Serve(u16, Vec<(String, String)>, Vec<u8>),
    /// Pass the request to moto unchanged.
    Forward,
    /// Close the connection without answering (a dropped connection).
    Drop,
    /// Wait, then reply as the inner reply says (an answer slower than a timeout).
    Delay(Duration, Box<Reply>),
}

pub type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// The local front server. Every request it sees is kept in `seen`.
pub struct Front {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Front {
    pub fn start(moto_port: u16, handler: Arc<Handler>) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let handler = handler.clone();
                let seen = seen2.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, moto_port, &*handler, &seen);
                });
            }
        });
        Front { port, seen }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn recorded(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, moto_port: u16, handler: &Handler, seen: &Mutex<Vec<(String, String)>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut it = line.split_whitespace();
        let (method, target) = (it.next().unwrap_or("").to_string(), it.next().unwrap_or("").to_string());
        let mut headers = BTreeMap::new();
        let mut raw_headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end().to_string();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
            raw_headers.push(h);
        }
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let req = Request { method, target, headers, body };
        let mut reply = handler(&req);
        while let Reply::Delay(d, inner) = reply {
            std::thread::sleep(d);
            reply = *inner;
        }
        let (status, hdrs, body) = match reply {
            Reply::Serve(s, h, b) => {
                seen.lock().unwrap().push(req.action());
                (s, h, b)
            }
            Reply::Forward => forward(moto_port, &req, &raw_headers)?,
            Reply::Drop | Reply::Delay(..) => return Ok(()),
        };
        let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
        for (k, v) in hdrs {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        conn.write_all(out.as_bytes())?;
        conn.write_all(&body)?;
        conn.flush()?;
    }
}

/// Status, headers and body of an answer.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn forward(moto_port: u16, req: &Request, raw_headers: &[String]) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", moto_port))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for h in raw_headers {
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("transfer-encoding:") || lower.starts_with("content-length:") {
            continue;
        }
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", req.body.len()));
    s.write_all(head.as_bytes())?;
    s.write_all(&req.body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4).unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(502);
    let mut headers = Vec::new();
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim();
            if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.trim().eq_ignore_ascii_case("chunked");
                continue;
            }
            if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("connection") {
                continue;
            }
            headers.push((k.to_string(), v.trim().to_string()));
        }
    }
    let mut body = raw[end..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Ok((status, headers, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(p) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..p]).split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = p + 2;
        out.extend_from_slice(&b[start..(start + size).min(b.len())]);
        b = &b[(start + size + 2).min(b.len())..];
    }
}

/// Run the portcullis binary with AWS pointed at the emulator, isolated from the host's config;
/// EC2, Access Analyzer and STS go through `front` when there is one.
pub fn portcullis(endpoint: &str, front: Option<&Front>, args: &[&str]) -> std::process::Output {
    let routed: Vec<(&str, &Front)> = front.map(|f| vec![("EC2", f), ("ACCESSANALYZER", f), ("STS", f)]).unwrap_or_default();
    portcullis_routed(endpoint, &routed, args)
}

/// As [`portcullis`], with each named service (`IAM`, `CLOUDTRAIL`, …) sent to its front.
pub fn portcullis_routed(endpoint: &str, routed: &[(&str, &Front)], args: &[&str]) -> std::process::Output {
    let (mut cmd, _home) = portcullis_command(endpoint, routed, args);
    cmd.output().unwrap()
}

/// The command [`portcullis_routed`] runs, to spawn it (keep the home directory until it ends).
#[allow(dead_code)]
pub fn portcullis_command(endpoint: &str, routed: &[(&str, &Front)], args: &[&str]) -> (Command, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("credentials"));
    for (svc, f) in routed {
        cmd.env(format!("AWS_ENDPOINT_URL_{svc}"), f.endpoint());
    }
    (cmd, home)
}

/// The API calls a scan or verify may make: reads, plus generating the credential report and
/// assuming the audit role in member accounts. Anything else is a write and fails the test.
pub fn is_read_only(action: &str) -> bool {
    const EXTRA: &[&str] = &["GenerateCredentialReport", "AssumeRole", "GET /analyzer", "POST /finding"];
    ["Get", "List", "Describe", "LookupEvents"].iter().any(|p| action.starts_with(p)) || EXTRA.contains(&action)
}

/// Microsoft's SARIF Multitool (`.ci/run` installs it), or `PORTCULLIS_SARIF_MULTITOOL`.
pub fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PORTCULLIS_SARIF_MULTITOOL") {
        return Some(PathBuf::from(p));
    }
    let p = root().join(".ci/tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if p.exists() {
        return Some(p);
    }
    assert!(std::env::var_os("PORTCULLIS_REQUIRE_TOOLS").is_none(), "SARIF Multitool not installed (run .ci/run)");
    eprintln!("skipped: SARIF Multitool not installed; `bash .ci/run` installs it");
    None
}

/// Run `validate --rule-kind "Gh;Sarif"` on `target` (a file, or a pattern in a directory),
/// writing its log to `out`: the error-level results (as `rule` or `rule in file`), and the console.
fn run_multitool(tool: &std::path::Path, target: &std::path::Path, out: &std::path::Path, with_file: bool) -> (Vec<String>, String) {
    let o = Command::new(tool)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .args(["validate", "--rule-kind", "Gh;Sarif", "--output"])
        .arg(out)
        .arg(target)
        .output()
        .expect("run the SARIF Multitool");
    let console = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(console.contains("Analysis completed successfully"), "{console}");
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    // The tool exits 0 whatever it finds: the verdict is in its output log.
    let errors = log["runs"][0]["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|x| x["level"] == "error")
                .map(|x| {
                    let rule = x["ruleId"].as_str().unwrap_or("?");
                    if with_file {
                        format!("{rule} in {}", x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
                    } else {
                        rule.to_string()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    (errors, console)
}

/// Validate one file: the ids of error-level results, and the console.
pub fn validate(tool: &std::path::Path, input: &std::path::Path) -> (Vec<String>, String) {
    run_multitool(tool, input, &input.with_extension("validation.sarif"), false)
}

/// Validate every file of `dir` matching `pattern`, in one run: the error ids, each with the file
/// it is in.
pub fn validate_many(tool: &std::path::Path, dir: &std::path::Path, pattern: &str) -> (Vec<String>, String) {
    run_multitool(tool, &dir.join(pattern), &dir.join("validation.log.json"), true)
}

/// Zero errors under GitHub's rules, or fail with the tool's findings.
pub fn validate_sarif(tool: &std::path::Path, input: &std::path::Path) {
    let (errors, console) = validate(tool, input);
    assert!(errors.is_empty(), "{}: {} error(s): {errors:?}\n{console}", input.display(), errors.len());
}

/// (check, resource name, status) of every finding in a findings JSON document.
pub fn verdicts(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["check_id"].as_str().unwrap().to_string(), f["resource"]["name"].as_str().unwrap().to_string(), f["status"].as_str().unwrap().to_string()))
        .collect()
}

/// (check, resource name) of every failing finding, sorted.
pub fn failing(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = verdicts(v).into_iter().filter(|(_, _, s)| s == "fail").map(|(c, r, _)| (c, r)).collect();
    out.sort();
    out
}

/// A Python fake of a cloud (`tests/support/<script>`, run with the moto venv's python, which has
/// `cryptography`) serving `fixtures/<scenario>`: started, and its first stdout line (ports, CA,
/// key files) read. Its stdin stays open: the fake exits when the test drops it.
/// A scenario under fixtures/CLOUD/, or a file a test wrote (an absolute path).
pub fn scenario_path(cloud: &str, scenario: &str) -> String {
    if std::path::Path::new(scenario).is_absolute() {
        scenario.to_string()
    } else {
        format!("{cloud}/{scenario}")
    }
}

pub fn start_fake(script: &str, scenario: &str, flags: &[&str]) -> Option<(Child, serde_json::Value, tempfile::TempDir)> {
    let python = moto_python()?;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(python)
        .arg(root().join("tests/support").join(script))
        .arg(root().join("fixtures").join(scenario))
        .args(["--dir", dir.path().to_str().unwrap()])
        .args(flags)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {script}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{script} did not start: {e}: {line:?}"));
    Some((child, v, dir))
}

/// Every request a fake recorded (`DIR/requests.jsonl`), one JSON object each.
pub fn recorded_requests(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("requests.jsonl")).unwrap_or_default();
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}
