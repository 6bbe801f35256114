//! Client TLS settings: trusted CA, client certificate and key (mTLS).
//!
//! PEM input is checked when it is set, so a missing file, a file with no certificate in it, a
//! key that does not parse or does not match its certificate is reported with the setting's
//! name before anything is sent. Verification failures at handshake time are reported by the
//! transports as permanent [`ErrorKind::Tls`](otlp_core::ErrorKind::Tls) errors.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use otlp_core::InvalidSetting;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// TLS settings for a client transport. Without a CA, the system's trusted roots are used.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    ca_pem: Option<Vec<u8>>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
    domain: Option<String>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("custom_ca", &self.ca_pem.is_some())
            .field("client_identity", &self.identity.is_some())
            .field("domain", &self.domain)
            .finish()
    }
}

impl TlsConfig {
    /// TLS with the system's trusted roots and no client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts only the CA certificates in `pem` (the OTLP `CERTIFICATE` setting).
    pub fn with_ca_pem(
        self,
        setting: &str,
        pem: impl Into<Vec<u8>>,
    ) -> Result<Self, InvalidSetting> {
        let pem = pem.into();
        let shown = format!("{} bytes", pem.len());
        self.with_ca(setting, &shown, pem)
    }

    fn with_ca(mut self, setting: &str, shown: &str, pem: Vec<u8>) -> Result<Self, InvalidSetting> {
        let certificates = parse_certificates(setting, shown, &pem)?;
        let mut roots = rustls::RootCertStore::empty();
        for certificate in certificates {
            roots.add(certificate).map_err(|e| {
                InvalidSetting::new(setting, shown, format!("not a usable CA certificate: {e}"))
            })?;
        }
        self.ca_pem = Some(pem);
        Ok(self)
    }

    /// Reads the trusted CA certificates from a PEM file.
    pub fn with_ca_file(
        self,
        setting: &str,
        path: impl AsRef<Path>,
    ) -> Result<Self, InvalidSetting> {
        let path = path.as_ref();
        let pem = read_file(setting, path)?;
        let shown = describe_file(path, &pem);
        self.with_ca(setting, &shown, pem)
    }

    /// Presents a client certificate (PEM chain) and its private key (PEM) for mutual TLS.
    pub fn with_client_identity_pem(
        self,
        setting: &str,
        certificate_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Result<Self, InvalidSetting> {
        let certificate_pem = certificate_pem.into();
        let shown = format!("{} bytes", certificate_pem.len());
        self.with_identity(setting, &shown, certificate_pem, key_pem.into())
    }

    fn with_identity(
        mut self,
        setting: &str,
        shown: &str,
        certificate_pem: Vec<u8>,
        key_pem: Vec<u8>,
    ) -> Result<Self, InvalidSetting> {
        let chain = parse_certificates(setting, shown, &certificate_pem)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
            InvalidSetting::secret(
                setting,
                format!("the client key is not a PEM private key: {e}"),
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| {
                builder
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_client_auth_cert(chain, key)
            })
            .map_err(|e| {
                InvalidSetting::secret(
                    setting,
                    format!("the client certificate and key do not form an identity: {e}"),
                )
            })?;
        self.identity = Some((certificate_pem, key_pem));
        Ok(self)
    }

    /// Reads the client certificate and key from PEM files.
    pub fn with_client_identity_files(
        self,
        certificate_setting: &str,
        certificate_path: impl AsRef<Path>,
        key_setting: &str,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, InvalidSetting> {
        let certificate_path = certificate_path.as_ref();
        let certificate = read_file(certificate_setting, certificate_path)?;
        let key = read_file(key_setting, key_path.as_ref())?;
        let shown = describe_file(certificate_path, &certificate);
        self.with_identity(certificate_setting, &shown, certificate, key)
    }

    /// Overrides the name the server certificate must carry (default: the endpoint's host).
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The trusted CA PEM, when one was set.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca_pem.as_deref()
    }

    /// The client certificate and key PEM, when set.
    pub fn client_identity_pem(&self) -> Option<(&[u8], &[u8])> {
        self.identity
            .as_ref()
            .map(|(c, k)| (c.as_slice(), k.as_slice()))
    }

    /// The server name override, when set.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }
}

fn read_file(setting: &str, path: &Path) -> Result<Vec<u8>, InvalidSetting> {
    std::fs::read(path).map_err(|e| {
        InvalidSetting::new(
            setting,
            path.display().to_string(),
            format!("cannot read the file: {e}"),
        )
    })
}

/// Parses PEM certificates; `shown` is what errors say of the input (a path and a size, never
/// its content: a mis-set path may point at a token or a key).
fn parse_certificates(
    setting: &str,
    shown: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, InvalidSetting> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| InvalidSetting::new(setting, shown, format!("not valid PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(InvalidSetting::new(
            setting,
            shown,
            "no CERTIFICATE block found",
        ));
    }
    Ok(certificates)
}

/// A file as errors show it: its path and size.
fn describe_file(path: &Path, content: &[u8]) -> String {
    format!("{} ({} bytes)", path.display(), content.len())
}

/// Finds a TLS failure in an error chain and describes it, so transports can report
/// verification failures as such (the text of `rustls::Error`, e.g. `invalid peer certificate:
/// UnknownIssuer`, or the alert the server sent, e.g. `received fatal alert:
/// CertificateRequired`).
///
/// `std::io::Error` hides the error it wraps from `source()`, so the walk looks inside with
/// `get_ref`; some layers keep only the text of the TLS error, which is matched as a last resort.
pub(crate) fn find_tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        current = match err.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => {
                    let text = inner.to_string();
                    if text.starts_with("received fatal alert")
                        || text.starts_with("invalid peer certificate")
                    {
                        return Some(text);
                    }
                    Some(inner as &(dyn std::error::Error + 'static))
                }
                None => None,
            },
            None => err.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_missing_files_name_the_setting() {
        let error = TlsConfig::new()
            .with_ca_pem("OTEL_EXPORTER_OTLP_CERTIFICATE", b"hello".to_vec())
            .unwrap_err();
        assert!(
            error.to_string().contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
            "{error}"
        );
        assert!(
            error.to_string().contains("no CERTIFICATE block"),
            "{error}"
        );

        let error = TlsConfig::new()
            .with_ca_file("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")
            .unwrap_err();
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn a_key_that_does_not_match_its_certificate_is_refused() {
        let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
        let error = TlsConfig::new()
            .with_client_identity_pem(
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                a.cert.pem(),
                b.signing_key.serialize_pem(),
            )
            .unwrap_err();
        assert!(
            error.to_string().contains("do not form an identity"),
            "{error}"
        );
        assert!(
            !error.to_string().contains("PRIVATE KEY"),
            "key material leaked: {error}"
        );
        TlsConfig::new()
            .with_client_identity_pem("x", a.cert.pem(), a.signing_key.serialize_pem())
            .unwrap();
    }
}
