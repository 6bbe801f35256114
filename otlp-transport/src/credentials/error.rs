//! What a credential hook returns when it cannot supply headers.

use std::fmt;

use otlp_core::{Error, ErrorKind};

/// A failure of a [`CredentialSource`](super::CredentialSource), retryable or permanent.
///
/// The message is the hook's own; URLs in it are [redacted](otlp_core::redact) (a token
/// endpoint's query may carry a client secret). It must not contain the secret itself: the
/// pipeline logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialError {
    retryable: bool,
    message: String,
}

impl CredentialError {
    /// Trying again may help: the token service timed out or is down.
    pub fn retryable(message: impl Into<String>) -> Self {
        CredentialError {
            retryable: true,
            message: scrub(&message.into()),
        }
    }

    /// Trying again will not help: the credentials were refused or are missing.
    pub fn permanent(message: impl Into<String>) -> Self {
        CredentialError {
            retryable: false,
            message: scrub(&message.into()),
        }
    }

    /// Whether the export may be retried.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The hook's message, URLs redacted.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The export error it becomes: `Unavailable` (retried) or `Rejected` (not retried).
    pub fn into_error(self) -> Error {
        let kind = if self.retryable {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Rejected
        };
        Error::new(kind, self.to_string())
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.retryable {
            "retryable"
        } else {
            "permanent"
        };
        write!(f, "the credential hook failed ({what}): {}", self.message)
    }
}

impl std::error::Error for CredentialError {}

/// Redacts every URL in `text`.
fn scrub(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.starts_with("http://") || word.starts_with("https://") {
                otlp_core::redact::url(word)
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classification_decides_the_kind_and_urls_are_redacted() {
        let error = CredentialError::retryable(
            "token endpoint https://idp.example/token?client_secret=s3cret timed out",
        );
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert!(error.into_error().kind().is_retryable());
        let error = CredentialError::permanent("client secret refused").into_error();
        assert_eq!(error.kind(), ErrorKind::Rejected);
        assert!(!error.kind().is_retryable());
    }
}
