"""A reference OTLP receiver built on grpcio and the opentelemetry-proto Python package.

It decodes what the Rust transports send (gRPC, HTTP protobuf, HTTP JSON; gzip or zstd-free)
and prints one JSON line per request on stdout with a summary of the decoded content, so the
Rust side can compare it with what it sent. The first line printed gives the bound ports.
It reads stdin and exits when stdin closes.
"""

import base64
import gzip
import json
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

LOCK = threading.Lock()


def emit(record):
    with LOCK:
        sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
        sys.stdout.flush()


def any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if kind == "int_value":
        return str(value.int_value)
    return getattr(value, kind)


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def summarize(signal, message):
    """The content of a request, in the shape the Rust interop test expects."""
    out = []
    if signal == "traces":
        for rs in message.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out.append({
                        "resource": attributes(rs.resource.attributes),
                        "scope": [ss.scope.name, ss.scope.version],
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "name": span.name,
                        "kind": span.kind,
                        "start": str(span.start_time_unix_nano),
                        "end": str(span.end_time_unix_nano),
                        "attributes": attributes(span.attributes),
                    })
    elif signal == "metrics":
        for rm in message.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    points = getattr(metric, metric.WhichOneof("data")).data_points
                    for point in points:
                        value_kind = point.WhichOneof("value")
                        out.append({
                            "resource": attributes(rm.resource.attributes),
                            "scope": [sm.scope.name, sm.scope.version],
                            "name": metric.name,
                            "unit": metric.unit,
                            "time": str(point.time_unix_nano),
                            "value": str(getattr(point, value_kind)),
                        })
    else:
        for rl in message.resource_logs:
            for sl in rl.scope_logs:
                for record in sl.log_records:
                    out.append({
                        "resource": attributes(rl.resource.attributes),
                        "scope": [sl.scope.name, sl.scope.version],
                        "time": str(record.time_unix_nano),
                        "severity_number": record.severity_number,
                        "severity_text": record.severity_text,
                        "body": any_value(record.body),
                    })
    return out


def grpc_encoding(context):
    for key, value in context.invocation_metadata():
        if key == "grpc-encoding":
            return value
    return None


class Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        emit({"protocol": "grpc", "signal": "traces", "items": summarize("traces", request)})
        return trace_service_pb2.ExportTraceServiceResponse()


class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def Export(self, request, context):
        emit({"protocol": "grpc", "signal": "metrics", "items": summarize("metrics", request)})
        return metrics_service_pb2.ExportMetricsServiceResponse()


class Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def Export(self, request, context):
        emit({"protocol": "grpc", "signal": "logs", "items": summarize("logs", request)})
        return logs_service_pb2.ExportLogsServiceResponse()


TYPES = {
    "/v1/traces": ("traces", trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": ("metrics", metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse),
    "/v1/logs": ("logs", logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
}

ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def hex_ids_to_base64(node):
    """OTLP/JSON writes trace and span ids as hex; the proto3 JSON mapping expects base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            hex_ids_to_base64(item)


class Http(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        signal, request_type, response_type = TYPES[self.path]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        content_type = self.headers.get("Content-Type", "")
        message = request_type()
        if content_type.startswith("application/json"):
            document = json.loads(body)
            hex_ids_to_base64(document)
            json_format.ParseDict(document, message)
            reply = b"{}"
        else:
            message.ParseFromString(body)
            reply = response_type().SerializeToString()
        emit({
            "protocol": "http/json" if content_type.startswith("application/json") else "http/protobuf",
            "signal": signal,
            "compression": encoding,
            "items": summarize(signal, message),
        })
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Http)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    emit({"grpc_port": grpc_port, "http_port": http.server_address[1]})
    sys.stdin.read()
    http.shutdown()
    server.stop(0)


if __name__ == "__main__":
    main()
