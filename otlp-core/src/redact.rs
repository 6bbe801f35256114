//! The one redaction rule of the workspace: what of a URL, a header or a secret may appear in
//! `Debug` output, log lines and error messages.
//!
//! - A URL keeps its scheme, host, port and path; userinfo (`user:password@`) and every query
//!   value (`?api_key=...`) become [`REDACTED`], and so does a fragment.
//! - A header value is shown only for headers that never carry credentials
//!   ([`is_public_header`]: content type and encoding, length, user agent, gRPC framing);
//!   every other value, custom ones such as `x-api-key` included, is [`REDACTED`].
//! - A secret (bearer token, key material) is never shown, only whether it is set.
//!
//! ```
//! use otlp_core::redact;
//!
//! assert_eq!(
//!     redact::url("https://user:pw@collector:4318/v1/traces?api_key=k&tenant=a"),
//!     "https://<redacted>@collector:4318/v1/traces?api_key=<redacted>&tenant=<redacted>"
//! );
//! assert_eq!(redact::host("https://user:pw@collector:4318/v1/traces?k=v"), "collector:4318");
//! ```

/// What a hidden value is shown as.
pub const REDACTED: &str = "<redacted>";

/// `value` with userinfo, query values and fragment replaced by [`REDACTED`]; text that is not
/// a URL keeps its shape under the same rule (anything after `?` or before an `@` in the
/// authority is hidden).
pub fn url(value: &str) -> String {
    let (without_fragment, fragment) = match value.split_once('#') {
        Some((head, _)) => (head, Some(REDACTED)),
        None => (value, None),
    };
    let (without_query, query) = match without_fragment.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (without_fragment, None),
    };
    let mut out = String::with_capacity(value.len());
    let (scheme, rest) = match without_query.find("://") {
        Some(at) => without_query.split_at(at + 3),
        None => ("", without_query),
    };
    out.push_str(scheme);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            out.push_str(REDACTED);
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    out.push_str(path);
    if let Some(query) = query {
        out.push('?');
        for (index, pair) in query.split('&').enumerate() {
            if index > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                None if pair.is_empty() => {}
                None => out.push_str(REDACTED),
            }
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// The host and port of a URL and nothing else (no userinfo, path or query): what names an
/// endpoint in health check names and metric labels.
pub fn host(value: &str) -> String {
    let rest = match value.find("://") {
        Some(at) => &value[at + 3..],
        None => value,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    match authority.rfind('@') {
        Some(at) => authority[at + 1..].to_owned(),
        None => authority.to_owned(),
    }
}

/// Whether a header's value may be shown: only headers that never carry credentials.
pub fn is_public_header(name: &str) -> bool {
    const PUBLIC: [&str; 12] = [
        "accept",
        "accept-encoding",
        "content-encoding",
        "content-length",
        "content-type",
        "grpc-accept-encoding",
        "grpc-encoding",
        "grpc-timeout",
        "host",
        "te",
        "transfer-encoding",
        "user-agent",
    ];
    PUBLIC
        .iter()
        .any(|public| public.eq_ignore_ascii_case(name))
}

/// What a header's value is shown as: the value of a [public](is_public_header) header,
/// [`REDACTED`] for every other.
pub fn header_value(name: &str, value: &[u8]) -> String {
    if is_public_header(name) {
        String::from_utf8_lossy(value).into_owned()
    } else {
        REDACTED.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_query_values_and_fragments_are_hidden() {
        let cases = [
            ("http://c:4318/v1/traces", "http://c:4318/v1/traces"),
            (
                "http://user:PASSWORD@c:4318/p?api_key=KEY",
                "http://<redacted>@c:4318/p?api_key=<redacted>",
            ),
            (
                "https://c/p?KEYONLY&a=1#frag",
                "https://c/p?<redacted>&a=<redacted>#<redacted>",
            ),
            ("user:pw@host:1", "<redacted>@host:1"),
            ("not a url", "not a url"),
            ("http://c/a@b", "http://c/a@b"),
        ];
        for (given, shown) in cases {
            assert_eq!(url(given), shown, "{given}");
        }
    }

    #[test]
    fn host_keeps_only_host_and_port() {
        assert_eq!(host("http://u:p@h:1/x?y=z"), "h:1");
        assert_eq!(host("https://[::1]:4317"), "[::1]:4317");
        assert_eq!(host("collector:4317"), "collector:4317");
    }

    #[test]
    fn only_public_header_values_are_shown() {
        assert_eq!(
            header_value("Content-Type", b"application/x-protobuf"),
            "application/x-protobuf"
        );
        assert_eq!(header_value("authorization", b"Bearer SECRET"), REDACTED);
        assert_eq!(header_value("x-api-key", b"KEY"), REDACTED);
    }
}
