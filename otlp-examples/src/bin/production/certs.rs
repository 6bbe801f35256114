//! The production demo's certificates and configuration: a CA, a server certificate for
//! 127.0.0.1 and a client certificate made at start, and the shipped configuration file with
//! its `COLLECTOR_*` references pointing at the embedded receiver.

use std::path::Path;

use otlp_exporters::config::{EnvSource, PipelineConfig, ProcessEnv};
use otlp_transport::receiver::ServerTls;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// The configuration file the demo reads, shipped for users to copy.
pub const PRODUCTION_FILE: &str = include_str!("../../../config/production.yaml");

/// The token the embedded receiver requires.
pub const TOKEN: &str = "production-token";

/// The demo's temporary directory (certificates, the client key, the config file), removed
/// when the demo ends, however it ends.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Certificate settings for `names` with its own subject: rcgen's default subject is the same
/// for every certificate, and a leaf named like its CA looks self-signed to OpenSSL and Node.
fn params(names: Vec<String>, common_name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    Ok(params)
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, written as PEM files.
pub fn certificates(dir: &Path) -> Result<ServerTls, Box<dyn std::error::Error>> {
    let mut ca_params = params(Vec::new(), "otlp-rust production demo CA")?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let issue = |names: Vec<String>| -> Result<(String, String), rcgen::Error> {
        let key = KeyPair::generate()?;
        let common_name = names.first().cloned().unwrap_or_default();
        let certificate = params(names, &common_name)?.signed_by(&key, &ca)?;
        Ok((certificate.pem(), key.serialize_pem()))
    };
    let (server_cert, server_key) = issue(vec!["127.0.0.1".into()])?;
    let (client_cert, client_key) = issue(vec!["production-app".into()])?;
    std::fs::write(dir.join("ca.crt"), ca.pem())?;
    std::fs::write(dir.join("client.crt"), client_cert)?;
    std::fs::write(dir.join("client.key"), client_key)?;
    Ok(ServerTls {
        certificate_pem: server_cert.into_bytes(),
        key_pem: server_key.into_bytes(),
        client_ca_pem: Some(ca.pem().into_bytes()),
    })
}

/// The process environment, with the demo's `COLLECTOR_*` values in front of it.
struct DemoEnv(Vec<(&'static str, String)>);

impl EnvSource for DemoEnv {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| ProcessEnv.get(name))
    }
}

/// The shipped file, its collector references pointing at the embedded receiver.
pub fn demo_config(
    dir: &Path,
    endpoint: &str,
) -> Result<PipelineConfig, Box<dyn std::error::Error>> {
    let path = |name: &str| dir.join(name).display().to_string();
    let env = DemoEnv(vec![
        ("COLLECTOR_ENDPOINT", endpoint.to_owned()),
        ("COLLECTOR_CA_FILE", path("ca.crt")),
        ("COLLECTOR_CLIENT_CERT_FILE", path("client.crt")),
        ("COLLECTOR_CLIENT_KEY_FILE", path("client.key")),
        ("COLLECTOR_TOKEN", TOKEN.to_owned()),
    ]);
    let mut config = PipelineConfig::default();
    config.apply_yaml(
        PRODUCTION_FILE,
        "otlp-examples/config/production.yaml",
        &env,
    )?;
    Ok(config)
}
