//! Parsing of the protocol and of header lists, shared by the environment and the config
//! file. Every error names the setting and the value (or `<redacted>` for secrets).

use otlp_core::InvalidSetting;
use otlp_transport::Headers;
use percent_encoding::percent_decode_str;

use super::Protocol;

/// `grpc`, `http/protobuf` or `http/json`, any case.
pub fn parse_protocol(setting: &str, value: &str) -> Result<Protocol, InvalidSetting> {
    match value.trim().to_ascii_lowercase().as_str() {
        "grpc" => Ok(Protocol::Grpc),
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "http/json" => Ok(Protocol::HttpJson),
        _ => Err(InvalidSetting::new(
            setting,
            value,
            "expected grpc, http/protobuf or http/json",
        )),
    }
}

/// `key1=value1,key2=value2`, keys and values percent-decoded (the W3C baggage format the
/// specification uses for `OTEL_EXPORTER_OTLP_HEADERS`).
pub fn parse_headers(setting: &str, value: &str) -> Result<Headers, InvalidSetting> {
    let mut headers = Headers::new();
    for (position, pair) in value.split(',').enumerate() {
        if pair.trim().is_empty() {
            continue;
        }
        let Some((key, raw)) = pair.split_once('=') else {
            return Err(InvalidSetting::secret(
                setting,
                format!(
                    "entry {} has no '=' (expected key=value,key=value)",
                    position + 1
                ),
            ));
        };
        let decode = |text: &str| {
            percent_decode_str(text.trim())
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    InvalidSetting::secret(
                        setting,
                        format!("entry {} is not valid percent-encoded UTF-8", position + 1),
                    )
                })
        };
        let key = decode(key)?;
        if key.is_empty() {
            return Err(InvalidSetting::secret(
                setting,
                format!("entry {} has an empty key", position + 1),
            ));
        }
        headers.insert(setting, &key, &decode(raw)?)?;
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_percent_decoded() {
        let headers = parse_headers(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key=a%20b%3Dc, x-tenant = acme ",
        )
        .unwrap();
        assert_eq!(headers.get("api-key").unwrap(), "a b=c");
        assert_eq!(headers.get("x-tenant").unwrap(), "acme");
    }

    #[test]
    fn bad_headers_never_show_their_values() {
        for bad in ["novalue", "=x", "k=%ff%fe", "bad key=1"] {
            let error = parse_headers("OTEL_EXPORTER_OTLP_HEADERS", bad).unwrap_err();
            assert!(
                error.to_string().contains("OTEL_EXPORTER_OTLP_HEADERS"),
                "{error}"
            );
        }
        let error = parse_headers(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20s3cret,broken",
        )
        .unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
