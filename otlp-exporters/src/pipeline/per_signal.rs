//! [`PerSignal`]: one value for each of traces, metrics and logs, reached by name or by
//! [`Signal`] instead of by index.

use otlp_core::Signal;

/// One `T` per signal.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerSignal<T> {
    pub(crate) traces: T,
    pub(crate) metrics: T,
    pub(crate) logs: T,
}

impl<T> PerSignal<T> {
    /// Calls `make` for traces, metrics and logs, in that order, stopping at the first error.
    pub(crate) fn try_from_fn<E>(mut make: impl FnMut(Signal) -> Result<T, E>) -> Result<Self, E> {
        Ok(PerSignal {
            traces: make(Signal::Traces)?,
            metrics: make(Signal::Metrics)?,
            logs: make(Signal::Logs)?,
        })
    }

    /// The value of `signal`.
    pub(crate) fn get(&self, signal: Signal) -> &T {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }

    /// Each value through `f`.
    pub(crate) fn map<U>(self, mut f: impl FnMut(T) -> U) -> PerSignal<U> {
        PerSignal {
            traces: f(self.traces),
            metrics: f(self.metrics),
            logs: f(self.logs),
        }
    }

    /// References to the values.
    pub(crate) fn as_ref(&self) -> PerSignal<&T> {
        PerSignal {
            traces: &self.traces,
            metrics: &self.metrics,
            logs: &self.logs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_reached_by_their_signal() {
        let names = PerSignal::try_from_fn(|s| Ok::<_, ()>(s.as_str())).unwrap();
        for signal in Signal::ALL {
            assert_eq!(*names.get(signal), signal.as_str());
        }
        assert_eq!(names.map(str::len).logs, "logs".len());
    }
}
