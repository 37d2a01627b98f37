//! The Azure fake (tests/support/azure_fake.py): Entra ID's token endpoint, Resource Manager and
//! Microsoft Graph on 127.0.0.1 over HTTPS, with a CA made for the run. Started with the moto
//! venv's python (it has `cryptography`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use serde_json::Value;

pub const TENANT: &str = "3f2e1d0c-aaaa-4bbb-8ccc-000000000001";
pub const CLIENT: &str = "5c4b3a29-aaaa-4bbb-8ccc-000000000002";
pub const SECRET: &str = "fake-secret-for-tests-only";

pub struct AzureFake {
    child: Child,
    pub login: u16,
    pub arm: u16,
    pub graph: u16,
    pub ca: PathBuf,
    pub client_certificate: PathBuf,
    pub dir: tempfile::TempDir,
}

impl AzureFake {
    /// Start the fake on the scenario file with extra fault flags (`--deny PATH`, …).
    pub fn start(scenario: &str, flags: &[&str]) -> Option<AzureFake> {
        let (child, v, dir) = super::start_fake("azure_fake.py", &super::scenario_path("azure", scenario), flags)?;
        let port = |k: &str| v["ports"][k].as_u64().unwrap() as u16;
        Some(AzureFake {
            login: port("login"),
            arm: port("arm"),
            graph: port("graph"),
            ca: PathBuf::from(v["ca"].as_str().unwrap()),
            client_certificate: PathBuf::from(v["client_certificate"].as_str().unwrap()),
            child,
            dir,
        })
    }

    /// Every request the fake saw: (server, method, path with query).
    pub fn requests(&self) -> Vec<(String, String, String)> {
        super::recorded_requests(self.dir.path())
            .iter()
            .map(|v| (v["server"].as_str().unwrap_or("").into(), v["method"].as_str().unwrap_or("").into(), v["path"].as_str().unwrap_or("").into()))
            .collect()
    }

    /// The command, configured only through the documented variables: the client-secret step of
    /// the chain, the login host, the two endpoints and the CA bundle.
    pub fn command(&self, args: &[&str]) -> Command {
        let home = tempfile::tempdir().unwrap().keep();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", CLIENT)
            .env("AZURE_CLIENT_SECRET", SECRET)
            .env("AZURE_AUTHORITY_HOST", format!("https://127.0.0.1:{}", self.login))
            .env("PORTCULLIS_AZURE_ARM_ENDPOINT", format!("https://127.0.0.1:{}", self.arm))
            .env("PORTCULLIS_AZURE_GRAPH_ENDPOINT", format!("https://127.0.0.1:{}", self.graph))
            .env("SSL_CERT_FILE", &self.ca);
        cmd
    }

    pub fn scan(&self, extra: &[&str]) -> (std::process::Output, Value) {
        let mut args = vec!["scan", "--azure", "--json", "-", "--quiet", "--now", "2026-11-30T12:00:00Z"];
        args.extend_from_slice(extra);
        let out = self.command(&args).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("scan output is not JSON ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr))
        });
        (out, v)
    }
}

impl Drop for AzureFake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config file trusting the tenant that runs the dev subscription's Lighthouse delegation.
pub fn trust_config(dir: &Path) -> PathBuf {
    let p = dir.join("portcullis.toml");
    std::fs::write(&p, "[trust]\nazure_tenants = [\"88888888-0000-4000-8000-000000000088\"]\n").unwrap();
    p
}
