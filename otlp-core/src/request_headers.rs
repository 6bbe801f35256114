//! Headers one export attempt carries besides the transport's configured ones: what a
//! credential hook or a user's tower layer adds on the way down.

use std::fmt;

/// Extra headers (HTTP) or metadata (gRPC) for one request, set by layers below the retry
/// layer (a credential hook, a signing layer); the transport sends them after its configured
/// headers, replacing a configured header of the same name.
///
/// Names are kept lower case (gRPC metadata keys must be). `Debug` shows names only: values are
/// usually credentials. They are never written to the disk spool: a replayed request gets
/// fresh ones from the same layers.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequestHeaders {
    entries: Vec<(String, String)>,
}

impl fmt::Debug for RequestHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(name, _)| (name, "<redacted>")))
            .finish()
    }
}

impl RequestHeaders {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a header, replacing an earlier value of the same name. The transport checks the
    /// name and the value when it sends them.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into().trim().to_ascii_lowercase();
        self.entries.retain(|(existing, _)| *existing != name);
        self.entries.push((name, value.into()));
    }

    /// The value of a header, when set.
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_value_replaces_an_earlier_one_and_debug_hides_values() {
        let mut headers = RequestHeaders::new();
        headers.insert("Authorization", "Bearer one");
        headers.insert("authorization", "Bearer two");
        assert_eq!(headers.get("AUTHORIZATION"), Some("Bearer two"));
        assert_eq!(headers.iter().count(), 1);
        let debug = format!("{headers:?}");
        assert!(
            debug.contains("authorization") && !debug.contains("two"),
            "{debug}"
        );
    }
}
