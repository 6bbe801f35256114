//! How the gRPC transport reaches a collector that is not a plain TCP connection away: a
//! Unix domain socket, or a tunnel through an HTTP proxy (`CONNECT`). TLS, when the endpoint
//! is `https://`, runs over either, set up by tonic as usual.

use std::path::PathBuf;

use futures_util::future::BoxFuture;
use hyper_util::rt::TokioIo;
use otlp_core::{BoxError, InvalidSetting};
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::ProxyConfig;
use crate::endpoint::unix_socket_path;

/// The longest proxy answer to `CONNECT` read before giving up on it.
const MAX_PROXY_ANSWER_BYTES: usize = 8 * 1024;

/// Where connections go.
#[derive(Debug, Clone)]
pub(super) enum Route {
    /// TCP to the endpoint, through tonic's own connector.
    Direct,
    /// A Unix domain socket.
    Unix(PathBuf),
    /// TCP to the proxy (`host:port`), then `CONNECT` to the endpoint (`host:port`).
    Proxy { proxy: String, target: String },
}

impl Route {
    pub(super) fn for_endpoint(url: &Url, proxy: &ProxyConfig) -> Result<Self, InvalidSetting> {
        if let Some(path) = unix_socket_path(url) {
            return Ok(Route::Unix(path));
        }
        let Some(proxy_url) = proxy.proxy_for(url) else {
            return Ok(Route::Direct);
        };
        if !proxy_url.username().is_empty() || proxy_url.password().is_some() {
            return Err(InvalidSetting::new(
                "proxy",
                otlp_core::redact::url(proxy_url.as_str()),
                "proxy credentials are supported by the HTTP transport only, not gRPC",
            ));
        }
        let address = |u: &Url| {
            let host = u.host_str().unwrap_or_default();
            let port = u.port_or_known_default().unwrap_or(80);
            format!("{host}:{port}")
        };
        Ok(Route::Proxy {
            proxy: address(proxy_url),
            target: address(url),
        })
    }

    /// The connector for tonic's `connect_with_connector_lazy`.
    pub(super) fn connector(
        self,
    ) -> impl tower::Service<http::Uri, Response = Connection, Error = BoxError, Future = Connecting>
           + Clone
           + Send
           + 'static {
        tower::service_fn(move |_uri: http::Uri| {
            let route = self.clone();
            let future: Connecting =
                Box::pin(async move { route.connect().await.map(TokioIo::new) });
            future
        })
    }

    async fn connect(self) -> Result<Box<dyn Stream>, BoxError> {
        match self {
            Route::Direct => Err("the direct route uses tonic's connector".into()),
            Route::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(&path).await.map_err(|e| {
                    format!("cannot connect to the Unix socket {}: {e}", path.display())
                })?;
                Ok(Box::new(stream))
            }
            Route::Proxy { proxy, target } => {
                let mut stream = tokio::net::TcpStream::connect(&proxy)
                    .await
                    .map_err(|e| format!("cannot connect to the proxy {proxy}: {e}"))?;
                stream.set_nodelay(true)?;
                tunnel(&mut stream, &target).await?;
                Ok(Box::new(stream))
            }
        }
    }
}

/// What the connector gives tonic.
pub(super) type Connection = TokioIo<Box<dyn Stream>>;
/// The connector's future.
pub(super) type Connecting = BoxFuture<'static, Result<Connection, BoxError>>;

/// A connection tonic can run HTTP/2 (and TLS) over.
pub(super) trait Stream:
    tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin
{
}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Stream for T {}

/// Asks the proxy for a tunnel to `target` and reads its answer; anything but a 2xx fails.
async fn tunnel(stream: &mut tokio::net::TcpStream, target: &str) -> Result<(), BoxError> {
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 512];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        if answer.len() > MAX_PROXY_ANSWER_BYTES {
            return Err("the proxy's answer to CONNECT has no end of headers".into());
        }
        // Byte by byte would be slow; a proxy sends nothing after the header block until the
        // tunnel is used, so reading in chunks cannot swallow the collector's first bytes.
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Err("the proxy closed the connection before answering CONNECT".into());
        }
        answer.extend_from_slice(&buffer[..read]);
    }
    let status_line = answer
        .split(|b| *b == b'\n')
        .next()
        .map(|line| String::from_utf8_lossy(line).trim().to_owned())
        .unwrap_or_default();
    let code = status_line.split_whitespace().nth(1).unwrap_or_default();
    if !code.starts_with('2') {
        return Err(format!("the proxy refused the tunnel to {target}: {status_line}").into());
    }
    Ok(())
}
