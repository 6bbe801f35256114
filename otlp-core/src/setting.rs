//! The error for bad configuration input: it names the setting and the value.

use std::fmt;

/// A configuration value that could not be used.
///
/// The message always names the setting (an environment variable, a config-file key or a
/// builder method) and the offending value, unless the value is secret, in which case the value
/// is replaced by `<redacted>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting {
    setting: String,
    value: Option<String>,
    reason: String,
}

impl InvalidSetting {
    /// `setting` has the unusable `value`, because of `reason`.
    pub fn new(
        setting: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        InvalidSetting {
            setting: setting.into(),
            value: Some(value.into()),
            reason: reason.into(),
        }
    }

    /// Like [`InvalidSetting::new`] for a secret: the value is never stored or shown.
    pub fn secret(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidSetting {
            setting: setting.into(),
            value: None,
            reason: reason.into(),
        }
    }

    /// The setting's name.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// Why the value cannot be used.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The offending value, or `None` when it was secret.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(
                f,
                "invalid value {value:?} for {}: {}",
                self.setting, self.reason
            ),
            None => write!(
                f,
                "invalid value <redacted> for {}: {}",
                self.setting, self.reason
            ),
        }
    }
}

impl std::error::Error for InvalidSetting {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_setting_and_value() {
        let error =
            InvalidSetting::new("OTEL_EXPORTER_OTLP_TIMEOUT", "ten", "expected milliseconds");
        assert_eq!(
            error.to_string(),
            "invalid value \"ten\" for OTEL_EXPORTER_OTLP_TIMEOUT: expected milliseconds"
        );
    }

    #[test]
    fn secrets_are_never_shown() {
        let error = InvalidSetting::secret("OTEL_EXPORTER_OTLP_HEADERS", "bad percent-encoding");
        assert!(!format!("{error} {error:?}").contains("Bearer"));
        assert_eq!(error.value(), None);
    }
}
