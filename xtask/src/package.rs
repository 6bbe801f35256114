//! `cargo xtask package`: each library crate as a registry would get it, without upload.
//!
//! `cargo package` makes the five `.crate` files together, so cargo orders them by dependency
//! and resolves each crate's otlp-* dependencies against the ones it has just packaged. It
//! runs with `--no-verify`: a verify build compiles each crate's whole dependency tree again
//! outside the workspace (tens of minutes on 2 cores). What a verify build would catch that
//! the workspace build does not is a file the crate reads that is not in its package; this
//! task checks that directly, for every `include_str!`, `include_bytes!` and `#[path]` in the
//! packaged library sources (`src/`, `build.rs`; tests may read the workspace's files). Then it checks that `otlp-reliability` alone, as the README suggests
//! depending on it, pulls in no HTTP server, no transport and no other otlp-* crate.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::{cargo, target_dir, workspace_root};

/// The library crates, in dependency order.
pub(crate) const LIBRARIES: &[&str] = &[
    "otlp-core",
    "otlp-transport",
    "otlp-batch",
    "otlp-reliability",
    "otlp-exporters",
];

/// Crates that must not be in `otlp-reliability`'s normal dependency tree.
const NOT_UNDER_RELIABILITY: &[&str] = &[
    "axum",
    "hyper-util",
    "tonic",
    "reqwest",
    "otlp-transport",
    "otlp-batch",
    "otlp-exporters",
];

pub(crate) fn package() -> Result<(), String> {
    let root = workspace_root();
    let mut args = vec!["package", "--no-verify", "--allow-dirty", "--quiet"];
    for name in LIBRARIES {
        args.extend(["-p", name]);
    }
    println!("xtask package: cargo {}", args.join(" "));
    let status = Command::new(cargo())
        .args(&args)
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot start cargo package: {e}"))?;
    if !status.success() {
        return Err(format!("cargo package failed ({status})"));
    }
    let packages = target_dir(&root).join("package");
    for name in LIBRARIES {
        let listed = package_files(&root, name)?;
        check_included_files(name, &listed, &root.join(name))?;
        println!(
            "xtask package: {name}: {} files in {}",
            listed.len(),
            packages.display()
        );
    }
    reliability_alone(&root)
}

/// The files `cargo package --list` puts in the crate `name`.
fn package_files(root: &Path, name: &str) -> Result<BTreeSet<String>, String> {
    let output = Command::new(cargo())
        .args(["package", "--list", "--allow-dirty", "-p", name])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot start cargo package --list: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo package --list -p {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// Every file a packaged source includes, and the README, must be in the package.
fn check_included_files(name: &str, listed: &BTreeSet<String>, dir: &Path) -> Result<(), String> {
    let mut missing = Vec::new();
    if !listed.contains("README.md") {
        missing.push("README.md (the `readme` of its Cargo.toml)".to_owned());
    }
    // What a verify build compiles: the library, its binaries and its build script.
    let built = |f: &&String| f.ends_with(".rs") && (f.starts_with("src/") || *f == "build.rs");
    for file in listed.iter().filter(built) {
        let text = fs::read_to_string(dir.join(file)).unwrap_or_default();
        for included in included_paths(&text) {
            let Some(folder) = Path::new(file).parent() else {
                continue;
            };
            let resolved = normalize(&folder.join(&included));
            if !listed.contains(&resolved) {
                missing.push(format!("{resolved} (read by {file})"));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the {name} package lacks files its sources need: {}",
            missing.join(", ")
        ))
    }
}

/// The literal paths in `include_str!("..")`, `include_bytes!("..")` and `#[path = ".."]`.
fn included_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for opener in ["include_str!(\"", "include_bytes!(\"", "#[path = \""] {
        let mut rest = text;
        while let Some(at) = rest.find(opener) {
            rest = &rest[at + opener.len()..];
            if let Some(end) = rest.find('"') {
                paths.push(rest[..end].to_owned());
            }
        }
    }
    paths
}

/// `a/b/../c` as `a/c`, with `/` separators, as `cargo package --list` writes paths.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                // Leaving the crate's folder shows as a path that no listed file has.
                if parts.pop().is_none() {
                    parts.push("..".to_owned());
                }
            }
            std::path::Component::CurDir => {}
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// `otlp-reliability` with its default features pulls in none of [`NOT_UNDER_RELIABILITY`].
fn reliability_alone(root: &Path) -> Result<(), String> {
    let output = Command::new(cargo())
        .args([
            "tree",
            "-p",
            "otlp-reliability",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot start cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree -p otlp-reliability failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let names: BTreeSet<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    let pulled: Vec<&str> = NOT_UNDER_RELIABILITY
        .iter()
        .copied()
        .filter(|name| names.contains(name))
        .collect();
    if !pulled.is_empty() {
        return Err(format!(
            "otlp-reliability alone pulls in {}: the README says it does not",
            pulled.join(", ")
        ));
    }
    println!(
        "xtask package: otlp-reliability alone: {} crates, none of {}",
        names.len(),
        NOT_UNDER_RELIABILITY.join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn included_paths_are_found_and_resolved_inside_the_crate() {
        let text = "const A: &str = include_str!(\"page/index.html\");\n\
                    #[path = \"../shared.rs\"] mod shared;\n\
                    static B: &[u8] = include_bytes!(\"../../outside.bin\");";
        assert_eq!(
            included_paths(text),
            vec!["page/index.html", "../../outside.bin", "../shared.rs"]
        );
        assert_eq!(
            normalize(Path::new("src/viewer/page/index.html")),
            "src/viewer/page/index.html"
        );
        assert_eq!(
            normalize(Path::new("src/viewer/../shared.rs")),
            "src/shared.rs"
        );
        assert_eq!(
            normalize(Path::new("src/../../outside.bin")),
            "../outside.bin"
        );
    }

    #[test]
    fn a_file_outside_the_package_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-package-{}", std::process::id()));
        fs::create_dir_all(dir.join("src")).ok();
        fs::write(
            dir.join("src/lib.rs"),
            "//! A.\nconst A: &str = include_str!(\"../../x.txt\");\n",
        )
        .ok();
        let listed: BTreeSet<String> = ["README.md", "src/lib.rs"].map(String::from).into();
        let error = check_included_files("demo", &listed, &dir).unwrap_err();
        assert!(error.contains("../x.txt (read by src/lib.rs)"), "{error}");
        let no_readme: BTreeSet<String> = ["src/lib.rs".to_owned()].into();
        fs::write(dir.join("src/lib.rs"), "//! A.\n").ok();
        let error = check_included_files("demo", &no_readme, &dir).unwrap_err();
        assert!(error.contains("README.md"), "{error}");
        fs::remove_dir_all(&dir).ok();
    }
}
