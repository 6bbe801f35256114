//! DNS resolution through the system resolver (so `/etc/hosts` and `localhost` work),
//! re-resolved on an interval.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind};

use super::resolver::{Resolution, Resolver};

/// How names become addresses; the system's by default, replaceable in tests.
pub trait Lookup: Send + Sync + 'static {
    /// The addresses of `host:port`.
    fn lookup(&self, host: &str, port: u16)
        -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>;
}

/// The system resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: &str,
        port: u16,
    ) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        let target = format!("{host}:{port}");
        Box::pin(async move { Ok(tokio::net::lookup_host(target).await?.collect()) })
    }
}

/// Resolves `host` to one endpoint per address, `scheme://address:port`.
#[derive(Clone)]
pub struct DnsResolver {
    scheme: String,
    host: String,
    port: u16,
    interval: Duration,
    lookup: Arc<dyn Lookup>,
}

impl std::fmt::Debug for DnsResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsResolver")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl DnsResolver {
    /// Resolves `host:port` every `interval`, giving `scheme://ip:port` endpoints.
    pub fn new(scheme: &str, host: &str, port: u16, interval: Duration) -> Self {
        DnsResolver {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            port,
            interval,
            lookup: Arc::new(SystemLookup),
        }
    }

    /// Uses `lookup` instead of the system resolver.
    pub fn with_lookup(mut self, lookup: impl Lookup) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }
}

impl Resolver for DnsResolver {
    fn resolve(&self, _previous: Option<u64>) -> BoxFuture<'static, Result<Resolution, BoxError>> {
        let this = self.clone();
        Box::pin(async move {
            let addresses = this
                .lookup
                .lookup(&this.host, this.port)
                .await
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Connect,
                        format!("cannot resolve {}: {e}", this.host),
                    )
                    .with_source(e)
                })?;
            let mut endpoints: Vec<String> = addresses
                .into_iter()
                .map(|a| format!("{}://{a}", this.scheme))
                .collect();
            endpoints.sort();
            endpoints.dedup();
            Ok(Resolution {
                endpoints,
                token: None,
            })
        })
    }

    fn interval(&self) -> Duration {
        self.interval
    }
}
