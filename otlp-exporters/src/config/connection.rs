//! The startup report's lines for the transports' connection settings, limits and proxy.

use super::report::duration;
use super::PipelineConfig;

pub(super) fn report(config: &PipelineConfig, add: &mut impl FnMut(&str, String)) {
    let c = &config.connection;
    let off = |d: Option<std::time::Duration>| d.map_or_else(|| "off".to_owned(), duration);
    let default = |n: Option<u32>| n.map_or_else(|| "default".to_owned(), |n| n.to_string());
    add("connection.tcp_keepalive", off(c.tcp_keepalive));
    add(
        "connection.http2_keep_alive_interval",
        off(c.http2_keep_alive_interval),
    );
    add(
        "connection.http2_keep_alive_timeout",
        duration(c.http2_keep_alive_timeout),
    );
    add(
        "connection.http2_initial_stream_window_size",
        default(c.http2_initial_stream_window_size),
    );
    add(
        "connection.http2_initial_connection_window_size",
        default(c.http2_initial_connection_window_size),
    );
    add(
        "connection.pool_max_idle_per_host",
        c.pool_max_idle_per_host.to_string(),
    );
    add("connection.pool_idle_timeout", off(c.pool_idle_timeout));
    add(
        "connection.max_request_bytes",
        config
            .max_request_bytes
            .map_or_else(|| "protocol default".to_owned(), |n| n.to_string()),
    );
    add(
        "connection.max_response_bytes",
        config.max_response_bytes.to_string(),
    );
    add("proxy", format!("{:?}", config.proxy));
    add(
        "attempt_layers",
        format!(
            "{} layer(s), credential hook {}",
            config.attempt_layers.len(),
            if config.attempt_layers.has_credentials() {
                "set"
            } else {
                "none"
            }
        ),
    );
}
