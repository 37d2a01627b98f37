//! The commands, as library functions returning an exit code; `main` only parses and maps errors.

use std::io::Write;
use std::path::Path;

use crate::checks::{self, MetaError};
use crate::collect::aws::{AwsOptions, Regions};
use crate::collect::azure::AzureOptions;
use crate::collect::Progress;
use crate::cli::{ChecksCommand, CloudArg, CollectArgs, ColorChoice, Command, Format, ScanArgs, SourceArgs};
use crate::config::ConfigError;
use crate::engine::{self, EngineError, Gate, ScanOptions};
use crate::import::{write_snapshot, FileSources, ImportError};
use crate::inventory::{Cloud, Inventory, Timestamp};
use crate::report;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error("{path}: cannot write: {source}")]
    Write { path: String, source: std::io::Error },
    #[error(transparent)]
    Aws(#[from] crate::collect::aws::AwsCollectError),
    #[error(transparent)]
    Azure(#[from] crate::collect::azure::AzureCollectError),
    #[error(transparent)]
    Gcp(#[from] crate::collect::gcp::GcpCollectError),
    #[error("{path}: cannot write the HTML report")]
    Html { path: String, #[source] source: crate::report::html::HtmlError },
    #[error(transparent)]
    Fix(#[from] crate::fix::FixError),
    #[error(transparent)]
    Gate(#[from] crate::gate::GateError),
    #[error(transparent)]
    Incident(#[from] crate::verify::incident::IncidentError),
    #[error("{0}")]
    Usage(String),
}

pub fn run(command: Command, color: ColorChoice) -> Result<u8, AppError> {
    match command {
        Command::Scan(a) => scan(*a, color),
        Command::Collect(a) => collect(*a),
        Command::Merge(a) => merge(a),
        Command::Checks(ChecksCommand::List { cloud, format, compliance: Some(fw) }) => list_compliance(&fw, cloud, format),
        Command::Checks(ChecksCommand::List { cloud, format, compliance: None }) => list(cloud, format, color),
        Command::Checks(ChecksCommand::Explain { id }) => explain(&id),
        Command::Config(crate::cli::ConfigCommand::Show { config, format }) => config_show(config.as_deref(), format),
        Command::Verify(a) => verify(*a),
        Command::BlastRadius(a) => blast_radius(*a),
    }
}

/// `blast-radius`: what one principal can reach, from the sources.
fn blast_radius(a: crate::cli::BlastRadiusArgs) -> Result<u8, AppError> {
    let outputs: Vec<(&'static str, &Path)> = [("--json", &a.json), ("--html", &a.html)].into_iter().filter_map(|(o, p)| p.as_deref().map(|p| (o, p))).collect();
    check_outputs(&outputs, &input_files(&a.sources))?;
    // Only what the principal's cloud (by its spelling) needs: an email may be Entra or GCP.
    let datasets = crate::reach::blast::clouds_of(&a.principal).into_iter().flat_map(|c| crate::reach::blast::datasets(c).iter().copied()).collect();
    let key = a.principal.trim();
    // An Entra principal is also read by itself: what it owns, the app roles it holds.
    let azure = if crate::reach::blast::clouds_of(key).contains(&Cloud::Azure) { vec![key.to_ascii_lowercase()] } else { Vec::new() };
    let wanted = Wanted { access_keys: if key.starts_with("AKIA") { vec![key.to_string()] } else { Vec::new() }, azure, ..Wanted::default() };
    let inv = load_sources(&a.sources, a.quiet, datasets, None, &wanted)?;
    let target = crate::reach::blast::resolve_any(&inv, &a.principal).map_err(|e| AppError::Usage(e.to_string()))?;
    let catalogue = crate::reach::paths::aws().map_err(|e| AppError::Usage(e.to_string()))?;
    let b = crate::reach::blast::blast_radius_any(&inv, &target, catalogue).map_err(|e| AppError::Usage(e.to_string()))?;
    if let Some(p) = &a.json {
        write_output(p, |w| {
            serde_json::to_writer_pretty(&mut *w, &crate::report::blast::json(&b))?;
            w.write_all(b"\n")
        })?;
    }
    if let Some(p) = &a.html {
        let page = crate::report::blast::html(&b).map_err(|e| AppError::Usage(format!("the blast-radius page: {e}")))?;
        write_output(p, |w| w.write_all(page.as_bytes()))?;
    }
    if !a.quiet {
        print!("{}", crate::report::blast::text(&b));
    }
    Ok(if b.gaps.is_empty() { 0 } else { 3 })
}

/// `--now TIME` (scan and verify).
fn parse_now(t: &str) -> Result<Timestamp, AppError> {
    Timestamp::parse(t).map_err(|e| AppError::Usage(format!("--now {t:?}: not an RFC 3339 time: {e}")))
}

/// `verify`: judge the incident file against the sources; 0 only when every item passes.
fn verify(mut a: crate::cli::VerifyArgs) -> Result<u8, AppError> {
    if let Some(path) = &a.init {
        if path.exists() {
            return Err(AppError::Usage(format!("{} exists: give another file for --init", path.display())));
        }
        std::fs::write(path, crate::verify::incident::TEMPLATE).map_err(|source| AppError::Write { path: path.display().to_string(), source })?;
        eprintln!("wrote {}: fill it in, then run `portcullis verify --incident {} --aws`", path.display(), path.display());
        return Ok(0);
    }
    let Some(path) = &a.incident else { return Err(AppError::Usage("give --incident FILE (or --init)".into())) };
    let incident = crate::verify::incident::IncidentFile::load(path)?;
    // Scope comes from the incident file: the live collectors read its subscriptions and projects
    // unless the command line names others (then every scoped one not read is not evaluated).
    let scoped = |v: &[String]| v.iter().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect::<Vec<_>>();
    if a.sources.azure && a.sources.azure_subscriptions.trim() == "all" && !incident.scope.azure_subscriptions.is_empty() {
        a.sources.azure_subscriptions = scoped(&incident.scope.azure_subscriptions).join(",");
    }
    if a.sources.gcp && a.sources.gcp_organization.is_none() && a.sources.gcp_projects.is_none() && !incident.scope.gcp_projects.is_empty() {
        a.sources.gcp_projects = Some(scoped(&incident.scope.gcp_projects));
    }
    let config = crate::config::load_effective(a.config.as_deref(), &env_vars())?.config;
    let outputs: Vec<(&'static str, &Path)> = [("--json", &a.json), ("--markdown", &a.markdown), ("--html", &a.html), ("--sarif", &a.sarif)].into_iter().filter_map(|(o, p)| p.as_deref().map(|p| (o, p))).collect();
    let mut inputs = input_files(&a.sources);
    inputs.push(("--incident", path.as_path()));
    check_outputs(&outputs, &inputs)?;
    let mut opts = ScanOptions {
        params: config.checks.clone(),
        severity: config.severity.clone(),
        settings: engine::Settings { trusted: config.trust.clone(), ..Default::default() },
        ..Default::default()
    };
    // What the items read, and what the fix checks need.
    let mut datasets: std::collections::BTreeSet<crate::inventory::Dataset> = [
        crate::inventory::Dataset::AwsAuthorizationDetails,
        crate::inventory::Dataset::AwsCredentialReport,
        crate::inventory::Dataset::AwsAccountSummary,
    ]
    .into_iter()
    .collect();
    if !incident.fixes.checks.is_empty() {
        let fix = ScanOptions { only: Some(incident.fixes.checks.clone()), ..Default::default() };
        datasets.extend(engine::datasets_of(&engine::select_for(&[], &fix)?));
    }
    // The compromised and restored users are read one by one: fresher than any credential report.
    let mut users = Wanted {
        fresh_after: Some(incident.incident.contained()),
        window: Some((incident.incident.start(), incident.incident.contained())),
        // With --aws-org, the accounts in scope (one not in the organization is then not read, and
        // its items say so).
        aws_accounts: Some(scoped(&incident.scope.aws_accounts)).filter(|v| !v.is_empty()),
        ..Wanted::default()
    };
    for p in incident.compromised.iter().map(|c| &c.principal).chain(incident.restored.iter().map(|r| &r.principal)) {
        match crate::verify::incident::Principal::parse(p) {
            Some(crate::verify::incident::Principal::AwsUser { account, name, .. }) => users.names.entry(account).or_default().push(name),
            Some(crate::verify::incident::Principal::AzureUser(q)) if !users.azure.contains(&q) => users.azure.push(q),
            _ => {}
        }
    }
    datasets.extend(crate::verify::datasets(&incident));
    // `[blast_radius]`: what each principal's cloud needs (by its spelling).
    for p in &incident.blast_radius.principals {
        let clouds = crate::reach::blast::clouds_of(p);
        let q = p.trim().to_ascii_lowercase();
        if clouds.contains(&Cloud::Azure) && !users.azure.contains(&q) {
            users.azure.push(q);
        }
        datasets.extend(clouds.into_iter().flat_map(|c| crate::reach::blast::datasets(c).iter().copied()));
    }
    // Always: a credential report older than the containment is then replaced by direct reads.
    if !incident.scope.aws_accounts.is_empty() {
        datasets.insert(crate::inventory::Dataset::AwsUserCredentials);
        datasets.insert(crate::inventory::Dataset::AwsTrailEvents);
        // Virtual MFA devices with their enable dates: one enabled inside the window is the attacker's.
        datasets.insert(crate::inventory::Dataset::AwsMfaDevices);
    }
    let plan = load_plan(&a.sources)?;
    let inv = load_sources(&a.sources, a.quiet, datasets, plan.as_ref(), &users)?;
    opts.now = match &a.now {
        Some(t) => Some(parse_now(t)?),
        None => None,
    };
    let v = crate::verify::verify(incident, &inv, &opts)?;
    if let Some(p) = &a.json {
        write_output(p, |w| {
            serde_json::to_writer_pretty(&mut *w, &crate::verify::to_json(&v))?;
            w.write_all(b"\n")
        })?;
    }
    if let Some(p) = &a.markdown {
        let text = crate::verify::render(&v, true);
        write_output(p, |w| w.write_all(text.as_bytes()))?;
    }
    if let Some(p) = &a.sarif {
        write_output(p, |w| {
            serde_json::to_writer_pretty(&mut *w, &crate::verify::sarif::document(&v))?;
            w.write_all(b"\n")
        })?;
    }
    if let Some(p) = &a.html {
        // The report around the checklist: the structural fixes' checks over the same inventory.
        let scan = if v.incident.fixes.checks.is_empty() {
            engine::Scan {
                findings: Default::default(),
                coverage: inv.coverage(),
                checks: Vec::new(),
                now: v.generated_at,
                fixes: Default::default(),
                triage: Default::default(),
                planned: Vec::new(),
            }
        } else {
            engine::scan(&inv, &ScanOptions { only: Some(v.incident.fixes.checks.clone()), ..opts.clone() })?
        };
        let mut page = Vec::new();
        report::html::write_with(&scan, &inv.sources, None, Some(&v), &mut page).map_err(|source| AppError::Html { path: p.display().to_string(), source })?;
        write_output(p, |w| w.write_all(&page))?;
    }
    let stdout_taken = outputs.iter().any(|(_, p)| *p == Path::new("-"));
    let text = crate::verify::render(&v, false);
    if !a.quiet && !stdout_taken {
        print!("{text}");
    } else {
        eprint!("{}", text.lines().next().map(|l| format!("{l}\n")).unwrap_or_default());
    }
    Ok(v.exit_code())
}

/// The process environment, as the configuration reads it.
fn env_vars() -> Vec<(String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

/// `config show`: the effective configuration (file, then environment), and where it came from.
fn config_show(explicit: Option<&Path>, format: Format) -> Result<u8, AppError> {
    let mut loaded = crate::config::load_effective(explicit, &env_vars())?;
    // Every threshold, at its effective value (the check's default unless overridden).
    for c in checks::all()? {
        for (p, default) in &c.meta.params {
            loaded.config.checks.entry(c.meta.id.clone()).or_default().entry(p.clone()).or_insert(*default);
        }
    }
    let file = loaded.file.as_ref().map_or("none (defaults)".to_string(), |p| p.display().to_string());
    match format {
        Format::Json => {
            let v = serde_json::json!({"file": loaded.file, "environment": loaded.env, "config": loaded.config});
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Format::Table => {
            println!("# Effective Portcullis configuration");
            println!("# file: {file}");
            println!("# environment: {}", if loaded.env.is_empty() { "none".to_string() } else { loaded.env.join(", ") });
            println!("# command-line flags given to `scan` take precedence over these.\n");
            let text = toml::to_string_pretty(&loaded.config).map_err(|e| AppError::Usage(format!("cannot print the configuration: {e}")))?;
            print!("{text}");
        }
    }
    Ok(0)
}

fn aws_options(s: &SourceArgs, datasets: std::collections::BTreeSet<crate::inventory::Dataset>, users: &Wanted) -> Result<AwsOptions, AppError> {
    let regions = match s.aws_regions.trim() {
        "all" => Regions::All,
        list => {
            let v: Vec<String> = list.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
            if let Some(bad) = v.iter().find(|r| !is_region_name(r)) {
                return Err(AppError::Usage(format!("--aws-regions: {bad:?} is not a region name (like eu-west-1) or `all`")));
            }
            if v.is_empty() {
                return Err(AppError::Usage("--aws-regions: give `all` or at least one region".into()));
            }
            Regions::List(v)
        }
    };
    Ok(AwsOptions {
        profile: s.aws_profile.clone(),
        regions,
        org: s.aws_org,
        role_name: s.aws_role.clone(),
        external_id: s.aws_external_id.clone(),
        concurrency: usize::from(s.concurrency),
        deadline: std::time::Duration::from_secs(s.timeout),
        datasets,
        users: users.names.clone(),
        access_keys: users.access_keys.clone(),
        fresh_after: users.fresh_after,
        window: users.window,
        shard: users.shard,
        accounts: users.aws_accounts.clone(),
    })
}

fn azure_options(s: &SourceArgs, datasets: std::collections::BTreeSet<crate::inventory::Dataset>, users: &Wanted) -> Result<AzureOptions, AppError> {
    let subscriptions = match s.azure_subscriptions.trim() {
        "all" => None,
        list => {
            let v: Vec<String> = list.split(',').map(|x| x.trim().to_ascii_lowercase()).filter(|x| !x.is_empty()).collect();
            if let Some(bad) = v.iter().find(|x| !crate::collect::azure::is_guid(x)) {
                return Err(AppError::Usage(format!("--azure-subscriptions: {bad:?} is not a subscription id (a GUID) or `all`")));
            }
            if v.is_empty() {
                return Err(AppError::Usage("--azure-subscriptions: give `all` or at least one subscription id".into()));
            }
            Some(v)
        }
    };
    if let Some(t) = &s.azure_tenant {
        if !crate::collect::azure::is_guid(t.trim()) && !t.contains('.') {
            return Err(AppError::Usage(format!("--azure-tenant: {t:?} is not a tenant id (a GUID) or domain")));
        }
    }
    Ok(AzureOptions {
        tenant: s.azure_tenant.as_ref().map(|t| t.trim().to_string()),
        subscriptions,
        arm_endpoint: s.azure_arm_endpoint.clone(),
        graph_endpoint: s.azure_graph_endpoint.clone(),
        concurrency: usize::from(s.concurrency),
        deadline: std::time::Duration::from_secs(s.timeout),
        datasets: datasets.into_iter().filter(|d| d.cloud() == Cloud::Azure).collect(),
        principals: users.azure.clone(),
        shard: users.shard,
        graph_beta: !s.azure_graph_v1_only,
    })
}

fn gcp_options(s: &SourceArgs, datasets: std::collections::BTreeSet<crate::inventory::Dataset>, users: &Wanted) -> Result<crate::collect::gcp::GcpOptions, AppError> {
    use crate::collect::gcp::{is_project_id, organization_name};
    if s.gcp_organization.is_none() && s.gcp_projects.is_none() {
        return Err(AppError::Usage("--gcp needs --gcp-organization ID or --gcp-projects p1,p2".into()));
    }
    if let Some(o) = &s.gcp_organization {
        if organization_name(o).is_none() {
            return Err(AppError::Usage(format!("--gcp-organization: {o:?} is not an organization number (like 123456789012)")));
        }
    }
    let projects: Option<Vec<String>> = s.gcp_projects.as_ref().map(|v| v.iter().filter(|p| !p.is_empty()).cloned().collect());
    if let Some(bad) = projects.iter().flatten().find(|p| !is_project_id(p)) {
        return Err(AppError::Usage(format!("--gcp-projects: {bad:?} is not a project id")));
    }
    if projects.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::Usage("--gcp-projects: give at least one project id".into()));
    }
    Ok(crate::collect::gcp::GcpOptions {
        organization: s.gcp_organization.clone(),
        projects,
        endpoint: s.gcp_endpoint.clone().filter(|e| !e.trim().is_empty()),
        concurrency: usize::from(s.concurrency),
        deadline: std::time::Duration::from_secs(s.timeout),
        datasets: datasets.into_iter().filter(|d| d.cloud() == Cloud::Gcp).collect(),
        shard: users.shard,
    })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`, …
fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// The Terraform plan, if one was given (read before any live collection: a bad file fails fast).
fn load_plan(s: &SourceArgs) -> Result<Option<crate::import::terraform::Plan>, AppError> {
    Ok(s.terraform_plan.as_deref().map(|p| crate::import::terraform::load(p, s.terraform_root.as_deref())).transpose()?)
}

/// Only a plan: no live source and no file export.
fn plan_only(s: &SourceArgs) -> bool {
    s.terraform_plan.is_some() && !s.demo && !s.aws && !s.azure && !s.gcp && input_files(s).is_empty()
}

/// Read the sources. A live collection reads only `datasets` (what the selected checks need).
/// A plan is applied last, on top of everything else.
/// What a command asks of the live collectors beyond the datasets. For `verify`: account id → IAM
/// user names read user by user (the compromised and restored users), the containment time a
/// credential report must postdate, the window and the Entra principals. For `collect --shard`:
/// the share of the scopes to read.
#[derive(Debug, Clone, Default)]
struct Wanted {
    names: std::collections::BTreeMap<String, Vec<String>>,
    fresh_after: Option<Timestamp>,
    /// The incident window, for CloudTrail's record of what changed inside it.
    window: Option<(Timestamp, Timestamp)>,
    /// The Entra principals (object ids, appIds, UPNs) read one by one.
    azure: Vec<String>,
    /// AWS access key ids whose owners are looked up and read one by one.
    access_keys: Vec<String>,
    shard: Option<crate::inventory::shard::Shard>,
    /// With `--aws-org`: only these accounts (`verify`: the incident's `[scope] aws_accounts`).
    aws_accounts: Option<Vec<String>>,
}

fn load_sources(
    s: &SourceArgs,
    quiet: bool,
    datasets: std::collections::BTreeSet<crate::inventory::Dataset>,
    plan: Option<&crate::import::terraform::Plan>,
    users: &Wanted,
) -> Result<Inventory, AppError> {
    if let Some(plan) = plan {
        if s.demo {
            return Err(AppError::Usage("--demo cannot be combined with other sources".into()));
        }
        let mut inv = if plan_only(s) { Inventory::default() } else { load_sources(s, quiet, datasets, None, users)? };
        let unplaced = plan.apply(&mut inv);
        if !plan.deferred.is_empty() {
            eprintln!(
                "warning: {}: Terraform deferred {} change(s) to a later plan; nothing about them is known, so they are not judged: {}",
                plan.origin,
                plan.deferred.len(),
                plan.deferred.join(", ")
            );
        }
        if !unplaced.is_empty() {
            eprintln!(
                "warning: {}: {} planned resource(s) belong to no scope the other sources read (account, subscription or project unknown or not scanned); judged on their own: {}",
                plan.origin,
                unplaced.len(),
                unplaced.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            );
        }
        if inv.generated_at.is_none() {
            inv.generated_at = Some(Timestamp::now());
        }
        return Ok(inv);
    }
    let files = FileSources {
        inventory: s.inventory.clone(),
        aws_authorization_details: s.aws_authorization_details.clone(),
        aws_credential_report: s.aws_credential_report.clone(),
        aws_password_policy: s.aws_password_policy.clone(),
        aws_account_summary: s.aws_account_summary.clone(),
    };
    if files.is_empty() && !s.demo && !s.aws && !s.azure && !s.gcp {
        return Err(AppError::Usage(
            "no sources given: use --aws, --azure, --gcp, --demo, --terraform-plan FILE, --inventory FILE, --aws-authorization-details FILE or --aws-credential-report FILE".into(),
        ));
    }
    if s.demo && (!files.is_empty() || s.aws || s.azure || s.gcp) {
        return Err(AppError::Usage("--demo cannot be combined with other sources".into()));
    }
    if s.demo {
        return Ok(crate::demo::inventory()?);
    }
    let mut inv = if files.is_empty() { Inventory::default() } else { files.load()? };
    for w in &inv.warnings {
        eprintln!("warning: {w}");
    }
    // A shard other than 0 leaves the organization-wide data to shard 0 (the AWS organization is
    // still read with --aws-org: it lists the accounts).
    let requested = datasets.clone();
    let datasets: std::collections::BTreeSet<_> = match users.shard {
        Some(sh) if !sh.keeps_organization() => datasets.into_iter().filter(|d| !crate::inventory::shard::is_organization_wide(*d)).collect(),
        _ => datasets,
    };
    let mut shard_info = users.shard.map(|sh| crate::inventory::shard::ShardInfo { index: sh.index, count: sh.count, datasets: requested, ..Default::default() });
    if s.aws {
        let opts = aws_options(s, datasets.clone(), users)?;
        let started = Timestamp::now();
        let (aws, who) = crate::collect::aws::collect(&opts, &Progress::stderr(quiet))?;
        if let Some(info) = shard_info.as_mut() {
            info.aws_accounts = who.listed.clone();
        }
        let source = format!("aws live: account {} as {}", who.account_id, who.arn);
        merge_live(&mut inv, Inventory { aws, ..Inventory::default() }, source, started, "--aws")?;
    }
    if s.azure {
        let opts = azure_options(s, datasets.clone(), users)?;
        let started = Timestamp::now();
        let (azure, who) = crate::collect::azure::collect(&opts, &Progress::stderr(quiet))?;
        if let Some(info) = shard_info.as_mut() {
            info.azure_subscriptions.insert(who.tenant_id.clone(), who.listed_subscriptions.clone());
        }
        let source = format!(
            "azure live: tenant {} via {} ({} Resource Manager and {} Graph requests)",
            who.tenant_id,
            who.credential.describe(),
            who.arm_calls,
            who.graph_calls
        );
        merge_live(&mut inv, Inventory { azure, ..Inventory::default() }, source, started, "--azure")?;
    }
    if s.gcp {
        let opts = gcp_options(s, datasets.clone(), users)?;
        let started = Timestamp::now();
        let (gcp, who) = crate::collect::gcp::collect(&opts, &Progress::stderr(quiet))?;
        if let Some(info) = shard_info.as_mut() {
            info.gcp_projects = who.listed_projects.clone();
        }
        let path = if who.bulk_iam { "Cloud Asset bulk read" } else { "per-resource getIamPolicy" };
        let source = format!("gcp live: {} (IAM policies by {path})", who.scope);
        merge_live(&mut inv, Inventory { gcp, ..Inventory::default() }, source, started, "--gcp")?;
    }
    if let Some(info) = shard_info {
        crate::inventory::shard::restrict(&mut inv, crate::inventory::shard::Shard { index: info.index, count: info.count });
        inv.sources.push(format!("shard {}/{} of the collection", info.index, info.count));
        inv.shard = Some(info);
    }
    Ok(inv)
}

/// Fold one live collection into what the other sources gave; the scan time is the earliest start.
fn merge_live(inv: &mut Inventory, mut live: Inventory, source: String, started: Timestamp, flag: &str) -> Result<(), AppError> {
    live.generated_at = Some(started);
    live.sources.push(source);
    inv.merge(live).map_err(|e| AppError::Usage(format!("{flag} and the other sources both provide data: {e}")))?;
    if inv.generated_at.is_none() {
        inv.generated_at = Some(started);
    }
    Ok(())
}

/// Write to a file, or to stdout for `-`.
fn write_output(path: &Path, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), AppError> {
    let err = |source| AppError::Write { path: path.display().to_string(), source };
    if path == Path::new("-") {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        f(&mut lock).map_err(err)
    } else {
        let mut file = std::fs::File::create(path).map_err(err)?;
        f(&mut file).map_err(err)
    }
}

/// The files a scan reads, by option, to refuse writing an output over one of them.
fn input_files(s: &SourceArgs) -> Vec<(&'static str, &Path)> {
    let mut v: Vec<(&'static str, &Path)> = Vec::new();
    v.extend(s.inventory.iter().map(|p| ("--inventory", p.as_path())));
    v.extend(s.aws_authorization_details.iter().map(|p| ("--aws-authorization-details", p.as_path())));
    v.extend(s.aws_credential_report.iter().map(|p| ("--aws-credential-report", p.as_path())));
    v.extend(s.aws_password_policy.iter().map(|p| ("--aws-password-policy", p.as_path())));
    v.extend(s.aws_account_summary.iter().map(|p| ("--aws-account-summary", p.as_path())));
    v
}

/// Two outputs to one file (or both to stdout), or an output over an input, lose data: refuse.
fn check_outputs(outputs: &[(&'static str, &Path)], inputs: &[(&'static str, &Path)]) -> Result<(), AppError> {
    let same = |a: &Path, b: &Path| a == b || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y);
    for (i, (o1, p1)) in outputs.iter().enumerate() {
        for (o2, p2) in &outputs[i + 1..] {
            if same(p1, p2) {
                let what = if *p1 == Path::new("-") { "stdout".to_string() } else { p1.display().to_string() };
                return Err(AppError::Usage(format!("{o1} and {o2} both write to {what}; give each output its own file")));
            }
        }
        if *p1 == Path::new("-") {
            continue;
        }
        if let Some((opt, _)) = inputs.iter().find(|(_, inp)| same(p1, inp)) {
            return Err(AppError::Usage(format!("{o1} {} is also read as {opt}: writing it would destroy the input", p1.display())));
        }
    }
    Ok(())
}

/// The clouds the given sources can describe (for the default check selection).
fn source_clouds(s: &SourceArgs) -> Vec<Cloud> {
    let mut v = Vec::new();
    if s.aws || s.demo || !s.aws_authorization_details.is_empty() || !s.aws_credential_report.is_empty() || s.aws_password_policy.is_some() || s.aws_account_summary.is_some() {
        v.push(Cloud::Aws);
    }
    if s.azure || s.demo {
        v.push(Cloud::Azure);
    }
    if s.gcp || s.demo {
        v.push(Cloud::Gcp);
    }
    v
}

fn scan(a: ScanArgs, color: ColorChoice) -> Result<u8, AppError> {
    let config = crate::config::load_effective(a.config.as_deref(), &env_vars())?.config;
    let outputs: Vec<(&'static str, &Path)> =
        [("--json", &a.json), ("--sarif", &a.sarif), ("--markdown", &a.markdown), ("--html", &a.html), ("--ocsf", &a.ocsf)].into_iter().filter_map(|(o, p)| p.as_deref().map(|p| (o, p))).collect();
    let mut inputs = input_files(&a.sources);
    inputs.extend(a.sources.terraform_plan.iter().map(|p| ("--terraform-plan", p.as_path())));
    inputs.extend(a.baseline.iter().map(|p| ("--baseline", p.as_path())));
    inputs.extend(a.suppressions.iter().map(|p| ("--suppressions", p.as_path())));
    check_outputs(&outputs, &inputs)?;
    // Read the gate's files before collecting: a typo should not cost a live scan.
    let baseline = a.baseline.as_deref().map(crate::gate::Baseline::load).transpose()?;
    let plan = load_plan(&a.sources)?;
    let suppressions = a.suppressions.as_deref().map(crate::gate::Suppressions::load).transpose()?;
    let mut opts = ScanOptions {
        now: None,
        only: a.checks.clone().or(config.scan.checks.clone()),
        skip: a.skip_checks.iter().chain(&config.scan.skip).cloned().collect(),
        categories: if a.category.is_empty() { config.scan.categories.clone() } else { a.category.clone() },
        skip_categories: config.scan.skip_categories.clone(),
        severities: if a.severity.is_empty() { config.scan.severities.clone() } else { a.severity.iter().flat_map(|s| s.0.iter().copied()).collect() },
        skip_severities: config.scan.skip_severities.clone(),
        plan_only: false,
        services: a.service.clone(),
        params: config.checks.clone(),
        severity: config.severity.clone(),
        settings: engine::Settings { trusted: config.trust.clone(), max_report_age: a.max_report_age },
    };
    // Select before collecting: a live scan reads only what the selected checks need. Snapshots
    // can hold any cloud, so with one the selection is made again on what it holds.
    let clouds = source_clouds(&a.sources);
    // A plan alone: run the checks that judge the planned resource types, and only those (the rest
    // need data a plan cannot have). A plan that changes nothing Portcullis reads passes.
    let mut nothing_planned = false;
    if let (Some(p), true) = (&plan, plan_only(&a.sources)) {
        if opts.only.is_none() {
            let checks: Vec<String> = p.checks().into_iter().collect();
            nothing_planned = checks.is_empty();
            opts.only = Some(checks);
            opts.plan_only = true;
        }
    }
    let mut datasets = std::collections::BTreeSet::new();
    if !nothing_planned && (!clouds.is_empty() || opts.only.is_some()) {
        let pre = engine::select_for(&clouds, &opts)?;
        datasets = engine::datasets_of(&pre);
    }
    let phase = std::time::Instant::now();
    let inv = load_sources(&a.sources, a.quiet, datasets, plan.as_ref(), &Wanted::default())?;
    tracing::info!(phase = "sources", elapsed_ms = phase.elapsed().as_millis() as u64, "sources read");
    opts.now = match &a.now {
        Some(t) => Some(parse_now(t)?),
        None if a.sources.demo => inv.generated_at,
        None => None,
    };
    let phase = std::time::Instant::now();
    let mut result = if nothing_planned {
        eprintln!("{}: the plan creates, changes or deletes no resource Portcullis judges", plan.as_ref().map_or("", |p| p.origin.as_str()));
        engine::empty(&inv, &opts)
    } else {
        engine::scan(&inv, &opts)?
    };
    tracing::info!(phase = "checks", findings = result.findings.len(), elapsed_ms = phase.elapsed().as_millis() as u64, "checks run");
    let phase = std::time::Instant::now();
    let fail_on = a.fail_on.or(config.gate.fail_on);
    let gate = Gate { fail_on, allow_incomplete: a.allow_incomplete || config.gate.allow_incomplete };
    result.triage = crate::gate::Triage::build(&result, baseline.as_ref(), suppressions.as_ref());
    warn_triage(&result.triage);
    let verdict = gate.verdict(&result.findings, &result.triage);
    if !a.status.is_empty() {
        result.findings.retain(|f| a.status.contains(&f.status));
    }

    if let Some(dir) = &a.fixes {
        let set = crate::fix::plan(&result, &inv, &config.fixes, &config.trust)?;
        set.write(dir)?;
        eprintln!("wrote {} fix artifact(s) and {} README(s) under {} (nothing applied)", set.artifacts.len(), set.readmes.len(), dir.display());
        result.fixes = set.index().into_iter().map(|(f, paths)| (f.to_string(), paths.into_iter().map(str::to_string).collect())).collect();
    }
    if let Some(p) = &a.json {
        write_output(p, |w| report::json::write(&result, w))?;
    }
    if let Some(p) = &a.sarif {
        let mut trimmed = report::sarif::Trimmed::default();
        write_output(p, |w| report::sarif::write(&result, w).map(|t| trimmed = t))?;
        if trimmed.results > 0 {
            eprintln!(
                "warning: SARIF: left out the {} least severe failing finding(s): {} (every finding is in --json)",
                trimmed.results, trimmed.reason
            );
        }
    }
    if let Some(p) = &a.markdown {
        let text = report::markdown::render(&result, &inv.sources, fail_on.map(|_| &verdict));
        write_output(p, |w| w.write_all(text.as_bytes()))?;
    }
    if let Some(p) = &a.html {
        let mut page = Vec::new();
        report::html::write(&result, &inv.sources, fail_on.map(|_| &verdict), &mut page)
            .map_err(|source| AppError::Html { path: p.display().to_string(), source })?;
        write_output(p, |w| w.write_all(&page))?;
    }
    if let Some(p) = &a.ocsf {
        write_output(p, |w| report::ocsf::write(&result, w))?;
    }
    let stdout_taken = outputs.iter().any(|(_, p)| *p == Path::new("-"));
    if !a.quiet && !stdout_taken {
        print!("{}", report::table::render(&result, report::table::Term::detect(color, false)));
    }
    // The totals and the gate's verdict go to stderr whatever stdout carries (a report, or nothing).
    eprint!("{}", report::table::summary(&result, fail_on.map(|_| &verdict), report::table::Term::detect(color, true)));
    tracing::info!(phase = "outputs", elapsed_ms = phase.elapsed().as_millis() as u64, "outputs written");
    Ok(verdict.code)
}

/// What a CI log must show: suppressions that expired or match nothing, and why a baseline
/// comparison is weaker than it looks.
fn warn_triage(t: &crate::gate::Triage) {
    use crate::gate::SuppressionState;
    let clean = |s: &str| report::table::sanitize(s);
    for (i, s) in t.suppressions.iter().enumerate() {
        let what = format!("suppression #{} ({} on {})", i + 1, clean(&s.rule.check), clean(&s.rule.resource));
        match s.state {
            SuppressionState::Expired => eprintln!(
                "warning: {what} expired on {}: it no longer applies ({} failing finding(s) count again)",
                clean(&s.rule.expires),
                s.matched
            ),
            SuppressionState::Unmatched => eprintln!("warning: {what} matched no failing finding: remove it, or fix its pattern"),
            SuppressionState::Applied => {}
        }
    }
    if let Some(b) = &t.baseline {
        for n in &b.notes {
            eprintln!("warning: baseline {}: {}", clean(&b.file), clean(n));
        }
    }
}

fn collect(mut a: CollectArgs) -> Result<u8, AppError> {
    if let Some(sh) = a.shard {
        // `--out shards/{shard}.json`: one file per shard, without a shell to expand the index.
        a.out = std::path::PathBuf::from(a.out.to_string_lossy().replace("{shard}", &sh.index.to_string()));
        // A fresh shared volume: the shards' directory may not exist yet.
        if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| AppError::Write { path: dir.display().to_string(), source })?;
        }
    }
    check_outputs(&[("--out", a.out.as_path())], &input_files(&a.sources))?;
    let all = engine::datasets_of(&checks::all()?.iter().collect::<Vec<_>>());
    let plan = load_plan(&a.sources)?;
    if a.shard.is_some() && (!(a.sources.aws || a.sources.azure || a.sources.gcp) || !input_files(&a.sources).is_empty() || a.sources.demo || plan.is_some()) {
        return Err(AppError::Usage("--shard takes a share of a live collection: give --aws, --azure or --gcp, and no file source".into()));
    }
    let wanted = Wanted { shard: a.shard, ..Wanted::default() };
    let mut inv = load_sources(&a.sources, a.quiet, all, plan.as_ref(), &wanted)?;
    if inv.generated_at.is_none() {
        inv.generated_at = Some(Timestamp::now());
    }
    write_output(&a.out, |w| write_snapshot(&inv, w).map_err(std::io::Error::other))?;
    let cov = inv.coverage();
    let subscriptions: usize = inv.azure.tenants.iter().map(|t| t.subscriptions.len()).sum();
    eprintln!(
        "wrote {} ({} AWS account(s), {} Azure tenant(s) with {} subscription(s), {} dataset(s) collected)",
        a.out.display(),
        inv.aws.accounts.len(),
        inv.azure.tenants.len(),
        subscriptions,
        cov.iter().filter(|c| c.state.label() == "collected").count()
    );
    Ok(0)
}

/// `portcullis merge`: the snapshots read as `scan --inventory` reads them, written as one.
fn merge(a: crate::cli::MergeArgs) -> Result<u8, AppError> {
    let inputs: Vec<(&'static str, &Path)> = a.snapshots.iter().map(|p| ("SNAPSHOT", p.as_path())).collect();
    check_outputs(&[("--out", a.out.as_path())], &inputs)?;
    let out_dir = a.out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Some(d) = a.snapshots.iter().find(|d| d.is_dir() && std::fs::canonicalize(d).ok() == std::fs::canonicalize(out_dir).ok()) {
        return Err(AppError::Usage(format!("--out {}: write the merged snapshot outside {} (the next merge of that directory would read it as a shard's)", a.out.display(), d.display())));
    }
    let files = FileSources { inventory: a.snapshots.clone(), ..FileSources::default() };
    let inv = files.load()?;
    for w in &inv.warnings {
        eprintln!("warning: {w}");
    }
    write_output(&a.out, |w| write_snapshot(&inv, w).map_err(std::io::Error::other))?;
    let cov = inv.coverage();
    let subscriptions: usize = inv.azure.tenants.iter().map(|t| t.subscriptions.len()).sum();
    eprintln!(
        "wrote {} from {} snapshot(s): {} AWS account(s), {} Azure subscription(s), {} GCP project(s); {} dataset(s) collected, {} not",
        a.out.display(),
        a.snapshots.len(),
        inv.aws.accounts.len(),
        subscriptions,
        inv.gcp.projects.len(),
        cov.iter().filter(|c| c.state.label() == "collected").count(),
        cov.iter().filter(|c| !matches!(c.state.label(), "collected" | "not_requested")).count()
    );
    Ok(0)
}

fn list(cloud: Option<CloudArg>, format: Format, color: ColorChoice) -> Result<u8, AppError> {
    let want = cloud.map(|c| match c {
        CloudArg::Aws => Cloud::Aws,
        CloudArg::Azure => Cloud::Azure,
        CloudArg::Gcp => Cloud::Gcp,
    });
    let selected: Vec<_> = checks::all()?.iter().filter(|c| want.is_none_or(|w| c.meta.cloud == w)).collect();
    let mut out = String::new();
    match format {
        Format::Json => {
            // Metadata, plus what the engine needs to know: the scope kind it runs over and the
            // datasets it reads (what a live scan collects for it, what a file scan must provide).
            let rows: Vec<serde_json::Value> = selected
                .iter()
                .map(|c| {
                    let mut v = serde_json::to_value(&c.meta).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("scope".into(), c.scope().as_str().into());
                        o.insert("datasets".into(), serde_json::to_value(c.datasets).unwrap_or_default());
                        // The Terraform resource types it judges on a plan alone (empty: live data only).
                        let types: Vec<&str> = crate::import::terraform::TYPES.iter().filter(|t| t.checks.contains(&c.meta.id.as_str())).map(|t| t.rtype).collect();
                        o.insert("terraform_plan".into(), types.into());
                    }
                    v
                })
                .collect();
            out = serde_json::to_string_pretty(&rows).unwrap_or_default();
            out.push('\n');
        }
        Format::Table => {
            // Two lines a check, to fit 100 columns whatever the id's length: severity, category
            // and id, then the title under the id (wrapped). Scope and datasets: --format json.
            let term = report::table::Term::detect(color, false);
            let indent = 8 + 2 + 13 + 2;
            let width = term.width.unwrap_or(100).min(100);
            out.push_str(&format!("{:<8}  {:<13}  CHECK\n", "SEVERITY", "CATEGORY"));
            for c in selected {
                out.push_str(&format!("{:<8}  {:<13}  {}\n", c.meta.severity.as_str(), c.meta.category.as_str(), c.meta.id));
                for line in report::table::wrap(&c.meta.title, width - indent) {
                    out.push_str(&format!("{}{line}\n", " ".repeat(indent)));
                }
            }
        }
    }
    print!("{out}");
    Ok(0)
}

/// `checks list --compliance FRAMEWORK`: every requirement, the checks that cover it, and the
/// requirements nothing covers.
fn list_compliance(name: &str, cloud: Option<CloudArg>, format: Format) -> Result<u8, AppError> {
    let Some(fw) = checks::compliance::find(name)? else {
        let known: Vec<String> = checks::compliance::frameworks()?.iter().map(|f| format!("{} ({})", f.slug, f.name)).collect();
        return Err(AppError::Usage(format!("unknown framework {name:?}; known: {}", known.join(", "))));
    };
    let mut view = report::compliance::catalogue(fw);
    if let Some(c) = cloud {
        // ATT&CK spans the clouds: keep only the checks of the one asked for.
        let want = match c {
            CloudArg::Aws => Cloud::Aws,
            CloudArg::Azure => Cloud::Azure,
            CloudArg::Gcp => Cloud::Gcp,
        };
        for r in &mut view.requirements {
            r.checks.retain(|id| checks::find(id).ok().flatten().is_some_and(|c| c.meta.cloud == want));
        }
    }
    let mut out = String::new();
    match format {
        Format::Json => {
            out = serde_json::to_string_pretty(&view).unwrap_or_default();
            out.push('\n');
        }
        Format::Table => {
            let covered = view.requirements.iter().filter(|r| !r.checks.is_empty()).count();
            out.push_str(&format!("{} — {} of {} requirements covered by a check\n{}\n\n", view.name, covered, view.requirements.len(), view.url));
            let iw = view.requirements.iter().map(|r| r.id.len()).max().unwrap_or(2).max(11);
            out.push_str(&format!("{:<iw$}  CHECKS\n", "REQUIREMENT"));
            let mut section = None;
            for r in &view.requirements {
                if r.section.is_some() && r.section != section {
                    section = r.section.clone();
                    out.push_str(&format!("{}\n", section.as_deref().unwrap_or_default()));
                }
                let checks = if r.checks.is_empty() { "— not covered".to_string() } else { r.checks.join(", ") };
                let title = match (&r.title, r.checks.is_empty()) {
                    (Some(t), true) => format!("  ({t})"),
                    _ => String::new(),
                };
                out.push_str(&format!("{:<iw$}  {checks}{title}\n", r.id));
            }
        }
    }
    print!("{out}");
    Ok(0)
}

fn explain(id: &str) -> Result<u8, AppError> {
    match checks::find(id)? {
        Some(c) => {
            print!("{}", crate::report::table::sanitize_lines(&checks::catalogue::check_markdown(c)));
            Ok(0)
        }
        None => Err(AppError::Usage(format!("unknown check id {id:?} (see `portcullis checks list`)"))),
    }
}
