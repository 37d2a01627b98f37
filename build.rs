//! Embeds the privilege-escalation catalogue: every `checks/escalation/<cloud>/<id>.toml` becomes
//! an entry of `$OUT_DIR/escalation_paths.rs`, so a new path is a data file, not code.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks").join("escalation");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::from("/// (cloud, id, the path file's text), in file-name order.\npub static FILES: &[(&str, &str, &str)] = &[\n");
    let mut clouds: Vec<_> = std::fs::read_dir(&root).map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect()).unwrap_or_default();
    clouds.sort();
    for dir in clouds {
        let cloud = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let mut files: Vec<_> = std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect()).unwrap_or_default();
        files.sort();
        for f in files {
            let id = f.file_stem().and_then(|n| n.to_str()).unwrap_or_default();
            let _ = writeln!(out, "    ({cloud:?}, {id:?}, include_str!({:?})),", f.display().to_string());
        }
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("escalation_paths.rs");
    std::fs::write(dest, out).expect("write the escalation catalogue");
}
