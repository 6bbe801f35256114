//! Collectors found by discovery, as users configure it: `dns:///localhost:PORT` from the
//! environment and `consul://service` from the configuration file (against a server that
//! answers as Consul's health API does), each delivering spans to a receiver on 127.0.0.1.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::Tracer as _;
use otlp_exporters::config::{PipelineConfig, Source};
use otlp_exporters::PipelineBuilder;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

fn send_spans(config: PipelineConfig, spans: usize) {
    let pipeline = PipelineBuilder::from_config(config).build().unwrap();
    let tracer = pipeline.tracer("discovery");
    for i in 0..spans {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    assert!(pipeline.shutdown(Duration::from_secs(20)).completed);
}

fn port(receiver: &Receiver) -> u16 {
    let endpoint = receiver.http_endpoint();
    endpoint.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_target_from_the_environment_reaches_the_collector() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let target = format!("dns:///localhost:{}", port(&receiver));
    let env: HashMap<&str, &str> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        ("OTLP_RUST_COLLECTORS", target.as_str()),
        ("OTLP_RUST_DISCOVERY_REFRESH_INTERVAL", "200"),
    ]
    .into_iter()
    .collect();
    let mut config = PipelineConfig::default();
    config.apply_env(&env).unwrap();
    assert_eq!(
        config.provenance.get("collectors"),
        Some(Source::Environment)
    );
    assert_eq!(
        config.discovery.refresh_interval,
        Duration::from_millis(200)
    );
    tokio::task::spawn_blocking(move || send_spans(config, 20))
        .await
        .unwrap();
    assert_eq!(
        receiver.counts().spans,
        20,
        "localhost resolved to the receiver"
    );
}

async fn fake_consul(collector_port: u16) -> String {
    let health = move |Path(service): Path<String>,
                       Query(query): Query<HashMap<String, String>>| async move {
        if query.contains_key("index") {
            // Nothing changes: a blocking query waits (shortened for the test).
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let instances = if service == "otel-collector" {
            serde_json::json!([{
                "Node": {"Address": "127.0.0.1"},
                "Service": {"Address": "127.0.0.1", "Port": collector_port}
            }])
        } else {
            serde_json::json!([])
        };
        ([("X-Consul-Index", "7")], axum::Json(instances))
    };
    let router = Router::new().route("/v1/health/service/{service}", get(health));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consul_service_from_the_file_reaches_the_collector() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let agent = fake_consul(port(&receiver)).await;
    let file = format!(
        "file_format: \"1.0\"
tracer_provider:
  processors:
    - batch:
        exporter:
          otlp_http:
            endpoint: http://127.0.0.1:9/v1/traces
distribution:
  otlp-rust:
    collectors: [consul://otel-collector]
    discovery: {{ consul_agent: \"{agent}\", probe_interval: 300, probe_timeout: 200, consul_wait: 1000 }}
"
    );
    let mut config = PipelineConfig::default();
    config
        .apply_yaml(&file, "otel.yaml", &HashMap::<&str, &str>::new())
        .unwrap();
    assert_eq!(config.discovery.probe_interval, Duration::from_millis(300));
    assert_eq!(
        config.provenance.get("discovery.consul_agent"),
        Some(Source::File)
    );
    let report = config.report().to_string();
    assert!(report.contains("consul://otel-collector"), "{report}");
    tokio::task::spawn_blocking(move || send_spans(config, 20))
        .await
        .unwrap();
    assert_eq!(receiver.counts().spans, 20, "consul named the receiver");

    // A target that cannot be a discovery entry is refused, naming the key and the value.
    let mut config = PipelineConfig::default();
    let error = config
        .apply_yaml(
            "file_format: \"1.0\"\ndistribution:\n  otlp-rust:\n    collectors: [\"dns:///no-port\"]\n",
            "otel.yaml",
            &HashMap::<&str, &str>::new(),
        )
        .unwrap_err();
    assert!(error.to_string().contains("collectors"), "{error}");
    assert!(error.to_string().contains("dns:///no-port"), "{error}");
}
