//! The builder traits upstream's users already import, with the same names and methods:
//! [`WithExportConfig`] (endpoint, protocol, timeout) on every builder that has chosen a
//! transport, [`WithTonicConfig`] on gRPC builders and [`WithHttpConfig`] on HTTP builders.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use otlp_transport::Compression;

use super::settings::Settings;
use crate::config::Protocol;

/// Marks a builder on which no transport was chosen yet (`build` then follows
/// `OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExporterBuilderSet;

/// Marks a builder that exports over gRPC (`with_tonic`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TonicExporterBuilderSet;

/// Marks a builder that exports over HTTP (`with_http`).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpExporterBuilderSet;

pub(crate) mod sealed {
    use super::Settings;

    /// A builder whose settings the traits below write.
    pub trait HasSettings {
        /// The transport marker.
        type Transport;
        /// The settings.
        fn settings(&mut self) -> &mut Settings;
    }
}

/// A transport marker that names a transport.
pub trait ChosenTransport: sealed_transport::Sealed {}
impl ChosenTransport for TonicExporterBuilderSet {}
impl ChosenTransport for HttpExporterBuilderSet {}

mod sealed_transport {
    pub trait Sealed {}
    impl Sealed for super::TonicExporterBuilderSet {}
    impl Sealed for super::HttpExporterBuilderSet {}
}

/// Endpoint, protocol and timeout, on a builder that has chosen its transport.
pub trait WithExportConfig: sealed::HasSettings + Sized {
    /// The collector URL, used as is: for HTTP the full signal URL
    /// (`http://localhost:4318/v1/traces`), for gRPC the server (`http://localhost:4317`).
    /// Overrides `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` and `OTEL_EXPORTER_OTLP_ENDPOINT`; an
    /// empty string leaves them in effect.
    fn with_endpoint<T: Into<String>>(mut self, endpoint: T) -> Self {
        let endpoint = endpoint.into();
        self.settings().endpoint = Some(endpoint).filter(|e| !e.is_empty());
        self
    }

    /// The protocol: on an HTTP builder [`Protocol::HttpProtobuf`] or [`Protocol::HttpJson`];
    /// a protocol of the other transport is an error at `build`.
    fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.settings().protocol = Some(protocol);
        self
    }

    /// The time one export attempt may take (default 10 s; the retries of one export share
    /// the batch's export timeout).
    fn with_timeout(mut self, timeout: Duration) -> Self {
        self.settings().timeout = Some(timeout);
        self
    }
}

impl<B> WithExportConfig for B
where
    B: sealed::HasSettings,
    B::Transport: ChosenTransport,
{
}

/// Settings both transports have, named as upstream names them on each.
fn add_headers(settings: &mut Settings, headers: impl IntoIterator<Item = (String, String)>) {
    settings.headers.extend(headers);
}

/// gRPC settings: metadata, compression, TLS from files.
pub trait WithTonicConfig:
    sealed::HasSettings<Transport = TonicExporterBuilderSet> + Sized
{
    /// Sends this metadata with every request (ASCII entries; binary ones are refused at
    /// `build`).
    fn with_metadata(mut self, metadata: tonic::metadata::MetadataMap) -> Self {
        let settings = self.settings();
        for entry in metadata.iter() {
            match entry {
                tonic::metadata::KeyAndValueRef::Ascii(key, value) => {
                    let value = String::from_utf8_lossy(value.as_encoded_bytes()).into_owned();
                    add_headers(settings, [(key.as_str().to_owned(), value)]);
                }
                tonic::metadata::KeyAndValueRef::Binary(key, _) => {
                    settings.refused.get_or_insert_with(|| {
                        (
                            "with_metadata".to_owned(),
                            key.as_str().to_owned(),
                            "binary metadata is not supported".to_owned(),
                        )
                    });
                }
            }
        }
        self
    }

    /// Compresses requests.
    fn with_compression(mut self, compression: Compression) -> Self {
        self.settings().compression = Some(compression);
        self
    }

    /// Trusts the CA certificates in this PEM file instead of the system's.
    fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings().ca_file = Some(path.into());
        self
    }

    /// Presents this client certificate and key (PEM files) for mutual TLS.
    fn with_client_identity_files(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.settings().client_identity = Some((certificate.into(), key.into()));
        self
    }
}

impl<B: sealed::HasSettings<Transport = TonicExporterBuilderSet>> WithTonicConfig for B {}

/// HTTP settings: headers, compression, TLS from files.
pub trait WithHttpConfig: sealed::HasSettings<Transport = HttpExporterBuilderSet> + Sized {
    /// Sends these headers with every request (checked at `build`).
    fn with_headers(mut self, headers: HashMap<String, String>) -> Self {
        add_headers(self.settings(), headers);
        self
    }

    /// Compresses request bodies.
    fn with_compression(mut self, compression: Compression) -> Self {
        self.settings().compression = Some(compression);
        self
    }

    /// Trusts the CA certificates in this PEM file instead of the system's.
    fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings().ca_file = Some(path.into());
        self
    }

    /// Presents this client certificate and key (PEM files) for mutual TLS.
    fn with_client_identity_files(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.settings().client_identity = Some((certificate.into(), key.into()));
        self
    }
}

impl<B: sealed::HasSettings<Transport = HttpExporterBuilderSet>> WithHttpConfig for B {}
