//! The service under load: it goes through phases (healthy, failing, slow, healthy again),
//! and an observer between the breaker and the per-attempt timeout that reports each attempt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use otlp_core::{BoxError, Error, ErrorKind};
use parking_lot::Mutex;

use crate::events::{Event, Events};

/// What the service does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Answers in 20 ms; 2 % of calls fail.
    Healthy,
    /// Every call fails at once with 503.
    Failing,
    /// Answers in 400 ms: longer than the per-attempt timeout.
    Slow,
}

impl Phase {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::Healthy => "healthy",
            Phase::Failing => "failing (every call answers 503)",
            Phase::Slow => "slow (400 ms answers, over the 200 ms attempt timeout)",
        }
    }
}

/// The phase, shared by the service, its health check and the driver.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhaseSwitch(Arc<AtomicU8>);

impl PhaseSwitch {
    pub(crate) fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Phase {
        match self.0.load(Ordering::Relaxed) {
            1 => Phase::Failing,
            2 => Phase::Slow,
            _ => Phase::Healthy,
        }
    }
}

/// One call to the service; attempts of the same call share its id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    pub(crate) id: u64,
}

/// The service itself. Its failures are errors of the workspace's kinds, so the retry and
/// breaker layers classify them as they would a collector's.
pub(crate) async fn serve(now: Phase, call: Call) -> Result<String, BoxError> {
    match now {
        Phase::Healthy => {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if fastrand::f64() < 0.02 {
                return Err(Error::new(ErrorKind::Unavailable, "the service answered 503").into());
            }
            Ok(format!("call {} served", call.id))
        }
        Phase::Failing => {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Err(Error::new(ErrorKind::Unavailable, "the service answered 503").into())
        }
        Phase::Slow => {
            tokio::time::sleep(Duration::from_millis(400)).await;
            Ok(format!("call {} served late", call.id))
        }
    }
}

/// Remembers when each call's last attempt ended, so a new attempt of the same call is a
/// retry and the gap is its delay.
#[derive(Default)]
pub(crate) struct Attempts {
    ended: Mutex<HashMap<u64, (u32, Instant)>>,
}

impl Attempts {
    /// Before an attempt: reports a retry (with its delay) when the call had one before.
    pub(crate) fn start(&self, events: &Events, call: Call) -> u32 {
        let previous = self.ended.lock().get(&call.id).copied();
        match previous {
            Some((attempt, ended)) => {
                events.record(Event::Retry {
                    call: call.id,
                    attempt: attempt + 1,
                    delay: ended.elapsed(),
                });
                attempt + 1
            }
            None => 1,
        }
    }

    /// After an attempt: reports a per-attempt timeout, and remembers the end.
    pub(crate) fn end(
        &self,
        events: &Events,
        call: Call,
        attempt: u32,
        result: &Result<String, BoxError>,
    ) {
        if let Err(error) = result {
            if otlp_core::classify(error.as_ref()).kind == Some(ErrorKind::Timeout) {
                events.record(Event::AttemptTimeout {
                    call: call.id,
                    attempt,
                });
            }
        }
        self.ended.lock().insert(call.id, (attempt, Instant::now()));
    }

    /// Forgets a finished call.
    pub(crate) fn finish(&self, call: Call) {
        self.ended.lock().remove(&call.id);
    }
}
