//! Where the set of collectors comes from: a static list, DNS, Consul, or a resolver of your
//! own.

use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::BoxError;

/// One answer of a resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The collector URLs (`http://10.0.0.7:4317`), in no particular order.
    pub endpoints: Vec<String>,
    /// The resolver's change token (Consul's index), handed back on the next call.
    pub token: Option<u64>,
}

/// A source of collector endpoints. Implement it for Kubernetes endpoints, a file, ...
pub trait Resolver: Send + Sync + 'static {
    /// The current set. `previous` is the token of the last answer: a resolver that supports
    /// blocking queries waits until the set changes (or its wait bound passes).
    fn resolve(&self, previous: Option<u64>) -> BoxFuture<'static, Result<Resolution, BoxError>>;

    /// The pause between two calls to `resolve` (zero for blocking resolvers).
    fn interval(&self) -> Duration;
}

/// A fixed list of endpoints.
#[derive(Debug, Clone)]
pub struct StaticResolver {
    endpoints: Vec<String>,
}

impl StaticResolver {
    /// The given endpoints, always.
    pub fn new(endpoints: impl IntoIterator<Item = impl Into<String>>) -> Self {
        StaticResolver {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
        }
    }
}

impl Resolver for StaticResolver {
    fn resolve(&self, _previous: Option<u64>) -> BoxFuture<'static, Result<Resolution, BoxError>> {
        let endpoints = self.endpoints.clone();
        Box::pin(async move {
            Ok(Resolution {
                endpoints,
                token: None,
            })
        })
    }

    fn interval(&self) -> Duration {
        // Nothing changes; look again rarely.
        Duration::from_secs(3600)
    }
}
