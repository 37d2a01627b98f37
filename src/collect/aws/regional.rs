//! Per-region datasets: CloudTrail, IAM Access Analyzer, EC2 instance metadata options.

use aws_sdk_accessanalyzer::types::Criterion;
use aws_sdk_cloudtrail::types::ReadWriteType;

use super::error::{Api, ApiError};
use crate::inventory::Timestamp;
use crate::inventory::aws::{AccessAnalyzer, Analyzer, AnalyzerFinding, Ec2Instance, Ec2Metadata, Ec2MetadataDefaults, Trail};

/// Trails visible in the region, shadow trails included. Status and event selectors are read only
/// for trails whose home is this region (the shadow copies elsewhere are the same trail).
pub async fn trails(client: &aws_sdk_cloudtrail::Client, region: &str) -> Result<Vec<Trail>, ApiError> {
    let out = client.describe_trails().include_shadow_trails(true).send().await.api("cloudtrail:DescribeTrails")?;
    let mut trails = Vec::new();
    for t in out.trail_list() {
        let arn = t.trail_arn().unwrap_or_default().to_string();
        let home = t.home_region().unwrap_or(region).to_string();
        let mut trail = Trail {
            name: t.name().unwrap_or_default().to_string(),
            home_region: home.clone(),
            multi_region: t.is_multi_region_trail().unwrap_or(false),
            organization_trail: t.is_organization_trail().unwrap_or(false),
            log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
            kms_key_id: t.kms_key_id().map(str::to_string),
            logging: None,
            management_events: None,
            status_error: None,
            s3_bucket: t.s3_bucket_name().map(str::to_string),
            arn,
        };
        if home == region {
            let id = if trail.arn.is_empty() { trail.name.clone() } else { trail.arn.clone() };
            match client.get_trail_status().name(&id).send().await.api("cloudtrail:GetTrailStatus") {
                Ok(s) => trail.logging = s.is_logging(),
                Err(e) => trail.status_error = Some(e.to_string()),
            }
            match client.get_event_selectors().trail_name(&id).send().await.api("cloudtrail:GetEventSelectors") {
                Ok(s) => trail.management_events = management_events(&s),
                Err(e) => {
                    let msg = e.to_string();
                    trail.status_error = Some(match trail.status_error.take() {
                        Some(prev) => format!("{prev}; {msg}"),
                        None => msg,
                    });
                }
            }
        }
        trails.push(trail);
    }
    Ok(trails)
}

/// Which management events the selectors record: "All", "ReadOnly", "WriteOnly", or `None`.
fn management_events(s: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput) -> Option<String> {
    let (mut read, mut write) = (false, false);
    for sel in s.event_selectors() {
        if sel.include_management_events() == Some(false) {
            continue;
        }
        match sel.read_write_type() {
            Some(ReadWriteType::ReadOnly) => read = true,
            Some(ReadWriteType::WriteOnly) => write = true,
            _ => (read, write) = (true, true), // All, or absent (the default is All)
        }
    }
    for sel in s.advanced_event_selectors() {
        let fields = sel.field_selectors();
        let management = fields.iter().any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"));
        if !management {
            continue;
        }
        match fields.iter().find(|f| f.field() == "readOnly").map(|f| f.equals()) {
            Some(v) if v == ["true"] => read = true,
            Some(v) if v == ["false"] => write = true,
            _ => (read, write) = (true, true),
        }
    }
    match (read, write) {
        (true, true) => Some("All".into()),
        (true, false) => Some("ReadOnly".into()),
        (false, true) => Some("WriteOnly".into()),
        (false, false) => None,
    }
}

/// Analyzers of every type, and the active findings of the external-access ones.
pub async fn access_analyzer(client: &aws_sdk_accessanalyzer::Client) -> Result<AccessAnalyzer, ApiError> {
    let mut out = AccessAnalyzer::default();
    let mut pages = client.list_analyzers().into_paginator().send();
    while let Some(page) = pages.next().await {
        for a in page.api("access-analyzer:ListAnalyzers")?.analyzers() {
            out.analyzers.push(Analyzer {
                arn: a.arn().to_string(),
                name: a.name().to_string(),
                analyzer_type: a.r#type().as_str().to_string(),
                status: a.status().as_str().to_string(),
            });
        }
    }
    let external: Vec<String> = out
        .analyzers
        .iter()
        .filter(|a| a.watches_external_access())
        .map(|a| a.arn.clone())
        .collect();
    for arn in external {
        let active = Criterion::builder().eq("ACTIVE").build();
        let mut pages = client.list_findings().analyzer_arn(&arn).filter("status", active).into_paginator().send();
        while let Some(page) = pages.next().await {
            for f in page.api("access-analyzer:ListFindings")?.findings() {
                if f.status().as_str() != "ACTIVE" {
                    continue; // the filter is the server's; do not trust it blindly
                }
                let mut principals: Vec<String> = f.principal().into_iter().flatten().map(|(k, v)| format!("{k}:{v}")).collect();
                principals.sort();
                out.findings.push(AnalyzerFinding {
                    id: f.id().to_string(),
                    resource: f.resource().unwrap_or_default().to_string(),
                    resource_type: f.resource_type().as_str().to_string(),
                    principals,
                    actions: f.action().to_vec(),
                    is_public: f.is_public().unwrap_or(false),
                    analyzer: arn.clone(),
                    condition: f.condition().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                });
            }
        }
    }
    Ok(out)
}

pub async fn instances(client: &aws_sdk_ec2::Client) -> Result<Ec2Metadata, ApiError> {
    let mut out = Ec2Metadata::default();
    let mut pages = client.describe_instances().max_results(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        for r in page.api("ec2:DescribeInstances")?.reservations() {
            for i in r.instances() {
                let state = i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string()).unwrap_or_default();
                if state == "terminated" {
                    continue;
                }
                let m = i.metadata_options();
                out.instances.push(Ec2Instance {
                    instance_id: i.instance_id().unwrap_or_default().to_string(),
                    state,
                    http_tokens: m.and_then(|m| m.http_tokens()).map(|t| t.as_str().to_string()).unwrap_or_else(|| "optional".into()),
                    http_endpoint: m.and_then(|m| m.http_endpoint()).map(|t| t.as_str().to_string()).unwrap_or_else(|| "enabled".into()),
                });
            }
        }
    }
    Ok(out)
}

pub async fn metadata_defaults(client: &aws_sdk_ec2::Client) -> Result<Ec2MetadataDefaults, ApiError> {
    let out = client.get_instance_metadata_defaults().send().await.api("ec2:GetInstanceMetadataDefaults")?;
    let d = out.account_level();
    Ok(Ec2MetadataDefaults {
        http_tokens: d.and_then(|d| d.http_tokens()).map(|t| t.as_str().to_string()),
        http_endpoint: d.and_then(|d| d.http_endpoint()).map(|t| t.as_str().to_string()),
    })
}

/// The regions enabled for the account.
pub async fn enabled_regions(client: &aws_sdk_ec2::Client) -> Result<Vec<String>, ApiError> {
    let out = client.describe_regions().send().await.api("ec2:DescribeRegions")?;
    let mut v: Vec<String> = out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect();
    v.sort();
    Ok(v)
}

/// IAM changes an intruder makes to stay: looked up by event name inside the window (one lookup
/// attribute per call, as the API allows; paginated).
pub const PERSISTENCE_EVENTS: &[&str] = &[
    "CreateUser",
    "CreateAccessKey",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "CreateRole",
    "UpdateAssumeRolePolicy",
    "CreateServiceSpecificCredential",
    "UploadSigningCertificate",
];

pub async fn trail_events(client: &aws_sdk_cloudtrail::Client, window: (Timestamp, Timestamp)) -> Result<Vec<crate::inventory::aws::TrailEvent>, ApiError> {
    use aws_sdk_cloudtrail::primitives::DateTime;
    use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
    let to_dt = |t: Timestamp| DateTime::from_millis(t.unix_millis());
    let mut out = Vec::new();
    for name in PERSISTENCE_EVENTS {
        let attr = LookupAttribute::builder().attribute_key(LookupAttributeKey::EventName).attribute_value(*name).build().map_err(|e| ApiError::failed("cloudtrail:LookupEvents", e.to_string()))?;
        let mut pages = client.lookup_events().lookup_attributes(attr).start_time(to_dt(window.0)).end_time(to_dt(window.1)).into_paginator().send();
        while let Some(page) = pages.next().await {
            for e in page.api("cloudtrail:LookupEvents")?.events() {
                let detail: serde_json::Value = e.cloud_trail_event().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
                let params = &detail["requestParameters"];
                let targets: Vec<String> = ["userName", "roleName"].iter().filter_map(|k| params.get(*k).and_then(|v| v.as_str()).map(str::to_string)).collect();
                out.push(crate::inventory::aws::TrailEvent {
                    id: e.event_id().unwrap_or_default().to_string(),
                    name: e.event_name().unwrap_or(name).to_string(),
                    time: e.event_time().and_then(|t| Timestamp::from_unix(t.secs(), t.subsec_nanos())),
                    actor: detail.pointer("/userIdentity/arn").and_then(|v| v.as_str()).map(str::to_string).or_else(|| e.username().map(str::to_string)),
                    targets,
                    source_ip: detail.get("sourceIPAddress").and_then(|v| v.as_str()).map(str::to_string),
                });
            }
        }
    }
    Ok(out)
}
