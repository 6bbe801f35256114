//! `distribution.otlp-rust.connection` and `distribution.otlp-rust.proxy`: the transports'
//! connection settings and proxy, which the schema has no keys for.
//!
//! ```yaml
//! distribution:
//!   otlp-rust:
//!     connection:
//!       tcp_keepalive: 60000                        # ms; 0: off (the default)
//!       http2_keep_alive_interval: 30000            # ms; 0: no pings
//!       http2_keep_alive_timeout: 20000             # ms
//!       http2_initial_stream_window_size: 1048576   # bytes
//!       http2_initial_connection_window_size: 4194304
//!       pool_max_idle_per_host: 32
//!       pool_idle_timeout: 90000                    # ms; 0: kept until the server closes it
//!       max_request_bytes: 4194304                  # larger batches are split
//!       max_response_bytes: 4194304
//!     proxy:
//!       url: http://proxy.internal:3128
//!       no_proxy: [collector.internal, 10.0.0.7]
//!       loopback: false                             # loopback collectors bypass the proxy
//! ```

use std::time::Duration;

use otlp_core::InvalidSetting;
use otlp_transport::ProxyConfig;

use super::node::Node;
use super::Reading;

/// Milliseconds where `0` turns the setting off.
fn optional_millis(node: &Node<'_>) -> Result<Option<Option<Duration>>, InvalidSetting> {
    Ok(node
        .integer(0)?
        .map(|ms| (ms > 0).then(|| Duration::from_millis(ms.unsigned_abs()))))
}

/// Reads `connection` or `proxy`.
pub(super) fn read(r: &mut Reading<'_>, key: &str, node: &Node<'_>) -> Result<(), InvalidSetting> {
    match key {
        "proxy" => proxy(r, node),
        _ => connection(r, node),
    }
}

fn connection(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    for (key, value) in node.entries(
        &[
            "tcp_keepalive",
            "http2_keep_alive_interval",
            "http2_keep_alive_timeout",
            "http2_initial_stream_window_size",
            "http2_initial_connection_window_size",
            "pool_max_idle_per_host",
            "pool_idle_timeout",
            "max_request_bytes",
            "max_response_bytes",
        ],
        &mut r.warnings,
    )? {
        let c = &mut r.config.connection;
        let set = match key {
            "tcp_keepalive" => optional_millis(&value)?.map(|d| c.tcp_keepalive = d),
            "http2_keep_alive_interval" => {
                optional_millis(&value)?.map(|d| c.http2_keep_alive_interval = d)
            }
            "http2_keep_alive_timeout" => {
                value.millis(false)?.map(|d| c.http2_keep_alive_timeout = d)
            }
            "http2_initial_stream_window_size" => value
                .number::<u32>(1)?
                .map(|n| c.http2_initial_stream_window_size = Some(n)),
            "http2_initial_connection_window_size" => value
                .number::<u32>(1)?
                .map(|n| c.http2_initial_connection_window_size = Some(n)),
            "pool_max_idle_per_host" => value
                .number::<usize>(0)?
                .map(|n| c.pool_max_idle_per_host = n),
            "pool_idle_timeout" => optional_millis(&value)?.map(|d| c.pool_idle_timeout = d),
            "max_request_bytes" => value
                .number::<usize>(1024)?
                .map(|n| r.config.max_request_bytes = Some(n)),
            _ => value
                .number::<usize>(1024)?
                .map(|n| r.config.max_response_bytes = n),
        };
        if set.is_some() {
            r.mark(format!("connection.{key}"));
        }
    }
    Ok(())
}

fn proxy(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let mut url = None;
    let mut no_proxy = Vec::new();
    let mut loopback = false;
    for (key, value) in node.entries(&["url", "no_proxy", "loopback"], &mut r.warnings)? {
        match key {
            "url" => {
                if let Some(text) = value.string()? {
                    url = Some((text, value));
                }
            }
            "no_proxy" => {
                for item in value.list()? {
                    no_proxy.extend(item.string()?);
                }
            }
            _ => loopback = value.boolean()?.unwrap_or(false),
        }
    }
    let Some((text, url_node)) = url else {
        return Err(node.error("a proxy needs its url"));
    };
    r.config.proxy = ProxyConfig::all(url_node.path(), &text)
        .map_err(|e| url_node.error(e.reason()))?
        .with_no_proxy(no_proxy)
        .with_loopback(loopback);
    r.mark("proxy");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use crate::PipelineConfig;

    fn apply(yaml: &str) -> Result<PipelineConfig, otlp_core::InvalidSetting> {
        let mut config = PipelineConfig::default();
        let env: HashMap<&str, &str> = HashMap::new();
        config.apply_yaml(yaml, "test.yaml", &env)?;
        Ok(config)
    }

    #[test]
    fn the_connection_keys_reach_the_settings() {
        let config = apply(
            "file_format: \"1.0\"\ndistribution:\n  otlp-rust:\n    connection:\n      \
             tcp_keepalive: 60000\n      http2_keep_alive_interval: 0\n      \
             http2_initial_stream_window_size: 1048576\n      pool_max_idle_per_host: 4\n      \
             pool_idle_timeout: 0\n      max_request_bytes: 65536\n      \
             max_response_bytes: 8192\n    proxy:\n      url: http://proxy:3128\n      \
             no_proxy: [collector.internal]\n",
        )
        .unwrap();
        let c = config.connection;
        assert_eq!(c.tcp_keepalive, Some(Duration::from_secs(60)));
        assert_eq!(c.http2_keep_alive_interval, None);
        assert_eq!(c.http2_initial_stream_window_size, Some(1_048_576));
        assert_eq!((c.pool_max_idle_per_host, c.pool_idle_timeout), (4, None));
        assert_eq!(config.max_request_bytes, Some(65_536));
        assert_eq!(config.max_response_bytes, 8192);
        assert!(config.proxy.is_set());
    }

    #[test]
    fn bad_values_name_the_key() {
        for (yaml, key) in [
            (
                "connection:\n      max_request_bytes: 10",
                "max_request_bytes",
            ),
            ("connection:\n      tcp_keepalive: soon", "tcp_keepalive"),
            ("proxy:\n      url: socks5://p:1080", "url"),
            ("connection:\n      nagle: true", "nagle"),
        ] {
            let text = format!("file_format: \"1.0\"\ndistribution:\n  otlp-rust:\n    {yaml}\n");
            let error = apply(&text).unwrap_err().to_string();
            assert!(error.contains(key), "{key}: {error}");
        }
    }
}
