//! The GCP fake (tests/support/gcp_fake.py): Resource Manager, Cloud Asset, IAM, Org Policy and
//! Logging on one HTTPS port, with a CA and a service-account key made for the run.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command};

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
        let (child, v, dir) = super::start_fake("gcp_fake.py", &super::scenario_path("gcp", scenario), flags)?;
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
        super::recorded_requests(self.dir.path())
            .iter()
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
