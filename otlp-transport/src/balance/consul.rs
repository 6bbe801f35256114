//! Consul's health API with blocking queries: `GET /v1/health/service/<name>?passing`, then
//! `&index=<X-Consul-Index>&wait=<s>` to wait for a change, as Consul documents it.

use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind, InvalidSetting};
use serde_json::Value;

use super::resolver::{Resolution, Resolver};

/// Endpoints of a service registered in Consul, healthy instances only.
///
/// Consul itself cannot run in this project's test environment; the tests run this resolver
/// against a server that answers exactly as Consul's documented health API does (the
/// `X-Consul-Index` header, `index` and `wait` blocking queries, `passing` filtering).
#[derive(Debug, Clone)]
pub struct ConsulResolver {
    agent: reqwest::Url,
    service: String,
    scheme: String,
    wait: Duration,
    client: reqwest::Client,
}

impl ConsulResolver {
    /// Asks the agent at `agent` (e.g. `http://127.0.0.1:8500`) for `service`, giving
    /// `scheme://address:port` endpoints; blocking queries wait up to `wait`.
    pub fn new(
        agent: &str,
        service: &str,
        scheme: &str,
        wait: Duration,
    ) -> Result<Self, InvalidSetting> {
        let agent = crate::endpoint::parse_url("consul agent", agent)?;
        let client = reqwest::Client::builder()
            .timeout(wait + Duration::from_secs(10))
            .build()
            .map_err(|e| InvalidSetting::new("consul agent", agent.as_str(), e.to_string()))?;
        Ok(ConsulResolver {
            agent,
            service: service.to_owned(),
            scheme: scheme.to_owned(),
            wait,
            client,
        })
    }
}

/// The endpoints in a health API answer: `Service.Address` (or `Node.Address` when empty) and
/// `Service.Port` of each entry.
fn endpoints(scheme: &str, answer: &Value) -> Vec<String> {
    let mut out: Vec<String> = answer
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let service = entry.get("Service")?;
            let port = service.get("Port")?.as_u64()?;
            let address = service
                .get("Address")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
                .or_else(|| entry.get("Node")?.get("Address")?.as_str())?;
            Some(format!("{scheme}://{address}:{port}"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Resolver for ConsulResolver {
    fn resolve(&self, previous: Option<u64>) -> BoxFuture<'static, Result<Resolution, BoxError>> {
        let this = self.clone();
        Box::pin(async move {
            let mut url = this.agent.clone();
            url.set_path(&format!("/v1/health/service/{}", this.service));
            let mut query = String::from("passing");
            if let Some(index) = previous {
                query.push_str(&format!(
                    "&index={index}&wait={}s",
                    this.wait.as_secs().max(1)
                ));
            }
            url.set_query(Some(&query));
            let response = this.client.get(url).send().await.map_err(|e| {
                Error::new(ErrorKind::Connect, format!("consul unreachable: {e}")).with_source(e)
            })?;
            let status = response.status();
            if !status.is_success() {
                return Err(Error::from_http_status(
                    status.as_u16(),
                    "consul health query failed",
                    None,
                )
                .into());
            }
            let index = response
                .headers()
                .get("x-consul-index")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body = response.bytes().await.map_err(|e| {
                Error::new(ErrorKind::Transport, format!("consul answer cut off: {e}"))
                    .with_source(e)
            })?;
            let answer: Value = serde_json::from_slice(&body).map_err(|e| {
                Error::new(ErrorKind::Encoding, "consul answered with invalid JSON").with_source(e)
            })?;
            // Consul: an index that goes backwards means a reset; start over without blocking.
            let token = match (index, previous) {
                (Some(new), Some(old)) if new < old => None,
                (index, _) => index,
            };
            Ok(Resolution {
                endpoints: endpoints(&this.scheme, &answer),
                token,
            })
        })
    }

    fn interval(&self) -> Duration {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_address_wins_and_node_address_fills_in() {
        let answer = serde_json::json!([
            {"Node": {"Address": "10.0.0.1"}, "Service": {"Address": "10.1.0.1", "Port": 4317}},
            {"Node": {"Address": "10.0.0.2"}, "Service": {"Address": "", "Port": 4318}},
            {"Node": {"Address": "10.0.0.3"}, "Service": {"Port": "bad"}}
        ]);
        assert_eq!(
            endpoints("http", &answer),
            vec!["http://10.0.0.2:4318", "http://10.1.0.1:4317"]
        );
    }
}
