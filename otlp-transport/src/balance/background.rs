//! What a balancer does on its own while it lives: follows its resolver, replacing the
//! endpoint set when the answer changes, and probes every endpoint on an interval.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tower::ServiceExt;

use super::endpoint::{Balanced, Endpoint};
use super::ring::Ring;
use super::{Resolver, Set, Shared};

/// Replaces the endpoint set, keeping the state of endpoints that stay.
pub(super) fn update<Req, Resp>(shared: &Shared<Req, Resp>, urls: &[String]) {
    let current = shared.snapshot();
    let mut endpoints = Vec::with_capacity(urls.len());
    for url in urls {
        if let Some(existing) = current.endpoints.iter().find(|e| &e.url == url) {
            endpoints.push(Arc::clone(existing));
            continue;
        }
        match (shared.factory)(url) {
            Ok(parts) => endpoints.push(Arc::new(Endpoint::new(url, parts))),
            Err(error) => {
                let url = otlp_core::redact::url(url);
                tracing::warn!(%url, %error, "skipping an endpoint");
            }
        }
    }
    if endpoints
        .iter()
        .map(|e| &e.url)
        .eq(current.endpoints.iter().map(|e| &e.url))
    {
        return;
    }
    let names: Vec<&str> = endpoints.iter().map(|e| e.url.as_str()).collect();
    let shown: Vec<String> = names
        .iter()
        .map(|url| otlp_core::redact::url(url))
        .collect();
    tracing::info!(endpoints = ?shown, "endpoint set changed");
    let ring = Ring::new(&names);
    *shared.set.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Set { endpoints, ring });
}

/// Follows the resolver while the balancer lives.
pub(super) async fn follow<Req, Resp>(
    shared: Weak<Shared<Req, Resp>>,
    resolver: Arc<dyn Resolver>,
    mut token: Option<u64>,
) {
    loop {
        let pause = resolver.interval();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let result = resolver.resolve(token).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        match result {
            Ok(resolution) => {
                token = resolution.token;
                update(&shared, &resolution.endpoints);
            }
            Err(error) => {
                tracing::warn!(%error, "discovery failed; keeping the last endpoint set");
                token = None;
                drop(shared);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Probes every endpoint with [`Balanced::probe`] while the balancer lives.
pub(super) async fn probe<Req: Balanced, Resp: Send + 'static>(shared: Weak<Shared<Req, Resp>>) {
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let interval = strong.config.probe_interval;
        let timeout = strong.config.probe_timeout;
        let set = strong.snapshot();
        drop(strong);
        let probes = set.endpoints.iter().map(|endpoint| async move {
            let ok = matches!(
                tokio::time::timeout(timeout, endpoint.probe.clone().oneshot(Req::probe())).await,
                Ok(Ok(_))
            );
            let was = endpoint.healthy.swap(ok, Ordering::Relaxed);
            if was != ok {
                let url = otlp_core::redact::url(&endpoint.url);
                tracing::info!(endpoint = %url, healthy = ok, "endpoint health changed");
            }
        });
        futures_util::future::join_all(probes).await;
        // An endpoint dropped from the set meanwhile is released now, not after the pause.
        drop(set);
        tokio::time::sleep(interval).await;
    }
}
