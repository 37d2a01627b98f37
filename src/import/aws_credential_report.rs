//! The IAM credential report: the CSV AWS generates, or the JSON of `aws iam get-credential-report`
//! (base64 `Content`, `GeneratedTime`). Columns are found by header name, so order and extra
//! columns do not matter; every documented special value (`N/A`, `not_supported`,
//! `no_information`) is understood.

use std::collections::HashMap;

use base64::Engine as _;
use serde::Deserialize;

use super::{from_json, ImportError};
use crate::inventory::aws::{AccessKeySlot, AwsAccount, CertificateSlot, CredentialReport, CredentialReportRow, ReportTime, REPORT_COLUMNS};
use crate::inventory::{Collected, Inventory, Timestamp};
use crate::policy::arn::{account_of, is_account_id};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReportJson {
    content: String,
    report_format: Option<String>,
    generated_time: Option<Timestamp>,
}

const REQUIRED: [&str; 4] = ["user", "arn", "password_enabled", "mfa_active"];

pub fn parse_credential_report(text: &str, origin: &str) -> Result<Inventory, ImportError> {
    let (csv_text, generated_at) = if text.trim_start().starts_with('{') {
        let j: ReportJson = from_json(text, origin)?;
        if let Some(f) = &j.report_format {
            if f != "text/csv" {
                return Err(ImportError::invalid(origin, "ReportFormat", format!("expected text/csv, found {f:?}")));
            }
        }
        (content_csv(&j.content, origin)?, j.generated_time)
    } else {
        (text.to_string(), None)
    };
    let (rows, missing_columns) = parse_csv(&csv_text, origin)?;
    let account = report_account(&rows, origin)?;
    let mut acct = AwsAccount::new(account);
    acct.credential_report = Collected::Collected(CredentialReport { generated_at, rows, read_at: None, missing_columns });
    let mut inv = Inventory { generated_at, ..Inventory::default() };
    inv.sources.push(format!("aws credential report: {origin}"));
    inv.aws.accounts.push(acct);
    Ok(inv)
}

/// `Content` as the AWS CLI writes it (base64), or already decoded as boto3-based tools save it
/// (the CSV text itself, or Python's `b'…'` rendering of the bytes).
fn content_csv(content: &str, origin: &str) -> Result<String, ImportError> {
    let t = content.trim_start_matches('\u{feff}').trim();
    let unwrapped = t
        .strip_prefix("b'")
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| t.strip_prefix("b\"").and_then(|r| r.strip_suffix('"')));
    if let Some(inner) = unwrapped {
        return Ok(inner.replace("\\r\\n", "\n").replace("\\n", "\n"));
    }
    if looks_like_csv(t) {
        return Ok(t.to_string());
    }
    let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| ImportError::invalid(origin, "Content", format!("neither base64 nor the report's CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|_| ImportError::invalid(origin, "Content", "decoded report is not UTF-8"))
}

fn looks_like_csv(t: &str) -> bool {
    t.get(..5).is_some_and(|h| h.eq_ignore_ascii_case("user,"))
}

fn report_account(rows: &[CredentialReportRow], origin: &str) -> Result<String, ImportError> {
    let mut found: Option<&str> = None;
    for (i, r) in rows.iter().enumerate() {
        let acct = account_of(&r.arn).filter(|a| is_account_id(a)).ok_or_else(|| {
            ImportError::invalid(origin, format!("row {} (user {})", i + 2, r.user), format!("arn {:?} has no account id", r.arn))
        })?;
        match found {
            None => found = Some(acct),
            Some(a) if a != acct => {
                return Err(ImportError::invalid(origin, format!("row {} (user {})", i + 2, r.user), format!("report mixes accounts {a} and {acct}")))
            }
            _ => {}
        }
    }
    found.map(str::to_string).ok_or_else(|| ImportError::invalid(origin, "", "the credential report has no rows"))
}

/// The rows, and the documented columns the header lacks (their values are unknown, not `N/A`).
pub(crate) fn parse_csv(text: &str, origin: &str) -> Result<(Vec<CredentialReportRow>, Vec<String>), ImportError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ImportError::invalid(origin, "line 1", format!("cannot read the CSV header: {e}")))?
        .clone();
    let index: HashMap<String, usize> = headers.iter().enumerate().map(|(i, h)| (h.to_ascii_lowercase(), i)).collect();
    for col in REQUIRED {
        if !index.contains_key(col) {
            return Err(ImportError::invalid(origin, "line 1", format!("missing column {col:?}; is this an IAM credential report?")));
        }
    }
    let missing: Vec<String> = REPORT_COLUMNS.iter().filter(|c| !index.contains_key(**c)).map(|c| c.to_string()).collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ImportError::invalid(origin, format!("line {line}"), format!("malformed CSV: {e}"))
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let user = index.get("user").and_then(|&i| rec.get(i)).unwrap_or("").to_string();
        let cell = Cell { rec: &rec, index: &index, origin, line, user: &user };
        rows.push(CredentialReportRow {
            arn: cell.text("arn")?,
            user_creation_time: cell.time("user_creation_time")?,
            password_enabled: cell.flag("password_enabled")?,
            password_last_used: cell.time("password_last_used")?,
            password_last_changed: cell.time("password_last_changed")?,
            password_next_rotation: cell.time("password_next_rotation")?,
            mfa_active: cell.flag("mfa_active")?.unwrap_or(false),
            access_keys: [cell.key(1)?, cell.key(2)?],
            certificates: [cell.cert(1)?, cell.cert(2)?],
            user,
        });
    }
    Ok((rows, missing))
}

struct Cell<'a> {
    rec: &'a csv::StringRecord,
    index: &'a HashMap<String, usize>,
    origin: &'a str,
    line: u64,
    user: &'a str,
}

impl Cell<'_> {
    /// The raw value; absent columns read as `N/A` (and are listed in the report's
    /// `missing_columns`, so no check takes that `N/A` for a fact).
    fn raw(&self, col: &str) -> &str {
        self.index.get(col).and_then(|&i| self.rec.get(i)).unwrap_or("N/A")
    }

    fn err(&self, col: &str, msg: String) -> ImportError {
        ImportError::invalid(self.origin, format!("line {}, column {col} (user {})", self.line, self.user), msg)
    }

    fn text(&self, col: &str) -> Result<String, ImportError> {
        Ok(self.raw(col).to_string())
    }

    fn time(&self, col: &str) -> Result<ReportTime, ImportError> {
        ReportTime::parse(self.raw(col)).map_err(|m| self.err(col, m))
    }

    fn opt_text(&self, col: &str) -> Option<String> {
        match self.raw(col) {
            "N/A" | "" | "no_information" | "not_supported" => None,
            v => Some(v.to_string()),
        }
    }

    /// `true`/`false` (any case); `not_supported` → `None`.
    fn flag(&self, col: &str) -> Result<Option<bool>, ImportError> {
        let v = self.raw(col);
        if v.eq_ignore_ascii_case("true") {
            Ok(Some(true))
        } else if v.eq_ignore_ascii_case("false") {
            Ok(Some(false))
        } else if matches!(v, "not_supported" | "N/A" | "") {
            Ok(None)
        } else {
            Err(self.err(col, format!("expected true, false or not_supported, found {v:?}")))
        }
    }

    fn key(&self, n: u8) -> Result<AccessKeySlot, ImportError> {
        let c = |s: &str| format!("access_key_{n}_{s}");
        Ok(AccessKeySlot {
            active: self.flag(&c("active"))?.unwrap_or(false),
            last_rotated: self.time(&c("last_rotated"))?,
            last_used_date: self.time(&c("last_used_date"))?,
            last_used_region: self.opt_text(&c("last_used_region")),
            last_used_service: self.opt_text(&c("last_used_service")),
        })
    }

    fn cert(&self, n: u8) -> Result<CertificateSlot, ImportError> {
        Ok(CertificateSlot {
            active: self.flag(&format!("cert_{n}_active"))?.unwrap_or(false),
            last_rotated: self.time(&format!("cert_{n}_last_rotated"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    const ROOT: &str = "<root_account>,arn:aws:iam::111122223333:root,2019-01-01T00:00:00+00:00,not_supported,2026-10-01T10:00:00+00:00,not_supported,not_supported,true,true,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
    const ALICE: &str = "alice,arn:aws:iam::111122223333:user/alice,2021-03-04T05:06:07+00:00,true,no_information,2021-03-04T05:06:07+00:00,N/A,FALSE,true,2021-03-04T05:07:00+00:00,2026-11-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

    fn csv(rows: &[&str]) -> String {
        let mut s = HEADER.to_string();
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s
    }

    #[test]
    fn parses_root_and_special_values() {
        let inv = parse_credential_report(&csv(&[ROOT, ALICE]), "r.csv").unwrap();
        let rep = inv.aws.accounts[0].credential_report.get().unwrap();
        let root = rep.root().unwrap();
        assert_eq!(root.password_enabled, None);
        assert_eq!(root.password_last_changed, ReportTime::NotSupported);
        assert!(root.mfa_active && root.access_keys[0].active);
        let alice = rep.users().next().unwrap();
        assert_eq!(alice.password_enabled, Some(true));
        assert_eq!(alice.password_last_used, ReportTime::NoInformation);
        assert!(!alice.mfa_active);
        assert_eq!(alice.access_keys[0].last_used_service.as_deref(), Some("s3"));
        assert_eq!(alice.access_keys[1].last_rotated, ReportTime::NotApplicable);
    }

    #[test]
    fn parses_the_get_credential_report_json() {
        let content = base64::engine::general_purpose::STANDARD.encode(csv(&[ALICE]));
        let j = format!(r#"{{"Content": "{content}", "ReportFormat": "text/csv", "GeneratedTime": "2026-11-20T08:00:00Z"}}"#);
        let inv = parse_credential_report(&j, "r.json").unwrap();
        let rep = inv.aws.accounts[0].credential_report.get().unwrap();
        assert_eq!(rep.generated_at.unwrap().to_rfc3339(), "2026-11-20T08:00:00Z");
        assert_eq!(rep.rows.len(), 1);
    }

    #[test]
    fn errors_name_line_column_and_user() {
        let bad = ALICE.replace(",FALSE,", ",maybe,");
        let e = parse_credential_report(&csv(&[ROOT, &bad]), "r.csv").unwrap_err().to_string();
        assert!(e.contains("r.csv: line 3, column mfa_active (user alice)"), "{e}");
        let e = parse_credential_report("a,b\n1,2", "r.csv").unwrap_err().to_string();
        assert!(e.contains("missing column \"user\""), "{e}");
        let e = parse_credential_report(r#"{"Content": "!!!"}"#, "r.json").unwrap_err().to_string();
        assert!(e.contains("Content: neither base64 nor"), "{e}");
        let e = parse_credential_report(&csv(&[]), "r.csv").unwrap_err().to_string();
        assert!(e.contains("no rows"), "{e}");
        let short = csv(&["alice,arn:aws:iam::111122223333:user/alice"]);
        assert!(parse_credential_report(&short, "r.csv").is_err());
    }

    #[test]
    fn missing_columns_are_recorded_not_read_as_absent_keys() {
        let legacy = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\nalice,arn:aws:iam::111122223333:user/alice,2021-03-04T05:06:07+00:00,true,N/A,N/A,N/A,false,true,2021-03-04T05:07:00+00:00,false,N/A,false,N/A,false,N/A";
        let inv = parse_credential_report(legacy, "legacy.csv").unwrap();
        let rep = inv.aws.accounts[0].credential_report.get().unwrap();
        assert!(rep.missing_columns.contains(&"access_key_1_last_used_date".to_string()), "{:?}", rep.missing_columns);
        assert!(rep.require_columns(&["access_key_1_active"]).is_ok());
        let e = rep.require_columns(&["access_key_1_last_used_date"]).unwrap_err().to_string();
        assert!(e.contains("no column access_key_1_last_used_date"), "{e}");
    }

    #[test]
    fn content_already_decoded_and_byte_order_marks_are_read() {
        let plain = serde_json::json!({"Content": csv(&[ALICE]), "ReportFormat": "text/csv"}).to_string();
        assert_eq!(parse_credential_report(&plain, "boto.json").unwrap().aws.accounts[0].credential_report.get().unwrap().rows.len(), 1);
        let py = serde_json::json!({"Content": format!("b'{}'", csv(&[ALICE]).replace('\n', "\\n"))}).to_string();
        assert_eq!(parse_credential_report(&py, "py.json").unwrap().aws.accounts[0].credential_report.get().unwrap().rows.len(), 1);
        let bom = format!("\u{feff}{}", csv(&[ALICE]));
        assert_eq!(parse_credential_report(&bom, "bom.csv").unwrap().aws.accounts[0].credential_report.get().unwrap().rows.len(), 1);
    }
}
