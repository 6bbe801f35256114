//! What the user puts around each attempt, through the pipeline: a credential hook whose token
//! changes mid-run, a layer that counts attempts (retries included) and one that adds a
//! header; and the request size limit, which splits a batch into several requests.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use opentelemetry::KeyValue;
use otlp_core::{ExportRequest, RequestHeaders, Signal};
use otlp_exporters::OtlpPipeline;
use otlp_reliability::retry::RetryConfig;
use otlp_transport::credentials::CredentialError;
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};
use tower::util::MapRequestLayer;
use tower::{Layer, Service};

/// Counts the requests that pass.
#[derive(Clone)]
struct CountLayer(Arc<AtomicUsize>);

#[derive(Clone)]
struct Count<S> {
    inner: S,
    seen: Arc<AtomicUsize>,
}

impl<S> Layer<S> for CountLayer {
    type Service = Count<S>;

    fn layer(&self, inner: S) -> Count<S> {
        Count {
            inner,
            seen: Arc::clone(&self.0),
        }
    }
}

impl<S: Service<ExportRequest>> Service<ExportRequest> for Count<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ExportRequest) -> S::Future {
        self.seen.fetch_add(1, Ordering::SeqCst);
        self.inner.call(request)
    }
}

#[test]
fn the_hook_and_the_layers_see_every_attempt_and_the_token_changes_mid_run() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime
        .block_on(Receiver::start(
            ReceiverConfig::default().with_keep_requests(true),
        ))
        .unwrap();
    // The first attempt is refused as unavailable: the retry is a second attempt.
    receiver.faults().push(Fault::unavailable());
    let calls = Arc::new(AtomicUsize::new(0));
    let hook = {
        let calls = Arc::clone(&calls);
        move || {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                let mut headers = RequestHeaders::new();
                headers.insert("authorization", format!("Bearer token-{n}"));
                Ok::<_, CredentialError>(headers)
            }
        }
    };
    let attempts = Arc::new(AtomicUsize::new(0));
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_retry(
            RetryConfig::default()
                .with_backoff(Duration::from_millis(10), Duration::from_millis(50), 2.0)
                .with_budget(None),
        )
        .with_credentials(hook)
        .with_attempt_layer(CountLayer(Arc::clone(&attempts)))
        .with_attempt_layer(MapRequestLayer::new(|mut request: ExportRequest| {
            request.headers.insert("x-signature", "signed");
            request
        }))
        .build()
        .unwrap();

    let tracer = pipeline.tracer("checkout");
    tracer.in_span("first", |_| {});
    assert!(pipeline.force_flush(Duration::from_secs(10)).completed);
    tracer.in_span("second", |_| {});
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);

    assert_eq!(receiver.counts().spans, 2);
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "two attempts, then one");
    let received = receiver.received();
    let header = |name: &str| -> Vec<String> {
        received
            .iter()
            .map(|r| r.headers[name].to_str().unwrap().to_owned())
            .collect()
    };
    // The refused attempt was made with token-1; each later attempt asked the hook again.
    assert_eq!(
        header("authorization"),
        ["Bearer token-2", "Bearer token-3"]
    );
    assert_eq!(header("x-signature"), ["signed", "signed"]);
    runtime.block_on(receiver.shutdown());
}

#[test]
fn a_batch_over_the_request_size_limit_goes_as_several_requests() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime
        .block_on(Receiver::start(ReceiverConfig::default()))
        .unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_max_request_bytes(4 * 1024)
        .build()
        .unwrap();
    let tracer = pipeline.tracer("checkout");
    for i in 0..100 {
        tracer.in_span(format!("span-{i}"), |cx| {
            use opentelemetry::trace::TraceContextExt as _;
            cx.span()
                .set_attribute(KeyValue::new("payload", "x".repeat(200)));
        });
    }
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    let counts = receiver.counts();
    assert_eq!(counts.items(Signal::Traces), 100);
    // 100 spans of over 200 bytes each do not fit in 4 KiB: at least five requests.
    assert!(counts.requests >= 5, "{counts:?}");
    runtime.block_on(receiver.shutdown());
}
