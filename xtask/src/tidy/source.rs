//! The rules for one Rust source file: its `//!` line, its length, and no `unwrap`/`expect`
//! in library and demo code.

use super::{Problem, MAX_LINES};

/// The marker that lets a file run past [`MAX_LINES`]; a reason must follow it.
const LONG_FILE: &str = "// tidy: long-file";
/// The marker for an `unwrap`/`expect` that cannot fail; a reason must follow it.
const ALLOW_UNWRAP: &str = "// tidy: allow-unwrap";
/// How far from the top the long-file marker may sit.
const MARKER_WITHIN: usize = 15;

/// Every rule the file at `path` (relative to the workspace root) breaks.
pub(super) fn check(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let problem = |line: usize, message: String| Problem {
        file: path.to_owned(),
        line,
        message,
    };
    let lines: Vec<&str> = text.lines().collect();
    if !lines.first().is_some_and(|l| l.starts_with("//!")) {
        problems.push(problem(
            1,
            "does not start with a `//!` line saying what the file is for".to_owned(),
        ));
    }
    if lines.len() > MAX_LINES {
        match lines.iter().take(MARKER_WITHIN).find_map(|l| marker(l, LONG_FILE)) {
            Some(reason) if !reason.is_empty() => {}
            Some(_) => problems.push(problem(
                1,
                format!("`{LONG_FILE}` needs a reason after it"),
            )),
            None => problems.push(problem(
                1,
                format!(
                    "{} lines, over the limit of {MAX_LINES}: split it along its ideas, or say \
                     why not in a `{LONG_FILE} <reason>` comment in its first {MARKER_WITHIN} lines",
                    lines.len()
                ),
            )),
        }
    }
    if holds_library_code(path) {
        problems.extend(
            unwraps(&lines)
                .into_iter()
                .map(|(line, message)| problem(line, message)),
        );
    }
    problems
}

/// What follows `marker` in a comment on `line`, trimmed.
fn marker<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|at| line[at + marker.len()..].trim())
}

/// Whether the rule against `unwrap`/`expect` applies: the `src/` of a workspace crate, not its
/// tests, benches or examples, nor xtask, the fuzz targets or build scripts.
fn holds_library_code(path: &str) -> bool {
    let mut parts = path.split('/');
    let (Some(krate), Some(folder)) = (parts.next(), parts.next()) else {
        return false;
    };
    krate.starts_with("otlp-") && folder == "src" && !path.ends_with("/build.rs")
}

/// The `.unwrap()` and `.expect(` calls outside comments and the file's test module, each
/// with the line it is on, unless the line or the one above carries the allow marker.
fn unwraps(lines: &[&str]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]")
            && lines[index + 1..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_start().starts_with("mod "))
        {
            // Unit tests sit at the bottom of the file they test.
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        let call = if code.contains(".unwrap()") {
            "unwrap()"
        } else if code.contains(".expect(") {
            "expect(..)"
        } else {
            continue;
        };
        let allowed = |l: &str| marker(l, ALLOW_UNWRAP).is_some_and(|reason| !reason.is_empty());
        if allowed(line) || (index > 0 && allowed(lines[index - 1])) {
            continue;
        }
        found.push((
            index + 1,
            format!(
                "`.{call}` in library code: return the error, or, where it truly cannot fail, \
                 say why with `{ALLOW_UNWRAP} <reason>`"
            ),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(path: &str, text: &str) -> Vec<String> {
        check(path, text)
            .into_iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect()
    }

    #[test]
    fn a_file_must_open_with_its_purpose() {
        assert!(messages("otlp-core/src/a.rs", "//! Does a.\nfn a() {}\n").is_empty());
        let found = messages("otlp-core/src/a.rs", "// Does a.\nfn a() {}\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("1: does not start with a `//!` line"));
        assert_eq!(messages("otlp-core/src/empty.rs", "").len(), 1);
    }

    #[test]
    fn a_long_file_must_say_why() {
        let body = "fn f() {}\n".repeat(MAX_LINES);
        let long = format!("//! Long.\n{body}");
        assert!(messages("xtask/src/a.rs", &long)[0].contains("over the limit of 400"));
        let why =
            format!("//! Long.\n// tidy: long-file one table of cases, read top to bottom\n{body}");
        assert!(messages("xtask/src/a.rs", &why).is_empty());
        let no_reason = format!("//! Long.\n// tidy: long-file\n{body}");
        assert!(messages("xtask/src/a.rs", &no_reason)[0].contains("needs a reason"));
        let exactly = format!("//! At the limit.\n{}", "fn f() {}\n".repeat(MAX_LINES - 1));
        assert!(messages("xtask/src/a.rs", &exactly).is_empty());
    }

    #[test]
    fn library_code_does_not_unwrap() {
        let text = "//! A.\nfn a() {\n    let x = y.unwrap();\n    let z = w\n        .expect(\"set\");\n}\n";
        let found = messages("otlp-batch/src/queue.rs", text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("3: `.unwrap()`"), "{found:?}");
        assert!(found[1].starts_with("5: `.expect(..)`"), "{found:?}");
        // Tests, benches, examples, xtask, the fuzz targets and build scripts may.
        for path in [
            "otlp-batch/tests/a.rs",
            "otlp-exporters/benches/a.rs",
            "otlp-batch/examples/a.rs",
            "xtask/src/a.rs",
            "fuzz/fuzz_targets/a.rs",
            "otlp-core/build.rs",
        ] {
            assert!(messages(path, text).is_empty(), "{path}");
        }
    }

    #[test]
    fn comments_test_modules_and_justified_cases_are_left_alone() {
        let text = "//! A.\n\
            /// let a = b.unwrap();\n\
            fn a() {\n\
            \x20   let a = b.unwrap_or(0); // not .unwrap() itself\n\
            \x20   let c = d.expect(\"bounds\"); // tidy: allow-unwrap constant, valid bounds\n\
            \x20   // tidy: allow-unwrap the pattern is a literal\n\
            \x20   let e = f.unwrap();\n\
            }\n\
            #[cfg(test)]\n\
            mod tests {\n\
            \x20   fn t() { x.unwrap(); }\n\
            }\n";
        assert!(
            messages("otlp-core/src/a.rs", text).is_empty(),
            "{:?}",
            messages("otlp-core/src/a.rs", text)
        );
        let no_reason = "//! A.\nfn a() { b.unwrap(); } // tidy: allow-unwrap\n";
        assert_eq!(messages("otlp-core/src/a.rs", no_reason).len(), 1);
    }
}
