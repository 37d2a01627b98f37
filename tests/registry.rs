//! Code, metadata, fixtures and docs must not drift apart.

use std::collections::BTreeSet;
use std::path::Path;

use portcullis::checks::{self, catalogue, REGISTRY};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stems(dir: &Path, ext: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .filter(|s| s != "mod")
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn metadata_code_and_registry_agree() {
    let all = checks::all().expect("every metadata file parses and validates");
    let registered: BTreeSet<String> = REGISTRY.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(registered.len(), REGISTRY.len(), "a check is registered twice");
    for cloud in ["aws", "azure", "gcp"] {
        let meta = stems(&root().join("checks").join(cloud), "toml");
        // Check modules are named after their id; shared helpers (mod.rs, scp.rs, …) are not.
        let code: BTreeSet<String> = stems(&root().join("src/checks").join(cloud), "rs").into_iter().filter(|s| s.starts_with(&format!("{cloud}_"))).collect();
        let fixtures: BTreeSet<String> = std::fs::read_dir(root().join("fixtures/checks").join(cloud))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let reg: BTreeSet<String> = all.iter().filter(|c| c.meta.cloud.as_str() == cloud).map(|c| c.meta.id.clone()).collect();
        assert_eq!(meta, reg, "{cloud}: checks/{cloud}/*.toml vs registry");
        assert_eq!(code, reg, "{cloud}: src/checks/{cloud}/*.rs vs registry");
        assert_eq!(fixtures, reg, "{cloud}: fixtures/checks/{cloud}/* vs registry");
    }
    for c in all {
        assert_eq!(c.meta.resource_type.split('_').next(), Some(c.meta.cloud.as_str()), "{}: resource_type", c.meta.id);
        for p in c.meta.params.keys() {
            assert!(c.params.contains(&p.as_str()), "{}: metadata declares {p} but the code never reads it", c.meta.id);
        }
    }
}

#[test]
fn checks_catalogue_is_current() {
    let want = catalogue::markdown(checks::all().unwrap());
    let path = root().join("docs/checks.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/checks.md is stale: run `UPDATE_DOCS=1 cargo test --test registry`");
}

#[test]
fn fix_templates_on_disk_are_the_registered_ones() {
    let mut on_disk = BTreeSet::new();
    for cloud in ["aws", "azure", "gcp"] {
        for stem in stems(&root().join("templates/fixes").join(cloud), "j2") {
            // `<name>.json.j2` → `<cloud>/<name>`, with its `<name>.toml` beside it.
            let name = stem.split('.').next().unwrap().to_string();
            assert!(root().join("templates/fixes").join(cloud).join(format!("{name}.toml")).exists(), "{cloud}/{name}: no .toml");
            on_disk.insert(format!("{cloud}/{name}"));
        }
    }
    let registered: BTreeSet<String> = portcullis::fix::template_names().map(str::to_string).collect();
    assert_eq!(on_disk, registered, "templates/fixes vs src/fix/mod.rs TEMPLATES");
    portcullis::fix::validate_names(checks::all().unwrap()).unwrap();
}
