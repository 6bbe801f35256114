//! A service's own outbound HTTP calls through the library's balancer: the same discovery
//! (`consul://`, `dns:///`, a list), balancing and failover that collectors get.
//!
//! An answer of any HTTP status is an answer (the replica is alive; what the status means is
//! the caller's business); a call that cannot reach its replica (refused, reset, timed out)
//! fails with a retryable error, so the balancer sends it to the next replica.

use std::time::Duration;

use otlp_core::{Error, ErrorKind};
use otlp_transport::balance::{Balanced, EndpointFactory, EndpointParts};
use tower::util::BoxCloneSyncService;

/// One call to whichever replica the balancer picks.
#[derive(Debug, Clone)]
pub struct HttpCall {
    /// The method.
    pub method: reqwest::Method,
    /// The path, such as `/orders`.
    pub path: String,
    /// Headers (the propagated trace context).
    pub headers: reqwest::header::HeaderMap,
}

impl HttpCall {
    /// A `POST` of `path` with `headers`.
    pub fn post(path: &str, headers: reqwest::header::HeaderMap) -> Self {
        HttpCall {
            method: reqwest::Method::POST,
            path: path.to_owned(),
            headers,
        }
    }
}

impl Balanced for HttpCall {
    /// `GET /health`: a replica that does not answer leaves the rotation.
    fn probe() -> Self {
        HttpCall {
            method: reqwest::Method::GET,
            path: "/health".to_owned(),
            headers: reqwest::header::HeaderMap::new(),
        }
    }
}

/// What a replica answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The replica that answered (`http://127.0.0.1:PORT`).
    pub replica: String,
    /// The HTTP status.
    pub status: u16,
}

/// Builds each replica's service: reqwest, one connection per call (so a stopped replica is
/// noticed at once, not through a pooled connection), `timeout` per call.
pub fn factory(timeout: Duration) -> EndpointFactory<HttpCall, HttpAnswer> {
    std::sync::Arc::new(move |base: &str| {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(timeout)
            .build()
            .map_err(|e| otlp_core::InvalidSetting::new("replica", base, e.to_string()))?;
        let base = base.trim_end_matches('/').to_owned();
        let service = BoxCloneSyncService::new(tower::service_fn(move |call: HttpCall| {
            let (client, replica) = (client.clone(), base.clone());
            async move {
                let response = client
                    .request(call.method, format!("{replica}{}", call.path))
                    .headers(call.headers)
                    .send()
                    .await
                    .map_err(|e| {
                        let kind = if e.is_timeout() {
                            ErrorKind::Timeout
                        } else {
                            ErrorKind::Connect
                        };
                        Error::new(kind, format!("{replica} unreachable: {e}")).with_source(e)
                    })?;
                Ok::<_, otlp_core::BoxError>(HttpAnswer {
                    replica,
                    status: response.status().as_u16(),
                })
            }
        }));
        Ok(EndpointParts {
            probe: service.clone(),
            service,
            circuit_open: None,
        })
    })
}
