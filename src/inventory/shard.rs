//! Sharded collection (`collect --shard I/N`) and putting the shards back together.
//!
//! An organization too large for one machine is collected by N processes. Shard `I` of `N` reads
//! the AWS accounts, Azure subscriptions and GCP projects whose id hashes to `I` (FNV-1a 64 of
//! `cloud:id`, modulo N), so the share of a scope depends on nothing but its id: a shard retried an
//! hour later, or on a listing that gained an account meanwhile, takes the same scopes. Shard 0
//! also keeps what belongs to no single scope: the AWS organization (tree and SCPs), the Entra
//! directory and the Azure management-group tree, the GCP hierarchy and the policies set on the
//! organization and its folders.
//!
//! Every shard snapshot records the whole listing it saw, not only its share. A merge therefore
//! knows every scope some shard listed and which shard owned it; a scope whose shard never
//! arrived (or did not list it) is put into the merged inventory with each dataset `failed`,
//! naming the shard: it is reported as not evaluated, never silently missing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::aws::AwsAccount;
use super::azure::{AzureSubscription, AzureTenant};
use super::gcp::GcpProject;
use super::{Cloud, Collected, Dataset, Inventory};

/// `--shard I/N`: this process's share of the scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Where job runners put a task's index: Kubernetes Indexed Jobs, AWS Batch array jobs, Cloud Run
/// jobs.
pub const INDEX_VARIABLES: [&str; 3] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "CLOUD_RUN_TASK_INDEX"];

/// The most shards a collection may be split into.
pub const MAX_SHARDS: u32 = 4096;

impl Shard {
    /// `I/N` with `0 <= I < N` (the numbering of Kubernetes' `JOB_COMPLETION_INDEX` and AWS Batch's
    /// `AWS_BATCH_JOB_ARRAY_INDEX`), or `auto/N`: the index from whichever of
    /// [`INDEX_VARIABLES`] the job runner set.
    pub fn parse(s: &str) -> Result<Shard, String> {
        Shard::parse_with(s, |name| std::env::var(name).ok())
    }

    pub fn parse_with(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (i, n) = s.trim().split_once('/').ok_or_else(|| format!("{s:?} is not I/N (e.g. 0/4: the first of four shards, or auto/4)"))?;
        let i = if i.trim() == "auto" {
            let set: Vec<(&str, String)> = INDEX_VARIABLES.iter().filter_map(|v| env(v).filter(|x| !x.trim().is_empty()).map(|x| (*v, x))).collect();
            match set.as_slice() {
                [] => return Err(format!("{s:?}: `auto` takes the index from {}, and none is set", INDEX_VARIABLES.join(", "))),
                [(_, x), rest @ ..] if rest.iter().all(|(_, y)| y == x) => x.trim().to_string(),
                _ => return Err(format!("{s:?}: `auto`: {} disagree", set.iter().map(|(v, x)| format!("{v}={x}")).collect::<Vec<_>>().join(", "))),
            }
        } else {
            i.to_string()
        };
        let index: u32 = i.trim().parse().map_err(|_| format!("{s:?}: the shard index {i:?} is not a number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("{s:?}: the shard count {n:?} is not a number"))?;
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{s:?}: the shard count must be 1 to {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!("{s:?}: shards are numbered from 0, so the index must be below {count}"));
        }
        Ok(Shard { index, count })
    }

    /// The shard that owns a scope, out of `count`.
    pub fn owner(count: u32, cloud: Cloud, id: &str) -> u32 {
        // FNV-1a, 64 bits: stable across builds and platforms (std's hasher is not).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in cloud.as_str().bytes().chain(std::iter::once(b':')).chain(id.trim().to_ascii_lowercase().bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        (h % u64::from(count.max(1))) as u32
    }

    pub fn owns(&self, cloud: Cloud, id: &str) -> bool {
        Shard::owner(self.count, cloud, id) == self.index
    }

    /// Shard 0 keeps the organization-wide data.
    pub fn keeps_organization(&self) -> bool {
        self.index == 0
    }

    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

/// What a shard snapshot says about itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// Every AWS account the organization listing showed this shard (all shards', not only its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aws_accounts: Vec<String>,
    /// Tenant id → every subscription the listing showed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub azure_subscriptions: BTreeMap<String, Vec<String>>,
    /// Every GCP project id the listing showed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gcp_projects: Vec<String>,
    /// The datasets the shard was asked to read (what a missing scope is missing).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub datasets: BTreeSet<Dataset>,
}

impl ShardInfo {
    fn shard(&self) -> Shard {
        Shard { index: self.index, count: self.count }
    }
}

/// The datasets that belong to the organization, tenant or GCP organization as a whole (shard 0's).
/// Not the members of role-holding groups: each shard reads those of the groups that hold roles in
/// its own subscriptions (shard 0 also those holding directory roles), and a merge unites them.
pub fn is_organization_wide(d: Dataset) -> bool {
    use Dataset::*;
    matches!(
        d,
        AwsOrganization
            | AzureScopes
            | AzureUsers
            | AzureSignInActivity
            | AzureRegistrationDetails
            | AzureApplications
            | AzureServicePrincipals
            | AzureDirectoryRoles
            | AzureDirectoryRoleEligibility
            | AzureDirectoryRoleDefinitions
            | AzureDirectoryReads
            | GcpHierarchy
            | GcpAssetSearch
    )
}

/// Keep only shard `s`'s part of a collection: the scopes it owns, and the organization-wide data
/// only on shard 0. Collectors already read no other scope; this also drops what came back anyway.
pub fn restrict(inv: &mut Inventory, s: Shard) {
    inv.aws.accounts.retain(|a| s.owns(Cloud::Aws, &a.account_id));
    for t in &mut inv.azure.tenants {
        t.subscriptions.retain(|x| s.owns(Cloud::Azure, &x.subscription_id));
    }
    inv.gcp.projects.retain(|p| s.owns(Cloud::Gcp, &p.project_id));
    if !s.keeps_organization() {
        inv.aws.organization = Collected::NotRequested;
        for t in &mut inv.azure.tenants {
            let subscriptions = std::mem::take(&mut t.subscriptions);
            let group_members = std::mem::take(&mut t.group_members);
            *t = AzureTenant::new(t.tenant_id.clone());
            t.subscriptions = subscriptions;
            t.group_members = group_members;
        }
        inv.gcp.hierarchy = Collected::NotRequested;
        inv.gcp.asset_search = Collected::NotRequested;
        inv.gcp.nodes.clear();
    }
}

/// Why a merge refused its shards.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShardError {
    #[error("{first} is shard {a} but {second} is shard {b}: every shard of one collection has the same count")]
    Count { first: String, a: String, second: String, b: String },
    #[error("{first} and {second} are both shard {shard}; give each shard once")]
    Twice { first: String, second: String, shard: String },
    #[error("{origin} (shard {shard}) holds {what} {id}, which belongs to shard {owner}: was it collected with another --shard?")]
    Foreign { origin: String, shard: String, what: &'static str, id: String, owner: String },
}

/// Fold shard snapshots (origin, inventory) into one inventory: refuse mixed counts, a shard given
/// twice and scopes a shard does not own; then put in every listed scope that no shard
/// delivered, and shard 0's organization-wide data if shard 0 is missing, as gaps naming the
/// shard. Returns the merged inventory and one warning per missing shard.
pub fn merge(parts: Vec<(String, Inventory)>) -> Result<(Inventory, Vec<String>), ShardOrMergeError> {
    let mut seen: BTreeMap<u32, String> = BTreeMap::new();
    let mut count: Option<(Shard, String)> = None;
    let mut listed_aws: BTreeSet<String> = BTreeSet::new();
    let mut listed_azure: BTreeSet<(String, String)> = BTreeSet::new();
    let mut listed_gcp: BTreeSet<String> = BTreeSet::new();
    let mut datasets: BTreeSet<Dataset> = BTreeSet::new();
    let mut merged = Inventory::default();
    // Tenant id → the union of the shards' group members (each read its own subscriptions' groups).
    let mut members: BTreeMap<String, Collected<Vec<super::azure::GroupMembers>>> = BTreeMap::new();
    for (origin, mut part) in parts {
        let Some(info) = part.shard.take() else {
            merged.merge(part)?;
            continue;
        };
        let s = info.shard();
        match &count {
            Some((first, origin1)) if first.count != s.count => {
                return Err(ShardError::Count { first: origin1.clone(), a: first.label(), second: origin, b: s.label() }.into());
            }
            Some(_) => {}
            None => count = Some((s, origin.clone())),
        }
        if let Some(first) = seen.get(&s.index) {
            return Err(ShardError::Twice { first: first.clone(), second: origin, shard: s.label() }.into());
        }
        let foreign = |what: &'static str, cloud: Cloud, id: &str| {
            (!s.owns(cloud, id)).then(|| ShardError::Foreign {
                origin: origin.clone(),
                shard: s.label(),
                what,
                id: id.to_string(),
                owner: format!("{}/{}", Shard::owner(s.count, cloud, id), s.count),
            })
        };
        for a in &part.aws.accounts {
            if let Some(e) = foreign("AWS account", Cloud::Aws, &a.account_id) {
                return Err(e.into());
            }
        }
        for t in &part.azure.tenants {
            for x in &t.subscriptions {
                if let Some(e) = foreign("Azure subscription", Cloud::Azure, &x.subscription_id) {
                    return Err(e.into());
                }
            }
        }
        for p in &part.gcp.projects {
            if let Some(e) = foreign("GCP project", Cloud::Gcp, &p.project_id) {
                return Err(e.into());
            }
        }
        listed_aws.extend(info.aws_accounts.iter().cloned());
        for (tenant, subs) in &info.azure_subscriptions {
            listed_azure.extend(subs.iter().map(|x| (tenant.clone(), x.clone())));
        }
        listed_gcp.extend(info.gcp_projects.iter().cloned());
        datasets.extend(info.datasets.iter().copied());
        for t in &mut part.azure.tenants {
            let mine = std::mem::take(&mut t.group_members);
            let all = members.entry(t.tenant_id.clone()).or_default();
            unite(all, mine);
        }
        seen.insert(s.index, origin);
        merged.merge(part)?;
    }
    let Some((Shard { count: n, .. }, _)) = count else {
        return Ok((merged, Vec::new()));
    };
    for (tenant, m) in members {
        if let Some(t) = merged.azure.tenants.iter_mut().find(|t| t.tenant_id == tenant) {
            t.group_members.merge(m, &tenant, Dataset::AzureGroupMembers)?;
        }
    }
    let missing: Vec<u32> = (0..n).filter(|i| !seen.contains_key(i)).collect();
    let why = |owner: u32| -> String {
        if seen.contains_key(&owner) {
            format!("another shard listed this scope, but shard {owner}/{n}, which owns it, did not (the listing changed between the shards' runs): collect shard {owner}/{n} again")
        } else {
            format!("shard {owner}/{n} of the collection did not arrive (no snapshot of it was merged)")
        }
    };
    let mut per_shard: BTreeMap<u32, Vec<String>> = BTreeMap::new();

    for id in &listed_aws {
        if merged.aws.accounts.iter().any(|a| &a.account_id == id) {
            continue;
        }
        let owner = Shard::owner(n, Cloud::Aws, id);
        let gap: Collected<()> = Collected::Failed { error: why(owner) };
        merged.aws.accounts.push(AwsAccount::unread(id, &[], &gap, &datasets));
        per_shard.entry(owner).or_default().push(format!("AWS account {id}"));
    }
    merged.aws.accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    for (tenant, id) in &listed_azure {
        let t = match merged.azure.tenants.iter().position(|t| &t.tenant_id == tenant) {
            Some(i) => &mut merged.azure.tenants[i],
            None => {
                merged.azure.tenants.push(AzureTenant::new(tenant.clone()));
                merged.azure.tenants.last_mut().expect("just pushed")
            }
        };
        if t.subscriptions.iter().any(|x| &x.subscription_id == id) {
            continue;
        }
        let owner = Shard::owner(n, Cloud::Azure, id);
        let gap: Collected<()> = Collected::Failed { error: why(owner) };
        t.subscriptions.push(AzureSubscription::unread(id, &gap, &datasets));
        per_shard.entry(owner).or_default().push(format!("Azure subscription {id}"));
    }
    for id in &listed_gcp {
        if merged.gcp.projects.iter().any(|p| &p.project_id == id) {
            continue;
        }
        let owner = Shard::owner(n, Cloud::Gcp, id);
        let gap: Collected<()> = Collected::Failed { error: why(owner) };
        merged.gcp.projects.push(GcpProject::unread(id, &gap, &datasets));
        per_shard.entry(owner).or_default().push(format!("GCP project {id}"));
    }
    if !seen.contains_key(&0) {
        // Shard 0's organization-wide data is missing too.
        let gap: Collected<()> = Collected::Failed { error: why(0) };
        let want = |d: Dataset| datasets.contains(&d);
        if want(Dataset::AwsOrganization) && merged.aws.organization.is_not_requested() {
            merged.aws.organization = gap.gap();
        }
        for t in &mut merged.azure.tenants {
            t.fill_gaps(&gap, &datasets);
        }
        if want(Dataset::GcpHierarchy) && merged.gcp.hierarchy.is_not_requested() {
            merged.gcp.hierarchy = gap.gap();
        }
        per_shard.entry(0).or_default().push("the organization-wide data".into());
    }
    let mut warnings = Vec::new();
    for i in &missing {
        let what = per_shard.remove(i).unwrap_or_default();
        let listed = if what.is_empty() { "no scope any other shard listed".to_string() } else { summarize(&what) };
        warnings.push(format!("shard {i}/{n} did not arrive: {listed} reported as not evaluated"));
        merged.sources.push(format!("shard {i}/{n}: missing"));
    }
    for (i, what) in per_shard {
        warnings.push(format!("shard {i}/{n} did not collect {} that other shards listed: reported as not evaluated", summarize(&what)));
    }
    Ok((merged, warnings))
}

/// Add one shard's group members to the others': two reads make one list; a gap in any shard
/// makes the whole a gap (some role-holding group's members are unknown).
fn unite(all: &mut Collected<Vec<super::azure::GroupMembers>>, mine: Collected<Vec<super::azure::GroupMembers>>) {
    match (&mut *all, mine) {
        (_, Collected::NotRequested) => {}
        (Collected::Collected(v), Collected::Collected(more)) => {
            for g in more {
                if !v.iter().any(|x| x.group_id == g.group_id) {
                    v.push(g);
                }
            }
        }
        (Collected::NotRequested, other) => *all = other,
        (Collected::Collected(_), gap) => *all = gap,
        (_, _) => {} // already a gap: keep the first reason
    }
}

fn summarize(what: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = what.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if what.len() > SHOWN {
        s.push_str(&format!(" and {} more", what.len() - SHOWN));
    }
    s
}

#[derive(Debug, thiserror::Error)]
pub enum ShardOrMergeError {
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error(transparent)]
    Merge(#[from] super::MergeError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str) -> AwsAccount {
        let mut a = AwsAccount::new(id);
        a.account_summary = Collected::Collected(Default::default());
        a
    }

    /// Account ids and, for each of 4 shards, the ones it owns.
    fn split(n: u32, ids: &[String]) -> Vec<Vec<String>> {
        let mut out = vec![Vec::new(); n as usize];
        for id in ids {
            out[Shard::owner(n, Cloud::Aws, id) as usize].push(id.clone());
        }
        out
    }

    fn shard_snapshot(index: u32, n: u32, listed: &[String], own: &[String]) -> Inventory {
        let mut inv = Inventory::default();
        inv.aws.accounts = own.iter().map(|id| acct(id)).collect();
        if index == 0 {
            inv.aws.organization = Collected::Collected(None);
        }
        inv.shard = Some(ShardInfo {
            index,
            count: n,
            aws_accounts: listed.to_vec(),
            datasets: [Dataset::AwsOrganization, Dataset::AwsAccountSummary].into_iter().collect(),
            ..Default::default()
        });
        inv
    }

    #[test]
    fn parse_and_owner() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 0 / 1 "), Ok(Shard { index: 0, count: 1 }));
        for bad in ["4/4", "1", "a/4", "1/0", "-1/4", "1/99999", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let env = |vars: &'static [(&'static str, &'static str)]| move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string());
        assert_eq!(Shard::parse_with("auto/4", env(&[("JOB_COMPLETION_INDEX", "3")])), Ok(Shard { index: 3, count: 4 }));
        assert_eq!(Shard::parse_with("auto/8", env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "7")])), Ok(Shard { index: 7, count: 8 }));
        assert!(Shard::parse_with("auto/4", env(&[])).unwrap_err().contains("none is set"));
        assert!(Shard::parse_with("auto/4", env(&[("JOB_COMPLETION_INDEX", "1"), ("CLOUD_RUN_TASK_INDEX", "2")])).unwrap_err().contains("disagree"));
        assert!(Shard::parse_with("auto/4", env(&[("JOB_COMPLETION_INDEX", "4")])).is_err());
        // Stable across builds: these values are part of the snapshot contract.
        assert_eq!(Shard::owner(4, Cloud::Aws, "123456789012"), Shard::owner(4, Cloud::Aws, "123456789012"));
        assert_eq!(Shard::owner(1, Cloud::Gcp, "anything"), 0);
        // Spread: 400 account ids over 4 shards, none nearly empty.
        let ids: Vec<String> = (0..400u64).map(|i| format!("{:012}", 100_000_000_000 + i * 7919)).collect();
        for part in split(4, &ids) {
            assert!((70..=130).contains(&part.len()), "{}", part.len());
        }
    }

    #[test]
    fn all_shards_merge_to_the_whole_and_a_missing_one_is_named() {
        let ids: Vec<String> = (0..40u64).map(|i| format!("{:012}", 200_000_000_000 + i)).collect();
        let parts = split(4, &ids);
        let snaps: Vec<(String, Inventory)> =
            (0..4).map(|i| (format!("s{i}.json"), shard_snapshot(i, 4, &ids, &parts[i as usize]))).collect();
        let (whole, warnings) = merge(snaps.clone()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(whole.aws.accounts.len(), 40);
        assert!(whole.shard.is_none());
        assert!(whole.coverage().iter().all(|c| c.state.label() != "failed"));

        // Shard 2 missing: its accounts are there, failed, naming the shard.
        let without: Vec<_> = snaps.iter().filter(|(o, _)| o != "s2.json").cloned().collect();
        let (inv, warnings) = merge(without).unwrap();
        assert_eq!(inv.aws.accounts.len(), 40);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("shard 2/4 did not arrive"), "{warnings:?}");
        let failed: Vec<_> = inv.coverage().into_iter().filter(|c| c.state.label() == "failed").collect();
        assert_eq!(failed.len(), parts[2].len());
        for c in failed {
            assert!(parts[2].contains(&c.scope));
            assert!(format!("{:?}", c.state).contains("shard 2/4"), "{:?}", c.state);
        }

        // Shard 0 missing: the organization is a gap too.
        let without0: Vec<_> = snaps.iter().filter(|(o, _)| o != "s0.json").cloned().collect();
        let (inv, _) = merge(without0).unwrap();
        assert_eq!(inv.aws.organization.state().label(), "failed");
    }

    #[test]
    fn refuses_mixed_counts_duplicates_and_foreign_scopes() {
        let ids: Vec<String> = (0..12u64).map(|i| format!("{:012}", 300_000_000_000 + i)).collect();
        let parts = split(3, &ids);
        let a = ("a.json".to_string(), shard_snapshot(0, 3, &ids, &parts[0]));
        let b = ("b.json".to_string(), shard_snapshot(1, 3, &ids, &parts[1]));
        let e = merge(vec![a.clone(), a.clone()]).unwrap_err().to_string();
        assert!(e.contains("both shard 0/3"), "{e}");
        let mut four = shard_snapshot(1, 4, &ids, &[]);
        four.shard.as_mut().unwrap().index = 1;
        let e = merge(vec![a.clone(), ("c.json".into(), four)]).unwrap_err().to_string();
        assert!(e.contains("same count"), "{e}");
        let wrong = ("d.json".to_string(), shard_snapshot(2, 3, &ids, &parts[1]));
        let e = merge(vec![a, b, wrong]).unwrap_err().to_string();
        assert!(e.contains("belongs to shard 1/3"), "{e}");
    }

    #[test]
    fn a_scope_the_owner_did_not_list_is_a_gap() {
        // Shard 1 saw an account that shard 0 (its owner) did not: the listing changed.
        let ids: Vec<String> = (0..8u64).map(|i| format!("{:012}", 400_000_000_000 + i)).collect();
        let parts = split(2, &ids);
        let late = ids.iter().find(|id| Shard::owner(2, Cloud::Aws, id) == 0).unwrap().clone();
        let first_listing: Vec<String> = ids.iter().filter(|i| **i != late).cloned().collect();
        let own0: Vec<String> = parts[0].iter().filter(|i| **i != late).cloned().collect();
        let s0 = ("s0.json".to_string(), shard_snapshot(0, 2, &first_listing, &own0));
        let s1 = ("s1.json".to_string(), shard_snapshot(1, 2, &ids, &parts[1]));
        let (inv, warnings) = merge(vec![s0, s1]).unwrap();
        assert!(inv.aws.accounts.iter().any(|a| a.account_id == late && a.account_summary.state().label() == "failed"));
        assert!(warnings.iter().any(|w| w.contains(&late)), "{warnings:?}");
    }
}
