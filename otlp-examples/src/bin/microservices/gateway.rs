//! The microservices demo's API gateway: one `POST /api/v1/orders` calls the user, order,
//! payment and notification services under client spans; the order service through the
//! balancer over its discovered replicas.

use std::net::SocketAddr;

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::logs::{LogRecord as _, Logger as _, Severity};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::logs::SdkLogger;
use opentelemetry_sdk::trace::SdkTracer;
use otlp_examples::balanced_http::{HttpAnswer, HttpCall};
use otlp_examples::propagation;
use otlp_transport::balance::Balancer;
use tower::ServiceExt as _;

/// The gateway's view of the services it calls.
pub(crate) struct Gateway {
    pub(crate) tracer: SdkTracer,
    pub(crate) logger: SdkLogger,
    pub(crate) client: reqwest::Client,
    pub(crate) user: SocketAddr,
    /// The order-service replicas, discovered and balanced.
    pub(crate) orders: Balancer<HttpCall, HttpAnswer>,
    pub(crate) payment: SocketAddr,
    pub(crate) notification: SocketAddr,
}

impl Gateway {
    /// A client span for a call to `service`, and the headers that carry its context.
    fn client_span(&self, cx: &Context, service: &str) -> (Context, reqwest::header::HeaderMap) {
        let span = self
            .tracer
            .span_builder(format!("call {service}"))
            .with_kind(SpanKind::Client)
            .with_attributes([KeyValue::new("peer.service", service.to_owned())])
            .start_with_context(&self.tracer, cx);
        let call_cx = cx.with_span(span);
        let mut headers = reqwest::header::HeaderMap::new();
        propagation::inject(&call_cx, &mut headers);
        (call_cx, headers)
    }

    /// Ends a client span with what the call got: a status from `server`, or an error.
    fn finish(call_cx: &Context, service: &str, result: Result<(u16, String), String>) -> bool {
        let ok = match result {
            Ok((status, server)) => {
                call_cx
                    .span()
                    .set_attribute(KeyValue::new("server.address", server));
                call_cx.span().set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status),
                ));
                (200..300).contains(&status)
            }
            Err(error) => {
                call_cx
                    .span()
                    .set_attribute(KeyValue::new("error.type", error));
                false
            }
        };
        if !ok {
            call_cx
                .span()
                .set_status(Status::error(format!("{service} failed")));
        }
        call_cx.span().end();
        ok
    }

    /// Calls a service at a fixed address; returns success.
    async fn call(&self, cx: &Context, service: &str, addr: SocketAddr, path: &str) -> bool {
        let (call_cx, headers) = self.client_span(cx, service);
        let result = self
            .client
            .post(format!("http://{addr}{path}"))
            .headers(headers)
            .send()
            .await
            .map(|response| (response.status().as_u16(), addr.to_string()))
            .map_err(|e| e.to_string());
        Self::finish(&call_cx, service, result)
    }

    /// Calls the order service on the replica the balancer picks (failing over when one is
    /// unreachable); returns success, and whether no replica could be reached.
    async fn call_orders(&self, cx: &Context) -> (bool, bool) {
        let (call_cx, headers) = self.client_span(cx, "order-service");
        let result = self
            .orders
            .clone()
            .oneshot(HttpCall::post("/orders", headers))
            .await;
        let unreachable = result.is_err();
        let result = result
            .map(|answer| {
                let server = answer.replica.trim_start_matches("http://").to_owned();
                (answer.status, server)
            })
            .map_err(|e| e.to_string());
        (Self::finish(&call_cx, "order-service", result), unreachable)
    }

    /// One `POST /api/v1/orders`: validate the user, create the order on a replica, take the
    /// payment, send the notification. Returns success, and whether the order service could
    /// not be reached at all.
    pub(crate) async fn place_order(&self, request: usize) -> (bool, bool) {
        let span = self
            .tracer
            .span_builder("POST /api/v1/orders")
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", "POST"),
                KeyValue::new("url.path", "/api/v1/orders"),
                KeyValue::new("request.id", request as i64),
            ])
            .start(&self.tracer);
        let cx = Context::new().with_span(span).with_baggage([KeyValue::new(
            "customer.tier",
            if request.is_multiple_of(3) {
                "gold"
            } else {
                "standard"
            },
        )]);
        let user = self
            .call(&cx, "user-service", self.user, "/users/validate")
            .await;
        let (order, unreachable) = self.call_orders(&cx).await;
        let results = [
            user,
            order,
            self.call(&cx, "payment-service", self.payment, "/payments")
                .await,
            self.call(
                &cx,
                "notification-service",
                self.notification,
                "/notifications",
            )
            .await,
        ];
        let ok = results.iter().all(|r| *r);
        cx.span().set_status(if ok {
            Status::Ok
        } else {
            Status::error("some services failed")
        });
        let span_context = cx.span().span_context().clone();
        let mut record = self.logger.create_log_record();
        record.set_body(
            format!(
                "order request {request}: {}",
                if ok { "completed" } else { "failed" }
            )
            .into(),
        );
        record.set_severity_number(if ok { Severity::Info } else { Severity::Warn });
        record.set_trace_context(
            span_context.trace_id(),
            span_context.span_id(),
            Some(span_context.trace_flags()),
        );
        self.logger.emit(record);
        cx.span().end();
        (ok, unreachable)
    }
}
