//! The breaker's state machine against a small pure model, over random call sequences.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::time::Duration;

use otlp_reliability::circuit_breaker::{
    Admission, BreakerConfig, CircuitState, Machine, Outcome, Window,
};
use proptest::prelude::*;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
enum Op {
    Call(Outcome),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Call(Outcome::Success)),
        3 => Just(Op::Call(Outcome::Failure)),
        1 => Just(Op::Call(Outcome::Ignored)),
        2 => (0u64..25).prop_map(Op::Advance),
    ]
}

/// The model: window of the last 5 calls, open at >= 50 % failures over >= 4 calls or at 3
/// failures in a row; open 10 s, doubling per failed recovery up to 40 s; one probe.
#[derive(Debug)]
enum Model {
    Closed {
        window: VecDeque<bool>,
        in_a_row: u32,
    },
    Open {
        until: u64,
        reopenings: u32,
    },
    HalfOpen {
        reopenings: u32,
    },
}

impl Model {
    fn closed() -> Self {
        Model::Closed {
            window: VecDeque::new(),
            in_a_row: 0,
        }
    }

    fn open(now: u64, reopenings: u32) -> Self {
        let wait = (10u64 << reopenings.min(2)).min(40);
        Model::Open {
            until: now + wait,
            reopenings,
        }
    }

    /// Returns whether the call went through.
    fn call(&mut self, now: u64, outcome: Outcome) -> bool {
        if let Model::Open { until, reopenings } = *self {
            if now < until {
                return false;
            }
            *self = Model::HalfOpen { reopenings };
        }
        match self {
            Model::Closed { window, in_a_row } => {
                if outcome == Outcome::Ignored {
                    return true;
                }
                let failed = outcome == Outcome::Failure;
                window.push_back(failed);
                if window.len() > 5 {
                    window.pop_front();
                }
                *in_a_row = if failed { *in_a_row + 1 } else { 0 };
                let failures = window.iter().filter(|f| **f).count();
                if *in_a_row >= 3 || (window.len() >= 4 && failures * 2 >= window.len()) {
                    *self = Model::open(now, 0);
                }
                true
            }
            Model::HalfOpen { reopenings } => {
                match outcome {
                    Outcome::Failure => *self = Model::open(now, *reopenings + 1),
                    Outcome::Success => *self = Model::closed(),
                    Outcome::Ignored => {}
                }
                true
            }
            Model::Open { .. } => unreachable!("handled above"),
        }
    }

    fn state(&self, now: u64) -> CircuitState {
        match self {
            Model::Closed { .. } => CircuitState::Closed,
            Model::Open { until, .. } if now < *until => CircuitState::Open,
            Model::Open { .. } | Model::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_machine_follows_the_model(ops in prop::collection::vec(op(), 1..120)) {
        let config = BreakerConfig::default()
            .with_window(Window::Count(5))
            .with_failure_rate(0.5, 4)
            .with_consecutive_failures(3)
            .with_open_duration(Duration::from_secs(10), 2.0, Duration::from_secs(40), 0.0)
            .with_half_open_probes(1);
        let mut machine = Machine::new(config);
        let mut model = Model::closed();
        let start = Instant::now();
        let mut seconds = 0u64;
        for op in ops {
            match op {
                Op::Advance(n) => seconds += n,
                Op::Call(outcome) => {
                    let now = start + Duration::from_secs(seconds);
                    let expected = model.call(seconds, outcome);
                    let (admission, _) = machine.admit(now);
                    match admission {
                        Admission::Permit { generation, probe } => {
                            prop_assert!(expected, "the machine let through a call the model refused");
                            machine.record(generation, probe, outcome, Duration::ZERO, now);
                        }
                        Admission::Reject { .. } => prop_assert!(!expected, "the machine refused a call the model let through"),
                    }
                }
            }
            let now = start + Duration::from_secs(seconds);
            prop_assert_eq!(machine.state(now), model.state(seconds));
        }
    }
}
