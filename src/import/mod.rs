//! File sources: exports a person can make with the AWS CLI, and our own snapshots.
//!
//! Each parser takes the text and an `origin` (the file path, or `demo/…`) so that every error
//! names the file and the place in it. None of them panics on any input.

pub(crate) mod aws_authorization_details;
pub(crate) mod aws_credential_report;
mod aws_iam_files;
mod snapshot;
pub mod terraform;

use std::path::{Path, PathBuf};

pub use aws_authorization_details::parse_authorization_details;
pub use aws_credential_report::parse_credential_report;
pub use aws_iam_files::{parse_account_summary, parse_password_policy};
pub use snapshot::{parse_snapshot, write_snapshot};

use crate::inventory::aws::AwsAccount;
use crate::inventory::{Collected, Dataset, Inventory, MergeError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// `option` is the command-line option (or source) that named the file.
    #[error("{option}{origin}: cannot read: {reason}")]
    Io { option: String, origin: String, reason: String },
    /// Malformed content; `place` is a JSON path, a line/column, or empty.
    #[error("{origin}: {}{message}", place_prefix(.place))]
    Invalid { origin: String, place: String, message: String },
    /// Two sources give the same dataset for the same scope.
    #[error("{first} and {second} both provide {dataset} for {scope}; give each dataset once")]
    Conflict { first: String, second: String, dataset: crate::inventory::Dataset, scope: String },
    #[error("{0}")]
    Usage(String),
}

fn place_prefix(place: &str) -> String {
    if place.is_empty() { String::new() } else { format!("{place}: ") }
}

impl ImportError {
    pub(crate) fn invalid(origin: &str, place: impl Into<String>, message: impl Into<String>) -> Self {
        ImportError::Invalid { origin: origin.to_string(), place: place.into(), message: message.into() }
    }

    /// From a serde_json error tracked with its path (`RoleDetailList[3].AssumeRolePolicyDocument`).
    pub(crate) fn json(origin: &str, e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let place = if path == "." || path.is_empty() {
            format!("line {} column {}", inner.line(), inner.column())
        } else {
            format!("{path} (line {} column {})", inner.line(), inner.column())
        };
        // serde_json appends " at line L column C" to its messages; the place already says it.
        let msg = inner.to_string();
        let msg = msg.rsplit_once(" at line ").map(|(m, _)| m.to_string()).unwrap_or(msg);
        ImportError::invalid(origin, place, plain_types(&msg))
    }
}

/// serde names our Rust types in its messages ("expected struct RawUser"); say what was expected
/// in the file's terms instead.
pub(crate) fn plain_types(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("expected ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + "expected ".len()..];
        let (replacement, skip) = if let Some(t) = tail.strip_prefix("struct ") {
            ("expected an object", "struct ".len() + t.find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(t.len()))
        } else if let Some(t) = tail.strip_prefix("tuple struct ") {
            ("expected a value", "tuple struct ".len() + t.find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(t.len()))
        } else if let Some(t) = tail.strip_prefix("enum ") {
            ("expected one of the documented values", "enum ".len() + t.find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(t.len()))
        } else {
            ("expected ", 0)
        };
        out.push_str(replacement);
        rest = &tail[skip..];
    }
    out.push_str(rest);
    out
}

/// Deserialize JSON text, reporting the path of any error.
///
/// The fast path parses without tracking paths; only a document that fails is parsed a second time
/// with `serde_path_to_error` to say where (path tracking costs about a third of the parse time).
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> Result<T, ImportError> {
    if let Ok(v) = serde_json::from_str(text) {
        return Ok(v);
    }
    let start = text.trim_start();
    if !start.starts_with(['{', '[', '"']) {
        let head: String = start.chars().take(24).collect();
        let hint = if head.to_ascii_lowercase().starts_with("user,") {
            "; it looks like an IAM credential report: give it with --aws-credential-report"
        } else {
            ""
        };
        return Err(ImportError::invalid(origin, "", format!("not JSON (it starts with {head:?}){hint}")));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let v = serde_path_to_error::deserialize(&mut de).map_err(|e| ImportError::json(origin, e))?;
    de.end().map_err(|e| ImportError::invalid(origin, format!("line {} column {}", e.line(), e.column()), "trailing characters after the JSON document"))?;
    Ok(v)
}

/// An OS error in words, once (no "(os error 2)" tail, no repetition).
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "it is a directory".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}

/// Read a source file named by `option` (e.g. `--aws-credential-report`).
pub(crate) fn read_source(option: &str, path: &Path) -> Result<String, ImportError> {
    read_text(path).map_err(|e| match e {
        ImportError::Io { origin, reason, .. } => ImportError::Io { option: format!("{option} "), origin, reason },
        other => other,
    })
}

pub(crate) fn read_text(path: &Path) -> Result<String, ImportError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io { option: String::new(), origin: origin.clone(), reason: io_reason(&e) })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ImportError::invalid(&origin, format!("byte {}", e.utf8_error().valid_up_to()), "not UTF-8 text")
    })?;
    // Editors on Windows write a byte-order mark; JSON parsers refuse it.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    if text.trim().is_empty() {
        return Err(ImportError::invalid(&origin, "", "the file is empty"));
    }
    Ok(text)
}

/// The file sources given on the command line.
#[derive(Debug, Clone, Default)]
pub struct FileSources {
    pub inventory: Vec<PathBuf>,
    pub aws_authorization_details: Vec<PathBuf>,
    pub aws_credential_report: Vec<PathBuf>,
    pub aws_password_policy: Option<PathBuf>,
    pub aws_account_summary: Option<PathBuf>,
}

impl FileSources {
    pub fn is_empty(&self) -> bool {
        self.inventory.is_empty()
            && self.aws_authorization_details.is_empty()
            && self.aws_credential_report.is_empty()
            && self.aws_password_policy.is_none()
            && self.aws_account_summary.is_none()
    }

    /// Read every file and fold them into one inventory.
    pub fn load(&self) -> Result<Inventory, ImportError> {
        let mut texts = Texts::default();
        for p in &self.inventory {
            if p.is_dir() {
                // A directory of snapshots (the shards a job wrote to a shared volume): each
                // `.json` file in it, in name order.
                let entries = std::fs::read_dir(p).map_err(|e| ImportError::Io { option: "--inventory ".into(), origin: p.display().to_string(), reason: io_reason(&e) })?;
                let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "json")).collect();
                files.sort();
                if files.is_empty() {
                    return Err(ImportError::Usage(format!("--inventory {}: the directory holds no .json snapshot", p.display())));
                }
                for f in files {
                    texts.inventory.push((f.display().to_string(), read_source("--inventory", &f)?));
                }
                continue;
            }
            texts.inventory.push((p.display().to_string(), read_source("--inventory", p)?));
        }
        for p in &self.aws_authorization_details {
            texts.authorization_details.push((p.display().to_string(), read_source("--aws-authorization-details", p)?));
        }
        for p in &self.aws_credential_report {
            texts.credential_report.push((p.display().to_string(), read_source("--aws-credential-report", p)?));
        }
        if let Some(p) = &self.aws_password_policy {
            texts.password_policy = Some((p.display().to_string(), read_source("--aws-password-policy", p)?));
        }
        if let Some(p) = &self.aws_account_summary {
            texts.account_summary = Some((p.display().to_string(), read_source("--aws-account-summary", p)?));
        }
        texts.load()
    }
}

/// Source texts with their origins; what [`FileSources::load`] reads and what the demo embeds.
#[derive(Debug, Clone, Default)]
pub struct Texts {
    pub inventory: Vec<(String, String)>,
    pub authorization_details: Vec<(String, String)>,
    pub credential_report: Vec<(String, String)>,
    pub password_policy: Option<(String, String)>,
    pub account_summary: Option<(String, String)>,
}

impl Texts {
    pub fn load(&self) -> Result<Inventory, ImportError> {
        let mut inv = Inventory::default();
        let mut seen = Provided::default();
        let snapshots = self.inventory.iter().map(|(origin, text)| Ok((origin.clone(), parse_snapshot(text, origin)?))).collect::<Result<Vec<_>, ImportError>>()?;
        if snapshots.iter().any(|(_, s)| s.shard.is_some()) {
            // Shards of one collection: checked against each other, and what none delivered
            // becomes a named gap.
            let (merged, warnings) = crate::inventory::shard::merge(snapshots).map_err(|e| match e {
                crate::inventory::shard::ShardOrMergeError::Shard(e) => ImportError::Usage(e.to_string()),
                crate::inventory::shard::ShardOrMergeError::Merge(e) => ImportError::Usage(format!("--inventory: {e}")),
            })?;
            seen.add(&mut inv, merged, "the shard snapshots")?;
            inv.warnings.extend(warnings);
        } else {
            for (origin, snapshot) in snapshots {
                seen.add(&mut inv, snapshot, &origin)?;
            }
        }
        for (origin, text) in &self.authorization_details {
            seen.add(&mut inv, parse_authorization_details(text, origin)?, origin)?;
        }
        for (origin, text) in &self.credential_report {
            seen.add(&mut inv, parse_credential_report(text, origin)?, origin)?;
        }
        // Password policy and account summary files carry no account id: they belong to the one
        // account the other sources describe.
        if let Some((origin, text)) = &self.password_policy {
            let policy = parse_password_policy(text, origin)?;
            attach(&mut inv, origin, "password policy", Dataset::AwsPasswordPolicy, |a| &mut a.password_policy, policy)?;
        }
        if let Some((origin, text)) = &self.account_summary {
            let summary = parse_account_summary(text, origin)?;
            attach(&mut inv, origin, "account summary", Dataset::AwsAccountSummary, |a| &mut a.account_summary, summary)?;
        }
        Ok(inv)
    }
}

/// Which file provided each (scope, dataset), so a conflict names both files.
#[derive(Default)]
struct Provided(std::collections::HashMap<(String, Dataset), String>);

impl Provided {
    fn add(&mut self, inv: &mut Inventory, part: Inventory, origin: &str) -> Result<(), ImportError> {
        let provided: Vec<(String, Dataset)> =
            part.coverage().into_iter().filter(|c| c.state.label() != "not_requested").map(|c| (c.scope, c.dataset)).collect();
        inv.merge(part).map_err(|e| self.conflict(e, origin))?;
        for p in provided {
            self.0.entry(p).or_insert_with(|| origin.to_string());
        }
        Ok(())
    }

    fn conflict(&self, e: MergeError, second: &str) -> ImportError {
        let first = self.0.get(&(e.scope.clone(), e.dataset)).cloned().unwrap_or_else(|| "an earlier source".into());
        ImportError::Conflict { first, second: second.to_string(), dataset: e.dataset, scope: e.scope }
    }
}

/// Attach an account-less dataset to the single account the other sources describe.
fn attach<T>(
    inv: &mut Inventory,
    origin: &str,
    what: &str,
    dataset: Dataset,
    slot: impl FnOnce(&mut AwsAccount) -> &mut Collected<T>,
    value: T,
) -> Result<(), ImportError> {
    let acct = match inv.aws.accounts.as_mut_slice() {
        [one] => one,
        [] => {
            return Err(ImportError::Usage(format!(
                "{origin}: a {what} file names no account; give it together with --aws-authorization-details or --aws-credential-report for the same account"
            )))
        }
        many => {
            return Err(ImportError::Usage(format!(
                "{origin}: a {what} file names no account, and the other sources describe {} accounts",
                many.len()
            )))
        }
    };
    let id = acct.account_id.clone();
    slot(acct).merge(Collected::Collected(value), &id, dataset).map_err(|e| ImportError::Conflict {
        first: "another source".into(),
        second: origin.to_string(),
        dataset: e.dataset,
        scope: e.scope,
    })?;
    inv.sources.push(format!("aws {what}: {origin}"));
    Ok(())
}
