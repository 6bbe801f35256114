//! The guide's metrics collector: one instrument of each kind with the guide's names, an
//! observable gauge computed when the reader collects, and what was recorded kept on the side.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, UpDownCounter};
use opentelemetry::KeyValue;

use crate::recorded::Recorded;

/// The guide's metrics collector.
pub(crate) struct MetricsCollector {
    user_actions: Counter<u64>,
    user_sessions: Counter<u64>,
    sessions_in_progress: UpDownCounter<i64>,
    transactions: Counter<u64>,
    transaction_amount: Histogram<f64>,
    transaction_volume: Gauge<f64>,
    api_requests: Counter<u64>,
    api_response_time: Histogram<f64>,
    api_error_rate: Gauge<f64>,
    active_users: Gauge<u64>,
    revenue_cents: Arc<AtomicU64>,
    api_calls: Arc<AtomicU64>,
    api_errors: Arc<AtomicU64>,
    pub(crate) recorded: Recorded,
}

impl MetricsCollector {
    pub(crate) fn new(meter: &Meter) -> Self {
        let api_calls = Arc::new(AtomicU64::new(0));
        let api_errors = Arc::new(AtomicU64::new(0));
        let (calls, errors) = (Arc::clone(&api_calls), Arc::clone(&api_errors));
        // An observable gauge: the health score is computed when the reader collects.
        meter
            .f64_observable_gauge("system_health_score")
            .with_description("100 minus the API error rate in percent")
            .with_callback(move |observer| {
                let calls = calls.load(Ordering::Relaxed).max(1) as f64;
                let errors = errors.load(Ordering::Relaxed) as f64;
                observer.observe(100.0 - 100.0 * errors / calls, &[]);
            })
            .build();
        MetricsCollector {
            user_actions: meter.u64_counter("user_actions_total").build(),
            user_sessions: meter.u64_counter("user_sessions_total").build(),
            sessions_in_progress: meter.i64_up_down_counter("user_sessions_active").build(),
            transactions: meter.u64_counter("transactions_total").build(),
            transaction_amount: meter
                .f64_histogram("transaction_amount")
                .with_unit("USD")
                .with_boundaries(vec![50.0, 100.0, 150.0, 200.0, 300.0, 500.0, 1000.0])
                .build(),
            transaction_volume: meter
                .f64_gauge("transaction_volume_total")
                .with_unit("USD")
                .build(),
            api_requests: meter.u64_counter("api_requests_total").build(),
            api_response_time: meter
                .f64_histogram("api_response_time_seconds")
                .with_unit("s")
                .build(),
            api_error_rate: meter.f64_gauge("api_error_rate").build(),
            active_users: meter.u64_gauge("active_users").build(),
            revenue_cents: Arc::new(AtomicU64::new(0)),
            api_calls,
            api_errors,
            recorded: Recorded::default(),
        }
    }

    pub(crate) fn record_user_action(&self, action: &str, platform: &str) {
        let attributes = [
            KeyValue::new("action", action.to_owned()),
            KeyValue::new("platform", platform.to_owned()),
        ];
        self.user_actions.add(1, &attributes);
        if action == "login" {
            self.user_sessions.add(1, &attributes[1..]);
            self.sessions_in_progress.add(1, &[]);
        } else if action == "logout" {
            self.sessions_in_progress.add(-1, &[]);
        }
        let active = 100 + fastrand::u64(0..50);
        self.active_users.record(active, &[]);
        self.recorded
            .user_action(action == "login", action == "logout", active);
    }

    pub(crate) fn record_transaction(&self, amount: f64, method: &str) {
        let attributes = [KeyValue::new("payment.method", method.to_owned())];
        self.transactions.add(1, &attributes);
        self.transaction_amount.record(amount, &attributes);
        let cents = (amount * 100.0).round() as u64;
        let total = self.revenue_cents.fetch_add(cents, Ordering::Relaxed) + cents;
        self.transaction_volume.record(total as f64 / 100.0, &[]);
        self.recorded.transaction(amount, total as f64 / 100.0);
    }

    pub(crate) fn record_api_call(&self, endpoint: &str, status: u16, response_time: Duration) {
        let attributes = [
            KeyValue::new("http.route", endpoint.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        self.api_requests.add(1, &attributes);
        self.api_response_time
            .record(response_time.as_secs_f64(), &attributes[..1]);
        let calls = self.api_calls.fetch_add(1, Ordering::Relaxed) + 1;
        let errors = self
            .api_errors
            .fetch_add(u64::from(status >= 500), Ordering::Relaxed)
            + u64::from(status >= 500);
        self.api_error_rate
            .record(errors as f64 / calls as f64, &[]);
        self.recorded
            .api_call(response_time.as_secs_f64(), errors as f64 / calls as f64);
    }
}
