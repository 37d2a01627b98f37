//! The organization has an enabled aggregated sink (`includeChildren`) that exports every log
//! (no filter, no enabled exclusion) to a destination inside the organization: a log bucket,
//! BigQuery dataset or Pub/Sub topic of a project this scan read. A Cloud Storage bucket's
//! project cannot be told from the sink, so such a destination is not evaluated (naming the
//! bucket); a destination in a project the scan did not read is outside and is named. A whole
//! project as the destination reroutes the logs through that project's own sinks, which decide.

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::gcp::{GcpInventory, LogSink};
use crate::inventory::{Dataset, Missing, ScopeNode};
use crate::reach::gcp_member::Insiders;

pub const DATASETS: &[Dataset] = &[Dataset::GcpLogging, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

/// Where a sink's destination lives.
enum Destination {
    Inside,
    Outside(String),
    Unknown(String),
}

/// Exports every log: no filter at all (a filter, even a broad one, is a choice of what to drop),
/// no enabled exclusion, and not disabled.
fn every_log(s: &LogSink) -> bool {
    !s.disabled && s.filter.as_deref().is_none_or(|f| f.trim().is_empty()) && s.exclusions.is_empty()
}

fn destination(s: &LogSink, insiders: &Insiders, inv: &GcpInventory, hops: usize) -> Destination {
    let d = s.destination.trim();
    let path = d.split_once(".googleapis.com/").map(|(_, p)| p).unwrap_or(d).trim_end_matches('/');
    if let Some(bucket) = d.strip_prefix("storage.googleapis.com/") {
        return Destination::Unknown(format!(
            "sink {} exports to Cloud Storage bucket {bucket}, whose project the sink does not name (storage.buckets.get on it would)",
            s.name
        ));
    }
    let Some(rest) = path.strip_prefix("projects/") else {
        return Destination::Outside(format!("sink {} exports to {d}, which is not a destination inside the organization", s.name));
    };
    let project = rest.split('/').next().unwrap_or(rest);
    if !insiders.project_read(project) {
        return Destination::Outside(format!("sink {} exports to {d}, in project {project}, which this scan did not read", s.name));
    }
    // A whole project as the destination: that project's own sinks decide where the logs go.
    if d.starts_with("logging.googleapis.com/") && !rest.contains('/') {
        let Some(target) = inv.projects.iter().find(|p| p.project_id.eq_ignore_ascii_case(project) || p.name == format!("projects/{project}")) else {
            return Destination::Unknown(format!("sink {} routes the logs to project {project}, whose sinks were not read", s.name));
        };
        let Some(sinks) = target.sinks.get() else {
            return Destination::Unknown(format!("sink {} routes the logs to project {project}, whose sinks were not read", s.name));
        };
        if hops > 0 {
            return Destination::Unknown(format!("sink {} routes the logs to project {project} again", s.name));
        }
        let onward: Vec<Destination> = sinks.iter().filter(|t| every_log(t)).map(|t| destination(t, insiders, inv, hops + 1)).collect();
        if onward.iter().any(|o| matches!(o, Destination::Inside)) {
            return Destination::Inside;
        }
        if let Some(Destination::Unknown(why)) = onward.into_iter().find(|o| matches!(o, Destination::Unknown(_))) {
            return Destination::Unknown(why);
        }
        return Destination::Outside(format!("sink {} routes the logs to project {project}, and no sink there exports every log inside the organization", s.name));
    }
    Destination::Inside
}

pub fn run<'a>(org: &'a ScopeNode, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let res = Resource { id: format!("//cloudresourcemanager.googleapis.com/{}", org.id).into(), name: org.name.as_deref().unwrap_or(&org.id).into(), kind: "gcp_resourcemanager_organization" };
    let Some(node) = inv.nodes.iter().find(|n| n.name == org.id) else {
        cx.not_evaluated(res, format!("{}: its sinks were not read", org.id));
        return Ok(());
    };
    let sinks = node.sinks.require(Dataset::GcpLogging)?;
    let insiders = Insiders::from_settings(inv, &cx.settings.trusted);
    let aggregated: Vec<&LogSink> = sinks.iter().filter(|s| s.include_children && !s.disabled).collect();
    // Every log: no filter at all (a filter, even a broad one, is a choice of what to drop), and no
    // enabled exclusion.
    let every: Vec<&LogSink> = aggregated.iter().copied().filter(|s| every_log(s)).collect();
    let (mut outside, mut unknown) = (Vec::new(), Vec::new());
    for s in &every {
        match destination(s, &insiders, inv, 0) {
            Destination::Inside => {
                cx.pass(res, format!("{}: sink {} exports every log of the organization to {}", org.id, s.name, s.destination));
                return Ok(());
            }
            Destination::Outside(why) => outside.push(why),
            Destination::Unknown(why) => unknown.push(why),
        }
    }
    if !unknown.is_empty() {
        let mut why = unknown.join("; ");
        if !outside.is_empty() {
            why.push_str(&format!("; {}", outside.join("; ")));
        }
        cx.not_evaluated(res, format!("{}: cannot tell whether every log stays inside the organization: {why}", org.id));
        return Ok(());
    }
    let why = if !outside.is_empty() {
        outside.join("; ")
    } else if aggregated.is_empty() {
        "no enabled sink includes the folders and projects below".to_string()
    } else {
        let named: Vec<String> = aggregated
            .iter()
            .map(|s| if s.exclusions.is_empty() { format!("{} (a filter)", s.name) } else { format!("{} (excludes {})", s.name, s.exclusions.join(", ")) })
            .collect();
        format!("no aggregated sink exports every log: {}", named.join(", "))
    };
    cx.fail(res, format!("{}: {why}", org.id));
    Ok(())
}
