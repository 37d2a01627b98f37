//! The GCP fake (tests/support/gcp_fake.py): Resource Manager, Cloud Asset, IAM, Org Policy and
//! Logging on one HTTPS port, with a CA and a service-account key made for the run.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const ORG: &str = "111111111111";

pub struct GcpFake {
    child: Child,
    pub port: u16,
    pub ca: PathBuf,
    pub key_file: PathBuf,
    pub dir: tempfile::TempDir,
}

impl GcpFake {
    pub fn start(scenario: &str, flags: &[&str]) -> Option<GcpFake> {
        let python = super::moto_python()?;
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(super::root().join("tests/support/gcp_fake.py"))
            .arg(super::root().join("fixtures/gcp").join(scenario))
            .args(["--dir", dir.path().to_str().unwrap()])
            .args(flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the gcp fake");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("gcp fake did not start: {e}: {line:?}"));
        Some(GcpFake {
            port: v["port"].as_u64().unwrap() as u16,
            ca: PathBuf::from(v["ca"].as_str().unwrap()),
            key_file: PathBuf::from(v["key_file"].as_str().unwrap()),
            child,
            dir,
        })
    }

    /// Every request the fake saw: (method, path with query).
    pub fn requests(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.path().join("requests.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| (v["method"].as_str().unwrap_or("").into(), v["path"].as_str().unwrap_or("").into()))
            .collect()
    }

    /// Configured only through the documented variables: ADC's key file, the endpoint, the CA.
    pub fn command(&self, args: &[&str]) -> Command {
        let home = tempfile::tempdir().unwrap().keep();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env("GOOGLE_APPLICATION_CREDENTIALS", &self.key_file)
            .env("PORTCULLIS_GCP_ENDPOINT", format!("https://127.0.0.1:{}", self.port))
            .env("SSL_CERT_FILE", &self.ca);
        cmd
    }

    pub fn scan(&self, extra: &[&str]) -> (std::process::Output, Value) {
        let mut args = vec!["scan", "--gcp", "--gcp-organization", ORG, "--json", "-", "--quiet", "--now", "2026-11-30T12:00:00Z"];
        args.extend_from_slice(extra);
        let out = self.command(&args).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("scan output is not JSON ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr)));
        (out, v)
    }
}

impl Drop for GcpFake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
