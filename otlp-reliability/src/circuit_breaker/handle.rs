//! The circuit shared by every clone: its machine, counters, and state-change events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::state::{Admission, CircuitState, Machine, Transition};

/// A change of a circuit's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerEvent {
    /// The circuit's name.
    pub name: Arc<str>,
    /// The state before.
    pub from: CircuitState,
    /// The state after.
    pub to: CircuitState,
}

/// Counters of a circuit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BreakerStats {
    /// Times the circuit opened (automatically).
    pub opened: u64,
    /// Times it went half-open.
    pub half_opened: u64,
    /// Times it closed again.
    pub closed: u64,
    /// Calls refused because it was open.
    pub rejected_calls: u64,
}

type Callback = Arc<dyn Fn(&BreakerEvent) + Send + Sync>;

pub(crate) struct Shared {
    pub(crate) name: Arc<str>,
    machine: Mutex<Machine>,
    events: broadcast::Sender<BreakerEvent>,
    callbacks: Mutex<Vec<Callback>>,
    opened: AtomicU64,
    half_opened: AtomicU64,
    closed: AtomicU64,
    rejected_calls: AtomicU64,
}

impl Shared {
    pub(crate) fn new(name: String, machine: Machine) -> Self {
        Shared {
            name: name.into(),
            machine: Mutex::new(machine),
            events: broadcast::channel(64).0,
            callbacks: Mutex::new(Vec::new()),
            opened: AtomicU64::new(0),
            half_opened: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            rejected_calls: AtomicU64::new(0),
        }
    }

    /// Runs `f` on the machine and publishes the transition it made, outside the lock.
    pub(crate) fn with_machine(&self, f: impl FnOnce(&mut Machine, Instant) -> Option<Transition>) {
        let transition = f(&mut self.machine.lock(), Instant::now());
        if let Some(transition) = transition {
            self.publish(transition);
        }
    }

    pub(crate) fn with_machine_admit(&self) -> Admission {
        let (admission, transition) = self.machine.lock().admit(Instant::now());
        if let Some(transition) = transition {
            self.publish(transition);
        }
        admission
    }

    pub(crate) fn count_rejection(&self) {
        self.rejected_calls.fetch_add(1, Ordering::Relaxed);
    }

    fn publish(&self, transition: Transition) {
        match transition.to {
            CircuitState::Open => self.opened.fetch_add(1, Ordering::Relaxed),
            CircuitState::HalfOpen => self.half_opened.fetch_add(1, Ordering::Relaxed),
            CircuitState::Closed => self.closed.fetch_add(1, Ordering::Relaxed),
            CircuitState::ForcedOpen | CircuitState::Disabled => 0,
        };
        tracing::info!(circuit = %self.name, from = ?transition.from, to = ?transition.to, "circuit breaker state changed");
        let event = BreakerEvent {
            name: Arc::clone(&self.name),
            from: transition.from,
            to: transition.to,
        };
        let callbacks = self.callbacks.lock().clone();
        for callback in callbacks {
            callback(&event);
        }
        // No subscriber is fine: events are also counted.
        let _ = self.events.send(event);
    }
}

/// Control and observation of one circuit, shared with every service of its layer.
#[derive(Clone)]
pub struct BreakerHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BreakerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerHandle")
            .field("name", &self.shared.name)
            .field("state", &self.state())
            .finish()
    }
}

impl BreakerHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        BreakerHandle { shared }
    }

    /// The circuit's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The current state.
    pub fn state(&self) -> CircuitState {
        self.shared.machine.lock().state(Instant::now())
    }

    /// Opens the circuit until [`BreakerHandle::reset`].
    pub fn force_open(&self) {
        self.shared.with_machine(|m, now| m.force_open(now));
    }

    /// Lets every call through, counting nothing, until [`BreakerHandle::reset`].
    pub fn disable(&self) {
        self.shared.with_machine(|m, now| m.disable(now));
    }

    /// Closes the circuit with fresh counts and ends a forced-open or disabled mode.
    pub fn reset(&self) {
        self.shared.with_machine(|m, now| m.reset(now));
    }

    /// Receives every later state change.
    pub fn subscribe(&self) -> broadcast::Receiver<BreakerEvent> {
        self.shared.events.subscribe()
    }

    /// Calls `callback` on every later state change (on the thread that caused it).
    pub fn on_change(&self, callback: impl Fn(&BreakerEvent) + Send + Sync + 'static) {
        self.shared.callbacks.lock().push(Arc::new(callback));
    }

    /// The counters.
    pub fn stats(&self) -> BreakerStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        BreakerStats {
            opened: get(&self.shared.opened),
            half_opened: get(&self.shared.half_opened),
            closed: get(&self.shared.closed),
            rejected_calls: get(&self.shared.rejected_calls),
        }
    }
}
