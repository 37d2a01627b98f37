//! AWS Organizations, read from the management account (or a delegated administrator): the tree
//! (root, OUs, accounts with their state) and every SCP with its content and targets. Calls grow
//! with the number of OUs and SCPs, not with accounts.

use aws_sdk_organizations::types::PolicyType;
use aws_sdk_organizations::Client;

use super::error::{Api, ApiError};
use crate::inventory::aws::{AwsOrganization, ServiceControlPolicy};
use crate::inventory::{ScopeKind, ScopeNode};
use crate::policy::PolicyDocument;

/// `Ok(None)`: the account is not in an organization.
pub async fn organization(client: &Client) -> Result<Option<AwsOrganization>, ApiError> {
    let described = match client.describe_organization().send().await.api("organizations:DescribeOrganization") {
        Ok(d) => d,
        Err(e) if e.is_code("AWSOrganizationsNotInUseException") => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(o) = described.organization() else {
        return Err(ApiError::failed("organizations:DescribeOrganization", "the answer has no Organization"));
    };
    let mut org = AwsOrganization {
        id: o.id().unwrap_or_default().to_string(),
        management_account_id: o.master_account_id().unwrap_or_default().to_string(),
        feature_set: o.feature_set().map(|f| f.as_str().to_string()),
        nodes: Vec::new(),
        scps: Vec::new(),
        index: Default::default(),
    };
    // Ids seen while the tree is read (`org.node` indexes once, so it waits until the end).
    let mut seen = std::collections::HashSet::new();

    // The tree, breadth first: each parent's OUs and accounts.
    let mut parents = Vec::new();
    let mut roots = client.list_roots().into_paginator().send();
    while let Some(page) = roots.next().await {
        for r in page.api("organizations:ListRoots")?.roots() {
            let id = r.id().unwrap_or_default().to_string();
            org.nodes.push(ScopeNode { id: id.clone(), name: r.name().map(str::to_string), kind: ScopeKind::AwsOrganizationRoot, parent: None, state: None });
            parents.push(id);
        }
    }
    while let Some(parent) = parents.pop() {
        let mut ous = client.list_organizational_units_for_parent().parent_id(&parent).into_paginator().send();
        while let Some(page) = ous.next().await {
            for ou in page.api("organizations:ListOrganizationalUnitsForParent")?.organizational_units() {
                let id = ou.id().unwrap_or_default().to_string();
                if !seen.insert(id.clone()) {
                    continue; // a cycle in a broken answer must not loop forever
                }
                org.nodes.push(ScopeNode { id: id.clone(), name: ou.name().map(str::to_string), kind: ScopeKind::AwsOrganizationalUnit, parent: Some(parent.clone()), state: None });
                parents.push(id);
            }
        }
        let mut accts = client.list_accounts_for_parent().parent_id(&parent).into_paginator().send();
        while let Some(page) = accts.next().await {
            for a in page.api("organizations:ListAccountsForParent")?.accounts() {
                #[allow(deprecated)]
                let state = a.state().map(|s| s.as_str().to_string()).or_else(|| a.status().map(|s| s.as_str().to_string()));
                org.nodes.push(ScopeNode {
                    id: a.id().unwrap_or_default().to_string(),
                    name: a.name().map(str::to_string),
                    kind: ScopeKind::AwsAccount,
                    parent: Some(parent.clone()),
                    state,
                });
            }
        }
    }

    // SCPs: content and targets.
    let mut summaries = Vec::new();
    let mut pols = client.list_policies().filter(PolicyType::ServiceControlPolicy).into_paginator().send();
    while let Some(page) = pols.next().await {
        summaries.extend(page.api("organizations:ListPolicies")?.policies().iter().cloned());
    }
    for s in summaries {
        let Some(id) = s.id() else { continue };
        let d = client.describe_policy().policy_id(id).send().await.api("organizations:DescribePolicy")?;
        let content = d.policy().and_then(|p| p.content()).unwrap_or("{}");
        let name = s.name().unwrap_or(id).to_string();
        let document = PolicyDocument::parse_str(content)
            .map_err(|e| ApiError::failed("organizations:DescribePolicy", format!("SCP {name} ({id}): {e}")))?;
        let mut targets = Vec::new();
        let mut t = client.list_targets_for_policy().policy_id(id).into_paginator().send();
        while let Some(page) = t.next().await {
            targets.extend(page.api("organizations:ListTargetsForPolicy")?.targets().iter().filter_map(|t| t.target_id().map(str::to_string)));
        }
        org.scps.push(ServiceControlPolicy {
            id: id.to_string(),
            name,
            arn: s.arn().unwrap_or_default().to_string(),
            aws_managed: s.aws_managed(),
            document,
            targets,
        });
    }
    Ok(Some(org))
}
