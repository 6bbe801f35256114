//! `OTLP_EXPORTER_CONCURRENCY` and its knobs (see [`crate::config::concurrency`]).

use super::Reader;
use crate::config::concurrency::{parse_mode, set_knob, KNOBS, VARIABLE};

pub(super) fn read_concurrency(r: &mut Reader<'_>) {
    if let Some(mode) = r.read(VARIABLE, "concurrency", parse_mode) {
        r.config.concurrency = mode;
    }
    for knob in KNOBS {
        let variable = format!("{VARIABLE}_{}", knob.to_ascii_uppercase());
        let Some(text) = r.get(&variable) else {
            continue;
        };
        let mut next = r.config.concurrency;
        match set_knob(&mut next, knob, &text) {
            Ok(()) => {
                r.config.concurrency = next;
                r.mark(&format!("concurrency.{knob}"));
            }
            Err(reason) => r.ignore(&variable, Some(&text), &reason),
        }
    }
    if let Err(error) = r.config.concurrency.validate() {
        let shown = format!("{:?}", r.config.concurrency);
        r.ignore(
            VARIABLE,
            Some(&shown),
            &format!("{error}; the default is used"),
        );
        r.config.concurrency = Default::default();
    }
}
