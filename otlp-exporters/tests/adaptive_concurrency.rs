//! The concurrency setting through the pipeline: against a collector that answers slowly the
//! adaptive limit lets several exports overlap (its limit, in-flight count and round trip in
//! `stats()`), `fixed N` keeps N, and the setting is read from the environment and the
//! configuration file, a bad value named.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::{BatchConfig, BatchStrategy};
use otlp_exporters::config::Protocol;
use otlp_exporters::{OtlpPipeline, PipelineConfig};
use otlp_reliability::adaptive_concurrency::{AdaptiveConfig, ConcurrencyConfig};
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};

/// Sends `spans` spans in batches of 16 to a collector that answers each request after
/// `delay`; returns the pipeline's stats after a flush.
async fn run(concurrency: ConcurrencyConfig, spans: usize) -> otlp_exporters::PipelineStats {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    receiver
        .faults()
        .set_default(Some(Fault::accept().with_delay(Duration::from_millis(40))));
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_concurrency(concurrency)
        .with_batch(
            BatchConfig::default()
                .with_max_queue_size(4096)
                .with_max_batch_size(16)
                .with_strategy(BatchStrategy::Size),
        )
        .build()
        .unwrap();
    let tracer = pipeline.tracer("load");
    for i in 0..spans {
        tracer.in_span(format!("op-{i}"), |_| {});
    }
    assert!(pipeline.force_flush(Duration::from_secs(60)).completed);
    let stats = pipeline.stats();
    pipeline.shutdown(Duration::from_secs(5));
    stats
}

fn traces(
    stats: &otlp_exporters::PipelineStats,
) -> otlp_reliability::adaptive_concurrency::ConcurrencyStats {
    stats
        .concurrency
        .iter()
        .find(|e| e.name.starts_with("traces:127.0.0.1:"))
        .unwrap_or_else(|| panic!("no traces endpoint: {:?}", stats.concurrency))
        .stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adaptive_limit_lets_exports_overlap_against_a_slow_collector() {
    let stats = run(ConcurrencyConfig::default(), 1600).await;
    assert_eq!(stats.spans.exported, 1600, "{:?}", stats.spans);
    assert!(stats.spans.balanced(), "{:?}", stats.spans);
    let limit = traces(&stats);
    // A serial worker never fills a limit above 2, so it could not have grown past it.
    assert!(limit.limit > 2 && limit.increases > 2, "{limit:?}");
    assert_eq!(limit.in_flight, 0);
    assert!(limit.rtt.unwrap() >= Duration::from_millis(40), "{limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_limit_stays_where_it_is_set() {
    let stats = run(ConcurrencyConfig::Fixed(4), 320).await;
    assert_eq!(stats.spans.exported, 320, "{:?}", stats.spans);
    let limit = traces(&stats);
    assert_eq!((limit.limit, limit.increases, limit.decreases), (4, 0, 0));
}

#[test]
fn the_setting_is_read_from_the_environment_and_the_file() {
    let env: HashMap<&str, &str> = [
        ("OTLP_EXPORTER_CONCURRENCY", "adaptive"),
        ("OTLP_EXPORTER_CONCURRENCY_MAX_LIMIT", "16"),
        ("OTLP_EXPORTER_CONCURRENCY_INITIAL_LIMIT", "2"),
        ("OTLP_EXPORTER_CONCURRENCY_DECREASE_RATIO", "2.0"),
    ]
    .into();
    let mut config = PipelineConfig::default();
    config.apply_env(&env).unwrap();
    assert_eq!(
        config.concurrency,
        ConcurrencyConfig::Adaptive(
            AdaptiveConfig::default()
                .with_max_limit(16)
                .with_initial_limit(2)
        ),
        "the bad ratio is ignored, the rest applies"
    );
    assert!(
        config
            .provenance
            .warnings()
            .iter()
            .any(|w| w.contains("OTLP_EXPORTER_CONCURRENCY_DECREASE_RATIO")),
        "{:?}",
        config.provenance.warnings()
    );
    let env: HashMap<&str, &str> = [("OTLP_EXPORTER_CONCURRENCY", "fixed 8")].into();
    let mut config = PipelineConfig::default();
    config.apply_env(&env).unwrap();
    assert_eq!(config.concurrency, ConcurrencyConfig::Fixed(8));

    let file = |concurrency: &str| {
        let text = format!(
            "file_format: \"1.0\"\ndistribution:\n  otlp-rust:\n    concurrency: {concurrency}\n"
        );
        let mut config = PipelineConfig::default();
        config
            .apply_yaml(&text, "otel.yaml", &HashMap::<&str, &str>::new())
            .map(|()| config.concurrency)
            .map_err(|e| e.to_string())
    };
    assert_eq!(file("fixed 3"), Ok(ConcurrencyConfig::Fixed(3)));
    assert_eq!(
        file("{ mode: adaptive, max_limit: 8, rtt_smoothing: 0.5 }"),
        Ok(ConcurrencyConfig::Adaptive(
            AdaptiveConfig::default()
                .with_max_limit(8)
                .with_rtt_smoothing(0.5)
        ))
    );
    let error = file("{ mode: adaptive, decrease_ratio: 0 }").unwrap_err();
    assert!(
        error.contains("distribution.otlp-rust.concurrency.decrease_ratio"),
        "{error}"
    );
    let error = file("serial").unwrap_err();
    assert!(error.contains("serial"), "{error}");
}
