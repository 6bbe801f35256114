//! The bearer-token check shared by the receiver and the health endpoint.

/// Whether an `authorization` header value carries `token` under the Bearer scheme.
///
/// The scheme is matched without regard to case (RFC 7235); the token is compared in time that
/// depends only on the lengths, not on where it first differs, so a client cannot find it byte
/// by byte.
///
/// ```
/// use otlp_core::bearer::matches;
///
/// assert!(matches(b"bearer s3cret", b"s3cret"));
/// assert!(!matches(b"Bearer s3cre", b"s3cret"));
/// ```
pub fn matches(value: &[u8], token: &[u8]) -> bool {
    let Some(space) = value.iter().position(|b| *b == b' ') else {
        return false;
    };
    let (scheme, rest) = value.split_at(space);
    let given = rest.trim_ascii();
    scheme.eq_ignore_ascii_case(b"bearer") & constant_time_eq(given, token)
}

/// Equality whose time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn the_scheme_ignores_case_and_the_token_must_match_exactly() {
        for good in ["Bearer s3cret", "bearer s3cret", "BEARER  s3cret "] {
            assert!(matches(good.as_bytes(), b"s3cret"), "{good}");
        }
        for bad in [
            "Bearer s3cre",
            "Bearer s3cretx",
            "Basic s3cret",
            "s3cret",
            "Bearer",
            "",
        ] {
            assert!(!matches(bad.as_bytes(), b"s3cret"), "{bad}");
        }
    }
}
