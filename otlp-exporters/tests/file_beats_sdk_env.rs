//! With a configuration file, the SDK's own reading of `OTEL_TRACES_SAMPLER` and the span
//! limits from the process environment does not override it: the pipeline always gives the
//! providers the configured sampler and limits. (One test in its own process, because it sets
//! process environment variables.)

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_core::Telemetry;
use otlp_exporters::config::PipelineConfig;
use otlp_exporters::PipelineBuilder;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_environment_does_not_override_a_file() {
    std::env::set_var("OTEL_TRACES_SAMPLER", "always_off");
    std::env::set_var("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "1");
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let file = format!(
        "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_http:\n            endpoint: {}/v1/traces\n",
        receiver.http_endpoint()
    );
    let mut config = PipelineConfig::default();
    config
        .apply_yaml(&file, "otel.yaml", &HashMap::<&str, &str>::new())
        .unwrap();
    let pipeline = PipelineBuilder::from_config(config).build().unwrap();
    let mut span = pipeline.tracer("t").start("kept");
    assert!(
        span.span_context().is_sampled(),
        "the file's default sampler"
    );
    for i in 0..3 {
        span.set_attribute(KeyValue::new(format!("k{i}"), i as i64));
    }
    span.end();
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    let received = receiver.received();
    let Telemetry::Traces(request) = &received[0].payload else {
        panic!("expected spans");
    };
    assert_eq!(
        request.resource_spans[0].scope_spans[0].spans[0]
            .attributes
            .len(),
        3,
        "the default limit of 128, not the environment's 1"
    );
}
