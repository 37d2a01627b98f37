//! The blast radius of one principal ([`crate::reach::blast`]) as JSON, text and a self-contained
//! HTML page (minijinja, autoescaped, control and bidi characters made visible, no script, and a
//! Content-Security-Policy that admits only its own style).

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::table::sanitize;
use crate::reach::blast::BlastRadius;

const TEMPLATE: &str = include_str!("../../templates/blast-radius/page.html.j2");
const STYLE: &str = include_str!("../../templates/blast-radius/page.css");

/// `portcullis.blast-radius/v1`.
pub fn json(b: &BlastRadius) -> serde_json::Value {
    let mut v = serde_json::to_value(b).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("schema".into(), "portcullis.blast-radius/v1".into());
    }
    v
}

/// Where the principal lives, in its cloud's words.
fn home(b: &BlastRadius) -> String {
    match b.cloud {
        "azure" => format!("tenant {}", b.account),
        _ => b.account.clone(),
    }
}

/// The terminal summary.
pub fn text(b: &BlastRadius) -> String {
    let mut s = format!("Blast radius of {} ({} in {})\n", sanitize(&b.principal), b.kind, sanitize(&home(b)));
    if !b.names.is_empty() {
        s.push_str(&format!("  also: {}\n", b.names.iter().map(|n| sanitize(n)).collect::<Vec<_>>().join("; ")));
    }
    s.push_str(&format!("  administrator: {}\n  escalation: {}\n", b.administrator, sanitize(&b.escalation_summary)));
    if b.cloud != "aws" {
        s.push_str(&format!("  holds: {}\n", b.holds.len()));
        for h in b.holds.iter().take(40) {
            let mut how = String::new();
            if h.state == "eligible" {
                how.push_str(" [eligible]");
            }
            if let Some(g) = &h.via_group {
                how.push_str(&format!(" through group {}", sanitize(g)));
            }
            if let Some(m) = &h.via_member {
                how.push_str(&format!(" as {}", sanitize(m)));
            }
            if let Some(c) = &h.condition {
                how.push_str(&format!(" if {}", sanitize(c)));
            }
            s.push_str(&format!("    {} at {}{how}: {}\n", sanitize(&h.role), sanitize(&h.scope), sanitize(&h.capabilities.join(", "))));
        }
        if b.holds.len() > 40 {
            s.push_str(&format!("    … and {} more\n", b.holds.len() - 40));
        }
    }
    let mut by_risk: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    for p in &b.permissions {
        let mark = match p.decision.as_str() {
            "allowed" => "",
            "undecided" => " (undecided)",
            _ => " (some resources)",
        };
        let mark = match p.decision.as_str() {
            "on activation" => " (on activation)",
            _ => mark,
        };
        by_risk.entry(p.risk).or_default().push(format!("{}{mark}", sanitize(&p.action)));
    }
    for (risk, actions) in by_risk {
        s.push_str(&format!("  {risk}: {}\n", actions.join(", ")));
    }
    if b.cloud == "aws" {
        s.push_str(&format!("  roles it can assume: {}\n", b.assumable_roles.len()));
    }
    for r in b.assumable_roles.iter().take(20) {
        let via = if r.via.is_empty() { String::new() } else { format!(" through {}", r.via.iter().map(|v| sanitize(v)).collect::<Vec<_>>().join(" → ")) };
        s.push_str(&format!("    {} ({}, administrator: {}){via}\n", sanitize(&r.role), r.decision, r.administrator));
    }
    if b.assumable_roles.len() > 20 {
        s.push_str(&format!("    … and {} more\n", b.assumable_roles.len() - 20));
    }
    if b.cloud != "aws" || !b.identities.is_empty() {
        s.push_str(&format!("  identities it can become: {}\n", b.identities.len()));
        for i in b.identities.iter().take(30) {
            let via = if i.via.is_empty() { String::new() } else { format!(" through {}", i.via.iter().map(|v| sanitize(v)).collect::<Vec<_>>().join(" → ")) };
            s.push_str(&format!("    {} [{}] ({}, administrator: {}){via}: {}\n", sanitize(&i.identity), i.kind, i.decision, i.administrator, sanitize(&i.how)));
        }
        if b.identities.len() > 30 {
            s.push_str(&format!("    … and {} more\n", b.identities.len() - 30));
        }
    }
    if !b.gaps.is_empty() {
        s.push_str(&format!("  incomplete: {}\n", b.gaps.iter().map(|g| sanitize(g)).collect::<Vec<_>>().join("; ")));
    }
    s
}

/// The HTML page.
pub fn html(b: &BlastRadius) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(s) if !value.is_safe() => minijinja::escape_formatter(out, state, &minijinja::Value::from(sanitize(s))),
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.add_template("page.html.j2", TEMPLATE)?;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    #[derive(serde::Serialize)]
    struct Page<'a> {
        b: &'a BlastRadius,
        style: &'static str,
        style_hash: String,
        version: &'static str,
    }
    env.get_template("page.html.j2")?.render(minijinja::value::Serde(&Page { b, style: STYLE, style_hash: hash, version: env!("CARGO_PKG_VERSION") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped_and_the_page_runs_no_script() {
        let inv = crate::demo::inventory().expect("demo");
        let catalogue = crate::reach::paths::aws().expect("catalogue");
        let mut b = crate::reach::blast::blast_radius(&inv.aws, "arn:aws:iam::111122223333:user/alice", catalogue).expect("alice");
        b.gaps.push("policy <img src=x onerror=alert(1)>\u{202e}".into());
        let page = html(&b).expect("renders");
        assert!(!page.contains("<img"), "escaped");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!page.contains('\u{202e}'), "bidi override made visible");
        assert!(!page.contains("<script"));
        assert!(page.contains("default-src 'none'"));
        let j = json(&b);
        assert_eq!(j["schema"], "portcullis.blast-radius/v1");
        assert_eq!(j["administrator"], "yes");
    }
}
