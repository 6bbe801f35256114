//! [`BudgetExhausted`]: a session stopped because the shared retry budget stayed empty.

use otlp_core::BoxError;

/// The retry budget denied every retry the session still had time for. The last attempt's
/// error is the source (so classification still sees the collector's real answer), and the
/// message names both.
#[derive(Debug)]
pub struct BudgetExhausted {
    attempts: u32,
    last: BoxError,
}

impl BudgetExhausted {
    pub(crate) fn new(attempts: u32, last: BoxError) -> Self {
        BudgetExhausted { attempts, last }
    }

    /// Attempts made before the budget ran dry.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last attempt's error.
    pub fn last_error(&self) -> &BoxError {
        &self.last
    }
}

impl std::fmt::Display for BudgetExhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "retry budget exhausted after {} attempt{}; last error: {}",
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            self.last
        )
    }
}

impl std::error::Error for BudgetExhausted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.last.as_ref())
    }
}
