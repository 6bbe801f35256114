//! `distribution.otlp-rust`: what the schema has no key for, under the builder's names.
//!
//! ```yaml
//! distribution:
//!   otlp-rust:
//!     collectors: [http://collector-a:4318, http://collector-b:4318]   # or [dns:///collector.example:4317], [consul://otel-collector]
//!     balance: trace-id             # round-robin | least-loaded | trace-id
//!     connect_timeout: 5000         # milliseconds, as the schema writes durations
//!     retry: { max_attempts: 3, initial_backoff: 100, max_backoff: 5000, multiplier: 2.0, total_timeout: 30000 }
//!     circuit_breaker: { enabled: true }
//!     bulkhead: { enabled: true, max_concurrent: 16, max_wait: 5000 }
//!     concurrency: adaptive         # adaptive | fixed N | { mode, initial_limit, max_limit, decrease_ratio, rtt_smoothing }
//!     bearer_token: ${API_TOKEN}
//!     health_endpoint: 127.0.0.1:8080
//!     spool: { dir: /var/lib/app/otlp-spool, max_bytes: 268435456, segment_bytes: 8388608 }
//!     batch: { max_batch_bytes: 4194304, max_concurrent_exports: 4, strategy: hybrid, overflow: drop_newest, block_timeout: 50 }
//!     log_format: json              # json | text
//!     connection: { tcp_keepalive: 60000, pool_max_idle_per_host: 8, max_request_bytes: 1048576 }
//!     proxy: { url: http://proxy:3128, no_proxy: [collector.internal] }   # see connection.rs
//!     discovery: { refresh_interval: 30000, probe_interval: 5000, probe_timeout: 2000, consul_agent: http://127.0.0.1:8500 }
//! ```

use otlp_batch::{BatchStrategy, Overflow};
use otlp_core::InvalidSetting;

use super::connection;
use super::node::Node;
use super::Reading;
use crate::config::{BulkheadConfig, LogFormat, Secret};

/// This project's key under `distribution`.
pub(crate) const NAME: &str = "otlp-rust";

pub(super) fn read(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let yaml_rust2::Yaml::Hash(map) = node.yaml else {
        if node.is_null() {
            return Ok(());
        }
        return Err(node.error("expected a mapping of distribution names"));
    };
    for (name, value) in map {
        let name = name.as_str().unwrap_or_default();
        let child = node.child(name, value);
        if name == NAME {
            ours(r, &child)?;
        } else {
            r.warnings
                .warn(child.warning("settings of another distribution; ignored"));
        }
    }
    Ok(())
}

fn ours(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    for (key, value) in node.entries(
        &[
            "collectors",
            "balance",
            "connect_timeout",
            "retry",
            "circuit_breaker",
            "bulkhead",
            "concurrency",
            "bearer_token",
            "health_endpoint",
            "spool",
            "batch",
            "log_format",
            "connection",
            "proxy",
            "self_metrics",
            "discovery",
        ],
        &mut r.warnings,
    )? {
        match key {
            "collectors" => {
                let mut urls = Vec::new();
                for item in value.list()? {
                    let url = item.string()?.unwrap_or_default();
                    otlp_transport::balance::check_target(item.path(), &url)
                        .map_err(|e| item.error(e.reason()))?;
                    urls.push(url);
                }
                r.config.collectors = urls;
            }
            "balance" => {
                if let Some(text) = value.string()? {
                    r.config.balance =
                        otlp_transport::balance::BalanceStrategy::parse(value.path(), &text)
                            .map_err(|e| value.error(e.reason()))?;
                }
            }
            "connect_timeout" => {
                if let Some(d) = value.millis(false)? {
                    r.config.connect_timeout = d;
                }
            }
            "connection" | "proxy" => connection::read(r, key, &value)?,
            "retry" => retry(r, &value)?,
            "circuit_breaker" => {
                for (_, enabled) in value.entries(&["enabled"], &mut r.warnings)? {
                    if let Some(on) = enabled.boolean()? {
                        r.config.circuit_breaker = on.then(Default::default);
                    }
                }
            }
            "bulkhead" => bulkhead(r, &value)?,
            "concurrency" => super::concurrency::read(r, &value)?,
            "bearer_token" => {
                if let Some(token) = value.string()? {
                    r.config.bearer_token = Some(Secret::new(token));
                }
            }
            "health_endpoint" => {
                if let Some(text) = value.string()? {
                    let addr = text
                        .trim()
                        .parse()
                        .map_err(|_| value.error("expected an address such as 127.0.0.1:8080"))?;
                    r.config.health_endpoint = Some(addr);
                }
            }
            "spool" => spool(r, &value)?,
            "batch" => batch(r, &value)?,
            "self_metrics" => {
                if let Some(on) = value.boolean()? {
                    r.config.self_metrics = on;
                }
            }
            "discovery" => crate::config::discovery::apply_file(r, &value)?,
            _ => {
                if let Some(format) =
                    value.choice(&[("json", LogFormat::Json), ("text", LogFormat::Text)])?
                {
                    r.config.log_format = format;
                }
            }
        }
        let reported = match key {
            "retry" => "retry.max_attempts",
            "batch" | "concurrency" | "connection" | "proxy" | "discovery" => continue,
            other => other,
        };
        r.mark(reported);
    }
    Ok(())
}

fn retry(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    for (key, value) in node.entries(
        &[
            "max_attempts",
            "initial_backoff",
            "max_backoff",
            "multiplier",
            "total_timeout",
        ],
        &mut r.warnings,
    )? {
        let retry = &mut r.config.retry;
        match key {
            "max_attempts" => {
                if let Some(n) = value.number(1)? {
                    retry.max_attempts = n;
                }
            }
            "initial_backoff" => {
                if let Some(d) = value.millis(false)? {
                    retry.backoff.initial = d;
                }
            }
            "max_backoff" => {
                if let Some(d) = value.millis(false)? {
                    retry.backoff.max = d;
                }
            }
            "multiplier" => {
                if let Some(m) = value.float()? {
                    retry.backoff.multiplier = m;
                }
            }
            _ => {
                if let Some(d) = value.millis(true)? {
                    retry.total_timeout = Some(d);
                }
            }
        }
    }
    r.config
        .retry
        .validate()
        .map_err(|e| node.error(e.to_string()))
}

fn bulkhead(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let mut config = r.config.bulkhead.unwrap_or_default();
    let mut enabled = true;
    for (key, value) in node.entries(&["enabled", "max_concurrent", "max_wait"], &mut r.warnings)? {
        match key {
            "enabled" => enabled = value.boolean()?.unwrap_or(true),
            "max_concurrent" => {
                if let Some(n) = value.number(1)? {
                    config.max_concurrent = n;
                }
            }
            _ => {
                if let Some(d) = value.millis(false)? {
                    config.max_wait = d;
                }
            }
        }
    }
    r.config.bulkhead = enabled.then_some(BulkheadConfig { ..config });
    Ok(())
}

fn spool(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let entries = node.entries(&["dir", "max_bytes", "segment_bytes"], &mut r.warnings)?;
    let Some((_, dir)) = entries.iter().find(|(k, _)| *k == "dir") else {
        return Err(node.error("a spool needs a dir"));
    };
    let Some(dir) = dir.string()? else {
        return Err(dir.error("a spool needs a dir"));
    };
    let mut spool = otlp_batch::spool::SpoolConfig::new(dir.trim());
    for (key, value) in &entries {
        match *key {
            "max_bytes" => {
                if let Some(n) = value.number(1)? {
                    spool = spool.with_max_bytes(n);
                }
            }
            "segment_bytes" => {
                if let Some(n) = value.number(1)? {
                    spool = spool.with_segment_bytes(n);
                }
            }
            _ => {}
        }
    }
    r.config.spool = Some(spool);
    Ok(())
}

fn batch(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let entries = node.entries(
        &[
            "max_batch_bytes",
            "max_concurrent_exports",
            "strategy",
            "overflow",
            "block_timeout",
        ],
        &mut r.warnings,
    )?;
    let mut block_timeout = std::time::Duration::from_millis(50);
    for (key, value) in &entries {
        if *key == "block_timeout" {
            if let Some(d) = value.millis(false)? {
                block_timeout = d;
            }
        }
    }
    for (key, value) in &entries {
        let max_batch_bytes = if *key == "max_batch_bytes" {
            value.number::<usize>(1)?
        } else {
            None
        };
        let concurrent = if *key == "max_concurrent_exports" {
            value.number::<usize>(1)?
        } else {
            None
        };
        let strategy = if *key == "strategy" {
            value.choice(&[
                ("size", BatchStrategy::Size),
                ("time", BatchStrategy::Time),
                ("hybrid", BatchStrategy::Hybrid),
            ])?
        } else {
            None
        };
        let overflow = if *key == "overflow" {
            value.choice(&[
                ("drop_newest", Overflow::DropNewest),
                ("drop_oldest", Overflow::DropOldest),
                ("block", Overflow::Block(block_timeout)),
            ])?
        } else {
            None
        };
        for target in [&mut r.config.span_batch, &mut r.config.log_batch] {
            if let Some(n) = max_batch_bytes {
                target.max_batch_bytes = Some(n);
            }
            if let Some(n) = concurrent {
                target.max_concurrent_exports = n;
            }
            if let Some(s) = strategy {
                target.strategy = s;
            }
            if let Some(o) = overflow {
                target.overflow = o;
            }
        }
    }
    Ok(())
}
