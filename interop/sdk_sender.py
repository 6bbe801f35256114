"""The OpenTelemetry Python SDK's OTLP exporters sending to the Rust receiver.

Usage: sdk_sender.py GRPC_ENDPOINT HTTP_ENDPOINT
Sends, over each protocol, two spans (a parent and its child), one log record and one counter
data point, all with service.name "python-sdk-<protocol>", then flushes and exits 0.
"""

import sys

from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

try:
    from opentelemetry._logs import LogRecord, SeverityNumber
except ImportError:  # older SDKs
    from opentelemetry.sdk._logs import LogRecord
    from opentelemetry._logs import SeverityNumber


def send(protocol, span_exporter, log_exporter, metric_exporter):
    resource = Resource.create({"service.name": f"python-sdk-{protocol}"})

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    tracer = tracer_provider.get_tracer("interop", "1.0")
    with tracer.start_as_current_span("parent", attributes={"peer": "python", "answer": 42}):
        with tracer.start_as_current_span("child"):
            pass
    tracer_provider.shutdown()

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    logger = logger_provider.get_logger("interop", "1.0")
    logger.emit(LogRecord(body="hello from python", severity_number=SeverityNumber.WARN, severity_text="WARN"))
    logger_provider.shutdown()

    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=60_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    counter = meter_provider.get_meter("interop", "1.0").create_counter("interop_requests_total")
    counter.add(5, {"route": "/orders"})
    meter_provider.shutdown()


def main():
    grpc_endpoint, http_endpoint = sys.argv[1], sys.argv[2].rstrip("/")
    send(
        "grpc",
        GrpcSpanExporter(endpoint=grpc_endpoint, insecure=True),
        GrpcLogExporter(endpoint=grpc_endpoint, insecure=True),
        GrpcMetricExporter(endpoint=grpc_endpoint, insecure=True),
    )
    send(
        "http",
        HttpSpanExporter(endpoint=f"{http_endpoint}/v1/traces"),
        HttpLogExporter(endpoint=f"{http_endpoint}/v1/logs"),
        HttpMetricExporter(endpoint=f"{http_endpoint}/v1/metrics"),
    )


if __name__ == "__main__":
    main()
