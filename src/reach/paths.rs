//! The privilege-escalation catalogue: one data file per path in `checks/escalation/<cloud>/`,
//! embedded at build time. A path names the principal it acts on (its *subject*), what the actor
//! must be allowed to do (its *steps*), and what makes the result an administrator. The engine
//! ([`super::escalation`]) knows the subjects and step targets below; a new path built from them
//! is a data file and a fixture, not code.

use serde::Deserialize;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/escalation_paths.rs"));
}

/// One escalation path.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EscalationPath {
    pub id: String,
    /// The path's id in pathfinding.cloud's catalogue, where it has one.
    #[serde(default)]
    pub pathfinding: Option<String>,
    pub title: String,
    pub category: PathCategory,
    /// Which actors the path applies to.
    #[serde(default)]
    pub actor: ActorKind,
    pub subject: Subject,
    /// For `service-role`: the service principal the role must trust (`lambda.amazonaws.com`);
    /// `iam:PassRole` steps are asked with `iam:PassedToService` set to it.
    #[serde(default)]
    pub service: Option<String>,
    /// For `service-role`: the role must be in an instance profile (EC2).
    #[serde(default)]
    pub instance_profile: bool,
    /// For `role` and `user`: how the subject ends up an administrator.
    #[serde(default)]
    pub result: Option<Outcome>,
    /// For paths through an existing resource (a function, an instance, a stack): what must exist
    /// for the path to work, with `{role}` for the role's name. The inventory does not list those
    /// resources, so the finding states the condition.
    #[serde(default)]
    pub requires: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum PathCategory {
    /// The actor changes its own permissions.
    SelfEscalation,
    /// The actor gains the credentials or a session of another principal.
    PrincipalAccess,
    /// The actor passes a role to a new resource of a service and runs code as it.
    NewPassrole,
    /// The actor changes an existing resource that runs as a role.
    ExistingPassrole,
    /// The actor reads credentials it was not given.
    CredentialAccess,
}

impl PathCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            PathCategory::SelfEscalation => "self-escalation",
            PathCategory::PrincipalAccess => "principal-access",
            PathCategory::NewPassrole => "new-passrole",
            PathCategory::ExistingPassrole => "existing-passrole",
            PathCategory::CredentialAccess => "credential-access",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ActorKind {
    #[default]
    Any,
    User,
    Role,
}

/// The principal or policy a path acts on.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// The actor itself; the result is the actor with an administrator policy added.
    #[serde(rename = "self")]
    Itself,
    /// A group the actor (a user) is in; the result is the actor with an administrator policy.
    OwnGroup,
    /// A customer managed policy attached to the actor or its groups; same result.
    OwnPolicy,
    /// Any group of the account the actor could join; the result is the actor with the group's
    /// policies, which must make it an administrator.
    Group,
    /// Another user of the account (see `result`).
    User,
    /// Another role of the account (see `result`); not a service-linked role.
    Role,
    /// A role that is an administrator and trusts `service`.
    ServiceRole,
}

/// How a `user` or `role` subject ends up an administrator.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It is one already.
    AsIs,
    /// Once the path adds an administrator policy to it (its boundary and SCPs still apply).
    WithAddedPolicy,
}

/// One permission the actor needs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub action: String,
    pub on: Target,
    /// For `new` and `existing`: the resource's ARN, with `{partition}`, `{region}`, `{account}`
    /// and `{name}`; `*` for an action that takes no resource.
    #[serde(default)]
    pub resource: Option<String>,
    /// The request attaches an administrator policy: `iam:PolicyARN` is set to one.
    #[serde(default)]
    pub attaches_admin_policy: bool,
}

/// What a step's request is on.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// The subject (a user, group, role or policy ARN). `sts:AssumeRole` on a role subject is
    /// decided with the role's trust policy as its resource policy.
    Subject,
    /// A customer managed policy attached to the subject role.
    SubjectPolicy,
    /// The actor's own ARN.
    #[serde(rename = "self")]
    Itself,
    /// A resource the actor creates, named as it likes.
    New,
    /// A resource that exists already (see the path's `requires`).
    Existing,
}

/// Why the catalogue could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("checks/escalation/{cloud}/{id}.toml: {message}")]
pub struct CatalogueError {
    pub cloud: String,
    pub id: String,
    pub message: String,
}

impl EscalationPath {
    pub fn parse(cloud: &str, id: &str, text: &str) -> Result<EscalationPath, CatalogueError> {
        let e = |message: String| CatalogueError { cloud: cloud.to_string(), id: id.to_string(), message };
        let p: EscalationPath = toml::from_str(text).map_err(|x| e(x.to_string()))?;
        if p.id != id {
            return Err(e(format!("id {:?} does not match the file name", p.id)));
        }
        if p.steps.is_empty() {
            return Err(e("a path needs at least one step".into()));
        }
        match p.subject {
            Subject::ServiceRole if p.service.is_none() => return Err(e("a service-role subject needs `service`".into())),
            Subject::User | Subject::Role if p.result.is_none() => return Err(e("a user or role subject needs `result`".into())),
            _ => {}
        }
        if p.category == PathCategory::ExistingPassrole && p.requires.is_none() {
            return Err(e("an existing-passrole path needs `requires`".into()));
        }
        for s in &p.steps {
            if !s.action.contains(':') || s.action.contains('*') {
                return Err(e(format!("step action {:?} is not one service:Action", s.action)));
            }
            let templated = matches!(s.on, Target::New | Target::Existing);
            if templated != s.resource.is_some() {
                return Err(e(format!("step {}: `resource` is for `new` and `existing` targets, and they need it", s.action)));
            }
            if s.on == Target::SubjectPolicy && p.subject != Subject::Role {
                return Err(e(format!("step {}: `subject-policy` needs a role subject", s.action)));
            }
        }
        Ok(p)
    }

    /// The path's name: its steps' actions, joined with ` + `.
    pub fn actions(&self) -> String {
        self.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(" + ")
    }
}

/// Every path of `cloud`, in id order.
pub fn catalogue(cloud: &str) -> Result<Vec<EscalationPath>, CatalogueError> {
    embedded::FILES.iter().filter(|(c, _, _)| *c == cloud).map(|(c, id, text)| EscalationPath::parse(c, id, text)).collect()
}

/// The AWS catalogue, parsed once.
pub fn aws() -> Result<&'static [EscalationPath], CatalogueError> {
    static AWS: std::sync::OnceLock<Result<Vec<EscalationPath>, CatalogueError>> = std::sync::OnceLock::new();
    AWS.get_or_init(|| catalogue("aws")).as_ref().map(Vec::as_slice).map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_parses() {
        let paths = aws().expect("the AWS catalogue parses");
        assert!(paths.len() >= 40, "{} paths", paths.len());
    }

    #[test]
    fn malformed_paths_are_refused_with_their_file() {
        let bad = EscalationPath::parse("aws", "x-1", "id = \"x-2\"\ntitle = \"t\"\ncategory = \"self-escalation\"\nsubject = \"self\"\n[[steps]]\naction = \"iam:PutUserPolicy\"\non = \"self\"\n");
        assert_eq!(bad.unwrap_err().to_string(), "checks/escalation/aws/x-1.toml: id \"x-2\" does not match the file name");
        let bad = EscalationPath::parse("aws", "x-1", "id = \"x-1\"\ntitle = \"t\"\ncategory = \"new-passrole\"\nsubject = \"service-role\"\n[[steps]]\naction = \"iam:PassRole\"\non = \"subject\"\n");
        assert!(bad.unwrap_err().message.contains("needs `service`"));
        let bad = EscalationPath::parse("aws", "x-1", "id = \"x-1\"\ntitle = \"t\"\ncategory = \"self-escalation\"\nsubject = \"self\"\n[[steps]]\naction = \"iam:Put*\"\non = \"self\"\n");
        assert!(bad.unwrap_err().message.contains("not one service:Action"));
    }
}
