//! The controller's unit tests: its rules driven window by window, without a clock.

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `rounds` windows in which every slot is used and every attempt takes `rtt(limit)`.
fn drive(
    controller: &mut Controller,
    start: Instant,
    rounds: u32,
    rtt: impl Fn(usize) -> (Duration, Outcome),
) -> Instant {
    let mut now = start;
    for _ in 0..rounds {
        let mut taken = 0;
        while controller.try_acquire() {
            taken += 1;
        }
        let (took, outcome) = rtt(controller.limit());
        now += took;
        for _ in 0..taken {
            controller.release(now, took, outcome);
        }
    }
    now
}

#[test]
fn doubles_per_window_until_the_first_decrease_then_adds_one() {
    let start = Instant::now();
    let config = AdaptiveConfig::default().with_initial_limit(1);
    let mut controller = Controller::new(config, start);
    let now = drive(&mut controller, start, 5, |_| (ms(20), Outcome::Answered));
    assert_eq!(controller.limit(), 32);
    let now = drive(&mut controller, now, 1, |_| (ms(20), Outcome::BackPressure));
    assert_eq!(controller.limit(), 28);
    // The refusals after the first one fall into the next window, which lowers it again.
    let now = drive(&mut controller, now, 1, |_| (ms(20), Outcome::Answered));
    assert_eq!(controller.limit(), 25);
    drive(&mut controller, now, 3, |_| (ms(20), Outcome::Answered));
    assert_eq!(controller.limit(), 28);
}

#[test]
fn scheduling_noise_under_a_millisecond_does_not_hold_the_limit_down() {
    // A collector next door: 20 to 920 µs round trips, the spread being the scheduler's,
    // not queueing. Each window's mean is often several times the lowest one.
    let start = Instant::now();
    let mut controller = Controller::new(AdaptiveConfig::default(), start);
    let round = std::cell::Cell::new(0u64);
    drive(&mut controller, start, 4_000, |_| {
        round.set(round.get() + 1);
        let noise = (round.get() * 7_919) % 900;
        (Duration::from_micros(20 + noise), Outcome::Answered)
    });
    assert!(controller.limit() >= 8, "limit {}", controller.limit());
}

#[test]
fn back_pressure_cuts_the_limit_by_the_ratio() {
    let start = Instant::now();
    let config = AdaptiveConfig::default()
        .with_initial_limit(20)
        .with_decrease_ratio(0.5);
    let mut controller = Controller::new(config, start);
    let now = drive(&mut controller, start, 1, |_| (ms(20), Outcome::Answered));
    let before = controller.limit();
    drive(&mut controller, now, 1, |_| (ms(20), Outcome::BackPressure));
    assert_eq!(controller.limit(), before / 2);
}

#[test]
fn a_rising_round_trip_lowers_the_limit() {
    let start = Instant::now();
    let config = AdaptiveConfig::default().with_initial_limit(10);
    let mut controller = Controller::new(config, start);
    let now = drive(&mut controller, start, 3, |_| (ms(20), Outcome::Answered));
    let before = controller.limit();
    // The first window to end holds one slow answer; the next one, all of them.
    drive(&mut controller, now, 2, |_| (ms(40), Outcome::Answered));
    assert!(controller.limit() < before);
}

#[test]
fn never_below_one_nor_above_the_maximum() {
    let start = Instant::now();
    let config = AdaptiveConfig::default().with_max_limit(5);
    let mut controller = Controller::new(config, start);
    let now = drive(&mut controller, start, 50, |_| (ms(5), Outcome::Answered));
    assert_eq!(controller.limit(), 5);
    drive(&mut controller, now, 50, |_| (ms(5), Outcome::BackPressure));
    assert_eq!(controller.limit(), 1);
}

#[test]
fn unmeasured_attempts_teach_nothing() {
    let start = Instant::now();
    let config = AdaptiveConfig::default().with_initial_limit(4);
    let mut controller = Controller::new(config, start);
    drive(&mut controller, start, 20, |_| (ms(1), Outcome::Unmeasured));
    assert_eq!(controller.limit(), 4);
    assert_eq!(controller.rtt(), None);
}

#[test]
fn a_fixed_limit_never_moves() {
    let start = Instant::now();
    let mut controller = Controller::fixed(3, start);
    let now = drive(&mut controller, start, 20, |_| (ms(5), Outcome::Answered));
    drive(&mut controller, now, 20, |_| {
        (ms(50), Outcome::BackPressure)
    });
    assert_eq!(controller.limit(), 3);
    assert_eq!(controller.adjustments(), (0, 0));
}
