//! Request body compression: none, gzip or zstd.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use bytes::Bytes;
use otlp_core::{Error, ErrorKind, InvalidSetting};

/// How request bodies are compressed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Sent as is.
    #[default]
    None,
    /// gzip (`Content-Encoding: gzip`, gRPC `grpc-encoding: gzip`).
    Gzip,
    /// zstd (`Content-Encoding: zstd`, gRPC `grpc-encoding: zstd`).
    Zstd,
}

impl Compression {
    /// The name used in `Content-Encoding` and in `OTEL_EXPORTER_OTLP_COMPRESSION`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Parses a compression name as the OpenTelemetry environment variables spell it.
    ///
    /// `setting` names where the value came from, for the error message.
    pub fn parse(setting: &str, value: &str) -> Result<Self, InvalidSetting> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            _ => Err(InvalidSetting::new(
                setting,
                value,
                "expected one of: none, gzip, zstd",
            )),
        }
    }

    /// Compresses `body`; `None` returns it unchanged without copying.
    pub fn compress(self, body: &Bytes) -> Result<Bytes, Error> {
        let failed = |e: std::io::Error| {
            Error::new(
                ErrorKind::Encoding,
                format!("{} compression failed", self.as_str()),
            )
            .with_source(e)
        };
        match self {
            Compression::None => Ok(body.clone()),
            Compression::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 4),
                    flate2::Compression::fast(),
                );
                encoder.write_all(body).map_err(failed)?;
                encoder.finish().map(Bytes::from).map_err(failed)
            }
            Compression::Zstd => zstd::bulk::compress(body, 1)
                .map(Bytes::from)
                .map_err(failed),
        }
    }
}

impl FromStr for Compression {
    type Err = InvalidSetting;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Compression::parse("compression", value)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_and_zstd_round_trip() {
        let body = Bytes::from(vec![7u8; 10_000]);
        let gzip = Compression::Gzip.compress(&body).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let zstd = Compression::Zstd.compress(&body).unwrap();
        assert_eq!(zstd::decode_all(&zstd[..]).unwrap(), body);
        assert!(gzip.len() < 200 && zstd.len() < 200);
    }

    #[test]
    fn unknown_names_are_refused_with_the_setting() {
        let error = Compression::parse("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli").unwrap_err();
        assert!(error.to_string().contains("OTEL_EXPORTER_OTLP_COMPRESSION"));
        assert!(error.to_string().contains("brotli"));
        assert_eq!(
            Compression::parse("x", " GZIP ").unwrap(),
            Compression::Gzip
        );
    }
}
