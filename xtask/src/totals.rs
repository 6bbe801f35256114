//! Test counts summed over the `test result:` lines that cargo's test runs print.

/// Test counts summed over every `test result:` line a step printed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TestTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestTotals {
    pub(crate) fn print(&self) {
        println!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        );
    }

    pub(crate) fn add(&mut self, other: &TestTotals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// Reads a libtest summary such as `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
    pub(crate) fn parse_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(count), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_libtest_summaries() {
        let mut totals = TestTotals::default();
        totals.parse_line("test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.2s");
        totals.parse_line(
            "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        totals.parse_line("running 4 tests");
        assert_eq!(
            totals,
            TestTotals {
                passed: 4,
                failed: 2,
                ignored: 1
            }
        );
    }
}
