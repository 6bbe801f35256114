//! The READMEs' command lines are real: every `cargo run` in a fenced shell block names a
//! package, a binary or example and flags that exist, and every `cargo xtask` a task that does.

use std::fs;
use std::path::Path;

use super::Problem;

/// Every problem with the command lines of the README `name`, whose text is `text`.
pub(super) fn check(root: &Path, name: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (line, command) in shell_lines(text) {
        for message in check_command(root, &command) {
            problems.push(Problem {
                file: name.to_owned(),
                line,
                message,
            });
        }
    }
    problems
}

/// The lines of the fenced `sh`, `bash`, `shell` and `console` blocks, with their line
/// numbers, continuation lines joined and trailing `# comments` and `&` removed.
fn shell_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_shell = false;
    let mut in_other = false;
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            if in_shell || in_other {
                (in_shell, in_other) = (false, false);
            } else if matches!(info.trim(), "sh" | "bash" | "shell" | "console") {
                in_shell = true;
            } else {
                in_other = true;
            }
            continue;
        }
        if !in_shell {
            continue;
        }
        let code = trimmed.trim_start_matches("$ ");
        let code = match code.find(" #") {
            Some(at) => &code[..at],
            None => code,
        };
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        joined.push_str(code.trim_end_matches('\\').trim());
        joined.push(' ');
        if code.ends_with('\\') {
            pending = Some((start, joined));
        } else {
            out.push((start, joined.trim().trim_end_matches('&').trim().to_owned()));
        }
    }
    out
}

/// What is wrong with one command line.
fn check_command(root: &Path, command: &str) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let Some(at) = words.windows(2).position(|w| w[0] == "cargo") else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    // Files handed over in `VAR=path` assignments before the command must exist.
    for word in &words[..at] {
        if let Some((_, value)) = word.split_once('=') {
            let is_file = [".yaml", ".yml", ".json", ".toml"]
                .iter()
                .any(|ext| value.ends_with(ext));
            if is_file && !value.contains("://") && !root.join(value).is_file() {
                problems.push(format!("`{word}`: there is no file {value}"));
            }
        }
    }
    let (own, passed) = split_at_separator(&words[at + 1..]);
    match own.first().copied() {
        Some("run") => check_run(root, &own[1..], &passed, &mut problems),
        Some("xtask") => check_xtask(root, &own[1..], &mut problems),
        _ => {}
    }
    problems
}

/// Cargo's own arguments, and those after `--` that go to the program.
fn split_at_separator<'a>(words: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    match words.iter().position(|w| *w == "--") {
        Some(at) => (words[..at].to_vec(), words[at + 1..].to_vec()),
        None => (words.to_vec(), Vec::new()),
    }
}

/// The value after `flag` (`--bin X`, `-p X`).
fn value_of<'a>(words: &[&'a str], flags: &[&str]) -> Option<&'a str> {
    words
        .windows(2)
        .find(|w| flags.contains(&w[0]))
        .map(|w| w[1])
}

fn check_run(root: &Path, own: &[&str], passed: &[&str], problems: &mut Vec<String>) {
    let Some(package) = value_of(own, &["-p", "--package"]) else {
        problems.push("`cargo run` without `-p <package>`: say which crate runs".to_owned());
        return;
    };
    let crate_dir = root.join(package);
    if !crate_dir.join("Cargo.toml").is_file() {
        problems.push(format!("`-p {package}`: there is no crate {package}"));
        return;
    }
    let target = if let Some(bin) = value_of(own, &["--bin"]) {
        let file = crate_dir.join("src/bin").join(format!("{bin}.rs"));
        let folder = crate_dir.join("src/bin").join(bin).join("main.rs");
        [file, folder]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or(format!(
                "`--bin {bin}`: {package} has no binary {bin} (src/bin/{bin}.rs)"
            ))
    } else if let Some(example) = value_of(own, &["--example"]) {
        let file = crate_dir.join("examples").join(format!("{example}.rs"));
        Some(file).filter(|p| p.is_file()).ok_or(format!(
            "`--example {example}`: {package} has no example {example} (examples/{example}.rs)"
        ))
    } else {
        return;
    };
    let target = match target {
        Ok(target) => target,
        Err(message) => {
            problems.push(message);
            return;
        }
    };
    // A flag counts as real when the program's own file, or the crate's library code it
    // shares (its command-line parser), names it: as "--flag", or as the option name "flag".
    let mut sources = fs::read_to_string(&target).unwrap_or_default();
    let mut shared = Vec::new();
    collect(&crate_dir.join("src"), &mut shared);
    for path in shared
        .iter()
        .filter(|p| !p.starts_with(crate_dir.join("src/bin")))
    {
        sources.push_str(&fs::read_to_string(path).unwrap_or_default());
    }
    for word in passed.iter().filter(|w| w.starts_with("--")) {
        let flag = word.split('=').next().unwrap_or(word);
        let name = &flag[2..];
        if !sources.contains(&format!("\"{flag}\"")) && !sources.contains(&format!("\"{name}\"")) {
            problems.push(format!(
                "`{flag}`: {} does not read this flag",
                target.strip_prefix(root).unwrap_or(&target).display()
            ));
        }
    }
}

fn check_xtask(root: &Path, own: &[&str], problems: &mut Vec<String>) {
    let Some(task) = own.first() else {
        return;
    };
    if !crate::TASKS.iter().any(|(name, _)| name == task) {
        problems.push(format!("`cargo xtask {task}`: xtask has no task {task}"));
        return;
    }
    let mut sources = String::new();
    let mut files = Vec::new();
    collect(&root.join("xtask/src"), &mut files);
    for path in files {
        sources.push_str(&fs::read_to_string(path).unwrap_or_default());
    }
    for flag in own[1..].iter().filter(|w| w.starts_with("--")) {
        if !sources.contains(&format!("\"{flag}\"")) {
            problems.push(format!(
                "`cargo xtask {task} {flag}`: xtask does not read {flag}"
            ));
        }
    }
}

/// Every `.rs` file under `dir`.
fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_blocks_are_read_line_by_line() {
        let text = "text\n```sh\ncargo run -p a --bin b   # a comment\ncargo run -p a \\\n  --bin c &\n```\n```rust\ncargo run -p x\n```\n";
        assert_eq!(
            shell_lines(text),
            vec![
                (3, "cargo run -p a --bin b".to_owned()),
                (4, "cargo run -p a --bin c".to_owned())
            ]
        );
    }

    /// The workspace itself is the fixture: its demos and tasks are real.
    fn root() -> std::path::PathBuf {
        crate::workspace_root()
    }

    #[test]
    fn real_commands_pass_and_made_up_ones_fail() {
        let root = root();
        let ok = [
            "cargo run -p otlp-examples --bin receiver -- --ui 127.0.0.1:16686",
            "cargo run -p otlp-examples --bin microservices -- --quick",
            "OTEL_CONFIG_FILE=otlp-examples/config/otel-sdk-config.yaml cargo run -p otlp-examples --bin reliability -- --print-config",
            "cargo xtask bench --quick",
            "cargo xtask ci",
        ];
        for command in ok {
            assert_eq!(
                check_command(&root, command),
                Vec::<String>::new(),
                "{command}"
            );
        }
        let bad = [
            ("cargo run -p otlp-examples --bin no_such_demo", "has no binary no_such_demo"),
            ("cargo run -p otlp-examples --bin receiver -- --no-such-flag", "does not read this flag"),
            ("cargo run -p otlp-nothing --bin receiver", "there is no crate otlp-nothing"),
            ("cargo run --bin receiver", "without `-p <package>`"),
            ("cargo xtask release", "has no task release"),
            ("cargo xtask bench --fastest", "does not read --fastest"),
            ("OTEL_CONFIG_FILE=otlp-examples/config/missing.yaml cargo run -p otlp-examples --bin reliability", "there is no file"),
        ];
        for (command, expected) in bad {
            let found = check_command(&root, command);
            assert!(
                found.iter().any(|m| m.contains(expected)),
                "{command}: {found:?}"
            );
        }
    }
}
