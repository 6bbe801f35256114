//! Scripted misbehaviour for the receiver: error statuses, retry delays, slow answers,
//! partial success, and answers that never come.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// What the receiver does with one request instead of accepting it promptly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) action: Action,
    pub(crate) delay: Duration,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) retry_after_as_date: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Accept,
    Fail {
        grpc: tonic::Code,
        http: u16,
        message: String,
    },
    Partial {
        rejected: i64,
        message: String,
    },
    Hang,
}

impl Fault {
    /// Accept the request (useful with [`Fault::with_delay`] for a slow collector).
    pub fn accept() -> Self {
        Fault {
            action: Action::Accept,
            delay: Duration::ZERO,
            retry_after: None,
            retry_after_as_date: false,
        }
    }

    /// Refuse the request: gRPC clients get `grpc`, HTTP clients get `http`. The request is
    /// not recorded as received.
    pub fn status(grpc: tonic::Code, http: u16, message: impl Into<String>) -> Self {
        Fault {
            action: Action::Fail {
                grpc,
                http,
                message: message.into(),
            },
            ..Fault::accept()
        }
    }

    /// Refuse the request with HTTP `status`; gRPC clients get the code the OTLP
    /// specification pairs with it (429 and 413: `RESOURCE_EXHAUSTED`, 503: `UNAVAILABLE`, ...).
    pub fn http_status(status: u16, message: impl Into<String>) -> Self {
        Fault::status(super::refused::grpc_code_for(status), status, message)
    }

    /// `UNAVAILABLE` / 503: the usual retryable outage.
    pub fn unavailable() -> Self {
        Fault::status(tonic::Code::Unavailable, 503, "collector unavailable")
    }

    /// Accept the request but report `rejected` items refused, with `message`.
    pub fn partial_success(rejected: i64, message: impl Into<String>) -> Self {
        Fault {
            action: Action::Partial {
                rejected,
                message: message.into(),
            },
            ..Fault::accept()
        }
    }

    /// Never answer (until the receiver shuts down).
    pub fn hang() -> Self {
        Fault {
            action: Action::Hang,
            ..Fault::accept()
        }
    }

    /// Waits `delay` before answering.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Adds a retry delay: `google.rpc.RetryInfo` for gRPC, `Retry-After` in seconds for HTTP.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// Sends `Retry-After` as an HTTP date instead of seconds.
    pub fn with_retry_after_as_date(mut self) -> Self {
        self.retry_after_as_date = true;
        self
    }
}

/// The receiver's fault script: a queue of faults for the next requests, then a default.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<Script>,
}

#[derive(Debug, Default)]
struct Script {
    queue: VecDeque<Fault>,
    default: Option<Fault>,
}

impl Faults {
    /// Applies `fault` to the next request that has no earlier fault queued.
    pub fn push(&self, fault: Fault) {
        self.push_n(fault, 1);
    }

    /// Applies `fault` to the next `count` requests.
    pub fn push_n(&self, fault: Fault, count: usize) {
        let mut script = self.lock();
        script.queue.extend(std::iter::repeat_n(fault, count));
    }

    /// Applies `fault` to every request once the queue is empty (`None`: accept).
    pub fn set_default(&self, fault: Option<Fault>) {
        self.lock().default = fault;
    }

    /// Forgets every queued fault and the default.
    pub fn clear(&self) {
        *self.lock() = Script::default();
    }

    pub(crate) fn next(&self) -> Fault {
        let mut script = self.lock();
        script
            .queue
            .pop_front()
            .or_else(|| script.default.clone())
            .unwrap_or_else(Fault::accept)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        // A poisoned script is still a valid script: the lock guards plain data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_come_first_then_the_default() {
        let faults = Faults::default();
        faults.push_n(Fault::unavailable(), 2);
        faults.set_default(Some(Fault::hang()));
        assert_eq!(faults.next(), Fault::unavailable());
        assert_eq!(faults.next(), Fault::unavailable());
        assert_eq!(faults.next(), Fault::hang());
        faults.clear();
        assert_eq!(faults.next(), Fault::accept());
    }
}
