//! The demo's progress bar: on stderr, ticking on its own so that it stays visible for the
//! whole phase, with a readable rate (`734.4k spans/s`, the average since the phase began).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// `734.4k`, `1.2M`, `850`.
pub fn human(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

fn rate(state: &ProgressState, out: &mut dyn std::fmt::Write) {
    let seconds = state.elapsed().as_secs_f64();
    let per_second = if seconds > 0.0 {
        state.pos() as f64 / seconds
    } else {
        0.0
    };
    let _ = write!(out, "{}", human(per_second));
}

/// A bar of `length` `unit`s (`spans`), labelled with the phase in its message.
pub fn bar(length: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    let template =
        format!("  {{msg:<22}} [{{bar:36}}] {{human_pos:>9}}/{{human_len}} {unit}  {{rate}} {unit}/s  {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_like_numbers_people_say() {
        assert_eq!(human(734_379.770_2), "734.4k");
        assert_eq!(human(1_250_000.0), "1.2M");
        assert_eq!(human(850.4), "850");
    }
}
