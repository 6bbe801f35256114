//! Request headers (HTTP) and metadata (gRPC) whose values are kept out of logs.

use std::fmt;

use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use otlp_core::InvalidSetting;

/// Extra headers sent with every export request: API keys, tenant ids, bearer tokens.
///
/// Values are marked sensitive and `Debug` shows only the names, because they are usually
/// credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(HeaderName, HeaderValue)>,
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|(name, _)| (name.as_str(), "<redacted>")),
            )
            .finish()
    }
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header; `setting` names where it came from, for the error.
    ///
    /// gRPC metadata keys must be lower case, so names are lower-cased (HTTP does not care).
    pub fn insert(&mut self, setting: &str, name: &str, value: &str) -> Result<(), InvalidSetting> {
        let name = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| InvalidSetting::new(setting, name, "not a valid header name"))?;
        let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
            InvalidSetting::secret(
                setting,
                format!("the value of header {name} is not a valid header value"),
            )
        })?;
        value.set_sensitive(true);
        self.entries.retain(|(existing, _)| existing != name);
        self.entries.push((name, value));
        Ok(())
    }

    /// Adds `authorization: Bearer <token>`.
    pub fn insert_bearer_token(
        &mut self,
        setting: &str,
        token: &str,
    ) -> Result<(), InvalidSetting> {
        self.insert(
            setting,
            AUTHORIZATION.as_str(),
            &format!("Bearer {}", token.trim()),
        )
    }

    /// The headers, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.entries.iter().map(|(n, v)| (n, v))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of a header, when set.
    pub fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.entries
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_values() {
        let mut headers = Headers::new();
        headers.insert_bearer_token("token", "s3cret").unwrap();
        headers.insert("headers", "X-Tenant", "acme").unwrap();
        let debug = format!("{headers:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("acme"),
            "{debug}"
        );
        assert!(debug.contains("x-tenant"));
        assert_eq!(headers.get("authorization").unwrap(), "Bearer s3cret");
    }

    #[test]
    fn invalid_names_and_values_are_refused() {
        let mut headers = Headers::new();
        assert!(headers
            .insert("OTEL_EXPORTER_OTLP_HEADERS", "bad name", "v")
            .is_err());
        let error = headers
            .insert("OTEL_EXPORTER_OTLP_HEADERS", "key", "line\nbreak")
            .unwrap_err();
        assert!(!error.to_string().contains("line"), "{error}");
    }
}
