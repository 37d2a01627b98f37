//! Entra ID directory-role privilege: the one model every check asks "is this directory role
//! privileged?".
//!
//! Privileged means what Microsoft says:
//! 1. The role definition's own `isPrivileged` (Graph `roleManagement/directory/roleDefinitions`,
//!    read in bulk; today only the beta endpoint returns it).
//! 2. When it is absent (only Graph v1.0 may be used, `--azure-graph-v1-only`, or the definitions
//!    were not read), a built-in role is looked up by template id in Microsoft's published list of
//!    privileged built-in roles, kept as data (`checks/data/entra_privileged_roles.toml`, with its
//!    source and date). Every verdict says which of the two it came from ([`Source`]), so a
//!    finding judged from the list says so.
//! 3. A custom role is privileged when its `rolePermissions` allow a resource action Microsoft
//!    marks privileged (`checks/data/entra_privileged_actions.toml`), or when `isPrivileged` says so.
//!
//! A role whose definition is unknown (not among the definitions read, or the definitions were
//! not read and the id is no built-in role of the published list) is [`Verdict::Unknown`],
//! naming the role id: its holders are `not_evaluated`, never "not privileged".

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::inventory::azure::{AzureTenant, DirectoryRoleDefinition};
use crate::inventory::Dataset;

const ROLES_TOML: &str = include_str!("../../checks/data/entra_privileged_roles.toml");
const ACTIONS_TOML: &str = include_str!("../../checks/data/entra_privileged_actions.toml");

/// Where a verdict came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The role definition's `isPrivileged` (Graph beta).
    IsPrivileged,
    /// Microsoft's published list of privileged built-in roles (the fallback).
    PublishedList,
    /// A custom role's permissions against Microsoft's privileged resource actions.
    CustomPermissions,
}

impl Source {
    /// For evidence (`privilege_source`).
    pub fn describe(self) -> &'static str {
        match self {
            Source::IsPrivileged => "isPrivileged of the role definition (Microsoft Graph beta)",
            Source::PublishedList => {
                "fallback: Microsoft's published list of privileged built-in roles (checks/data/entra_privileged_roles.toml), as isPrivileged was not available"
            }
            Source::CustomPermissions => {
                "the custom role's permissions against the resource actions Microsoft marks privileged (checks/data/entra_privileged_actions.toml)"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Privileged {
        name: String,
        source: Source,
        /// Why, in words: the privileged action, or why the list was used.
        detail: String,
    },
    NotPrivileged {
        name: String,
        source: Source,
    },
    /// The role's definition is unknown; the reason names the role id.
    Unknown(String),
}

struct Published {
    privileged: BTreeMap<String, String>,
    not_privileged: BTreeMap<String, String>,
    actions: Vec<String>,
}

#[derive(serde::Deserialize)]
struct RolesFile {
    privileged: Vec<(String, String)>,
    not_privileged: Vec<(String, String)>,
}

#[derive(serde::Deserialize)]
struct ActionsFile {
    actions: Vec<String>,
}

fn published() -> Option<&'static Published> {
    static P: OnceLock<Option<Published>> = OnceLock::new();
    P.get_or_init(|| {
        let roles: RolesFile = toml::from_str(ROLES_TOML).ok()?;
        let actions: ActionsFile = toml::from_str(ACTIONS_TOML).ok()?;
        let map = |v: Vec<(String, String)>| v.into_iter().map(|(id, n)| (id.to_ascii_lowercase(), n)).collect();
        Some(Published {
            privileged: map(roles.privileged),
            not_privileged: map(roles.not_privileged),
            actions: actions.actions.into_iter().map(|a| a.trim().to_ascii_lowercase()).collect(),
        })
    })
    .as_ref()
}

/// The privileged resource action (as Microsoft lists it) that `action` allows, if any. An
/// `…/allProperties/allTasks` action allows everything on its entity, `…/allProperties/update`
/// every update on it.
pub fn privileged_action(action: &str) -> Option<&'static str> {
    // `applications.myOrganization/…` is the same action over the organization's own entities
    // (its own app registrations): as privileged as the action over every one of them.
    let a = action.trim().to_ascii_lowercase().replace(".myorganization/", "/");
    let p = published()?;
    p.actions.iter().map(String::as_str).find(|priv_action| {
        if a == *priv_action || crate::policy::arn::wildcard_match_ci(&a, priv_action) {
            return true;
        }
        if let Some(entity) = a.strip_suffix("/allproperties/alltasks") {
            return priv_action.starts_with(&format!("{entity}/"));
        }
        if let Some(entity) = a.strip_suffix("/allproperties/update") {
            return priv_action.starts_with(&format!("{entity}/")) && priv_action.ends_with("/update");
        }
        false
    })
}

/// The directory roles of one tenant, as read.
pub struct EntraRoles<'a> {
    definitions: Option<&'a [DirectoryRoleDefinition]>,
    /// Why the definitions are not there.
    missing: Option<String>,
}

impl<'a> EntraRoles<'a> {
    pub fn new(t: &'a AzureTenant) -> Self {
        match t.directory_role_definitions.require(Dataset::AzureDirectoryRoleDefinitions) {
            Ok(d) => EntraRoles { definitions: Some(d.as_slice()), missing: None },
            Err(m) => EntraRoles { definitions: None, missing: Some(m.to_string()) },
        }
    }

    /// Is the role that assignments call `role_id` (a definition id, for built-in roles the
    /// template id) privileged?
    pub fn judge(&self, role_id: &str) -> Verdict {
        let id = role_id.trim().to_ascii_lowercase();
        let Some(p) = published() else {
            return Verdict::Unknown(format!("directory role {id}: the published list of privileged roles could not be read"));
        };
        let Some(defs) = self.definitions else {
            let why = self.missing.as_deref().unwrap_or("the role definitions were not read");
            return by_list(p, &id, None, &format!("the role definitions were not read ({why})"))
                .unwrap_or_else(|| Verdict::Unknown(format!("directory role {id} is not a built-in role of the published list, and its definition is unknown: {why}")));
        };
        let found = defs.iter().find(|d| d.id.eq_ignore_ascii_case(&id) || d.template_id.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(&id)));
        let Some(d) = found else {
            return Verdict::Unknown(format!("directory role {id} is not among the {} role definitions read (deleted, or made after the read)", defs.len()));
        };
        judge_definition(p, d)
    }
}

impl EntraRoles<'_> {
    /// Does the directory role `role_id` allow the resource action `action` (as Microsoft spells
    /// it, e.g. `microsoft.directory/applications/credentials/update`)? By its definition's
    /// `allowedResourceActions`: wildcards, `…/allProperties/allTasks` (everything on the entity)
    /// and `…/allProperties/update` (every update on it), `.myOrganization` as the same action.
    /// `None` when the definition is unknown (not read, or not among those read): undecided.
    pub fn allows(&self, role_id: &str, action: &str) -> Option<bool> {
        let defs = self.definitions?;
        let id = role_id.trim();
        let d = defs.iter().find(|d| d.id.eq_ignore_ascii_case(id) || d.template_id.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(id)))?;
        let want = action.trim().to_ascii_lowercase();
        Some(d.allowed_resource_actions.iter().any(|a| {
            let a = a.trim().to_ascii_lowercase().replace(".myorganization/", "/");
            if a == want || crate::policy::arn::wildcard_match_ci(&a, &want) {
                return true;
            }
            if let Some(entity) = a.strip_suffix("/allproperties/alltasks") {
                return want.starts_with(&format!("{entity}/"));
            }
            if let Some(entity) = a.strip_suffix("/allproperties/update") {
                return want.starts_with(&format!("{entity}/")) && want.ends_with("/update");
            }
            false
        }))
    }

    /// The role's display name, when its definition was read.
    pub fn name(&self, role_id: &str) -> Option<&str> {
        let id = role_id.trim();
        self.definitions?
            .iter()
            .find(|d| d.id.eq_ignore_ascii_case(id) || d.template_id.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(id)))
            .map(|d| d.display_name.as_str())
    }
}

fn by_list(p: &Published, id: &str, name: Option<&str>, why: &str) -> Option<Verdict> {
    if let Some(n) = p.privileged.get(id) {
        return Some(Verdict::Privileged { name: name.unwrap_or(n).to_string(), source: Source::PublishedList, detail: why.to_string() });
    }
    p.not_privileged.get(id).map(|n| Verdict::NotPrivileged { name: name.unwrap_or(n).to_string(), source: Source::PublishedList })
}

fn judge_definition(p: &Published, d: &DirectoryRoleDefinition) -> Verdict {
    let name = d.display_name.clone();
    let template = d.template_id.as_deref().unwrap_or(&d.id).to_ascii_lowercase();
    if d.is_privileged == Some(true) {
        return Verdict::Privileged { name, source: Source::IsPrivileged, detail: "isPrivileged is true".into() };
    }
    let in_list = p.privileged.contains_key(&template) || p.not_privileged.contains_key(&template);
    let built_in = d.is_built_in.unwrap_or(in_list);
    if built_in {
        if d.is_privileged == Some(false) {
            return Verdict::NotPrivileged { name, source: Source::IsPrivileged };
        }
        return by_list(p, &template, Some(&name), "the role definition carries no isPrivileged (Graph v1.0)").unwrap_or_else(|| {
            Verdict::Unknown(format!(
                "directory role {} ({name}) is a built-in role newer than the published list, and its definition carries no isPrivileged (Graph v1.0)",
                d.id
            ))
        });
    }
    // A custom role: its permissions decide, and Microsoft's own flag when it says more.
    if let Some((action, priv_action)) = d.allowed_resource_actions.iter().find_map(|a| privileged_action(a).map(|pa| (a, pa))) {
        let detail = if action.eq_ignore_ascii_case(priv_action) {
            format!("allows {action}, which Microsoft marks privileged")
        } else {
            format!("allows {action}, which covers {priv_action}, which Microsoft marks privileged")
        };
        return Verdict::Privileged { name, source: Source::CustomPermissions, detail };
    }
    Verdict::NotPrivileged { name, source: if d.is_privileged == Some(false) { Source::IsPrivileged } else { Source::CustomPermissions } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Collected;

    fn def(id: &str, template: Option<&str>, built_in: bool, privileged: Option<bool>, actions: &[&str]) -> DirectoryRoleDefinition {
        DirectoryRoleDefinition {
            id: id.into(),
            template_id: template.map(str::to_string),
            display_name: format!("role {id}"),
            is_built_in: Some(built_in),
            is_enabled: Some(true),
            is_privileged: privileged,
            allowed_resource_actions: actions.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn tenant(defs: Option<Vec<DirectoryRoleDefinition>>) -> AzureTenant {
        let mut t = AzureTenant::new("3f2e1d0c-aaaa-4bbb-8ccc-000000000001");
        t.directory_role_definitions = match defs {
            Some(d) => Collected::Collected(d),
            None => Collected::Denied { action: "RoleManagement.Read.Directory".into(), message: None },
        };
        t
    }

    #[test]
    fn the_published_lists_parse_and_are_disjoint() {
        let p = published().expect("embedded lists parse");
        assert!(p.privileged.len() >= 29 && p.not_privileged.len() >= 90, "{} {}", p.privileged.len(), p.not_privileged.len());
        assert!(p.privileged.keys().all(|k| !p.not_privileged.contains_key(k)));
        assert!(p.privileged.keys().chain(p.not_privileged.keys()).all(|k| crate::inventory::azure::is_guid(k)));
        assert!(!p.actions.is_empty());
    }

    #[test]
    fn is_privileged_decides_when_present_even_for_roles_outside_the_list() {
        // Global Reader (f2ef992c…) was not among the 15 roles once kept by hand.
        let t = tenant(Some(vec![def("F2EF992C-3AFB-46B9-B7CF-A126EE74C451", None, true, Some(true), &[])]));
        let v = EntraRoles::new(&t).judge("f2ef992c-3afb-46b9-b7cf-a126ee74c451");
        assert!(matches!(v, Verdict::Privileged { source: Source::IsPrivileged, .. }), "{v:?}");
        // Microsoft says no: no.
        let t = tenant(Some(vec![def("29232cdf-9323-42fd-ade2-1d097af3e4de", None, true, Some(false), &[])]));
        assert!(matches!(EntraRoles::new(&t).judge("29232cdf-9323-42fd-ade2-1d097af3e4de"), Verdict::NotPrivileged { source: Source::IsPrivileged, .. }));
    }

    #[test]
    fn without_is_privileged_built_in_roles_fall_back_to_the_published_list_and_say_so() {
        let t = tenant(Some(vec![def("5d6b6bb7-de71-4623-b4af-96380a352509", Some("5d6b6bb7-de71-4623-b4af-96380a352509"), true, None, &[])]));
        match EntraRoles::new(&t).judge("5D6B6BB7-DE71-4623-B4AF-96380A352509") {
            Verdict::Privileged { source: Source::PublishedList, detail, .. } => assert!(detail.contains("v1.0"), "{detail}"),
            v => panic!("{v:?}"),
        }
        // Definitions not read at all: built-in roles still by the list; anything else unknown.
        let t = tenant(None);
        let r = EntraRoles::new(&t);
        assert!(matches!(r.judge("7698a772-787b-4ac8-901f-60d6b08affd2"), Verdict::Privileged { source: Source::PublishedList, .. }));
        assert!(matches!(r.judge("88d8e3e3-8f55-4a1e-953a-9b9898b8876b"), Verdict::NotPrivileged { .. }));
        match r.judge("c0ffee00-0000-4000-8000-000000000001") {
            Verdict::Unknown(why) => assert!(why.contains("c0ffee00-0000-4000-8000-000000000001") && why.contains("RoleManagement.Read.Directory"), "{why}"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn custom_roles_are_judged_by_their_permissions() {
        let t = tenant(Some(vec![
            def("c0ffee00-0000-4000-8000-000000000002", None, false, None, &["microsoft.directory/users/basic/update", "Microsoft.Directory/ServicePrincipals/Credentials/Update"]),
            def("c0ffee00-0000-4000-8000-000000000003", None, false, None, &["microsoft.directory/users/allProperties/update"]),
            def("c0ffee00-0000-4000-8000-000000000004", None, false, None, &["microsoft.directory/users/basic/update", "microsoft.directory/groups/members/read"]),
        ]));
        let r = EntraRoles::new(&t);
        assert!(matches!(r.judge("c0ffee00-0000-4000-8000-000000000002"), Verdict::Privileged { source: Source::CustomPermissions, .. }));
        // The organization's own entities (`.myOrganization`) are the same actions.
        assert!(privileged_action("microsoft.directory/applications.myOrganization/credentials/update").is_some());
        assert!(privileged_action("microsoft.directory/applications.myOrganization/allProperties/update").is_some());
        assert!(privileged_action("microsoft.directory/applications.myOrganization/standard/read").is_none());
        // allProperties/update covers users/password/update.
        assert!(matches!(r.judge("c0ffee00-0000-4000-8000-000000000003"), Verdict::Privileged { .. }));
        assert!(matches!(r.judge("c0ffee00-0000-4000-8000-000000000004"), Verdict::NotPrivileged { source: Source::CustomPermissions, .. }));
    }

    #[test]
    fn a_role_not_among_the_definitions_read_is_unknown_naming_it() {
        let t = tenant(Some(vec![def("62e90394-69f5-4237-9190-012177145e10", None, true, Some(true), &[])]));
        match EntraRoles::new(&t).judge("d00d0000-0000-4000-8000-000000000009") {
            Verdict::Unknown(why) => assert!(why.contains("d00d0000-0000-4000-8000-000000000009"), "{why}"),
            v => panic!("{v:?}"),
        }
    }
}
