//! The Azure RBAC privilege model: what a role lets its holder do, from the role definitions the
//! scan read, whole (every permission block's `actions`, `notActions`, `dataActions`,
//! `notDataActions` and condition), and from the assignment's own ABAC condition.
//!
//! Every Azure RBAC check asks this module; none keeps a list of privileged role names or ids.
//! A role is judged by its permissions only, so a built-in role the checks never heard of, a
//! custom role, a privilege in a second block or in the data actions, and any spelling of an
//! action (wildcards match case-insensitively, as Azure matches them) are judged alike.
//!
//! The questions, for a role held at a scope ([`Capability`]): may it write role assignments
//! (with the conditions evaluated by [`crate::policy::azure_condition`] in three values: a
//! condition that still leaves a privileged role assignable is a grant, one that cannot be
//! decided is `Unknown`), write role definitions, do everything, act on Key Vault secrets and
//! keys, run code as a workload identity, manage the subscription. A role whose definition was
//! not read is `Err(Missing)` naming the role: never "not privileged".
//!
//! [`AzureRbac::escalation`] composes these answers into chains: assign oneself (or a principal
//! one controls) a role that assigns or defines roles, rewrite a custom role one holds or can
//! assign oneself, create a role and assign it, until the principal can do everything.

use std::collections::BTreeMap;

use crate::inventory::azure::{role_guid, AzureRoleDefinition, AzureSubscription, AzureTenant, RolePermissions};
use crate::inventory::{CoverageState, Dataset, Missing};
use crate::policy::arn::wildcard_match_ci;
use crate::policy::azure_condition::{allows, AssignmentRequest, Truth};

pub const WRITE_ROLE_ASSIGNMENTS: &str = "Microsoft.Authorization/roleAssignments/write";
pub const WRITE_ROLE_DEFINITIONS: &str = "Microsoft.Authorization/roleDefinitions/write";

/// What a role lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// Every action on every provider, role assignments included (`*` with nothing that matters
    /// taken back): an owner.
    Everything,
    /// `Microsoft.Authorization/roleAssignments/write`, for a role that grants something (the
    /// conditions of the block and of the assignment decide which roles).
    WriteRoleAssignments,
    /// `Microsoft.Authorization/roleDefinitions/write`: create custom roles, or widen one.
    WriteRoleDefinitions,
    /// Key Vault secrets and keys ([`SECRETS_AND_KEYS`]).
    SecretsAndKeys,
    /// Run code as a workload identity ([`RUN_CODE`]).
    RunCode,
    /// Manage the subscription itself ([`MANAGE_SUBSCRIPTION`]); only at the subscription or above.
    ManageSubscription,
}

impl Capability {
    pub const ALL: [Capability; 6] = [
        Capability::Everything,
        Capability::WriteRoleAssignments,
        Capability::WriteRoleDefinitions,
        Capability::SecretsAndKeys,
        Capability::RunCode,
        Capability::ManageSubscription,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Capability::Everything => "does everything, role assignments included",
            Capability::WriteRoleAssignments => "writes role assignments",
            Capability::WriteRoleDefinitions => "writes role definitions",
            Capability::SecretsAndKeys => "acts on Key Vault secrets and keys",
            Capability::RunCode => "runs code as a workload identity",
            Capability::ManageSubscription => "manages the subscription",
        }
    }
}

/// One action the model asks a role about: a control-plane action (`actions`) or a data action
/// (`dataActions`).
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub action: &'static str,
    pub data: bool,
}

const fn a(action: &'static str) -> Probe {
    Probe { action, data: false }
}
const fn d(action: &'static str) -> Probe {
    Probe { action, data: true }
}

/// "Everything": a role must grant all of these. Actions of a provider no list names (the
/// `Portcullis.Probe` provider) prove that the wildcards reach every provider; the
/// `Microsoft.Authorization` writes and deletes prove that nothing that controls access was taken
/// back.
pub const EVERYTHING: &[Probe] = &[
    a("Portcullis.Probe/anything/read"),
    a("Portcullis.Probe/anything/write"),
    a("Portcullis.Probe/anything/delete"),
    a("Portcullis.Probe/anything/run/action"),
    a(WRITE_ROLE_ASSIGNMENTS),
    a("Microsoft.Authorization/roleAssignments/delete"),
    a(WRITE_ROLE_DEFINITIONS),
    a("Microsoft.Authorization/locks/delete"),
    a("Microsoft.Authorization/policyAssignments/write"),
];

/// Key Vault secrets and keys: any one of these. Reading a secret's value (certificates' private
/// keys are read as secrets), using or releasing a key, and, for vaults on the access-policy
/// model, changing who may (the vault's access policies, or the vault itself).
pub const SECRETS_AND_KEYS: &[Probe] = &[
    d("Microsoft.KeyVault/vaults/secrets/getSecret/action"),
    d("Microsoft.KeyVault/vaults/secrets/setSecret/action"),
    d("Microsoft.KeyVault/vaults/keys/decrypt/action"),
    d("Microsoft.KeyVault/vaults/keys/unwrap/action"),
    d("Microsoft.KeyVault/vaults/keys/sign/action"),
    d("Microsoft.KeyVault/vaults/keys/release/action"),
    d("Microsoft.KeyVault/vaults/keys/create/action"),
    d("Microsoft.KeyVault/vaults/keys/import/action"),
    d("Microsoft.KeyVault/managedHsms/keys/decrypt/action"),
    d("Microsoft.KeyVault/managedHsms/keys/unwrap/action"),
    d("Microsoft.KeyVault/managedHsms/keys/sign/action"),
    d("Microsoft.KeyVault/managedHsms/keys/release/action"),
    a("Microsoft.KeyVault/vaults/accessPolicies/write"),
    a("Microsoft.KeyVault/vaults/write"),
];

/// Running code as a workload identity: any one of these. Code run on a virtual machine or scale
/// set (run command, extensions, the machine's own definition), an Arc machine, an Automation
/// runbook or job, a web or function app (its code, configuration, deployment credentials or
/// Kudu extensions), a container group or app, a Logic App, a deployment script, or an AKS
/// cluster's administrator credentials: each runs with the managed identity attached to it.
pub const RUN_CODE: &[Probe] = &[
    a("Microsoft.Compute/virtualMachines/runCommand/action"),
    a("Microsoft.Compute/virtualMachines/runCommands/write"),
    a("Microsoft.Compute/virtualMachines/extensions/write"),
    a("Microsoft.Compute/virtualMachines/write"),
    a("Microsoft.Compute/virtualMachineScaleSets/write"),
    a("Microsoft.Compute/virtualMachineScaleSets/extensions/write"),
    a("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action"),
    a("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/write"),
    a("Microsoft.HybridCompute/machines/extensions/write"),
    a("Microsoft.HybridCompute/machines/runCommands/write"),
    a("Microsoft.Automation/automationAccounts/runbooks/write"),
    a("Microsoft.Automation/automationAccounts/runbooks/draft/write"),
    a("Microsoft.Automation/automationAccounts/jobs/write"),
    a("Microsoft.Web/sites/write"),
    a("Microsoft.Web/sites/config/write"),
    a("Microsoft.Web/sites/config/list/action"),
    a("Microsoft.Web/sites/publishxml/action"),
    a("Microsoft.Web/sites/extensions/write"),
    a("Microsoft.Web/sites/slots/write"),
    a("Microsoft.Web/sites/slots/config/write"),
    a("Microsoft.Web/sites/sourcecontrols/write"),
    a("Microsoft.ContainerInstance/containerGroups/write"),
    a("Microsoft.ContainerInstance/containerGroups/containers/exec/action"),
    a("Microsoft.App/containerApps/write"),
    a("Microsoft.Logic/workflows/write"),
    a("Microsoft.Resources/deploymentScripts/write"),
    a("Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"),
    a("Microsoft.ContainerService/managedClusters/runCommand/action"),
    a("Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action"),
    a("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"),
    // A federated credential added to a user-assigned identity signs in as it from an issuer the
    // holder controls.
    a("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"),
    // Pipelines, batch pools, Databricks and Machine Learning compute run code as their identity.
    a("Microsoft.DataFactory/factories/pipelines/write"),
    a("Microsoft.DataFactory/factories/pipelines/createrun/action"),
    a("Microsoft.Batch/batchAccounts/pools/write"),
    a("Microsoft.Batch/batchAccounts/jobs/write"),
    a("Microsoft.Synapse/workspaces/write"),
    a("Microsoft.MachineLearningServices/workspaces/computes/write"),
    a("Microsoft.MachineLearningServices/workspaces/jobs/write"),
    // Data actions: an administrator sign-in to a virtual machine (then its identity's tokens),
    // and Kubernetes RBAC over a cluster's workloads (pods run as workload identities).
    d("Microsoft.Compute/virtualMachines/loginAsAdmin/action"),
    d("Microsoft.HybridCompute/machines/loginAsAdmin/action"),
    d("Microsoft.ContainerService/managedClusters/pods/write"),
    d("Microsoft.ContainerService/managedClusters/pods/exec/action"),
    d("Microsoft.ContainerService/managedClusters/apps/deployments/write"),
    d("Microsoft.ContainerService/managedClusters/serviceaccounts/impersonate/action"),
    d("Microsoft.Batch/batchAccounts/jobs/write"),
];

/// Managing the subscription itself: any one of these (deleting its resource groups, cancelling
/// or renaming it, assigning or exempting Azure Policy, removing locks).
pub const MANAGE_SUBSCRIPTION: &[Probe] = &[
    a("Microsoft.Resources/subscriptions/resourceGroups/delete"),
    a("Microsoft.Subscription/cancel/action"),
    a("Microsoft.Subscription/rename/action"),
    a("Microsoft.Authorization/policyAssignments/write"),
    a("Microsoft.Authorization/policyExemptions/write"),
    a("Microsoft.Authorization/locks/delete"),
];

/// Changing what is logged or where it goes: any one of these. Diagnostic settings (the
/// activity log's export and every resource's logs), the legacy log profiles, and the Log
/// Analytics workspaces the logs land in (deleting one, purging its data, changing a table's
/// retention). Asked by `blast-radius` ("change logging"); no check asks it yet.
pub const CHANGE_LOGGING: &[Probe] = &[
    a("Microsoft.Insights/diagnosticSettings/write"),
    a("Microsoft.Insights/diagnosticSettings/delete"),
    a("Microsoft.Insights/logProfiles/write"),
    a("Microsoft.Insights/logProfiles/delete"),
    a("Microsoft.OperationalInsights/workspaces/delete"),
    a("Microsoft.OperationalInsights/workspaces/purge/action"),
    a("Microsoft.OperationalInsights/workspaces/tables/write"),
];

/// A role id no role has: the id a role created by the holder would get, asked of conditions.
const NEW_ROLE: &str = "00000000-0000-4000-8000-00000000feed";

/// A role definition as the model reads it.
#[derive(Debug)]
pub struct Role<'a> {
    pub def: &'a AzureRoleDefinition,
    guid: String,
    blocks: Vec<RolePermissions>,
}

impl<'a> Role<'a> {
    fn new(def: &'a AzureRoleDefinition) -> Self {
        Role { def, guid: role_guid(&def.id), blocks: def.blocks() }
    }

    /// The name the definition gives (`roleName`).
    pub fn name(&self) -> &'a str {
        &self.def.role_name
    }

    pub fn guid(&self) -> &str {
        &self.guid
    }

    pub fn is_custom(&self) -> bool {
        self.def.is_custom()
    }

    /// The blocks that grant the action (their actions match it, their notActions do not).
    fn granting<'s>(&'s self, action: &'s str, data: bool) -> impl Iterator<Item = &'s RolePermissions> + 's {
        self.blocks.iter().filter(move |b| if data { b.grants_data(action) } else { b.grants(action) })
    }

    fn grants_probe(&self, p: &Probe) -> bool {
        self.granting(p.action, p.data).next().is_some()
    }

    /// The first of `probes` some block grants (whatever its condition), as the probe spells it.
    pub fn first_granted(&self, probes: &[Probe]) -> Option<&'static str> {
        probes.iter().find(|p| self.grants_probe(p)).map(|p| p.action)
    }

    /// Does some block grant the action, whatever its condition?
    pub fn grants(&self, action: &str) -> bool {
        self.granting(action, false).next().is_some()
    }

    /// Does some block grant the data action?
    pub fn grants_data(&self, action: &str) -> bool {
        self.granting(action, true).next().is_some()
    }

    /// The capabilities the definition alone gives (conditions aside), as in the role's own
    /// terms; [`AzureRbac::grant`] decides them for an assignment.
    pub fn capabilities(&self) -> Vec<Capability> {
        Capability::ALL.into_iter().filter(|c| self.statically(*c)).collect()
    }

    pub fn statically(&self, c: Capability) -> bool {
        let any = |ps: &[Probe]| ps.iter().any(|p| self.grants_probe(p));
        match c {
            Capability::Everything => EVERYTHING.iter().all(|p| self.grants_probe(p)),
            Capability::WriteRoleAssignments => self.grants(WRITE_ROLE_ASSIGNMENTS),
            Capability::WriteRoleDefinitions => self.grants(WRITE_ROLE_DEFINITIONS),
            Capability::SecretsAndKeys => any(SECRETS_AND_KEYS),
            Capability::RunCode => any(RUN_CODE),
            Capability::ManageSubscription => any(MANAGE_SUBSCRIPTION),
        }
    }

    /// What the definition lets it do, shortly ("does everything …", or each capability).
    pub fn summary(&self) -> String {
        let caps = self.capabilities();
        if caps.contains(&Capability::Everything) {
            return Capability::Everything.describe().to_string();
        }
        caps.iter().map(|c| c.describe()).collect::<Vec<_>>().join(", ")
    }

    /// The patterns, in any block's `actions` or `dataActions`, with a wildcard where the provider
    /// goes (`*`, `*/write`, `Microsoft.*/…`): each reaches every resource provider, or any of
    /// them, `Microsoft.Authorization` and providers not yet made included.
    pub fn provider_wildcards(&self) -> Vec<String> {
        let mut out = Vec::new();
        for b in &self.blocks {
            for (list, data) in [(&b.actions, false), (&b.data_actions, true)] {
                for x in list.iter().map(|x| x.trim()).filter(|x| x.split('/').next().is_some_and(|p| p.contains('*'))) {
                    let x = if data { format!("{x} (data)") } else { x.to_string() };
                    if !out.contains(&x) {
                        out.push(x);
                    }
                }
            }
        }
        out
    }

    /// Some capability at all.
    pub fn privileged(&self) -> bool {
        Capability::ALL.into_iter().any(|c| self.statically(c))
    }

    /// The actions that give the capability, as the role spells them (for messages).
    pub fn evidence(&self, c: Capability) -> Vec<String> {
        let probes: &[Probe] = match c {
            Capability::Everything => &EVERYTHING[..1],
            Capability::WriteRoleAssignments => &[a(WRITE_ROLE_ASSIGNMENTS)],
            Capability::WriteRoleDefinitions => &[a(WRITE_ROLE_DEFINITIONS)],
            Capability::SecretsAndKeys => SECRETS_AND_KEYS,
            Capability::RunCode => RUN_CODE,
            Capability::ManageSubscription => MANAGE_SUBSCRIPTION,
        };
        let mut out: Vec<String> = Vec::new();
        for p in probes {
            for b in self.granting(p.action, p.data) {
                let list = if p.data { &b.data_actions } else { &b.actions };
                for pat in list.iter().filter(|x| wildcard_match_ci(x.trim(), p.action)) {
                    if !out.contains(pat) {
                        out.push(pat.clone());
                    }
                }
            }
        }
        out
    }
}

/// Who is asking: the principal that holds the grant, and the principals it controls (groups it
/// belongs to, principals it owns) to which it may assign a role instead of itself.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'x> {
    pub id: &'x str,
    /// `User`, `Group`, `ServicePrincipal`, when known.
    pub kind: Option<&'x str>,
    pub controls: &'x [String],
}

/// What one assignment of a role lets its holder do.
#[derive(Debug)]
pub struct Grant<'r, 'a> {
    pub role: &'r Role<'a>,
    caps: Vec<(Capability, Truth)>,
}

impl Grant<'_, '_> {
    pub fn can(&self, c: Capability) -> Truth {
        self.caps.iter().find(|(x, _)| *x == c).map(|(_, t)| *t).unwrap_or(Truth::False)
    }

    /// Privileged at all: `True` when some capability is, `Unknown` when none is and some cannot be decided.
    pub fn privileged(&self) -> Truth {
        self.caps.iter().fold(Truth::False, |acc, (_, t)| acc.or(*t))
    }

    /// The capabilities that hold, in words ("writes role assignments, runs code as …").
    pub fn describe(&self, want: Truth) -> String {
        let v: Vec<&str> = self.caps.iter().filter(|(_, t)| *t == want).map(|(c, _)| c.describe()).collect();
        v.join(", ")
    }

    /// What it can do, shortly: "does everything …" for an owner, else each capability.
    pub fn summary(&self, want: Truth) -> String {
        if self.can(Capability::Everything) == want {
            return Capability::Everything.describe().to_string();
        }
        self.describe(want)
    }

    /// An owner: does everything, role assignments included.
    pub fn owner(&self) -> Truth {
        self.can(Capability::Everything)
    }

    /// An owner in effect: an [`Grant::owner`], or one that writes role assignments with nothing
    /// that stops it assigning privileged roles (a role of `*` less a lock or a policy write, User
    /// Access Administrator): either way it holds, or can give itself, the whole subscription.
    pub fn owner_in_effect(&self) -> Truth {
        self.owner().or(self.can(Capability::WriteRoleAssignments))
    }
}

/// The subscription's roles, by GUID.
pub struct AzureRbac<'a> {
    sub: &'a AzureSubscription,
    roles: BTreeMap<String, Role<'a>>,
    /// Why there are no definitions at all, when the dataset was not read.
    gap: Option<Missing>,
}

impl<'a> AzureRbac<'a> {
    pub fn new(sub: &'a AzureSubscription) -> Self {
        let (roles, gap) = match sub.role_definitions.require(Dataset::AzureRoleDefinitions) {
            Ok(defs) => (defs.iter().map(|d| (role_guid(&d.id), Role::new(d))).collect(), None),
            Err(m) => (BTreeMap::new(), Some(m)),
        };
        AzureRbac { sub, roles, gap }
    }

    /// The role by full id or GUID (any case); `Err` naming it when its definition was not read.
    pub fn role(&self, id: &str) -> Result<&Role<'a>, Missing> {
        let guid = role_guid(id);
        if let Some(r) = self.roles.get(&guid) {
            return Ok(r);
        }
        Err(match &self.gap {
            Some(m) => Missing { dataset: m.dataset, state: with_role(&m.state, &guid) },
            None => Missing {
                dataset: Dataset::AzureRoleDefinitions,
                state: CoverageState::Partial { missing: format!("the definition of role {guid} was not among those read") },
            },
        })
    }

    pub fn roles(&self) -> impl Iterator<Item = &Role<'a>> {
        self.roles.values()
    }

    /// The role's name for messages: `roleName` when read, else its id.
    pub fn name(&self, id: &str) -> String {
        self.role(id).map(|r| r.name().to_string()).unwrap_or_else(|_| format!("role {}", role_guid(id)))
    }

    /// Does a grant at `scope` cover the whole subscription (it, a management group, the root)?
    pub fn covers_subscription(&self, scope: &str) -> bool {
        let s = scope.trim_end_matches('/').to_ascii_lowercase();
        s.is_empty() || s.starts_with("/providers/microsoft.management/managementgroups/") || s == self.sub.scope().to_ascii_lowercase()
    }

    /// What holding `role_id` at `scope`, under the assignment's `condition`, lets `asker` do.
    pub fn grant<'r>(&'r self, role_id: &str, scope: &str, condition: Option<&str>, asker: Asker<'_>) -> Result<Grant<'r, 'a>, Missing> {
        let role = self.role(role_id)?;
        let assign = self.assign_truth(role, condition, asker);
        let caps = Capability::ALL
            .into_iter()
            .map(|c| {
                let t = match c {
                    Capability::WriteRoleAssignments => assign,
                    Capability::Everything => {
                        if role.statically(c) {
                            assign
                        } else {
                            Truth::False
                        }
                    }
                    Capability::ManageSubscription => bool_truth(role.statically(c) && self.covers_subscription(scope)),
                    _ => bool_truth(role.statically(c)),
                };
                (c, t)
            })
            .collect();
        Ok(Grant { role, caps })
    }

    /// May the holder of `role` (under the assignment's `condition`) assign `target` to itself or
    /// to a principal it controls? Each block that grants role-assignment writes is asked with
    /// its own condition and the assignment's, both of which must allow the request.
    pub fn may_assign(&self, role: &Role<'_>, condition: Option<&str>, asker: Asker<'_>, target: &str) -> Truth {
        let target = role_guid(target);
        let mut best = Truth::False;
        for b in role.granting(WRITE_ROLE_ASSIGNMENTS, false) {
            let conds: Vec<&str> = b.condition.as_deref().into_iter().chain(condition).collect();
            if conds.is_empty() {
                return Truth::True;
            }
            let mut who: Vec<(&str, Option<&str>)> = vec![(asker.id, asker.kind)];
            who.extend(asker.controls.iter().map(|c| (c.as_str(), Some("Group"))));
            let mut block = Truth::False;
            for (id, kind) in who {
                let req = AssignmentRequest { action: WRITE_ROLE_ASSIGNMENTS, role_definition_id: &target, principal_id: id, principal_type: kind };
                let t = conds.iter().fold(Truth::True, |acc, c| acc.and(allows(c, &req)));
                block = block.or(t);
            }
            best = best.or(block);
            if best == Truth::True {
                break;
            }
        }
        best
    }

    /// Role-assignment writes that matter: `True` when the holder may assign itself (or a
    /// principal it controls) some privileged role, `Unknown` when that cannot be decided.
    fn assign_truth(&self, role: &Role<'_>, condition: Option<&str>, asker: Asker<'_>) -> Truth {
        if !role.statically(Capability::WriteRoleAssignments) {
            return Truth::False;
        }
        let unconditioned = condition.is_none() && role.granting(WRITE_ROLE_ASSIGNMENTS, false).any(|b| b.condition.is_none());
        if unconditioned {
            return Truth::True;
        }
        let mut best = Truth::False;
        for t in self.roles.values().filter(|t| t.guid != role.guid && t.privileged()) {
            best = best.or(self.may_assign(role, condition, asker, &t.guid));
            if best == Truth::True {
                return best;
            }
        }
        // A role a condition names whose definition was not read may be privileged: if it is
        // assignable, whether this grant matters cannot be told.
        let named = role.granting(WRITE_ROLE_ASSIGNMENTS, false).filter_map(|b| b.condition.as_deref()).chain(condition).flat_map(guids_in);
        for g in named.filter(|g| !self.roles.contains_key(g)).collect::<Vec<_>>() {
            if self.may_assign(role, condition, asker, &g) != Truth::False {
                best = best.or(Truth::Unknown);
            }
        }
        best
    }

    /// Can a principal holding `held` (its grants over the whole subscription) make itself an
    /// owner? Chains: assign itself a role that does everything, or one that assigns or defines
    /// roles and go on from there; rewrite a custom role it holds or can assign itself (when its
    /// role-definition rights reach every scope the role is assignable at); create a role and
    /// assign it. `Missing` roles among `held` are the caller's to report first.
    pub fn escalation(&self, held: &[Held<'_>], asker: Asker<'_>, reach: &dyn Fn(&str, &str) -> Truth) -> Escalation {
        #[derive(Clone)]
        struct State {
            guid: String,
            scope: String,
            condition: Option<String>,
            truth: Truth,
            how: String,
            gained: bool,
        }
        let mut states: Vec<State> = held
            .iter()
            .filter_map(|h| {
                let r = self.role(h.role_id).ok()?;
                Some(State { guid: r.guid.clone(), scope: h.scope.to_string(), condition: h.condition.map(str::to_string), truth: Truth::True, how: h.how.clone(), gained: false })
            })
            .collect();
        // Roles worth gaining: owners, and roles that assign or define roles, and custom roles
        // (which a role-definition right can widen).
        let useful: Vec<&Role<'a>> = self
            .roles
            .values()
            .filter(|r| r.is_custom() || r.statically(Capability::Everything) || r.statically(Capability::WriteRoleAssignments) || r.statically(Capability::WriteRoleDefinitions))
            .collect();
        let mut out = Escalation::default();
        fn record(out: &mut Escalation, t: Truth, how: String) {
            let list = match t {
                Truth::True => &mut out.paths,
                Truth::Unknown => &mut out.undecided,
                Truth::False => return,
            };
            if !list.contains(&how) {
                list.push(how);
            }
        }
        // First every role it can gain by assigning (to a fixpoint), then what the roles it
        // holds or gains together can do.
        // Each role enters at most twice (undecided, then decided), so the search ends by itself
        // whatever the chain's length; the bound only guards a pathological inventory, and a
        // search it cuts short is undecided, never "cannot".
        const BOUND: usize = 8192;
        let mut i = 0;
        while i < states.len() {
            if states.len() >= BOUND {
                record(&mut out, Truth::Unknown, format!("the search of role-assignment chains stopped after {BOUND} steps"));
                break;
            }
            let s = states[i].clone();
            i += 1;
            let Ok(r) = self.role(&s.guid) else { continue };
            if (r.statically(Capability::Everything) && s.condition.is_none()) || !r.statically(Capability::WriteRoleAssignments) {
                continue;
            }
            for t in useful.iter().filter(|t| t.guid != s.guid) {
                let ok = s.truth.and(self.may_assign(r, s.condition.as_deref(), asker, &t.guid));
                if ok == Truth::False {
                    continue;
                }
                if let Some(prev) = states.iter().position(|x| x.guid == t.guid && x.condition.is_none()) {
                    if states[prev].truth == Truth::True || ok == Truth::Unknown {
                        continue;
                    }
                }
                states.push(State {
                    guid: t.guid.clone(),
                    scope: s.scope.clone(),
                    condition: None,
                    truth: ok,
                    how: format!("{}, then assigns itself {:?}", s.how, t.name()),
                    gained: true,
                });
            }
        }
        for s in &states {
            let Ok(r) = self.role(&s.guid) else { continue };
            // An owner by this state (a gained role carries no condition).
            if r.statically(Capability::Everything) && s.condition.is_none() {
                if s.gained {
                    record(&mut out, s.truth, format!("{}: it then does everything", s.how));
                }
                continue;
            }
            if !r.statically(Capability::WriteRoleDefinitions) {
                continue;
            }
            let define = match s.condition.as_deref() {
                None => Truth::True,
                Some(c) => allows(c, &AssignmentRequest { action: WRITE_ROLE_DEFINITIONS, role_definition_id: NEW_ROLE, principal_id: asker.id, principal_type: asker.kind }),
            };
            let define = s.truth.and(define);
            // Widen a custom role it holds or can gain.
            for c in &states {
                let Ok(cr) = self.role(&c.guid) else { continue };
                if !cr.is_custom() || cr.def.assignable_scopes.is_empty() || (c.gained && cr.statically(Capability::Everything)) {
                    continue;
                }
                let covered = cr.def.assignable_scopes.iter().fold(Truth::True, |acc, x| acc.and(reach(&s.scope, x)));
                let t = define.and(c.truth).and(covered);
                record(&mut out, t, format!("{}, then rewrites custom role {:?} to grant every action", chain(&s.how, &c.how), cr.name()));
            }
            // Create a role and assign it, through any assigning state.
            if define == Truth::False {
                continue;
            }
            for g in &states {
                let Ok(gr) = self.role(&g.guid) else { continue };
                // A gained owner is a chain of its own already.
                if !gr.statically(Capability::WriteRoleAssignments) || (g.gained && gr.statically(Capability::Everything)) {
                    continue;
                }
                let t = define.and(g.truth).and(self.may_assign(gr, g.condition.as_deref(), asker, NEW_ROLE));
                record(&mut out, t, format!("{}, then creates a custom role granting every action and assigns it to itself", chain(&s.how, &g.how)));
            }
        }
        // Shortest chains first.
        let steps = |p: &String| (p.matches(", then ").count(), !p.ends_with("does everything"));
        out.paths.sort_by_key(steps);
        out.undecided.sort_by_key(steps);
        out
    }
}

/// The GUIDs a condition names (lower-case).
fn guids_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|w| crate::inventory::azure::is_guid(w))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Two chains that both lead to a step, as one: the longer when one extends the other.
fn chain(a: &str, b: &str) -> String {
    if b.starts_with(a) {
        b.to_string()
    } else if a.starts_with(b) {
        a.to_string()
    } else {
        format!("{a}; and {b}")
    }
}

/// A grant a principal holds, for [`AzureRbac::escalation`].
pub struct Held<'x> {
    pub role_id: &'x str,
    pub scope: &'x str,
    pub condition: Option<&'x str>,
    /// "holds Owner at /subscriptions/…", for the chain's first step.
    pub how: String,
}

/// Chains that end in doing everything.
#[derive(Debug, Default)]
pub struct Escalation {
    pub paths: Vec<String>,
    /// Chains that hinge on a condition the evaluator cannot decide.
    pub undecided: Vec<String>,
}

fn bool_truth(b: bool) -> Truth {
    if b {
        Truth::True
    } else {
        Truth::False
    }
}

/// The dataset's own gap, said of one role.
fn with_role(state: &CoverageState, guid: &str) -> CoverageState {
    match state {
        CoverageState::Partial { missing } => CoverageState::Partial { missing: format!("{missing} (role {guid})") },
        other => other.clone(),
    }
}

/// The subscription's management-group path, root first, then the subscription itself
/// (lowercase); `None` when the tree was not read up to the root.
pub fn subscription_chain(t: &AzureTenant, sub: &AzureSubscription) -> Option<Vec<String>> {
    let mut chain = t.ancestors(&sub.subscription_id)?;
    chain.push(sub.scope());
    Some(chain.into_iter().map(|s| s.to_ascii_lowercase()).collect())
}

/// Does a write right at `at` (over the whole subscription) reach the assignable scope `a`?
pub fn covers(at: &str, a: &str, sub: &AzureSubscription, chain: Option<&[String]>) -> Truth {
    let at = at.trim_end_matches('/').to_ascii_lowercase();
    let a = a.trim_end_matches('/').to_ascii_lowercase();
    let under = |outer: &str, inner: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
    if at.is_empty() || under(&at, &a) || under(&sub.scope().to_ascii_lowercase(), &a) {
        return Truth::True;
    }
    match chain {
        // A management group on the subscription's path: reached when the right sits at it or above.
        Some(chain) if chain.contains(&a) => {
            let pos = |s: &str| chain.iter().position(|c| c == s);
            match (pos(&at), pos(&a)) {
                (Some(i), Some(j)) if i <= j => Truth::True,
                _ => Truth::False,
            }
        }
        _ if a.starts_with("/providers/microsoft.management/managementgroups/") => Truth::Unknown,
        _ => Truth::False,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Collected;
    use serde_json::json;

    const SUB: &str = "a1000000-0000-4000-8000-000000000001";
    const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    const KVDAA: &str = "8b54135c-b56d-4d72-a534-26097cfdc8d8";
    const KV_ADMIN: &str = "00482a5a-887f-4fb3-b363-3b7fe8e74483";
    const KV_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
    const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    const VM_CONTRIBUTOR: &str = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c";
    const ME: &str = "10000000-0000-4000-8000-0000000000aa";

    fn def(guid: &str, name: &str, kind: &str, blocks: serde_json::Value) -> serde_json::Value {
        json!({"id": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"), "role_name": name, "role_type": kind,
               "assignable_scopes": ["/"], "permission_blocks": blocks})
    }

    /// Built-in definitions as Azure publishes them (abridged where the rest does not matter).
    fn builtins() -> Vec<serde_json::Value> {
        let kv_roles = "00482a5a-887f-4fb3-b363-3b7fe8e74483, a4417e6f-fecd-4de8-b567-7b0420556985, 14b46e9e-c2b7-41b4-b07b-48a6ebf60603, e147488a-f6f5-4113-8e2d-b22465e65bf6, 12338af0-0e69-4776-bea7-57ae8d297424, 21090545-7ca7-4776-b22c-e363652d74d2, b86a8fe4-44ce-4948-aee5-eccb2c155cd7, 4633458b-17de-408a-b874-0445c86b69e6";
        vec![
            def(OWNER, "Owner", "BuiltInRole", json!([{"actions": ["*"]}])),
            def(READER, "Reader", "BuiltInRole", json!([{"actions": ["*/read"]}])),
            def(CONTRIBUTOR, "Contributor", "BuiltInRole", json!([{"actions": ["*"], "not_actions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Subscription/cancel/action"]}])),
            def(KVDAA, "Key Vault Data Access Administrator", "BuiltInRole", json!([{
                "actions": ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete", "Microsoft.Authorization/*/read", "Microsoft.KeyVault/vaults/*/read"],
                "condition": format!("((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals{{{kv_roles}}})) AND ((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/delete'}})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals{{{kv_roles}}}))")}])),
            def(KV_ADMIN, "Key Vault Administrator", "BuiltInRole", json!([{"actions": ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/vaults/*/read"], "data_actions": ["Microsoft.KeyVault/vaults/*"]}])),
            def(KV_SECRETS_USER, "Key Vault Secrets User", "BuiltInRole", json!([{"data_actions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]}])),
            def(VM_CONTRIBUTOR, "Virtual Machine Contributor", "BuiltInRole", json!([{"actions": ["Microsoft.Authorization/*/read", "Microsoft.Compute/virtualMachines/*", "Microsoft.Resources/deployments/*"]}])),
        ]
    }

    fn sub(extra: Vec<serde_json::Value>) -> AzureSubscription {
        let mut s = AzureSubscription::new(SUB);
        let defs: Vec<AzureRoleDefinition> = builtins().into_iter().chain(extra).map(|v| serde_json::from_value(v).unwrap()).collect();
        s.role_definitions = Collected::Collected(defs);
        s
    }

    fn me() -> Asker<'static> {
        Asker { id: ME, kind: Some("User"), controls: &[] }
    }

    fn at_sub() -> String {
        format!("/subscriptions/{SUB}")
    }

    #[test]
    fn a_built_in_role_outside_any_list_that_assigns_roles_is_privileged_by_its_definition() {
        let s = sub(vec![]);
        let m = AzureRbac::new(&s);
        // Key Vault Data Access Administrator: its block's condition lets it assign the Key Vault
        // roles, which reach secrets: a grant.
        let g = m.grant(KVDAA, &at_sub(), None, me()).unwrap();
        assert_eq!(g.can(Capability::WriteRoleAssignments), Truth::True);
        assert_eq!(g.privileged(), Truth::True);
        assert_eq!(g.role.name(), "Key Vault Data Access Administrator");
        // … but not Owner.
        assert_eq!(m.may_assign(g.role, None, me(), OWNER), Truth::False);
        assert_eq!(m.may_assign(g.role, None, me(), KV_ADMIN), Truth::True);
        // By full id, upper-case.
        let full = format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{}", KVDAA.to_uppercase());
        assert!(m.role(&full).is_ok());
    }

    #[test]
    fn each_capability_from_the_real_definitions() {
        let s = sub(vec![]);
        let m = AzureRbac::new(&s);
        let caps = |id: &str| m.role(id).unwrap().capabilities();
        assert_eq!(caps(OWNER), Capability::ALL.to_vec());
        assert_eq!(caps(READER), Vec::<Capability>::new());
        // Contributor: everything but access control, and not "everything".
        assert_eq!(caps(CONTRIBUTOR), vec![Capability::SecretsAndKeys, Capability::RunCode, Capability::ManageSubscription]);
        assert_eq!(caps(KV_SECRETS_USER), vec![Capability::SecretsAndKeys]);
        assert_eq!(caps(KV_ADMIN), vec![Capability::SecretsAndKeys]);
        assert_eq!(caps(VM_CONTRIBUTOR), vec![Capability::RunCode]);
        assert_eq!(m.role(VM_CONTRIBUTOR).unwrap().evidence(Capability::RunCode), ["Microsoft.Compute/virtualMachines/*"]);
    }

    #[test]
    fn privilege_in_a_second_block_in_data_actions_and_in_any_spelling() {
        let s = sub(vec![
            def("c1000000-0000-4000-8000-0000000000b2", "Second block", "CustomRole", json!([
                {"actions": ["microsoft.compute/*/read"]},
                {"actions": ["MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"]}])),
            def("c1000000-0000-4000-8000-0000000000d1", "Data only", "CustomRole", json!([
                {"actions": []},
                {"data_actions": ["microsoft.keyvault/Vaults/Keys/*"], "not_data_actions": ["Microsoft.KeyVault/vaults/keys/encrypt/action"]}])),
            def("c1000000-0000-4000-8000-0000000000e1", "Everything spelled out", "CustomRole", json!([
                {"actions": ["*/read", "*/WRITE", "*/Delete", "*/action"]}])),
            def("c1000000-0000-4000-8000-0000000000e2", "Taken back in its block", "CustomRole", json!([
                {"actions": ["*"], "not_actions": ["*/write"]}])),
            def("c1000000-0000-4000-8000-0000000000f1", "Runbooks", "CustomRole", json!([
                {"actions": ["Microsoft.Automation/automationAccounts/Runbooks/*"]}])),
        ]);
        let m = AzureRbac::new(&s);
        let g = m.grant("C1000000-0000-4000-8000-0000000000B2", &at_sub(), None, me()).unwrap();
        assert_eq!(g.can(Capability::WriteRoleAssignments), Truth::True);
        assert_eq!(m.role("c1000000-0000-4000-8000-0000000000d1").unwrap().capabilities(), vec![Capability::SecretsAndKeys]);
        assert!(m.role("c1000000-0000-4000-8000-0000000000e1").unwrap().statically(Capability::Everything));
        assert_eq!(m.role("c1000000-0000-4000-8000-0000000000e2").unwrap().capabilities(), vec![Capability::RunCode, Capability::ManageSubscription]);
        assert_eq!(m.role("c1000000-0000-4000-8000-0000000000f1").unwrap().capabilities(), vec![Capability::RunCode]);
    }

    #[test]
    fn managing_the_subscription_needs_a_grant_over_it() {
        let s = sub(vec![]);
        let m = AzureRbac::new(&s);
        assert_eq!(m.grant(CONTRIBUTOR, &at_sub(), None, me()).unwrap().can(Capability::ManageSubscription), Truth::True);
        assert_eq!(m.grant(CONTRIBUTOR, "/providers/Microsoft.Management/managementGroups/mg", None, me()).unwrap().can(Capability::ManageSubscription), Truth::True);
        assert_eq!(m.grant(CONTRIBUTOR, &format!("{}/resourceGroups/rg", at_sub()), None, me()).unwrap().can(Capability::ManageSubscription), Truth::False);
    }

    #[test]
    fn an_assignment_condition_is_three_valued() {
        let s = sub(vec![]);
        let m = AzureRbac::new(&s);
        // Everything but Owner: Contributor is still assignable, a grant.
        let except_owner = format!("((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals {{{OWNER}}}))");
        let g = m.grant(OWNER, &at_sub(), Some(&except_owner), me()).unwrap();
        assert_eq!(g.can(Capability::WriteRoleAssignments), Truth::True);
        // Only Reader: no privileged role is assignable.
        let only_reader = format!("((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{READER}}}))");
        let g = m.grant(OWNER, &at_sub(), Some(&only_reader), me()).unwrap();
        assert_eq!(g.can(Capability::WriteRoleAssignments), Truth::False);
        assert_eq!(g.owner(), Truth::False);
        assert_eq!(g.can(Capability::RunCode), Truth::True);
        // Unparsed: unknown, never false.
        let g = m.grant(OWNER, &at_sub(), Some("@Principal[x] Foo 'y'"), me()).unwrap();
        assert_eq!(g.can(Capability::WriteRoleAssignments), Truth::Unknown);
        assert_eq!(g.owner(), Truth::Unknown);
    }

    #[test]
    fn a_condition_that_names_a_role_not_read_is_undecided_not_refused() {
        // Only the Key Vault roles may be assigned, and none of them was read.
        let mut s = sub(vec![]);
        if let Collected::Collected(d) = &mut s.role_definitions {
            d.retain(|d| !d.role_name.starts_with("Key Vault") || d.role_name.contains("Access"));
        }
        let m = AzureRbac::new(&s);
        assert_eq!(m.grant(KVDAA, &at_sub(), None, me()).unwrap().can(Capability::WriteRoleAssignments), Truth::Unknown);
    }

    #[test]
    fn a_role_not_read_is_missing_and_named() {
        let s = sub(vec![]);
        let m = AzureRbac::new(&s);
        let e = m.grant("d0000000-0000-4000-8000-00000000dead", &at_sub(), None, me()).unwrap_err();
        assert_eq!(e.dataset, Dataset::AzureRoleDefinitions);
        assert!(e.to_string().contains("d0000000-0000-4000-8000-00000000dead"), "{e}");
        let mut unread = AzureSubscription::new(SUB);
        unread.role_definitions = Collected::Denied { action: "Microsoft.Authorization/roleDefinitions/read".into(), message: None };
        let m = AzureRbac::new(&unread);
        let e = m.role(OWNER).unwrap_err();
        assert!(matches!(e.state, CoverageState::Denied { .. }));
    }

    fn reach_all(_: &str, _: &str) -> Truth {
        Truth::True
    }

    #[test]
    fn two_steps_assign_a_role_that_defines_roles_then_widen_it() {
        let definer = "c2000000-0000-4000-8000-0000000000d0";
        let s = sub(vec![
            def("c2000000-0000-4000-8000-0000000000a0", "Delegated assigner", "CustomRole", json!([{"actions": ["Microsoft.Authorization/roleAssignments/write"],
                "condition": format!("((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{definer}, {READER}}}))")}])),
            json!({"id": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{definer}"), "role_name": "Role definer", "role_type": "CustomRole",
                   "assignable_scopes": [format!("/subscriptions/{SUB}")], "actions": ["Microsoft.Authorization/roleDefinitions/write"]}),
        ]);
        let m = AzureRbac::new(&s);
        let scope = at_sub();
        let held = [Held { role_id: "c2000000-0000-4000-8000-0000000000a0", scope: &scope, condition: None, how: "holds Delegated assigner".into() }];
        let e = m.escalation(&held, me(), &reach_all);
        assert!(e.paths.iter().any(|p| p.contains("assigns itself \"Role definer\"") && p.contains("rewrites custom role \"Role definer\"")), "{e:?}");
        assert!(e.undecided.is_empty(), "{e:?}");
        // The first step alone passes no check that asks for Owner: it cannot assign Owner.
        let g = m.role("c2000000-0000-4000-8000-0000000000a0").unwrap();
        assert_eq!(m.may_assign(g, None, me(), OWNER), Truth::False);
    }

    #[test]
    fn two_steps_define_a_role_then_assign_it_with_a_deny_list_condition() {
        let s = sub(vec![def("c3000000-0000-4000-8000-000000000001", "Access admin lite", "CustomRole", json!([{"actions": [
            "Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleDefinitions/write"]}]))]);
        let m = AzureRbac::new(&s);
        let scope = at_sub();
        // Every role read that does anything is refused: only a new one is left.
        let refused: Vec<String> = m.roles().filter(|r| r.privileged() || r.is_custom()).map(|r| r.guid().to_string()).collect();
        let cond = format!("((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals {{{}}}))", refused.join(", "));
        let held = [Held { role_id: "c3000000-0000-4000-8000-000000000001", scope: &scope, condition: Some(&cond), how: "holds Access admin lite".into() }];
        let e = m.escalation(&held, me(), &reach_all);
        assert!(e.paths.iter().any(|p| p.contains("creates a custom role")), "{e:?}");
        assert_eq!(m.grant("c3000000-0000-4000-8000-000000000001", &scope, Some(&cond), me()).unwrap().can(Capability::WriteRoleAssignments), Truth::False);
    }

    #[test]
    fn provider_wildcards_in_actions_and_data_actions() {
        let s = sub(vec![def("c5000000-0000-4000-8000-000000000001", "Wide", "CustomRole", json!([
            {"actions": ["Microsoft.Compute/*", "*/read"]},
            {"data_actions": ["Microsoft.*/vaults/secrets/*"]}]))]);
        let m = AzureRbac::new(&s);
        assert_eq!(m.role("c5000000-0000-4000-8000-000000000001").unwrap().provider_wildcards(), ["*/read", "Microsoft.*/vaults/secrets/* (data)"]);
        assert!(m.role(VM_CONTRIBUTOR).unwrap().provider_wildcards().is_empty());
    }

    #[test]
    fn a_group_the_holder_controls_is_a_target_too() {
        let group = "20000000-0000-4000-8000-0000000000f0".to_string();
        let cond = format!("((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})) OR (@Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {{{group}}}))");
        let s = sub(vec![]);
        let m = AzureRbac::new(&s);
        let rbac = sub(vec![def("c4000000-0000-4000-8000-000000000001", "Assigner", "CustomRole", json!([{"actions": ["Microsoft.Authorization/roleAssignments/write"]}]))]);
        let m2 = AzureRbac::new(&rbac);
        let r = m2.role("c4000000-0000-4000-8000-000000000001").unwrap();
        assert_eq!(m2.may_assign(r, Some(&cond), me(), OWNER), Truth::Unknown);
        let controls = [group];
        let in_group = Asker { id: ME, kind: Some("User"), controls: &controls };
        assert_eq!(m2.may_assign(r, Some(&cond), in_group, OWNER), Truth::True);
        drop(m);
    }
}
