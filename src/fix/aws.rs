//! AWS fixes: Service Control Policies for the failing guardrail findings.
//!
//! Each failing finding of a check whose metadata names SCP templates asks for those guardrails
//! where it failed. A guardrail goes to the organization root when every member account needs it,
//! else to the accounts that do. Guardrails with the same targets are merged into as few SCPs as
//! fit AWS's 5,120-character limit (minified); one that cannot fit alone is an error, never cut.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::{info, render_json, render_sh, Artifact, Asked, FixError, FixOptions, FixSet};
use crate::engine::Scan;
use crate::inventory::aws::AwsOrganization;
use crate::inventory::{Cloud, Collected, Inventory, ScopeKind};
use crate::report::markdown::escape;

/// AWS Organizations' limit for an SCP document, in characters.
pub const SCP_LIMIT: usize = 5_120;

/// One guardrail, rendered.
struct Guardrail {
    template: String,
    statements: Vec<Value>,
    need: Asked,
}

/// The length AWS counts: the minified document's characters.
pub fn minified_len(doc: &Value) -> usize {
    serde_json::to_string(doc).map_or(usize::MAX, |s| s.chars().count())
}

fn document(statements: &[Value]) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Pack guardrails (each a list of statements, kept together) into as few documents as fit
/// `limit`: first fit, largest first. `Err` names a guardrail too large on its own.
fn pack(guardrails: Vec<Guardrail>, limit: usize) -> Result<Vec<Vec<Guardrail>>, FixError> {
    let mut sized: Vec<(usize, Guardrail)> = guardrails.into_iter().map(|g| (minified_len(&document(&g.statements)), g)).collect();
    sized.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.template.cmp(&b.1.template)));
    let mut bins: Vec<Vec<Guardrail>> = Vec::new();
    for (size, g) in sized {
        if size > limit {
            return Err(FixError::Template { name: g.template, message: format!("renders an SCP of {size} characters, over the {limit} limit on its own") });
        }
        let fits = |bin: &Vec<Guardrail>| {
            let mut st: Vec<Value> = bin.iter().flat_map(|x| x.statements.iter().cloned()).collect();
            st.extend(g.statements.iter().cloned());
            minified_len(&document(&st)) <= limit
        };
        match bins.iter().position(fits) {
            Some(i) => bins[i].push(g),
            None => bins.push(vec![g]),
        }
    }
    Ok(bins)
}

/// Member accounts SCPs apply to: every account of the organization but the management account,
/// suspended ones excepted.
fn members(org: &AwsOrganization) -> Vec<(&str, Option<&str>)> {
    org.nodes
        .iter()
        .filter(|n| n.kind == ScopeKind::AwsAccount && n.id != org.management_account_id && !n.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("SUSPENDED")))
        .map(|n| (n.id.as_str(), n.name.as_deref()))
        .collect()
}

fn root_id(org: &AwsOrganization) -> Option<&str> {
    org.nodes.iter().find(|n| n.kind == ScopeKind::AwsOrganizationRoot).map(|n| n.id.as_str())
}

/// The fewest targets that cover exactly the `failing` accounts: every OU whose member accounts
/// all fail (the highest such OU), then the failing accounts no chosen OU holds.
fn cover(org: &AwsOrganization, failing: &BTreeSet<&str>, members: &BTreeSet<&str>) -> Vec<String> {
    let mut under: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for m in members {
        for n in org.ancestry(m).iter().skip(1).filter(|n| n.kind == ScopeKind::AwsOrganizationalUnit) {
            under.entry(n.id.as_str()).or_default().insert(m);
        }
    }
    // OUs entirely failing; keep those with no entirely-failing OU above them.
    let full: BTreeSet<&str> = under.iter().filter(|(_, accts)| accts.iter().all(|a| failing.contains(a))).map(|(ou, _)| *ou).collect();
    let top: Vec<&str> = full.iter().copied().filter(|ou| !org.ancestry(ou).iter().skip(1).any(|p| full.contains(p.id.as_str()))).collect();
    let covered: BTreeSet<&str> = top.iter().flat_map(|ou| under[ou].iter().copied()).collect();
    let mut out: Vec<String> = top.iter().map(|s| s.to_string()).collect();
    out.extend(failing.iter().filter(|a| !covered.contains(*a)).map(|s| s.to_string()));
    out
}

/// An id safe to put on a command line as it is (root, OU or account id).
fn is_target_id(id: &str) -> bool {
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())) || ((id.starts_with("r-") || id.starts_with("ou-")) && ok(id) && id.len() <= 68)
}

/// The partition the organization lives in (`aws`, `aws-us-gov`, `aws-cn`), from its policies' ARNs.
fn partition(org: Option<&AwsOrganization>) -> String {
    org.and_then(|o| o.scps.iter().find_map(|p| p.arn.split(':').nth(1).map(str::to_string)))
        .filter(|p| p.starts_with("aws") && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        .unwrap_or_else(|| "aws".to_string())
}

pub(crate) fn plan(scan: &Scan, inv: &Inventory, opts: &FixOptions, set: &mut FixSet) -> Result<(), FixError> {
    let org = match &inv.aws.organization {
        Collected::Collected(Some(o)) => Some(o),
        _ => None,
    };
    let before = set.artifacts.len();
    let mut body = scps(scan, inv, opts, set)?;
    body.push_str(&trust(scan, inv, org, set)?);
    body.push_str(&containment(scan, set)?);
    if set.artifacts.len() > before {
        let mut readme = readme_head(scan, org, &opts.break_glass_roles, &opts.access_key_admin_roles);
        readme.push_str(&body);
        set.readmes.insert("aws".into(), readme);
    }
    Ok(())
}

/// The guardrail SCPs; returns their README sections.
fn scps(scan: &Scan, inv: &Inventory, opts: &FixOptions, set: &mut FixSet) -> Result<String, FixError> {
    let mut needs: BTreeMap<String, Asked> = BTreeMap::new();
    for (f, _, template) in super::failing_with_templates(scan, Cloud::Aws).into_iter().filter(|(_, _, t)| t.starts_with("aws/scp_")) {
        needs.entry(template).or_default().record(f);
    }
    if needs.is_empty() {
        return Ok(String::new());
    }
    let org = match &inv.aws.organization {
        Collected::Collected(Some(o)) => Some(o),
        _ => None,
    };
    let p = partition(org);
    let exempt: Vec<String> = opts.break_glass_roles.iter().map(|r| format!("arn:{p}:iam::*:role/{r}")).collect();
    let key_admins: Vec<String> = opts.access_key_admin_roles.iter().map(|r| format!("arn:{p}:iam::*:role/{r}")).chain(exempt.iter().cloned()).collect();
    // Exemptions by role name are only as strong as the names: nobody else may create or change
    // those roles, wherever a guardrail exempts them.
    if !exempt.is_empty() {
        let scopes = needs.values().flat_map(|n| n.scopes.iter().cloned()).collect();
        needs.insert("aws/scp_protect_break_glass_roles".into(), Asked { scopes, ..Asked::default() });
    }
    let ctx = minijinja::context! { exempt => exempt.clone(), key_admins => key_admins.clone() };
    let all_members: Vec<(&str, Option<&str>)> = org.map(members).unwrap_or_default();
    let member_ids: BTreeSet<&str> = all_members.iter().map(|(id, _)| *id).collect();

    // Targets per guardrail, then guardrails grouped by their targets.
    let mut by_target: BTreeMap<Vec<String>, Vec<Guardrail>> = BTreeMap::new();
    for (template, need) in needs {
        let statements = match render_json(&template, ctx.clone())? {
            Value::Array(v) => v,
            _ => return Err(FixError::Template { name: template, message: "must render a list of statements".into() }),
        };
        let failing: BTreeSet<&str> = need.scopes.iter().map(String::as_str).filter(|a| member_ids.contains(a)).collect();
        let targets: Vec<String> = match org.and_then(root_id) {
            Some(root) if failing.is_empty() || failing.len() == member_ids.len() => vec![root.to_string()],
            Some(_) => org.map(|o| cover(o, &failing, &member_ids)).unwrap_or_default(),
            None => Vec::new(),
        };
        by_target.entry(targets).or_default().push(Guardrail { template, statements, need });
    }

    let mut readme = String::new();
    for (targets, guardrails) in by_target {
        let slug = match targets.as_slice() {
            [] => "no-organization".to_string(),
            [one] if one.starts_with("r-") => "root".to_string(),
            [one] if one.starts_with("ou-") => one.clone(),
            [one] => format!("account-{one}"),
            many => {
                use sha2::{Digest, Sha256};
                let h = Sha256::digest(many.join(",").as_bytes());
                format!("{}-accounts-{}", many.len(), h[..4].iter().map(|b| format!("{b:02x}")).collect::<String>())
            }
        };
        for (i, bin) in pack(guardrails, SCP_LIMIT)?.into_iter().enumerate() {
            let name = format!("portcullis-guardrails-{slug}-{}", i + 1);
            let statements: Vec<Value> = bin.iter().flat_map(|g| g.statements.iter().cloned()).collect();
            let doc = document(&statements);
            let size = minified_len(&doc);
            let path = format!("aws/scp/{name}.json");
            readme.push_str(&readme_section(&name, &path, &targets, &bin, size, org, &all_members)?);
            set.artifacts.push(Artifact {
                path,
                cloud: Cloud::Aws,
                kind: "scp",
                title: format!("SCP {name}"),
                templates: bin.iter().map(|g| g.template.clone()).collect(),
                targets: targets.clone(),
                findings: bin.iter().flat_map(|g| g.need.findings.iter().cloned()).collect(),
                content: serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
            });
        }
    }
    Ok(readme)
}

fn readme_head(scan: &Scan, org: Option<&AwsOrganization>, break_glass: &[String], key_admins: &[String]) -> String {
    let mut s = format!(
        "# AWS fixes: Service Control Policies, trust policies, containment\n\nWritten by Portcullis {} from the scan of {}. **Nothing here has been applied**: review each policy, \
         then apply it as shown. Each SCP is kept under AWS's 5,120-character limit (minified; apply it minified, as the commands below do).\n\n",
        env!("CARGO_PKG_VERSION"),
        scan.now
    );
    match org {
        Some(o) => s.push_str(&format!(
            "Organization `{}`, management account `{}` (SCPs never restrict the management account: fix findings there by hand).\n\n",
            escape(&o.id),
            escape(&o.management_account_id)
        )),
        None => s.push_str(
            "**No organization was read** (a standalone account, or a scan without `--aws-org`): an SCP can only be attached from an organization's \
             management account. The policies below say where they would go once the account is in one.\n\n",
        ),
    }
    if break_glass.is_empty() {
        s.push_str(
            "**No break-glass role is exempted.** Set `[fixes] break_glass_roles = [\"BreakGlass\"]` in portcullis.toml to exempt the role you keep \
             for emergencies; without one, the audit-trail and Access Analyzer guardrails bind everyone in the target accounts.\n\n",
        );
    } else {
        s.push_str(&format!(
            "Exempted break-glass roles (from `[fixes] break_glass_roles`), in every target account: {}. A further statement stops anyone else from \
             creating or changing roles with those names.\n\n",
            break_glass.iter().map(|r| format!("`{}`", escape(r))).collect::<Vec<_>>().join(", ")
        ));
    }
    if !key_admins.is_empty() {
        s.push_str(&format!(
            "Roles that may create access keys (from `[fixes] access_key_admin_roles`): {}.\n\n",
            key_admins.iter().map(|r| format!("`{}`", escape(r))).collect::<Vec<_>>().join(", ")
        ));
    }
    s
}

fn readme_section(
    name: &str,
    path: &str,
    targets: &[String],
    bin: &[Guardrail],
    size: usize,
    org: Option<&AwsOrganization>,
    members: &[(&str, Option<&str>)],
) -> Result<String, FixError> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut s = format!("## `{file}`\n\n");
    let label = |id: &str| {
        let n = members.iter().find(|(m, _)| *m == id).and_then(|(_, n)| *n);
        match n {
            Some(n) => format!("`{}` ({})", escape(id), escape(n)),
            None => format!("`{}`", escape(id)),
        }
    };
    let affected: Vec<&str> = match targets {
        [one] if one.starts_with("r-") => members.iter().map(|(id, _)| *id).collect(),
        t => members
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| t.iter().any(|x| x == id || org.is_some_and(|o| o.ancestry(id).iter().any(|n| &n.id == x))))
            .collect(),
    };
    let ou_label = |id: &str| match org.and_then(|o| o.node(id)).and_then(|n| n.name.as_deref()) {
        Some(n) if id.starts_with("ou-") => format!("OU `{}` ({})", escape(id), escape(n)),
        _ => label(id),
    };
    match targets {
        [] => s.push_str("**Attach to:** the root or OU above the scanned account, once it is in an organization.\n\n"),
        [one] if one.starts_with("r-") => s.push_str(&format!(
            "**Attach to:** the organization root `{}`. **Affects** all {} member account(s){}.\n\n",
            escape(one),
            affected.len(),
            if affected.len() <= 20 { format!(": {}", affected.iter().map(|a| label(a)).collect::<Vec<_>>().join(", ")) } else { String::new() }
        )),
        t => s.push_str(&format!(
            "**Attach to** {} ({} target(s): the OUs whose accounts all ask for it, and the other accounts that do). **Affects** {} account(s): {}.\n\n",
            t.iter().map(|a| ou_label(a)).collect::<Vec<_>>().join(", "),
            t.len(),
            affected.len(),
            affected.iter().map(|a| label(a)).collect::<Vec<_>>().join(", ")
        )),
    }
    s.push_str("It contains:\n\n");
    for g in bin {
        let i = info(&g.template)?;
        let short = g.template.trim_start_matches("aws/");
        s.push_str(&format!("- **{}** (`{short}`). Prevents: {} Would affect: {}", i.title, i.prevents, i.affects));
        if g.need.checks.is_empty() {
            s.push_str(" Added because break-glass roles are exempted.\n");
        } else {
            s.push_str(&format!(
                " Addresses {} failing finding(s) of {}.\n",
                g.need.findings.len(),
                g.need.checks.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    s.push_str(&format!("\nSize: {size} of {SCP_LIMIT} characters, minified.\n\n"));
    if targets.iter().all(|t| is_target_id(t)) && org.is_some() && !targets.is_empty() {
        s.push_str("Apply (from the management account or the delegated SCP administrator):\n\n```sh\n");
        s.push_str(&format!(
            "policy_id=$(aws organizations create-policy --type SERVICE_CONTROL_POLICY --name {name} \\\n  --description 'Portcullis guardrails' --content \"$(jq -c . {file})\" \\\n  --query Policy.PolicySummary.Id --output text)\n"
        ));
        for t in targets {
            s.push_str(&format!("aws organizations attach-policy --policy-id \"$policy_id\" --target-id {t}\n"));
        }
        s.push_str("```\n\nRoll back:\n\n```sh\n");
        for t in targets {
            s.push_str(&format!("aws organizations detach-policy --policy-id \"$policy_id\" --target-id {t}\n"));
        }
        s.push_str("aws organizations delete-policy --policy-id \"$policy_id\"\n```\n\n");
        s.push_str(
            "A target holds at most 5 SCPs (FullAWSAccess, or the allow policy you use, must stay attached); try the policy on a test OU first.\n\n",
        );
    }
    Ok(s)
}

/// A file name from a role name: what IAM allows, anything else replaced.
fn file_name(s: &str) -> String {
    let n: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) { c } else { '_' }).collect();
    if n.is_empty() || n.chars().all(|c| c == '.') {
        "_".to_string()
    } else {
        n
    }
}

/// The conditions that narrow an open trust statement, per check.
fn narrowing(check: &str, grant: &Value, org: Option<&AwsOrganization>, account: &str) -> Option<(String, Value)> {
    match check {
        "aws_iam_role_trust_not_public" => Some(match org {
            Some(o) => ("aws:PrincipalOrgID".into(), json!(o.id)),
            None => ("aws:PrincipalAccount".into(), json!(account)),
        }),
        "aws_iam_role_cross_account_trust_restricted" => {
            let partner = grant["trustee"]["account"].as_str().unwrap_or("the partner");
            Some(("sts:ExternalId".into(), json!(format!("REPLACE-with-the-ExternalId-agreed-with-{partner}"))))
        }
        "aws_iam_role_oidc_trust_subject_restricted" => {
            let issuer = grant["trustee"]["issuer"].as_str()?;
            let value = if issuer == "token.actions.githubusercontent.com" { "repo:REPLACE-OWNER/REPLACE-REPO:ref:refs/heads/main" } else { "REPLACE-with-the-allowed-subject" };
            Some((format!("{issuer}:sub"), json!(value)))
        }
        _ => None,
    }
}

/// Replacement trust policies for the roles whose trust findings fail.
fn trust(scan: &Scan, inv: &Inventory, org: Option<&AwsOrganization>, set: &mut FixSet) -> Result<String, FixError> {
    use crate::finding::EvidenceValue;
    // (account, role name) → (role ARN, statement index → conditions to add, findings, checks)
    type Fixes = (String, BTreeMap<usize, Vec<(String, Value)>>, Vec<String>, BTreeSet<&'static str>);
    let mut roles: BTreeMap<(String, String), Fixes> = BTreeMap::new();
    let wanted = super::failing_with_templates(scan, Cloud::Aws).into_iter().filter(|(f, _, t)| t == "aws/trust_policy_narrowed" && f.resource.kind == "aws_iam_role");
    for (f, _, _) in wanted {
        let Some(EvidenceValue::Json(grants)) = f.evidence.0.iter().find(|(k, _)| *k == "grants").map(|(_, v)| v) else { continue };
        let e = roles.entry((f.account.to_string(), f.resource.name.to_string())).or_insert_with(|| (f.resource.id.to_string(), BTreeMap::new(), Vec::new(), BTreeSet::new()));
        for g in grants.as_array().into_iter().flatten() {
            let (Some(i), Some(n)) = (g["statement"].as_u64(), narrowing(f.check_id, g, org, f.account)) else { continue };
            let list = e.1.entry(usize::try_from(i).unwrap_or(usize::MAX)).or_default();
            if !list.iter().any(|(k, _)| *k == n.0) {
                list.push(n);
            }
        }
        e.2.push(f.fingerprint());
        e.3.insert(f.check_id);
    }
    if roles.is_empty() {
        return Ok(String::new());
    }
    let i = info("aws/trust_policy_narrowed")?;
    let mut readme = format!("## Trust policies

**{}**. Prevents: {} Would affect: {}

", i.title, i.prevents, i.affects);
    for ((account, role), (arn, statements, findings, checks)) in roles {
        let Some(acct) = inv.aws.accounts.iter().find(|a| a.account_id == account) else { continue };
        let Ok(all) = acct.authorization_details.require(crate::inventory::Dataset::AwsAuthorizationDetails) else { continue };
        let Some(r) = all.roles.iter().find(|r| r.name == role) else { continue };
        let Some(doc) = &r.trust_policy else { continue };
        let mut v = serde_json::to_value(doc).unwrap_or(Value::Null);
        for (idx, conds) in &statements {
            let Some(st) = v["Statement"].get_mut(*idx) else { continue };
            if !st["Condition"].is_object() {
                st["Condition"] = json!({});
            }
            if !st["Condition"]["StringEquals"].is_object() {
                st["Condition"]["StringEquals"] = json!({});
            }
            for (k, val) in conds {
                st["Condition"]["StringEquals"][k] = val.clone();
            }
        }
        let rendered = render_json("aws/trust_policy_narrowed", minijinja::context! { document => minijinja::value::Serde(&v) })?;
        let path = format!("aws/trust/{}/{}.json", file_name(&account), file_name(&role));
        let file = path.trim_start_matches("aws/");
        let placeholders = rendered.to_string().contains("REPLACE");
        readme.push_str(&format!(
            "### `{file}`\n\nRole `{}` in account `{}` ({}). Narrows statement(s) {} with {}.{}\n\n```sh\n\
             aws iam get-role --role-name {q} --query Role.AssumeRolePolicyDocument > {q_before}\n\
             aws iam update-assume-role-policy --role-name {q} --policy-document file://{file}\n```\n\n\
             Roll back: `aws iam update-assume-role-policy --role-name {q} --policy-document file://{q_before}`. Run both in account `{}`.\n\n",
            escape(&role),
            escape(&account),
            checks.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
            statements.keys().map(|k| k.to_string()).collect::<Vec<_>>().join(", "),
            statements.values().flatten().map(|(k, _)| format!("`{}`", escape(k))).collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", "),
            if placeholders { " **Set the values marked REPLACE before applying.**" } else { "" },
            escape(&account),
            q = super::shell_quote(&role),
            q_before = super::shell_quote(&format!("{}-trust-before.json", file_name(&role))),
        ));
        set.artifacts.push(Artifact {
            path,
            cloud: Cloud::Aws,
            kind: "trust_policy",
            title: format!("Trust policy for {role}"),
            templates: vec!["aws/trust_policy_narrowed".into()],
            targets: vec![arn],
            findings,
            content: serde_json::to_string_pretty(&rendered).unwrap_or_default() + "\n",
        });
    }
    Ok(readme)
}

/// Containment commands for the principals named by failing credential findings, commented out.
fn containment(scan: &Scan, set: &mut FixSet) -> Result<String, FixError> {
    // (account, name, is a role) → (finding fingerprints, messages)
    type Named = BTreeMap<(String, String, bool), (Vec<String>, BTreeSet<String>)>;
    let mut principals: Named = BTreeMap::new();
    for (f, _, _) in super::failing_with_templates(scan, Cloud::Aws).into_iter().filter(|(_, _, t)| t == "aws/containment_principals") {
        let role = match f.resource.kind {
            "aws_iam_user" => false,
            "aws_iam_role" => true,
            _ => continue,
        };
        let e = principals.entry((f.account.to_string(), f.resource.name.to_string(), role)).or_default();
        e.0.push(f.fingerprint());
        e.1.insert(f.message.clone());
    }
    if principals.is_empty() {
        return Ok(String::new());
    }
    let list: Vec<minijinja::Value> = principals
        .iter()
        .map(|((account, name, role), (_, why))| minijinja::context! { account => account, name => name, role => *role, why => why.iter().cloned().collect::<Vec<_>>().join("; ") })
        .collect();
    let script = render_sh("aws/containment_principals", minijinja::context! { principals => list })?;
    let i = info("aws/containment_principals")?;
    set.artifacts.push(Artifact {
        path: "aws/containment/contain-principals.sh".into(),
        cloud: Cloud::Aws,
        kind: "commands",
        title: "Containment commands".into(),
        templates: vec!["aws/containment_principals".into()],
        targets: principals.keys().map(|(a, n, r)| format!("arn:aws:iam::{a}:{}/{n}", if *r { "role" } else { "user" })).collect(),
        findings: principals.values().flat_map(|(f, _)| f.iter().cloned()).collect(),
        content: script,
    });
    Ok(format!(
        "## Containment: `containment/contain-principals.sh`\n\n**{}**. Prevents: {} Would affect: {} It lists {} principal(s) from the failing findings, every call commented out: \
         uncomment those you have decided are compromised.\n\n",
        i.title,
        i.prevents,
        i.affects,
        principals.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(name: &str, actions: usize) -> Guardrail {
        let st = json!({"Sid": name, "Effect": "Deny", "Action": (0..actions).map(|i| format!("iam:Action{i:04}")).collect::<Vec<_>>(), "Resource": "*"});
        Guardrail { template: name.into(), statements: vec![st], need: Asked::default() }
    }

    #[test]
    fn packs_into_as_few_policies_as_fit_and_never_cuts() {
        // Each guardrail about 2,100 characters: two fit in 5,120, three do not.
        let bins = pack(vec![g("A", 100), g("B", 100), g("C", 100)], SCP_LIMIT).unwrap();
        assert_eq!(bins.len(), 2);
        for b in &bins {
            let st: Vec<Value> = b.iter().flat_map(|x| x.statements.clone()).collect();
            assert!(minified_len(&document(&st)) <= SCP_LIMIT);
        }
        assert_eq!(bins.iter().map(Vec::len).sum::<usize>(), 3, "nothing dropped");
        let small = pack(vec![g("A", 3), g("B", 3), g("C", 3)], SCP_LIMIT).unwrap();
        assert_eq!(small.len(), 1);
        let too_big = pack(vec![g("Huge", 400)], SCP_LIMIT);
        assert!(matches!(too_big, Err(FixError::Template { .. })));
    }

    #[test]
    fn targets_are_the_highest_fully_failing_ous_then_single_accounts() {
        use crate::inventory::ScopeNode;
        let node = |id: &str, kind, parent: Option<&str>| ScopeNode { id: id.into(), name: None, kind, parent: parent.map(str::to_string), state: None };
        let org = AwsOrganization {
            id: "o-abcdefghij".into(),
            management_account_id: "999999999999".into(),
            feature_set: None,
            nodes: vec![
                node("r-root", ScopeKind::AwsOrganizationRoot, None),
                node("ou-work", ScopeKind::AwsOrganizationalUnit, Some("r-root")),
                node("ou-prod", ScopeKind::AwsOrganizationalUnit, Some("ou-work")),
                node("ou-dev", ScopeKind::AwsOrganizationalUnit, Some("ou-work")),
                node("111111111111", ScopeKind::AwsAccount, Some("ou-prod")),
                node("222222222222", ScopeKind::AwsAccount, Some("ou-prod")),
                node("333333333333", ScopeKind::AwsAccount, Some("ou-dev")),
                node("444444444444", ScopeKind::AwsAccount, Some("r-root")),
                node("999999999999", ScopeKind::AwsAccount, Some("r-root")),
            ],
            scps: Vec::new(),
            index: Default::default(),
        };
        let members: BTreeSet<&str> = ["111111111111", "222222222222", "333333333333", "444444444444"].into();
        let f = |ids: &[&'static str]| cover(&org, &ids.iter().copied().collect(), &members);
        assert_eq!(f(&["111111111111", "222222222222"]), vec!["ou-prod"]);
        assert_eq!(f(&["111111111111", "222222222222", "333333333333"]), vec!["ou-work"]);
        assert_eq!(f(&["111111111111", "444444444444"]), vec!["111111111111", "444444444444"]);
        assert_eq!(f(&["111111111111", "222222222222", "444444444444"]), vec!["ou-prod", "444444444444"]);
    }

    #[test]
    fn target_ids_are_checked_before_they_reach_a_command() {
        assert!(is_target_id("r-ab12") && is_target_id("ou-ab12-cdef3456") && is_target_id("111122223333"));
        assert!(!is_target_id("r-ab12; rm -rf /") && !is_target_id("$(id)") && !is_target_id("11112222333"));
    }
}
