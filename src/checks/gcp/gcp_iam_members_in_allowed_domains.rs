//! Every member a project's effective policy names is proven inside the organization: users,
//! groups and domains of the organization's domain or a domain listed in `[trust] gcp_domains`
//! (subdomains included), the organization's own Cloud Identity customer, service accounts of
//! projects this scan read and Google's service agents of those projects. Every member kind is
//! judged (`principal://`, `principalSet://`, `serviceAccount:`…), by the one GCP member model
//! ([`crate::reach::gcp_member`]); a member it cannot place (an identity pool whose providers were
//! not read) leaves the project not evaluated, naming what to read.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};
use crate::reach::gcp_member::{Inside, Insiders};

use super::project_resource;

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let (levels, gap) = inv.effective_iam_known(p);
    let insiders = Insiders::from_settings(inv, &cx.settings.trusted);
    let (mut outside, mut undecided) = (Vec::new(), Vec::new());
    for (level, policy) in &levels {
        let inherited = if *level == p.name { String::new() } else { format!(", inherited from {level}") };
        for b in &policy.bindings {
            for m in b.members.iter() {
                match insiders.judge(m) {
                    Inside::Yes(_) => {}
                    Inside::No(why) => outside.push(format!("{m} has {}{inherited} ({why})", b.role)),
                    Inside::Unknown(why) => undecided.push(format!("{m} has {}{inherited}: {why}", b.role)),
                }
            }
        }
    }
    let allowed = if insiders.domains().is_empty() { "the organization".to_string() } else { insiders.domains().join(", ") };
    if !outside.is_empty() {
        cx.fail(project_resource(p), format!("{}: members outside {allowed}: {}", p.project_id, outside.join("; "))).with("outside_members", outside.len() as i64);
    } else if let Some(m) = &gap {
        cx.missing(project_resource(p), m);
    } else if !undecided.is_empty() {
        cx.not_evaluated(project_resource(p), format!("{}: cannot tell whether these members are inside: {}", p.project_id, undecided.join("; ")));
    } else {
        cx.pass(project_resource(p), format!("{}: every member belongs to {allowed}", p.project_id));
    }
    Ok(())
}
