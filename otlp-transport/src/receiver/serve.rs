//! The accept loop and per-connection serving that both of the receiver's servers share, with
//! the [`ConnectionLimits`] applied: connection slots, TLS and header-read timeouts, the idle
//! timeout, the concurrent-request gate and request timeout, HTTP/2 keep-alive and stream
//! limits, and a growing pause after failed accepts.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tower::{Service, ServiceExt};

use super::limits::ConnectionLimits;
use super::refusals::{Refusal, Refusals};
use super::{ReceivedOver, ServerTls};

/// What one server serves, and how.
pub(super) struct Server {
    pub(super) router: Router,
    pub(super) protocol: ReceivedOver,
    pub(super) limits: ConnectionLimits,
    pub(super) tls: Option<tokio_rustls::TlsAcceptor>,
    pub(super) refusals: Arc<Refusals>,
    /// For gRPC: the largest request body on the wire (HTTP checks its own, with a 413).
    pub(super) max_body_bytes: Option<usize>,
}

/// Accepts connections on `listener` and serves each until `stop` turns true.
pub(super) fn spawn(
    listener: TcpListener,
    server: Server,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let server = Arc::new(server);
    let slots = Arc::new(Semaphore::new(server.limits.max_connections));
    let requests = Arc::new(Semaphore::new(server.limits.max_concurrent_requests));
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        let first_pause = Duration::from_millis(5);
        let mut pause = first_pause;
        loop {
            while connections.try_join_next().is_some() {}
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stop.wait_for(|stopped| *stopped) => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => {
                    pause = first_pause;
                    stream
                }
                Err(error) => {
                    // EMFILE and friends: accepting again at once would spin.
                    server.refusals.note(Refusal::AcceptError, &error);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.wait_for(|stopped| *stopped) => break,
                    }
                    pause = (pause * 2).min(server.limits.accept_error_backoff.max(first_pause));
                    continue;
                }
            };
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                server
                    .refusals
                    .note(Refusal::ConnectionLimit, &server.limits.max_connections);
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            connections.spawn(connection(
                stream,
                slot,
                Arc::clone(&server),
                Arc::clone(&requests),
            ));
        }
        connections.abort_all();
    })
}

async fn connection(
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
    server: Arc<Server>,
    requests: Arc<Semaphore>,
) {
    let timeout = server.limits.header_read_timeout;
    match &server.tls {
        Some(acceptor) => match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => serve(TokioIo::new(tls), server, requests).await,
            Ok(Err(error)) => server.refusals.note(Refusal::TlsHandshake, &error),
            Err(_) => server.refusals.note(
                Refusal::TlsHandshake,
                &"no handshake within the header-read timeout",
            ),
        },
        None => serve(TokioIo::new(stream), server, requests).await,
    }
}

async fn serve<I>(io: TokioIo<I>, server: Arc<Server>, requests: Arc<Semaphore>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = server.limits;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .keep_alive_interval(limits.http2_keep_alive_interval)
        .keep_alive_timeout(limits.http2_keep_alive_timeout);
    if server.protocol == ReceivedOver::Grpc {
        builder = builder.http2_only();
    }
    let activity = Arc::new(Activity::new());
    let service = Gate {
        server: Arc::clone(&server),
        requests,
        activity: Arc::clone(&activity),
    };
    let service = hyper_util::service::TowerToHyperService::new(service);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                if is_header_timeout(&*error) {
                    server.refusals.note(Refusal::HeaderTimeout, &error);
                } else {
                    tracing::debug!(%error, "OTLP receiver: connection ended with an error");
                }
            }
        }
        () = activity.idle_for(limits.idle_timeout) => {
            server.refusals.note(Refusal::IdleTimeout, &format_args!("{:?} without a request", limits.idle_timeout));
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(1), connection).await;
        }
    }
}

fn is_header_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(err) = current {
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_timeout)
        {
            return true;
        }
        current = err.source();
    }
    false
}

/// Requests in flight on one connection, and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }

    fn touch(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// Returns once no request has been in flight for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.checked_add(idle).unwrap_or_else(Instant::now);
            tokio::time::sleep_until(due).await;
            let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
            if self.in_flight.load(Ordering::Acquire) == 0 && last.elapsed() >= idle {
                return;
            }
            if self.in_flight.load(Ordering::Acquire) > 0 {
                // Check again one idle period after now; the request's end touches `last`.
                self.touch();
            }
        }
    }
}

/// Marks a request in flight until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The per-connection service: the concurrent-request gate and the request timeout, before the
/// server's router.
#[derive(Clone)]
struct Gate {
    server: Arc<Server>,
    requests: Arc<Semaphore>,
    activity: Arc<Activity>,
}

impl Service<Request<Incoming>> for Gate {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::new(Arc::clone(&self.activity));
        let server = Arc::clone(&self.server);
        let requests = Arc::clone(&self.requests);
        Box::pin(async move {
            let _in_flight = in_flight;
            let Ok(_permit) = requests.try_acquire_owned() else {
                let limit = server.limits.max_concurrent_requests;
                server.refusals.note(Refusal::RequestLimit, &limit);
                let message = format!("more than {limit} requests at once; retry later");
                return Ok(overloaded(server.protocol, &message));
            };
            let request = match server.max_body_bytes {
                Some(limit) => {
                    request.map(|body| Body::new(http_body_util::Limited::new(body, limit)))
                }
                None => request.map(Body::new),
            };
            let timeout = server.limits.request_timeout;
            match tokio::time::timeout(timeout, server.router.clone().oneshot(request)).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(never)) => match never {},
                Err(_) => {
                    server
                        .refusals
                        .note(Refusal::RequestTimeout, &format_args!("{timeout:?}"));
                    let message = format!("the request took longer than {timeout:?}");
                    Ok(overloaded(server.protocol, &message))
                }
            }
        })
    }
}

/// 503 with `Retry-After: 1` for HTTP, `UNAVAILABLE` for gRPC: both retryable for an exporter.
fn overloaded(protocol: ReceivedOver, message: &str) -> Response {
    match protocol {
        ReceivedOver::Grpc => tonic::Status::unavailable(message).into_http::<Body>(),
        ReceivedOver::Http => {
            let mut response =
                (StatusCode::SERVICE_UNAVAILABLE, message.to_owned()).into_response();
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("1"),
            );
            response
        }
    }
}

/// The rustls acceptor for `tls`, offering HTTP/2 and HTTP/1.1.
pub(super) fn tls_acceptor(tls: &ServerTls) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    let chain = CertificateDer::pem_slice_iter(&tls.certificate_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("receiver certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(&tls.key_pem)
        .map_err(|e| invalid(format!("receiver key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?;
    let builder = match &tls.client_ca_pem {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(ca) {
                let certificate = certificate.map_err(|e| invalid(format!("client CA: {e}")))?;
                roots
                    .add(certificate)
                    .map_err(|e| invalid(format!("client CA: {e}")))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| invalid(format!("client CA: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| invalid(format!("receiver certificate and key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
