//! The `concurrency` setting: how many export attempts each collector endpoint has in flight.
//!
//! `adaptive` (the default) lets an AIMD limit per endpoint find what the collector answers
//! without slowing down or pushing back ([`otlp_reliability::adaptive_concurrency`]);
//! `fixed N` keeps exactly `N` per endpoint. The adaptive knobs and their defaults:
//!
//! | knob | default | environment |
//! |---|---|---|
//! | `initial_limit` | 4 | `OTLP_EXPORTER_CONCURRENCY_INITIAL_LIMIT` |
//! | `max_limit` | 64 | `OTLP_EXPORTER_CONCURRENCY_MAX_LIMIT` |
//! | `decrease_ratio` | 0.9 | `OTLP_EXPORTER_CONCURRENCY_DECREASE_RATIO` |
//! | `rtt_smoothing` | 0.4 | `OTLP_EXPORTER_CONCURRENCY_RTT_SMOOTHING` |
//!
//! The mode itself is `OTLP_EXPORTER_CONCURRENCY` (`adaptive` or `fixed N`), or
//! `distribution.otlp-rust.concurrency` in the configuration file: a string, or a mapping with
//! `mode` and the knobs. Like every project-only variable, these start with `OTLP_` rather
//! than the specification's `OTEL_`.

use otlp_reliability::adaptive_concurrency::{AdaptiveConfig, ConcurrencyConfig};

/// The variable of the mode; the knobs' variables add `_<KNOB>` in capitals.
pub(crate) const VARIABLE: &str = "OTLP_EXPORTER_CONCURRENCY";

/// The adaptive knobs, by their names in the file (and, in capitals, in the environment).
pub(crate) const KNOBS: [&str; 4] = [
    "initial_limit",
    "max_limit",
    "decrease_ratio",
    "rtt_smoothing",
];

/// `adaptive` or `fixed N` (any case, `fixed:N` too).
pub(crate) fn parse_mode(text: &str) -> Result<ConcurrencyConfig, String> {
    let lower = text.trim().to_ascii_lowercase();
    if lower == "adaptive" {
        return Ok(ConcurrencyConfig::default());
    }
    let fixed = lower
        .strip_prefix("fixed")
        .map(|rest| rest.trim_start_matches([' ', ':', '=']).trim());
    match fixed.map(str::parse::<usize>) {
        Some(Ok(n)) if n > 0 => Ok(ConcurrencyConfig::Fixed(n)),
        _ => Err("expected adaptive or fixed N (N at least 1)".to_owned()),
    }
}

/// Sets one adaptive knob from its text; a fixed limit has no knobs, and keeps its mode.
pub(crate) fn set_knob(
    config: &mut ConcurrencyConfig,
    knob: &str,
    text: &str,
) -> Result<(), String> {
    let ConcurrencyConfig::Adaptive(adaptive) = config else {
        return Err("only the adaptive mode has this setting".to_owned());
    };
    let whole = || {
        text.trim()
            .parse::<usize>()
            .map_err(|_| "expected a positive whole number".to_owned())
    };
    let share = || {
        text.trim()
            .parse::<f64>()
            .map_err(|_| "expected a number".to_owned())
    };
    let mut next: AdaptiveConfig = *adaptive;
    match knob {
        "initial_limit" => next.initial_limit = whole()?,
        "max_limit" => next.max_limit = whole()?,
        "decrease_ratio" => next.decrease_ratio = share()?,
        "rtt_smoothing" => next.rtt_smoothing = share()?,
        other => return Err(format!("unknown setting {other}")),
    }
    // The initial limit is checked against the maximum once both are read.
    let mut checked = next;
    checked.initial_limit = checked.initial_limit.min(checked.max_limit.max(1));
    checked.validate().map_err(|e| e.reason().to_owned())?;
    *adaptive = next;
    Ok(())
}

/// What the report shows: `adaptive (1..64, x0.9, smoothing 0.4)` or `fixed 8`.
pub(crate) fn describe(config: &ConcurrencyConfig) -> String {
    match config {
        ConcurrencyConfig::Fixed(n) => format!("fixed {n} per endpoint"),
        ConcurrencyConfig::Adaptive(a) => format!(
            "adaptive per endpoint: initial {}, max {}, decrease x{}, rtt smoothing {}",
            a.initial_limit, a.max_limit, a.decrease_ratio, a.rtt_smoothing
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_knobs_parse() {
        assert_eq!(parse_mode(" Adaptive "), Ok(ConcurrencyConfig::default()));
        assert_eq!(parse_mode("fixed 8"), Ok(ConcurrencyConfig::Fixed(8)));
        assert_eq!(parse_mode("FIXED:3"), Ok(ConcurrencyConfig::Fixed(3)));
        for bad in ["fixed 0", "fixed", "8", "aimd"] {
            assert!(parse_mode(bad).is_err(), "{bad}");
        }
        let mut config = ConcurrencyConfig::default();
        set_knob(&mut config, "max_limit", "16").unwrap();
        set_knob(&mut config, "initial_limit", "4").unwrap();
        set_knob(&mut config, "decrease_ratio", "0.5").unwrap();
        set_knob(&mut config, "rtt_smoothing", "1").unwrap();
        assert_eq!(
            config,
            ConcurrencyConfig::Adaptive(
                AdaptiveConfig::default()
                    .with_max_limit(16)
                    .with_initial_limit(4)
                    .with_decrease_ratio(0.5)
                    .with_rtt_smoothing(1.0)
            )
        );
        assert!(set_knob(&mut config, "decrease_ratio", "1.5").is_err());
        assert!(set_knob(&mut config, "max_limit", "0").is_err());
        assert!(set_knob(&mut ConcurrencyConfig::Fixed(2), "max_limit", "4").is_err());
    }
}
