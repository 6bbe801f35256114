//! `cargo xtask tidy`: the rules of STYLE.md that the compiler and clippy do not check.
//!
//! - every `.rs` file starts with a `//!` line saying what it is for;
//! - no file is longer than [`MAX_LINES`] unless a comment near its top says why
//!   (`// tidy: long-file <reason>`);
//! - library and demo code (`src/` of the otlp-* crates, outside test modules) calls no
//!   `.unwrap()` or `.expect(`; a case that truly cannot fail carries
//!   `// tidy: allow-unwrap <reason>` on its line or the line above;
//! - the command lines in the fenced shell blocks of README.md and otlp-examples/README.md are
//!   real: the packages, binaries, examples and xtask tasks they name exist, and every
//!   `--flag` they pass appears in the source of what they run.

mod readme;
mod source;

use std::fs;
use std::path::{Path, PathBuf};

/// The size a source file should stay under (STYLE.md: "split at ~400").
pub(crate) const MAX_LINES: usize = 400;

/// The READMEs whose shell blocks are checked.
const READMES: &[&str] = &["README.md", "otlp-examples/README.md"];

/// One broken rule, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Runs every rule over the workspace at `root`; fails listing each problem.
pub(crate) fn tidy(root: &Path) -> Result<(), String> {
    let mut files = Vec::new();
    collect_rust_files(root, root, &mut files)?;
    files.sort();
    let mut problems = Vec::new();
    for path in &files {
        let text =
            fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let relative = relative(root, path);
        problems.extend(source::check(&relative, &text));
    }
    for name in READMES {
        let path = root.join(name);
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        problems.extend(readme::check(root, name, &text));
    }
    if problems.is_empty() {
        println!(
            "xtask tidy: {} Rust files and {} READMEs follow the rules",
            files.len(),
            READMES.len()
        );
        return Ok(());
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    Err(format!(
        "tidy found {} problems (listed above)",
        problems.len()
    ))
}

/// The path of `path` under `root`, with `/` separators, as the rules and messages use it.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every `.rs` file under `dir`, leaving out build output and hidden folders.
fn collect_rust_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
        if kind.is_dir() {
            let skipped = name.starts_with('.')
                || name == "target"
                || name == "node_modules"
                || (dir == root.join("fuzz") && matches!(name.as_str(), "corpus" | "artifacts"));
            if !skipped {
                collect_rust_files(root, &path, out)?;
            }
        } else if kind.is_file() && name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}
