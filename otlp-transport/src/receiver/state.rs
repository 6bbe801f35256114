//! What the receiver's two servers share: the fault script, the counters, the kept requests,
//! and the one decision every request goes through.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_core::Signal;
use tokio::sync::Notify;

use super::faults::{Action, Faults};
use super::refused::{http_status_for, OnRefuse, Refused};
use super::{OnReceive, Received, ReceivedOver, ReceiverConfig};

/// Totals of what the receiver has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests accepted (fully or in part).
    pub requests: usize,
    /// Requests answered with an error (faults, authentication, bad input).
    pub refused_requests: usize,
    /// Spans in accepted requests.
    pub spans: usize,
    /// Metric data points in accepted requests.
    pub data_points: usize,
    /// Log records in accepted requests.
    pub log_records: usize,
    /// Items that partial-success answers reported as rejected.
    pub rejected_items: usize,
}

impl Counts {
    /// The accepted items of `signal`.
    pub fn items(&self, signal: Signal) -> usize {
        match signal {
            Signal::Traces => self.spans,
            Signal::Metrics => self.data_points,
            Signal::Logs => self.log_records,
        }
    }
}

/// How a request is answered.
#[derive(Debug)]
pub(crate) enum Answer {
    Accept {
        rejected: i64,
        message: String,
    },
    Fail {
        grpc: tonic::Code,
        http: u16,
        message: String,
        retry_after: Option<Duration>,
        retry_after_as_date: bool,
    },
}

impl Answer {
    pub(crate) fn fail(grpc: tonic::Code, http: u16, message: impl Into<String>) -> Self {
        Answer::Fail {
            grpc,
            http,
            message: message.into(),
            retry_after: None,
            retry_after_as_date: false,
        }
    }
}

pub(crate) struct State {
    pub(crate) faults: Faults,
    bearer: Option<String>,
    keep_requests: bool,
    on_receive: Option<OnReceive>,
    on_refuse: Option<OnRefuse>,
    kept: Mutex<Vec<Received>>,
    counts: Mutex<Counts>,
    arrived: Notify,
}

impl State {
    pub(crate) fn new(config: &ReceiverConfig) -> Self {
        State {
            faults: Faults::default(),
            bearer: config.bearer_token.clone(),
            keep_requests: config.keep_requests,
            on_receive: config.on_receive.clone(),
            on_refuse: config.on_refuse.clone(),
            kept: Mutex::new(Vec::new()),
            counts: Mutex::new(Counts::default()),
            arrived: Notify::new(),
        }
    }

    /// Checks the token, applies the next fault, and records an accepted request.
    pub(crate) async fn handle(&self, received: Received) -> Answer {
        if let Some(expected) = &self.bearer {
            let given = received.headers.get(::http::header::AUTHORIZATION);
            if !given.is_some_and(|v| otlp_core::bearer::matches(v.as_bytes(), expected.as_bytes()))
            {
                let reason = if given.is_some() {
                    "wrong bearer token"
                } else {
                    "missing bearer token (authorization: Bearer ...)"
                };
                self.refused_request(&received, tonic::Code::Unauthenticated, 401, reason);
                return Answer::fail(tonic::Code::Unauthenticated, 401, reason);
            }
        }
        let fault = self.faults.next();
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        match fault.action {
            Action::Hang => std::future::pending().await,
            Action::Fail {
                grpc,
                http,
                message,
            } => {
                self.refused_request(&received, grpc, http, &message);
                Answer::Fail {
                    grpc,
                    http,
                    message,
                    retry_after: fault.retry_after,
                    retry_after_as_date: fault.retry_after_as_date,
                }
            }
            Action::Partial { rejected, message } => {
                self.accept(received, usize::try_from(rejected).unwrap_or(0));
                Answer::Accept { rejected, message }
            }
            Action::Accept => {
                self.accept(received, 0);
                Answer::Accept {
                    rejected: 0,
                    message: String::new(),
                }
            }
        }
    }

    /// Counts a refused request and tells the `on_refuse` callback.
    pub(crate) fn refused(&self, refused: Refused) {
        lock(&self.counts).refused_requests += 1;
        if let Some(callback) = &self.on_refuse {
            callback(&refused);
        }
    }

    fn refused_request(&self, received: &Received, grpc: tonic::Code, http: u16, reason: &str) {
        let grpc_request = received.protocol == ReceivedOver::Grpc;
        self.refused(Refused {
            protocol: received.protocol,
            signal: Some(received.payload.signal()),
            http_status: if grpc_request {
                http_status_for(grpc)
            } else {
                http
            },
            grpc_code: grpc_request.then_some(grpc),
            reason: reason.to_owned(),
            headers: received.headers.clone(),
        });
    }

    fn accept(&self, received: Received, rejected: usize) {
        if let Some(callback) = &self.on_receive {
            callback(&received);
        }
        {
            let mut counts = lock(&self.counts);
            counts.requests += 1;
            counts.rejected_items += rejected;
            let items = received.payload.items();
            match received.payload.signal() {
                Signal::Traces => counts.spans += items,
                Signal::Metrics => counts.data_points += items,
                Signal::Logs => counts.log_records += items,
            }
        }
        if self.keep_requests {
            lock(&self.kept).push(received);
        }
        self.arrived.notify_waiters();
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        lock(&self.kept).clone()
    }

    pub(crate) fn take_received(&self) -> Vec<Received> {
        std::mem::take(&mut *lock(&self.kept))
    }

    pub(crate) fn counts(&self) -> Counts {
        *lock(&self.counts)
    }

    pub(crate) async fn wait_for_items(
        &self,
        signal: Signal,
        items: usize,
        timeout: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.counts().items(signal) >= items {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.counts().items(signal) >= items;
            }
        }
    }
}

/// Locks plain data; a panic elsewhere cannot leave it half-written, so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Shared by both servers.
pub(crate) type Shared = Arc<State>;
