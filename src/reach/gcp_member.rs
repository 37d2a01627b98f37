//! Who a GCP allow-policy member is, and whether it is proven inside the scanned organization.
//!
//! Every member kind an allow policy can name is parsed here, once, for every check that asks
//! "is this principal ours?" (impersonation, domain membership, public access, escalation):
//!
//! - `user:`, `group:`, `domain:`, `principal://goog/subject/`, `principalSet://goog/group/`: by
//!   the e-mail's domain, which must be the organization's domain, one of `[trust] gcp_domains`, or
//!   a subdomain of one (`eng.example.com` under `example.com`; `example.com.evil.io` is not).
//! - `principalSet://goog/cloudIdentityCustomerId/C…`: the organization's own customer id.
//! - `serviceAccount:`: a user-managed account (`NAME@PROJECT_ID.iam.gserviceaccount.com`) only
//!   when its project was read in this scan or listed in the organization's hierarchy (or is in
//!   `[trust] gcp_projects`); a Google-managed account only by its documented form and a project
//!   *number* read or listed in this scan: service agents
//!   (`service-NUMBER@<documented agent domain>`, [`SERVICE_AGENT_DOMAINS`]), the Compute Engine
//!   default account (`NUMBER-compute@developer.gserviceaccount.com`), the Google APIs service
//!   agent (`NUMBER@cloudservices.gserviceaccount.com`), the legacy Cloud Build account
//!   (`NUMBER@cloudbuild.gserviceaccount.com`), the App Engine default account
//!   (`PROJECT_ID@appspot.gserviceaccount.com`). Any other `gcp-sa-…` address is an ordinary
//!   account of a project the scan did not read, so it is outside.
//! - Workload and workforce identity pools (`principal://iam.googleapis.com/…`,
//!   `principalSet://iam.googleapis.com/…`): who may use a pool is decided by its providers
//!   (issuer, attribute mapping and condition), which this scan does not read, so a pool of a
//!   project the scan read is *unknown* (naming what to read), and a pool of any other project is
//!   outside. The GKE pool of a project read (`PROJECT_ID.svc.id.goog`) holds that project's
//!   Kubernetes service accounts, and is inside.
//! - `principalSet://cloudresourcemanager.googleapis.com/{projects,folders,organizations}/X/type/ServiceAccount`:
//!   the service accounts of a resource, inside when that resource was read.
//! - `allUsers`, `allAuthenticatedUsers`, `principalSet://goog/public:all`: public.
//! - `deleted:…` is judged as the member it was: restored, it holds its roles again, and whoever
//!   controls it (an outsider's own account) can restore it. Any kind this module does not know is
//!   outside.

use std::collections::HashSet;

use crate::inventory::gcp::GcpInventory;
use crate::inventory::ScopeKind;

/// Domains under `iam.gserviceaccount.com` where Google documents service agents
/// (`service-PROJECT_NUMBER@…`), besides every `gcp-sa-*` one (Google Cloud's "Service agents"
/// reference page).
pub const SERVICE_AGENT_DOMAINS: &[&str] = &[
    "compute-system.iam.gserviceaccount.com",
    "container-engine-robot.iam.gserviceaccount.com",
    "containerregistry.iam.gserviceaccount.com",
    "dataflow-service-producer-prod.iam.gserviceaccount.com",
    "serverless-robot-prod.iam.gserviceaccount.com",
    "gcf-admin-robot.iam.gserviceaccount.com",
    "cloudcomposer-accounts.iam.gserviceaccount.com",
    "dataproc-accounts.iam.gserviceaccount.com",
    "cloud-ml.google.com.iam.gserviceaccount.com",
    "gae-api-prod.google.com.iam.gserviceaccount.com",
    "genomics-api.google.com.iam.gserviceaccount.com",
    "cloud-tpu.iam.gserviceaccount.com",
    "cloud-redis.iam.gserviceaccount.com",
    "cloud-filer.iam.gserviceaccount.com",
    "firebase-rules.iam.gserviceaccount.com",
    "sourcerepo-service-accounts.iam.gserviceaccount.com",
    "gs-project-accounts.iam.gserviceaccount.com",
];

/// Is the member anyone at all?
pub fn is_public(member: &str) -> bool {
    let m = member.trim();
    m.eq_ignore_ascii_case("allUsers") || m.eq_ignore_ascii_case("allAuthenticatedUsers") || m.eq_ignore_ascii_case("principalSet://goog/public:all")
}

/// A member that no longer exists (`deleted:user:…?uid=…`): it holds nothing.
pub fn is_deleted(member: &str) -> bool {
    kind_and_rest(member).is_some_and(|(k, _)| k == "deleted")
}

/// The answer for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inside {
    /// Proven inside, and why.
    Yes(String),
    /// Outside (or not proven inside), and why.
    No(String),
    /// Cannot tell from what was read: what to read to decide.
    Unknown(String),
}

impl Inside {
    pub fn is_inside(&self) -> bool {
        matches!(self, Inside::Yes(_))
    }
}

/// What the scan proved is ours.
#[derive(Debug, Clone, Default)]
pub struct Insiders {
    domains: Vec<String>,
    customer_id: Option<String>,
    organization: Option<String>,
    project_ids: HashSet<String>,
    project_numbers: HashSet<String>,
    folders: HashSet<String>,
}

impl Insiders {
    /// From the inventory (the organization's domain and customer id, the projects and folders
    /// read) and the configuration's trusted domains.
    pub fn new(inv: &GcpInventory, trusted_domains: &[String]) -> Self {
        Self::with_projects(inv, trusted_domains, &[])
    }

    /// [`Insiders::new`], plus the project ids `[trust] gcp_projects` names: their user-managed
    /// service accounts are inside (their Google-managed accounts need the project number, which
    /// only a read gives).
    pub fn from_settings(inv: &GcpInventory, trusted: &crate::settings::Trusted) -> Self {
        Self::with_projects(inv, &trusted.gcp_domains, &trusted.gcp_projects)
    }

    fn with_projects(inv: &GcpInventory, trusted_domains: &[String], trusted_projects: &[String]) -> Self {
        let mut domains: Vec<String> = trusted_domains.iter().map(|d| norm_domain(d)).filter(|d| !d.is_empty()).collect();
        domains.extend(inv.organization.as_ref().and_then(|o| o.domain.as_deref()).map(norm_domain).filter(|d| !d.is_empty()));
        // Projects read in this scan, and those the organization's hierarchy lists (its listing
        // proves they are the organization's even when their own policies were not read).
        let listed = inv.hierarchy.get().into_iter().flatten().filter(|n| n.kind == ScopeKind::GcpProject);
        let project_ids = inv
            .projects
            .iter()
            .map(|p| p.project_id.to_ascii_lowercase())
            .chain(listed.clone().filter_map(|n| n.name.as_deref()).map(str::to_ascii_lowercase))
            .chain(trusted_projects.iter().map(|p| p.trim().to_ascii_lowercase()))
            .collect();
        let project_numbers = inv
            .projects
            .iter()
            .filter_map(|p| p.name.strip_prefix("projects/"))
            .chain(listed.filter_map(|n| n.id.strip_prefix("projects/")))
            .filter(|n| is_number(n))
            .map(str::to_string)
            .collect();
        let folders = inv.hierarchy.get().into_iter().flatten().filter(|n| n.kind == ScopeKind::GcpFolder).filter_map(|n| n.id.strip_prefix("folders/")).map(str::to_string).collect();
        Insiders {
            domains,
            customer_id: inv.organization.as_ref().and_then(|o| o.customer_id.clone()).filter(|c| !c.trim().is_empty()),
            organization: inv.organization.as_ref().and_then(|o| o.name.strip_prefix("organizations/")).map(str::to_string),
            project_ids,
            project_numbers,
            folders,
        }
    }

    /// Was this project (by id or number) read in this scan?
    pub fn project_read(&self, id_or_number: &str) -> bool {
        self.project_ids.contains(&id_or_number.to_ascii_lowercase()) || self.project_numbers.contains(id_or_number)
    }

    /// The domains that count as ours (the organization's and the trusted ones).
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    fn domain(&self, d: &str, what: &str) -> Inside {
        let d = norm_domain(d);
        if self.domains.is_empty() {
            return Inside::Unknown(format!("{what}: the organization's domain is unknown (scan with --gcp-organization) and [trust] gcp_domains is empty"));
        }
        if self.domains.iter().any(|a| d == *a || d.ends_with(&format!(".{a}"))) {
            Inside::Yes(format!("{what}: domain {d}"))
        } else {
            Inside::No(format!("{what}: domain {d} is not {}", self.domains.join(", ")))
        }
    }

    fn project_number(&self, n: &str, what: &str) -> Inside {
        if self.project_numbers.contains(n) {
            Inside::Yes(format!("{what} of project number {n}, read in this scan"))
        } else {
            Inside::No(format!("{what} of project number {n}, which this scan did not read"))
        }
    }

    fn project_id(&self, id: &str, what: &str) -> Inside {
        if self.project_ids.contains(&id.to_ascii_lowercase()) {
            Inside::Yes(format!("{what} of project {id}, read in this scan"))
        } else {
            Inside::No(format!("{what} of project {id}, which this scan did not read"))
        }
    }

    /// Is `member` proven inside?
    pub fn judge(&self, member: &str) -> Inside {
        let member = member.trim();
        if is_public(member) {
            return Inside::No(format!("{member} is anyone"));
        }
        let Some((kind, rest)) = kind_and_rest(member) else {
            return Inside::No(format!("{member} is not a member kind Portcullis knows"));
        };
        match kind.as_str() {
            "user" | "group" => match email_domain(rest) {
                Some(d) => self.domain(d, member),
                None => Inside::No(format!("{member} has no e-mail domain")),
            },
            "domain" => self.domain(rest, member),
            "serviceaccount" => self.service_account(rest, member),
            "projectowner" | "projecteditor" | "projectviewer" => self.project_id(rest, "the owners, editors or viewers"),
            // A deleted member keeps its bindings: restored (a user or group within Google's
            // recovery window, a service account with `undelete` within 30 days), it is the member
            // again and holds the role again. Whoever controls it can restore it, so it is judged as
            // the member it was.
            // `deleted:` wraps a member once; a member deleted twice over is no member kind.
            "deleted" if kind_and_rest(rest).is_some_and(|(k, _)| k == "deleted") => Inside::No("a member deleted twice over is not a member kind Portcullis knows".to_string()),
            "deleted" => match self.judge(rest.split('?').next().unwrap_or(rest)) {
                Inside::Yes(why) => Inside::Yes(format!("{member} is deleted; {why}")),
                Inside::No(why) => Inside::No(format!("{member} is deleted, but whoever controls it can restore it and, with it, this grant ({why})")),
                Inside::Unknown(why) => Inside::Unknown(format!("{member} is deleted and restorable: {why}")),
            },
            "principal" | "principalset" => self.principal(member),
            _ => Inside::No(format!("{member} is not a member kind Portcullis knows")),
        }
    }

    fn service_account(&self, email: &str, member: &str) -> Inside {
        let email = email.to_ascii_lowercase();
        // GKE workload identity, legacy form: PROJECT_ID.svc.id.goog[namespace/ksa].
        if let Some((pool, _)) = email.split_once(".svc.id.goog[") {
            return self.project_id(pool, "a Kubernetes service account");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Inside::No(format!("{member} is not an e-mail address"));
        };
        // service-NUMBER@, and service-pNUMBER@ (Access Approval's documented form).
        if let Some(number) = local.strip_prefix("service-").map(|n| n.strip_prefix('p').filter(|x| is_number(x)).unwrap_or(n)).filter(|n| is_number(n)) {
            if is_agent_domain(domain) {
                return self.project_number(number, "a Google service agent");
            }
        }
        if let Some(org) = local.strip_prefix("service-org-").filter(|n| is_number(n)) {
            if is_agent_domain(domain) {
                return if self.organization.as_deref() == Some(org) {
                    Inside::Yes(format!("a service agent of organization {org}, the one scanned"))
                } else {
                    Inside::No(format!("a service agent of organization {org}, not the one scanned"))
                };
            }
        }
        if let Some(folder) = local.strip_prefix("service-folder-").filter(|n| is_number(n)) {
            if is_agent_domain(domain) {
                return if self.folders.contains(folder) {
                    Inside::Yes(format!("a service agent of folder {folder}, read in this scan"))
                } else {
                    Inside::No(format!("a service agent of folder {folder}, which this scan did not read"))
                };
            }
        }
        match domain {
            "developer.gserviceaccount.com" => match local.strip_suffix("-compute").filter(|n| is_number(n)) {
                Some(n) => self.project_number(n, "the Compute Engine default service account"),
                None => Inside::No(format!("{member} is not a documented Google-managed account")),
            },
            "cloudservices.gserviceaccount.com" | "cloudbuild.gserviceaccount.com" if is_number(local) => self.project_number(local, "a Google-managed service account"),
            "appspot.gserviceaccount.com" => self.project_id(local, "the App Engine default service account"),
            _ => match domain.strip_suffix(".iam.gserviceaccount.com") {
                // NAME@PROJECT_ID.iam.gserviceaccount.com: a `gcp-sa-…` prefix is a project id like any.
                Some(project) if !project.contains('.') => self.project_id(project, "a service account"),
                _ => Inside::No(format!("{member} is not a service account of a project this scan read")),
            },
        }
    }

    fn principal(&self, member: &str) -> Inside {
        let lower = member.to_ascii_lowercase();
        let (set, rest) = if let Some(r) = lower.strip_prefix("principal://") {
            (false, r)
        } else if let Some(r) = lower.strip_prefix("principalset://") {
            (true, r)
        } else {
            return Inside::No(format!("{member} is not a member kind Portcullis knows"));
        };
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["goog", "subject", email] if !set => match email_domain(email) {
                Some(d) => self.domain(d, member),
                None => Inside::No(format!("{member} has no e-mail domain")),
            },
            ["goog", "group", email] if set => match email_domain(email) {
                Some(d) => self.domain(d, member),
                None => Inside::No(format!("{member} has no e-mail domain")),
            },
            ["goog", "cloudidentitycustomerid", _] if set => {
                // Customer ids are case-sensitive: compare the member as written.
                let id = member.rsplit('/').next().unwrap_or_default();
                match &self.customer_id {
                    Some(c) if c == id => Inside::Yes(format!("{member}: the organization's own customer")),
                    Some(c) => Inside::No(format!("{member}: customer {id} is not the organization's ({c})")),
                    None => Inside::Unknown(format!("{member}: the organization's customer id is unknown (scan with --gcp-organization)")),
                }
            }
            ["iam.googleapis.com", "projects", number, "locations", _, "workloadidentitypools", pool, ..] => {
                if let Some(project) = pool.strip_suffix(".svc.id.goog") {
                    // The GKE pool of a project: its clusters' Kubernetes service accounts.
                    return match (self.project_numbers.contains(*number), self.project_ids.contains(project)) {
                        (true, true) => Inside::Yes(format!("{member}: the GKE workload pool of project {project}, read in this scan")),
                        _ => Inside::No(format!("{member}: the GKE workload pool of project {project}, which this scan did not read")),
                    };
                }
                if self.project_numbers.contains(*number) {
                    Inside::Unknown(format!(
                        "{member}: who may use workload identity pool {pool} of project number {number} depends on its providers, which were not read (iam.workloadIdentityPoolProviders.list)"
                    ))
                } else {
                    Inside::No(format!("{member}: a workload identity pool of project number {number}, which this scan did not read"))
                }
            }
            ["iam.googleapis.com", "locations", _, "workforcepools", pool, ..] => Inside::Unknown(format!(
                "{member}: who may use workforce pool {pool} depends on the pool's organization and providers, which were not read (iam.workforcePools.get, iam.workforcePoolProviders.list)"
            )),
            ["cloudresourcemanager.googleapis.com", kind, id, "type", "serviceaccount"] if set => match *kind {
                "projects" if self.project_ids.contains(*id) || self.project_numbers.contains(*id) => Inside::Yes(format!("{member}: the service accounts of project {id}, read in this scan")),
                "folders" if self.folders.contains(*id) => Inside::Yes(format!("{member}: the service accounts of folder {id}, read in this scan")),
                "organizations" if self.organization.as_deref() == Some(*id) => Inside::Yes(format!("{member}: the service accounts of the organization scanned")),
                _ => Inside::No(format!("{member}: the service accounts of {kind}/{id}, which this scan did not read")),
            },
            _ => Inside::No(format!("{member} is not a principal identifier Portcullis knows")),
        }
    }
}

/// `kind:rest`, the kind lower-cased; `None` for a member without a kind (`allUsers`).
fn kind_and_rest(member: &str) -> Option<(String, &str)> {
    if member.to_ascii_lowercase().starts_with("principal://") || member.to_ascii_lowercase().starts_with("principalset://") {
        let (k, r) = member.split_once("://")?;
        return Some((k.to_ascii_lowercase(), r));
    }
    let (k, r) = member.split_once(':')?;
    Some((k.trim().to_ascii_lowercase(), r.trim()))
}

/// The domain of an e-mail address, without a `?uid=` suffix.
fn email_domain(email: &str) -> Option<&str> {
    let email = email.split('?').next().unwrap_or(email);
    email.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty())
}

fn norm_domain(d: &str) -> String {
    d.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_agent_domain(domain: &str) -> bool {
    domain.strip_suffix(".iam.gserviceaccount.com").is_some_and(|p| p.starts_with("gcp-sa-") && !p.contains('.')) || SERVICE_AGENT_DOMAINS.contains(&domain)
}

/// The domain of a `user:`, `group:` or `domain:` member, or of a `principal://goog/subject/` or
/// `principalSet://goog/group/` identifier (lower-case); `None` for every other kind.
pub fn member_domain(member: &str) -> Option<String> {
    let (kind, rest) = kind_and_rest(member.trim())?;
    let d = match kind.as_str() {
        "user" | "group" => email_domain(rest)?,
        "domain" => rest,
        "principal" | "principalset" => {
            let lower = rest.to_ascii_lowercase();
            let email = lower.strip_prefix("goog/subject/").or_else(|| lower.strip_prefix("goog/group/"))?.to_string();
            return email_domain(&email).map(norm_domain);
        }
        _ => return None,
    };
    Some(norm_domain(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::gcp::{GcpOrganization, GcpProject};
    use crate::inventory::{Collected, ScopeNode};

    fn insiders() -> Insiders {
        let mut inv = GcpInventory {
            organization: Some(GcpOrganization { name: "organizations/123".into(), domain: Some("Example.com".into()), customer_id: Some("C0abc123".into()) }),
            hierarchy: Collected::Collected(vec![ScopeNode { id: "folders/77".into(), name: None, kind: ScopeKind::GcpFolder, parent: Some("organizations/123".into()), state: None }]),
            ..Default::default()
        };
        let mut p = GcpProject::unread("prod-app", &Collected::Collected(()), &Default::default());
        p.name = "projects/555000111".into();
        inv.projects.push(p);
        Insiders::new(&inv, &["partner.io".to_string()])
    }

    #[test]
    fn identities_by_domain_and_subdomain_only() {
        let i = insiders();
        for m in [
            "user:Alice@EXAMPLE.com",
            "group:ops@eng.example.com",
            "domain:example.com",
            "domain:partner.io.",
            "principal://goog/subject/bob@example.com",
            "principalSet://goog/group/admins@partner.io",
            "principalSet://goog/cloudIdentityCustomerId/C0abc123",
            "deleted:user:alice@example.com?uid=1",
        ] {
            assert!(i.judge(m).is_inside(), "{m}: {:?}", i.judge(m));
        }
        for m in [
            "user:eve@example.com.evil.io",
            "user:eve@notexample.com",
            "group:x@gmail.com",
            "principal://goog/subject/eve@gmail.com",
            "principalSet://goog/group/all@evil.io",
            "principalSet://goog/cloudIdentityCustomerId/C0other",
            "principalSet://goog/cloudIdentityCustomerId/c0abc123",
            "principalSet://goog/public:all",
            "allAuthenticatedUsers",
            "deleted:user:eve@gmail.com?uid=1",
            "deleted:serviceAccount:backdoor@evil-proj.iam.gserviceaccount.com?uid=123",
            "somethingNew:alice@example.com",
            "deleted:deleted:user:alice@example.com",
        ] {
            assert!(matches!(i.judge(m), Inside::No(_)), "{m}: {:?}", i.judge(m));
        }
    }

    #[test]
    fn service_accounts_by_project_read_and_documented_google_forms() {
        let i = insiders();
        for m in [
            "serviceAccount:deployer@prod-app.iam.gserviceaccount.com",
            "serviceAccount:service-555000111@gcp-sa-cloudbuild.iam.gserviceaccount.com",
            "serviceAccount:service-555000111@compute-system.iam.gserviceaccount.com",
            "serviceAccount:service-p555000111@gcp-sa-accessapproval.iam.gserviceaccount.com",
            "serviceAccount:555000111-compute@developer.gserviceaccount.com",
            "serviceAccount:555000111@cloudservices.gserviceaccount.com",
            "serviceAccount:555000111@cloudbuild.gserviceaccount.com",
            "serviceAccount:prod-app@appspot.gserviceaccount.com",
            "serviceAccount:service-org-123@gcp-sa-ktd-hpsa.iam.gserviceaccount.com",
            "serviceAccount:prod-app.svc.id.goog[default/web]",
            "principalSet://cloudresourcemanager.googleapis.com/projects/prod-app/type/ServiceAccount",
        ] {
            assert!(i.judge(m).is_inside(), "{m}: {:?}", i.judge(m));
        }
        for m in [
            // A gcp-sa- prefix is a project id like any other; the agent form needs service-NUMBER.
            "serviceAccount:backdoor@gcp-sa-cloudbuild.iam.gserviceaccount.com",
            "serviceAccount:service-999000111@gcp-sa-cloudbuild.iam.gserviceaccount.com",
            // service-<our number> in someone else's project is not our service agent.
            "serviceAccount:service-555000111@evil-proj.iam.gserviceaccount.com",
            "serviceAccount:x@other-project.iam.gserviceaccount.com",
            // The default compute account by project id, not number, is not the documented form.
            "serviceAccount:prod-app-compute@developer.gserviceaccount.com",
            "serviceAccount:999-compute@developer.gserviceaccount.com",
            "serviceAccount:service-org-999@gcp-sa-ktd-hpsa.iam.gserviceaccount.com",
            "serviceAccount:x@prod-app.iam.gserviceaccount.com.evil.io",
            "serviceAccount:evil.svc.id.goog[default/web]",
        ] {
            assert!(matches!(i.judge(m), Inside::No(_)), "{m}: {:?}", i.judge(m));
        }
    }

    #[test]
    fn identity_pools_are_unknown_or_outside_never_assumed_inside() {
        let i = insiders();
        let ours = "principalSet://iam.googleapis.com/projects/555000111/locations/global/workloadIdentityPools/github/attribute.repository/acme/app";
        assert!(matches!(i.judge(ours), Inside::Unknown(ref w) if w.contains("workloadIdentityPoolProviders")), "{:?}", i.judge(ours));
        let theirs = "principal://iam.googleapis.com/projects/999/locations/global/workloadIdentityPools/p/subject/x";
        assert!(matches!(i.judge(theirs), Inside::No(_)));
        let workforce = "principalSet://iam.googleapis.com/locations/global/workforcePools/partners/*";
        assert!(matches!(i.judge(workforce), Inside::Unknown(_)));
        let gke = "principal://iam.googleapis.com/projects/555000111/locations/global/workloadIdentityPools/prod-app.svc.id.goog/subject/ns/default/sa/web";
        assert!(i.judge(gke).is_inside(), "{:?}", i.judge(gke));
        let gke_other = "principal://iam.googleapis.com/projects/555000111/locations/global/workloadIdentityPools/evil.svc.id.goog/subject/ns/default/sa/web";
        assert!(!i.judge(gke_other).is_inside());
    }

    #[test]
    fn trusted_projects_make_their_service_accounts_inside() {
        let trusted = crate::settings::Trusted { gcp_projects: vec!["sec-tools-prod".into()], ..Default::default() };
        let i = Insiders::from_settings(&GcpInventory::default(), &trusted);
        assert!(i.judge("serviceAccount:scanner@sec-tools-prod.iam.gserviceaccount.com").is_inside());
        assert!(!i.judge("serviceAccount:scanner@sec-tools-dev.iam.gserviceaccount.com").is_inside());
    }

    #[test]
    fn without_a_domain_identities_are_unknown() {
        let i = Insiders::new(&GcpInventory::default(), &[]);
        assert!(matches!(i.judge("user:a@example.com"), Inside::Unknown(_)));
    }

    #[test]
    fn member_domains() {
        assert_eq!(member_domain("user:Jane@Gmail.com").as_deref(), Some("gmail.com"));
        assert_eq!(member_domain("group:ops@example.com").as_deref(), Some("example.com"));
        assert_eq!(member_domain("domain:partner.io").as_deref(), Some("partner.io"));
        assert_eq!(member_domain("principal://goog/subject/x@Gmail.com").as_deref(), Some("gmail.com"));
        assert_eq!(member_domain("deleted:user:old@gmail.com?uid=123"), None);
        assert_eq!(member_domain("serviceAccount:x@p.iam.gserviceaccount.com"), None);
        assert_eq!(member_domain("allUsers"), None);
        assert!(is_public("principalSet://goog/public:all") && is_public("allUsers") && !is_public("user:a@b.c"));
    }
}
