//! Command-line definitions (DESIGN §5).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::{Category, Severity, Status};

#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about = "Audit cloud accounts against account compromise", max_term_width = 100)]
pub struct Cli {
    /// Log what the collectors do to stderr (-v: progress of each account, -vv: each dataset).
    /// Credentials and request contents are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Colour the terminal output by severity: auto (when writing to a terminal and NO_COLOR is
    /// not set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan the given sources and report findings.
    Scan(Box<ScanArgs>),
    /// Read the given sources and write an inventory snapshot (for `scan --inventory`).
    Collect(Box<CollectArgs>),
    /// Combine inventory snapshots (the shards of one collection, or snapshots of different
    /// scopes) into one. Shards are checked against each other: a shard given twice, a different
    /// shard count or a scope in the wrong shard is refused; the scopes of a shard that never
    /// arrived are kept as failed reads naming it, so a scan reports them as not evaluated.
    Merge(MergeArgs),
    /// List or explain the checks.
    #[command(subcommand)]
    Checks(ChecksCommand),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// After an incident, in AWS, Azure and GCP: verify that each compromised principal is locked
    /// on every layer and can neither act nor come back (every credential, session, role it holds
    /// or could assume, and everyone outside the response team who could give it back), nothing
    /// the attacker could have left inside the window remains, credentials of every type were
    /// rotated and the structural fixes hold. Live runs read the incident's [scope]; a scope not
    /// read, or evidence missing, is not evaluated. Exits 0 only when every item passes, 1
    /// otherwise, 2 on a bad incident file. Every item: docs/verify.md.
    Verify(Box<VerifyArgs>),
    /// What one principal can reach, in AWS, Azure or GCP: what it holds, its sensitive
    /// permissions by risk, the roles and identities it can become (AWS roles it can assume; PIM
    /// activations, apps whose credentials it can add, workload identities; GCP service-account
    /// impersonation chains), and its privilege-escalation paths. Decided from the sources alone;
    /// exits 0, or 3 when something that bears on it was not read (policies, roles, scopes, groups).
    BlastRadius(Box<BlastRadiusArgs>),
}

#[derive(Debug, Args)]
pub struct BlastRadiusArgs {
    /// AWS: a user or role ARN, or an access key id (AKIA…) that the sources' per-user
    /// credentials (`collect`/`verify` snapshots) name. Azure: an Entra user, service principal
    /// or managed identity by object id, appId or UPN (any case). GCP: `serviceAccount:EMAIL`,
    /// `user:EMAIL`, `group:EMAIL`, or a bare service-account email. A bare email is an Entra
    /// UPN or a GCP user or group, whichever the sources hold.
    #[arg(value_name = "PRINCIPAL")]
    pub principal: String,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Write the blast radius as JSON (portcullis.blast-radius/v1); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write it as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Do not print the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The incident file (TOML): window, scope, compromised and restored principals, response
    /// team, fixes, blast-radius principals. Its [scope] is what live sources read: --aws --aws-org
    /// its accounts, --azure its subscriptions (unless --azure-subscriptions lists others), --gcp
    /// its projects (unless --gcp-organization or --gcp-projects is given).
    #[arg(long, value_name = "FILE", required_unless_present = "init")]
    pub incident: Option<PathBuf>,
    /// Write a commented incident-file template to FILE (default incident.toml) and exit.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "incident.toml", conflicts_with = "incident")]
    pub init: Option<PathBuf>,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Write the checklist as JSON (portcullis.verify/v1); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the checklist as Markdown for the incident ticket; `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write the HTML report with its verification section (and the fix checks' findings).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the items that did not pass as SARIF 2.1.0 (GitHub code scanning).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Configuration file (as for scan: trust allow-lists and thresholds for the fix checks).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Judge against this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Do not print the checklist.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration: --config FILE (or PORTCULLIS_CONFIG, or ./portcullis.toml),
    /// with the PORTCULLIS_* environment overrides applied.
    Show {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// `table` prints TOML with comments; `json` for tools.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// Use the embedded demo account export.
    #[arg(long)]
    pub demo: bool,
    /// A Portcullis inventory snapshot (from `collect --out`), or a directory of them (the shards
    /// of a collection). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub inventory: Vec<PathBuf>,
    /// Output of `aws iam get-account-authorization-details` (one object or a list of pages). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub aws_authorization_details: Vec<PathBuf>,
    /// The IAM credential report: the CSV, or the JSON of `aws iam get-credential-report`. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub aws_credential_report: Vec<PathBuf>,
    /// Output of `aws iam get-account-password-policy` (`{}` if the account has none).
    #[arg(long, value_name = "FILE")]
    pub aws_password_policy: Option<PathBuf>,
    /// Output of `aws iam get-account-summary`.
    #[arg(long, value_name = "FILE")]
    pub aws_account_summary: Option<PathBuf>,
    /// Read the live AWS account through the SDK's standard credential chain
    /// (honours AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL).
    #[arg(long)]
    pub aws: bool,
    /// The AWS profile to use (from ~/.aws/config; SSO profiles work).
    #[arg(long, value_name = "PROFILE", requires = "aws")]
    pub aws_profile: Option<String>,
    /// Regions for CloudTrail, Access Analyzer and EC2: `all` (every enabled region) or a comma-separated list.
    #[arg(long, value_name = "all|R1,R2", default_value = "all", requires = "aws")]
    pub aws_regions: String,
    /// Also scan every active member account of the organization (run from the management account).
    #[arg(long, requires = "aws")]
    pub aws_org: bool,
    /// The role assumed in each member account.
    #[arg(long, value_name = "NAME", default_value = "OrganizationAccountAccessRole", requires = "aws_org")]
    pub aws_role: String,
    /// External id to pass when assuming --aws-role.
    #[arg(long, value_name = "ID", requires = "aws_org")]
    pub aws_external_id: Option<String>,
    /// Read the live Azure tenant: Resource Manager and Microsoft Graph, with the credential chain
    /// of the Azure tools (AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
    /// AZURE_FEDERATED_TOKEN_FILE, managed identity, then `az login`).
    #[arg(long)]
    pub azure: bool,
    /// The Entra tenant to scan (default: AZURE_TENANT_ID, else the credential's own tenant).
    #[arg(long, value_name = "TENANT_ID", requires = "azure")]
    pub azure_tenant: Option<String>,
    /// Subscriptions to scan: `all` (every one the credential can read in the tenant) or a
    /// comma-separated list of subscription ids.
    #[arg(long, value_name = "all|ID,...", default_value = "all", requires = "azure")]
    pub azure_subscriptions: String,
    /// Resource Manager endpoint (sovereign clouds: https://management.usgovcloudapi.net, …).
    #[arg(long, value_name = "URL", env = "PORTCULLIS_AZURE_ARM_ENDPOINT", default_value = "https://management.azure.com")]
    pub azure_arm_endpoint: String,
    /// Microsoft Graph endpoint (sovereign clouds: https://graph.microsoft.us, …).
    #[arg(long, value_name = "URL", env = "PORTCULLIS_AZURE_GRAPH_ENDPOINT", default_value = "https://graph.microsoft.com")]
    pub azure_graph_endpoint: String,
    /// Read Microsoft Graph v1.0 only. By default the directory role definitions are read from
    /// Graph beta, the only version that gives Microsoft's own `isPrivileged`; with this flag
    /// directory-role privilege falls back to Microsoft's published list of privileged built-in
    /// roles, and every finding judged so says it.
    #[arg(long, env = "PORTCULLIS_AZURE_GRAPH_V1_ONLY")]
    pub azure_graph_v1_only: bool,
    /// Read a live GCP organization or projects with Application Default Credentials
    /// (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`, the metadata server,
    /// workload identity federation).
    #[arg(long)]
    pub gcp: bool,
    /// The organization to scan (its number, or `organizations/<number>`): its folders and projects.
    #[arg(long, value_name = "ID", requires = "gcp", conflicts_with = "gcp_projects")]
    pub gcp_organization: Option<String>,
    /// Scan these projects (comma-separated project ids) instead of a whole organization.
    #[arg(long, value_name = "P1,P2", requires = "gcp", value_delimiter = ',', value_parser = trimmed)]
    pub gcp_projects: Option<Vec<String>>,
    /// One base URL for every Google API (private endpoints, tests).
    #[arg(long, value_name = "URL", env = "PORTCULLIS_GCP_ENDPOINT")]
    pub gcp_endpoint: Option<String>,
    /// The JSON of `terraform show -json PLANFILE`: planned IAM, trust, credential, audit-logging
    /// and instance resources (aws, azurerm, azuread, google providers). Alone, only the checks that
    /// judge a resource from its own attributes run; with a live source, the plan's changes are
    /// applied on top of what was read (the posture after apply).
    #[arg(long, value_name = "FILE")]
    pub terraform_plan: Option<PathBuf>,
    /// The Terraform root module's directory, to point findings at each resource's `.tf` file and
    /// line (default: the plan file's directory).
    #[arg(long, value_name = "DIR", requires = "terraform_plan")]
    pub terraform_root: Option<PathBuf>,
    /// How many accounts (or subscriptions, projects) to collect at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Give up on accounts (or subscriptions, Graph reads) not finished after this many seconds
    /// (what was not read is reported as failed, naming the deadline).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Write findings JSON (portcullis.findings/v1); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write SARIF 2.1.0 for GitHub code scanning; `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Write a Markdown summary for pull-request comments and CI step summaries (under GitHub's
    /// 65,536-character limit); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a self-contained HTML report (opens offline: no network request); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write findings as OCSF 1.8.0 Detection Finding events (class 2004), a JSON array, for
    /// Security Lake, Splunk and other OCSF consumers; `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub ocsf: Option<PathBuf>,
    /// Write reviewable fixes for the failing findings under DIR (AWS: Service Control Policies,
    /// merged under the 5,120-character limit), with a README per cloud saying what each prevents,
    /// what it would affect, how to apply it and how to roll it back. Nothing is applied.
    #[arg(long, value_name = "DIR")]
    pub fixes: Option<PathBuf>,
    /// Exit 1 if any failing finding is at or above this severity (3 if some check could not be evaluated).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// An earlier scan's findings JSON or SARIF: the gate counts only failing findings that are new
    /// since then (by fingerprint); every output marks findings new or unchanged and lists the
    /// resolved ones.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Accepted risks (TOML `[[suppress]]` entries: check, resource pattern, reason, approved_by,
    /// expires). Suppressed findings stay visible as suppressed and do not fail the gate; expired and
    /// unmatched entries are reported.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// With --fail-on: do not exit 3 when some checks could not be evaluated.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Run only these checks (comma-separated ids or patterns such as `aws_iam_*`).
    #[arg(long, value_name = "IDS", value_delimiter = ',', value_parser = trimmed)]
    pub checks: Option<Vec<String>>,
    /// Skip these checks (comma-separated ids or patterns).
    #[arg(long, value_name = "IDS", value_delimiter = ',', value_parser = trimmed)]
    pub skip_checks: Vec<String>,
    /// Run only checks of these categories (comma-separated: credentials, mfa, trust,
    /// audit-logging, guardrails, privilege, exposure).
    #[arg(long, value_name = "CATEGORIES", value_delimiter = ',', value_parser = parse_category)]
    pub category: Vec<Category>,
    /// Run only checks of these severities: a list (`critical,high`) or a floor (`high+`).
    #[arg(long, value_name = "SEVERITIES", value_delimiter = ',', value_parser = parse_severity_filter)]
    pub severity: Vec<SeverityFilter>,
    /// Run only checks of these services (comma-separated: iam, cloudtrail, organizations, entra,
    /// rbac, logging, …; `checks list --format json` shows each check's service).
    #[arg(long, value_name = "SERVICES", value_delimiter = ',', value_parser = trimmed)]
    pub service: Vec<String>,
    /// Write and show only findings of these statuses (comma-separated: fail, not_evaluated, pass).
    /// The gate still judges every finding of the selected checks.
    #[arg(long, value_name = "STATUSES", value_delimiter = ',', value_parser = parse_status)]
    pub status: Vec<Status>,
    /// A credential report generated longer than this before a live scan read it makes the
    /// key checks not evaluated instead of judging stale data (e.g. 4h, 90m, 1d).
    #[arg(long, value_name = "AGE", default_value = "4h", value_parser = parse_age)]
    pub max_report_age: time::Duration,
    /// Configuration file: check selection, thresholds, severity overrides, allow-lists, gate
    /// (default: PORTCULLIS_CONFIG, else ./portcullis.toml if present; PORTCULLIS_* variables override it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Measure ages against this time (RFC 3339) instead of now. The demo defaults to its export time.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Do not print the summary table or the progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Where to write the inventory snapshot. With --shard, `{shard}` in the path becomes the
    /// shard's index (`--out /shards/{shard}.json`) and a missing directory is created.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Collect only shard I of N (0 <= I < N): the AWS accounts, Azure subscriptions and GCP
    /// projects whose id hashes to I; shard 0 also reads the organization-wide data. `auto/N`
    /// takes I from JOB_COMPLETION_INDEX (Kubernetes), AWS_BATCH_JOB_ARRAY_INDEX or
    /// CLOUD_RUN_TASK_INDEX. Then `portcullis merge`, or `scan --inventory` with the shards.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::inventory::shard::Shard>,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_shard(s: &str) -> Result<crate::inventory::shard::Shard, String> {
    crate::inventory::shard::Shard::parse(s)
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The snapshots (from `collect --out`, with or without --shard); a directory stands for the
    /// `.json` files in it.
    #[arg(value_name = "SNAPSHOT", required = true)]
    pub snapshots: Vec<PathBuf>,
    /// Where to write the merged snapshot.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// List the checks.
    List {
        #[arg(long, value_enum)]
        cloud: Option<CloudArg>,
        /// Show a framework's requirements and the checks that cover each (cis-aws, cis-azure,
        /// cis-gcp, mitre-attack, or the framework's full name); uncovered ones are listed too.
        #[arg(long, value_name = "FRAMEWORK")]
        compliance: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show everything about one check.
    Explain { id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--severity` values: one severity, or a floor (`high+` = critical and high).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityFilter(pub Vec<Severity>);

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CloudArg {
    Aws,
    Azure,
    Gcp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.trim().parse()
}

fn parse_severity_filter(s: &str) -> Result<SeverityFilter, String> {
    let t = s.trim();
    match t.strip_suffix('+') {
        Some(floor) => {
            let f: Severity = floor.trim().parse()?;
            Ok(SeverityFilter(Severity::ALL.into_iter().filter(|x| *x >= f).collect()))
        }
        None => Ok(SeverityFilter(vec![t.parse()?])),
    }
}

fn parse_status(s: &str) -> Result<Status, String> {
    match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "fail" | "failing" => Ok(Status::Fail),
        "pass" | "passing" => Ok(Status::Pass),
        "not_evaluated" | "ne" => Ok(Status::NotEvaluated),
        _ => Err(format!("unknown status {s:?} (expected fail, not_evaluated or pass)")),
    }
}

fn trimmed(s: &str) -> Result<String, String> {
    Ok(s.trim().to_string())
}

fn parse_category(s: &str) -> Result<Category, String> {
    s.trim().parse()
}

/// `4h`, `90m`, `3600s`, `1d`: a positive age of at most 30 days.
pub fn parse_age(s: &str) -> Result<time::Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num.parse().map_err(|_| format!("{s:?} is not an age like 4h, 90m or 1d"))?;
    let d = match unit {
        "s" => time::Duration::seconds(n),
        "m" => time::Duration::minutes(n),
        "h" | "" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    if n <= 0 || d > time::Duration::days(30) {
        return Err(format!("{s:?}: give an age between 1s and 30d"));
    }
    Ok(d)
}
