//! Live AWS collection through the AWS SDK for Rust.
//!
//! Credentials come from the SDK's standard chain (environment, profiles and SSO, web identity,
//! container and instance roles); `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SVC>`)
//! point the same binary at an emulator. Every call is a read (Get/List/Describe, plus
//! GenerateCredentialReport and sts:AssumeRole to reach member accounts).
//!
//! Concurrency: accounts in parallel up to `--concurrency`, and within an account the IAM reads
//! and every region at once. Throttling and transient errors are retried by the SDK (standard mode, 5 attempts). One deadline
//! bounds the whole collection; an account that runs past it is recorded as failed, not dropped.

mod error;
mod iam;
mod org;
mod regional;

use std::sync::Arc;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::SharedCredentialsProvider;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use error::{ApiError, ErrorKind, Transport};
use error::Api;

use super::Progress;
use crate::inventory::aws::{AwsAccount, AwsInventory, AwsOrganization, AwsRegion};
use crate::inventory::{Collected, Dataset, ScopeKind, Timestamp};

/// Which regions to read the regional datasets from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// Every region enabled for the account (`ec2:DescribeRegions`).
    All,
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub regions: Regions,
    /// Collect every active member account of the organization.
    pub org: bool,
    /// The role assumed in each member account.
    pub role_name: String,
    pub external_id: Option<String>,
    /// Accounts collected at once.
    pub concurrency: usize,
    /// For the whole collection.
    pub deadline: Duration,
    /// The datasets to read (those the selected checks declare); everything else stays
    /// `not_requested` and costs no call.
    pub datasets: std::collections::BTreeSet<Dataset>,
    /// Account id → IAM user names whose credentials are read one by one
    /// (`Dataset::AwsUserCredentials`: `verify`'s compromised and restored users).
    pub users: std::collections::BTreeMap<String, Vec<String>>,
    /// With `Dataset::AwsUserCredentials`: access key ids whose owners (found with
    /// `iam:GetAccessKeyLastUsed` in each account) are read one by one too (`blast-radius KEY`).
    pub access_keys: Vec<String>,
    /// With `Dataset::AwsUserCredentials`: a credential report generated before this time cannot
    /// show the present, so every user's keys, login profile and MFA are read directly too.
    pub fresh_after: Option<Timestamp>,
    /// With `Dataset::AwsTrailEvents`: the incident window whose IAM changes are looked up.
    pub window: Option<(Timestamp, Timestamp)>,
    /// `collect --shard I/N`: read only the accounts this shard owns.
    pub shard: Option<crate::inventory::shard::Shard>,
    /// With `org`: read only these accounts of the organization (`verify`: the incident's scope).
    pub accounts: Option<Vec<String>>,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            profile: None,
            regions: Regions::All,
            org: false,
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            concurrency: 8,
            deadline: Duration::from_secs(3600),
            datasets: Dataset::ALL.iter().copied().filter(|d| d.cloud() == crate::inventory::Cloud::Aws && *d != Dataset::AwsUserCredentials).collect(),
            users: Default::default(),
            access_keys: Vec::new(),
            fresh_after: None,
            window: None,
            shard: None,
            accounts: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AwsCollectError {
    #[error("{0}")]
    NoCredentials(Transport),
    #[error("profile {name} not found (looked in {files})")]
    ProfileNotFound { name: String, files: String },
    #[error("cannot reach sts at {endpoint}: {why}")]
    Unreachable { endpoint: String, why: Transport },
    #[error("sts at {endpoint} refused the credentials: {message}")]
    Rejected { endpoint: String, message: String },
    #[error("cannot tell which AWS account the credentials belong to ({0}); check the credentials, --aws-profile and AWS_ENDPOINT_URL")]
    Identity(ApiError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Where the collection ran: the account and principal the credentials resolved to.
#[derive(Debug, Clone)]
pub struct AwsIdentity {
    pub account_id: String,
    pub arn: String,
    /// Every account the collection was to cover before a shard took its share.
    pub listed: Vec<String>,
}

pub fn collect(opts: &AwsOptions, progress: &Progress) -> Result<(AwsInventory, AwsIdentity), AwsCollectError> {
    let rt = super::runtime().map_err(AwsCollectError::Runtime)?;
    rt.block_on(collect_async(opts, progress))
}

async fn base_config(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(RegionProviderChain::default_provider().or_else(Region::new("us-east-1")));
    // Standard retry (exponential backoff with jitter, 5 attempts) unless the user chose a retry
    // mode or attempt count through the standard settings. Not adaptive: its client-side rate
    // limiter cut the scan's whole request rate after a few throttles, so 17 throttled calls made
    // a 3.5 s scan take 115 s (tests/faults.rs; standard: 8.4 s).
    let user_retry = ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"].iter().any(|v| std::env::var_os(v).is_some());
    if !user_retry {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(5).with_max_backoff(Duration::from_secs(20)));
    }
    loader = loader
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .operation_timeout(Duration::from_secs(300))
                .build(),
        );
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

async fn collect_async(opts: &AwsOptions, progress: &Progress) -> Result<(AwsInventory, AwsIdentity), AwsCollectError> {
    let deadline = tokio::time::Instant::now() + opts.deadline;
    check_profile(opts)?;
    let base = base_config(opts).await;
    progress.set_message("checking the credentials (sts:GetCallerIdentity)");
    let started = std::time::Instant::now();
    // One attempt: a refused connection or missing credentials will not fix themselves.
    let me = aws_sdk_sts::Client::new(&base)
        .get_caller_identity()
        .customize()
        .config_override(aws_sdk_sts::config::Builder::default().retry_config(RetryConfig::standard().with_max_attempts(1)))
        .send()
        .await
        .api("sts:GetCallerIdentity")
        .map_err(|e| identity_error(e, &base))?;
    let identity = AwsIdentity {
        account_id: me.account().unwrap_or_default().to_string(),
        arn: me.arn().unwrap_or_default().to_string(),
        listed: Vec::new(),
    };
    let mut identity = identity;
    tracing::info!(account = %identity.account_id, principal = %identity.arn, elapsed_ms = started.elapsed().as_millis() as u64, "AWS credentials resolved");

    // The organization is read when a check needs it, and always with --aws-org (it lists the accounts).
    let organization = if opts.org || opts.datasets.contains(&Dataset::AwsOrganization) {
        progress.set_message("reading the organization (organizations:ListRoots, ListChildren, ListPolicies)");
        collected(org::organization(&aws_sdk_organizations::Client::new(&base)).await)
    } else {
        Collected::NotRequested
    };

    // Which accounts, and how each is reached.
    let mut targets: Vec<(String, Option<String>)> = vec![(identity.account_id.clone(), None)];
    if opts.org {
        match &organization {
            Collected::Collected(Some(o)) => {
                targets = member_accounts(o, &identity.account_id);
            }
            Collected::Collected(None) => {
                progress.println(format!("warning: --aws-org: account {} is not in an organization; scanning it alone", identity.account_id));
            }
            other => {
                progress.println(format!(
                    "warning: --aws-org: cannot read the organization ({}); scanning account {} alone",
                    other.state().label(),
                    identity.account_id
                ));
            }
        }
    }
    if let Collected::Collected(Some(o)) = &organization {
        for (id, name) in targets.iter_mut() {
            if name.is_none() {
                *name = o.node(id).and_then(|n| n.name.clone());
            }
        }
    }

    if let (true, Some(only)) = (opts.org, &opts.accounts) {
        targets.retain(|(id, _)| only.iter().any(|a| a.trim() == id));
    }
    identity.listed = targets.iter().map(|(id, _)| id.clone()).collect();
    if let Some(s) = opts.shard {
        targets.retain(|(id, _)| s.owns(crate::inventory::Cloud::Aws, id));
    }
    progress.start(targets.len() as u64, "accounts");
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (account_id, name) in targets {
        let base = base.clone();
        let limit = limit.clone();
        let opts = opts.clone();
        let own = account_id == identity.account_id;
        let progress = progress.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            progress.begin(&account_id);
            let started = std::time::Instant::now();
            let work = account(base, account_id.clone(), own, &opts);
            let mut acct = match tokio::time::timeout_at(deadline, work).await {
                Ok(a) => a,
                Err(_) => {
                    let why = format!("the collection deadline ({} s) passed before this account finished", opts.deadline.as_secs());
                    let regions = match &opts.regions {
                        Regions::List(l) => l.clone(),
                        Regions::All => Vec::new(),
                    };
                    AwsAccount::unread(&account_id, &regions, &Collected::Failed { error: why }, &opts.datasets)
                }
            };
            acct.name = name;
            tracing::info!(account = %acct.account_id, elapsed_ms = started.elapsed().as_millis() as u64, "account collected");
            progress.end(&acct.account_id);
            acct
        });
    }
    let mut accounts = Vec::new();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(a) => accounts.push(a),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => tracing::error!("account task ended: {e}"),
        }
    }
    accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    progress.finish();
    Ok((AwsInventory { organization, accounts }, identity))
}

/// Say in one line why the first call failed.
fn identity_error(e: ApiError, base: &SdkConfig) -> AwsCollectError {
    let endpoint = sts_endpoint(base);
    match e.transport.clone() {
        Some(Transport::NoCredentials) => AwsCollectError::NoCredentials(Transport::NoCredentials),
        Some(why) => AwsCollectError::Unreachable { endpoint, why },
        None if e.code.is_some() && e.kind == ErrorKind::Failed => AwsCollectError::Rejected { endpoint, message: e.message },
        None => AwsCollectError::Identity(e),
    }
}

/// Where STS calls go: the endpoint override if any, else the regional endpoint, as host[:port].
fn sts_endpoint(base: &SdkConfig) -> String {
    let url = std::env::var("AWS_ENDPOINT_URL_STS").ok().or_else(|| base.endpoint_url().map(str::to_string));
    match url {
        Some(u) => {
            let rest = u.split_once("://").map(|(_, r)| r).unwrap_or(&u);
            rest.trim_end_matches('/').to_string()
        }
        None => format!("sts.{}.amazonaws.com", base.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into())),
    }
}

/// A named profile must exist in the config or credentials file; the SDK would otherwise fall
/// through to other credential sources and say something unrelated.
fn check_profile(opts: &AwsOptions) -> Result<(), AwsCollectError> {
    let Some(name) = opts.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok()).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default();
    let config = std::env::var_os("AWS_CONFIG_FILE").map(std::path::PathBuf::from).unwrap_or_else(|| home.join(".aws/config"));
    let creds = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").map(std::path::PathBuf::from).unwrap_or_else(|| home.join(".aws/credentials"));
    let has = |path: &std::path::Path, config_file: bool| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines().map(str::trim).filter_map(|l| l.strip_prefix('[').and_then(|l| l.strip_suffix(']'))).any(|section| {
            let section = section.trim();
            let bare = if config_file { section.strip_prefix("profile").map(str::trim).unwrap_or(section) } else { section };
            bare == name
        })
    };
    if has(&config, true) || has(&creds, false) {
        return Ok(());
    }
    Err(AwsCollectError::ProfileNotFound { name, files: format!("{} and {}", config.display(), creds.display()) })
}

/// Active member accounts (the management account first, reached with the base credentials).
fn member_accounts(o: &AwsOrganization, me: &str) -> Vec<(String, Option<String>)> {
    let mut v: Vec<(String, Option<String>)> = o
        .nodes
        .iter()
        .filter(|n| n.kind == ScopeKind::AwsAccount)
        .filter(|n| n.id == me || n.state.as_deref().is_none_or(|s| s == "ACTIVE"))
        .map(|n| (n.id.clone(), n.name.clone()))
        .collect();
    if !v.iter().any(|(id, _)| id == me) {
        v.push((me.to_string(), None));
    }
    v.sort_by_key(|(id, _)| (id != me, id.clone()));
    v
}

/// AWS-managed policies passed as session policies when assuming a role in a member account: the
/// session can then only read, whatever the role itself may do.
pub const SESSION_POLICIES: [&str; 2] = ["SecurityAudit", "ReadOnlyAccess"];

fn session_policy_arns(role_arn: &str) -> Vec<String> {
    let partition = crate::policy::arn::Arn::parse(role_arn).map(|a| a.partition).unwrap_or("aws");
    SESSION_POLICIES.iter().map(|p| format!("arn:{partition}:iam::aws:policy/{p}")).collect()
}

/// Run `fut` only when `d` was asked for.
async fn when<T>(want: &std::collections::BTreeSet<Dataset>, d: Dataset, fut: impl std::future::Future<Output = Result<T, ApiError>>) -> Collected<T> {
    if want.contains(&d) {
        let started = std::time::Instant::now();
        let out = collected(fut.await);
        tracing::info!(dataset = %d, elapsed_ms = started.elapsed().as_millis() as u64, "dataset read");
        out
    } else {
        Collected::NotRequested
    }
}

async fn account(base: SdkConfig, account_id: String, own: bool, opts: &AwsOptions) -> AwsAccount {
    let want = &opts.datasets;
    let listed = match &opts.regions {
        Regions::List(l) => l.clone(),
        Regions::All => Vec::new(),
    };
    let config = if own {
        base
    } else {
        let role_arn = format!("arn:aws:iam::{account_id}:role/{}", opts.role_name);
        // Probe once so that a refused AssumeRole is recorded precisely; the provider then keeps
        // the session fresh for as long as the collection runs.
        // Session policies cap the session at read-only even though the role is an administrator.
        let policies = session_policy_arns(&role_arn);
        let mut probe = aws_sdk_sts::Client::new(&base).assume_role().role_arn(&role_arn).role_session_name("portcullis-scan");
        for p in &policies {
            probe = probe.policy_arns(aws_sdk_sts::types::PolicyDescriptorType::builder().arn(p).build());
        }
        if let Some(x) = &opts.external_id {
            probe = probe.external_id(x);
        }
        if let Err(e) = probe.send().await.api("sts:AssumeRole") {
            tracing::warn!(account = %account_id, "{e}");
            let gap = ApiError { message: format!("{role_arn}: {}", e.message), ..e }.into_collected();
            return AwsAccount::unread(&account_id, &listed, &gap, want);
        }
        let mut provider =
            AssumeRoleProvider::builder(&role_arn).session_name("portcullis-scan").policy_arns(policies).configure(&base);
        if let Some(x) = &opts.external_id {
            provider = provider.external_id(x);
        }
        let provider = provider.build().await;
        base.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
    };

    let iam = aws_sdk_iam::Client::new(&config);
    let mut acct = AwsAccount::new(&account_id);
    // IAM and the regions at once: neither waits on the other.
    let mut names = opts.users.get(&account_id).cloned().unwrap_or_default();
    if want.contains(&Dataset::AwsUserCredentials) && !opts.access_keys.is_empty() {
        match iam::key_owners(&iam, &opts.access_keys).await {
            Ok(owners) => names.extend(owners.into_iter().filter(|o| !names.contains(o)).collect::<Vec<_>>()),
            Err(e) => tracing::warn!(account = %account_id, "the owner of an access key could not be looked up: {e}"),
        }
    }
    let ((details, report, summary, policy, idps, mfa, users), (enabled, regions)) = tokio::join!(
        async {
            tokio::join!(
                when(want, Dataset::AwsAuthorizationDetails, iam::authorization_details(&iam)),
                when(want, Dataset::AwsCredentialReport, iam::credential_report(&iam)),
                when(want, Dataset::AwsAccountSummary, iam::account_summary(&iam)),
                when(want, Dataset::AwsPasswordPolicy, iam::password_policy(&iam)),
                when(want, Dataset::AwsIdentityProviders, iam::identity_providers(&iam)),
                when(want, Dataset::AwsMfaDevices, iam::mfa_devices(&iam)),
                when(want, Dataset::AwsUserCredentials, iam::user_credentials(&iam, &names, &[])),
            )
        },
        regions_of(&config, opts),
    );
    acct.authorization_details = details;
    acct.credential_report = report;
    acct.account_summary = summary;
    acct.password_policy = policy;
    acct.identity_providers = idps;
    acct.mfa_devices = mfa;
    // A report older than the incident's containment: read every user directly as well.
    let stale = |r: &Collected<crate::inventory::aws::CredentialReport>| match (r, opts.fresh_after) {
        (Collected::Collected(r), Some(t)) => r.generated_at.is_none_or(|g| g < t),
        (_, Some(_)) => true,
        _ => false,
    };
    let users = match (&users, &acct.authorization_details, want.contains(&Dataset::AwsUserCredentials) && stale(&acct.credential_report)) {
        (Collected::Collected(_), Collected::Collected(d), true) => {
            let everyone: Vec<String> = d.users.iter().map(|u| u.name.clone()).collect();
            collected(iam::user_credentials(&iam, &names, &everyone).await)
        }
        // A fresh report says who has MFA but not since when: those users' devices are read (with
        // their enable dates), so a device enabled inside the incident's window shows.
        (Collected::Collected(_), _, false) if want.contains(&Dataset::AwsUserCredentials) && opts.fresh_after.is_some() => {
            let with_mfa: Vec<String> = match &acct.credential_report {
                Collected::Collected(r) => r.users().filter(|row| row.mfa_active && !names.iter().any(|n| n.eq_ignore_ascii_case(&row.user))).map(|row| row.user.clone()).collect(),
                _ => Vec::new(),
            };
            match (users, with_mfa.is_empty()) {
                (Collected::Collected(mut list), false) => {
                    if let Ok(more) = iam::user_credentials(&iam, &[], &with_mfa).await {
                        list.extend(more);
                    }
                    Collected::Collected(list)
                }
                (users, _) => users,
            }
        }
        _ => users,
    };
    // IAM names ignore case: a named user that IAM did not find under the incident's spelling but
    // the authorization details hold under another is read again under IAM's own.
    let users = match (users, &acct.authorization_details) {
        (Collected::Collected(mut list), Collected::Collected(d)) => {
            let respell: Vec<String> = list
                .iter()
                .filter(|u| !u.exists)
                .filter_map(|u| d.users.iter().find(|x| x.name != u.user && x.name.eq_ignore_ascii_case(&u.user)).map(|x| x.name.clone()))
                .collect();
            if !respell.is_empty() {
                if let Ok(again) = iam::user_credentials(&iam, &respell, &[]).await {
                    list.retain(|u| u.exists || !respell.iter().any(|r| r.eq_ignore_ascii_case(&u.user)));
                    list.retain(|u| !again.iter().any(|a| a.user == u.user));
                    list.extend(again);
                }
            }
            Collected::Collected(list)
        }
        (other, _) => other,
    };
    acct.user_credentials = users;
    if let (true, Some(window)) = (want.contains(&Dataset::AwsTrailEvents), opts.window) {
        // IAM is global: its events are recorded in us-east-1 (of the partition).
        let ct = aws_sdk_cloudtrail::Client::from_conf(aws_sdk_cloudtrail::config::Builder::from(&config).region(Region::new("us-east-1")).build());
        acct.trail_events = collected(regional::trail_events(&ct, window).await);
    }
    acct.enabled_regions = enabled;
    acct.regions = regions;
    acct
}

/// The account's regional datasets: its own list of enabled regions (opt-in regions differ
/// between accounts), then every region concurrently.
async fn regions_of(config: &SdkConfig, opts: &AwsOptions) -> (Collected<Vec<String>>, Vec<AwsRegion>) {
    let want = &opts.datasets;
    if !want.iter().any(|d| d.is_regional()) {
        return (Collected::NotRequested, Vec::new());
    }
    let enabled = match &opts.regions {
        Regions::All => match collected(regional::enabled_regions(&aws_sdk_ec2::Client::new(config)).await) {
            Collected::Collected(r) if r.is_empty() => Collected::Failed { error: "ec2:DescribeRegions listed no region".into() },
            other => other,
        },
        Regions::List(_) => Collected::NotRequested,
    };
    let regions: Vec<String> = match (&opts.regions, &enabled) {
        (Regions::List(l), _) => l.clone(),
        (Regions::All, Collected::Collected(r)) => r.clone(),
        // The list could not be read: read the home region, and the gap stays on record
        // (`enabled_regions`), so regional checks say that other regions were not evaluated.
        (Regions::All, _) => vec![config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into())],
    };
    let mut set = JoinSet::new();
    for (i, region) in regions.iter().enumerate() {
        let config = config.clone();
        let region = region.clone();
        let want = want.clone();
        set.spawn(async move { (i, region_datasets(&config, region, &want).await) });
    }
    let mut out: Vec<(usize, AwsRegion)> = Vec::new();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(v) => out.push(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => tracing::error!("region task ended: {e}"),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    (enabled, out.into_iter().map(|(_, r)| r).collect())
}

async fn region_datasets(config: &SdkConfig, region: String, want: &std::collections::BTreeSet<Dataset>) -> AwsRegion {
    let r = Region::new(region.clone());
    let ct = aws_sdk_cloudtrail::Client::from_conf(aws_sdk_cloudtrail::config::Builder::from(config).region(r.clone()).build());
    let aa = aws_sdk_accessanalyzer::Client::from_conf(aws_sdk_accessanalyzer::config::Builder::from(config).region(r.clone()).build());
    let ec2 = aws_sdk_ec2::Client::from_conf(aws_sdk_ec2::config::Builder::from(config).region(r).build());
    let (trails, analyzer, instances, defaults) = tokio::join!(
        when(want, Dataset::AwsCloudTrail, regional::trails(&ct, &region)),
        when(want, Dataset::AwsAccessAnalyzer, regional::access_analyzer(&aa)),
        when(want, Dataset::AwsEc2Metadata, regional::instances(&ec2)),
        when(want, Dataset::AwsEc2MetadataDefaults, regional::metadata_defaults(&ec2)),
    );
    let mut out = AwsRegion::new(region);
    out.cloudtrail = trails;
    out.access_analyzer = analyzer;
    out.ec2_metadata = instances;
    out.ec2_metadata_defaults = defaults;
    out
}

/// A dataset read's outcome as coverage; gaps are logged (with `-v`) as they happen.
fn collected<T>(r: Result<T, ApiError>) -> Collected<T> {
    match r {
        Ok(v) => Collected::Collected(v),
        Err(e) => {
            tracing::warn!("{e}");
            e.into_collected()
        }
    }
}

/// SDK time → inventory time.
fn ts(t: &aws_sdk_iam::primitives::DateTime) -> Option<Timestamp> {
    Timestamp::from_unix(t.secs(), t.subsec_nanos())
}
