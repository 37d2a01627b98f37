//! Small IAM exports: `aws iam get-account-password-policy` and `aws iam get-account-summary`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{from_json, ImportError};
use crate::inventory::aws::{AccountSummary, PasswordPolicy};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyFile {
    #[serde(default)]
    password_policy: Option<RawPolicy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPolicy {
    minimum_password_length: Option<u32>,
    #[serde(default)]
    require_symbols: bool,
    #[serde(default)]
    require_numbers: bool,
    #[serde(default)]
    require_uppercase_characters: bool,
    #[serde(default)]
    require_lowercase_characters: bool,
    #[serde(default)]
    allow_users_to_change_password: bool,
    #[serde(default)]
    expire_passwords: bool,
    max_password_age: Option<u32>,
    password_reuse_prevention: Option<u32>,
    #[serde(default)]
    hard_expiry: bool,
}

/// `{"PasswordPolicy": {…}}`. `{}` or `{"PasswordPolicy": null}` records that the account has no
/// password policy (the API answers `NoSuchEntity` then).
pub fn parse_password_policy(text: &str, origin: &str) -> Result<Option<PasswordPolicy>, ImportError> {
    let f: PolicyFile = from_json(text, origin)?;
    Ok(f.password_policy.map(|p| PasswordPolicy {
        minimum_password_length: p.minimum_password_length,
        require_symbols: p.require_symbols,
        require_numbers: p.require_numbers,
        require_uppercase_characters: p.require_uppercase_characters,
        require_lowercase_characters: p.require_lowercase_characters,
        allow_users_to_change_password: p.allow_users_to_change_password,
        expire_passwords: p.expire_passwords,
        max_password_age: p.max_password_age,
        password_reuse_prevention: p.password_reuse_prevention,
        hard_expiry: p.hard_expiry,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SummaryFile {
    summary_map: BTreeMap<String, i64>,
}

/// `{"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0, …}}`.
pub fn parse_account_summary(text: &str, origin: &str) -> Result<AccountSummary, ImportError> {
    let f: SummaryFile = from_json(text, origin)?;
    Ok(AccountSummary(f.summary_map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_present_absent_and_bad() {
        let p = parse_password_policy(r#"{"PasswordPolicy": {"MinimumPasswordLength": 8, "RequireSymbols": true}}"#, "p").unwrap().unwrap();
        assert_eq!(p.minimum_password_length, Some(8));
        assert!(p.require_symbols && !p.require_numbers);
        assert_eq!(parse_password_policy("{}", "p").unwrap(), None);
        assert_eq!(parse_password_policy(r#"{"PasswordPolicy": null}"#, "p").unwrap(), None);
        let e = parse_password_policy(r#"{"PasswordPolicy": {"MinimumPasswordLength": "long"}}"#, "p.json").unwrap_err().to_string();
        assert!(e.starts_with("p.json: PasswordPolicy.MinimumPasswordLength"), "{e}");
    }

    #[test]
    fn account_summary_flags() {
        let s = parse_account_summary(r#"{"SummaryMap": {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1, "Users": 12}}"#, "s").unwrap();
        assert_eq!(s.root_mfa_enabled(), Some(false));
        assert_eq!(s.root_access_keys_present(), Some(true));
        assert!(parse_account_summary("{}", "s").is_err());
    }
}
