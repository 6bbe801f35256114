//! `cargo xtask bench`: otlp-rust against the upstream `opentelemetry-otlp`.

use crate::{cargo, command};

/// The comparison harness (a release build), then, unless quick or scaling, the criterion
/// encode bench.
pub(crate) fn bench(quick: bool, scaling: bool) -> Result<(), String> {
    let mut args = vec!["bench", "-p", "otlp-exporters", "--bench", "compare", "--"];
    if quick {
        args.push("--quick");
    }
    if scaling {
        args.push("--scaling");
    }
    command(&cargo(), &args)?;
    if !quick && !scaling {
        command(
            &cargo(),
            &["bench", "-p", "otlp-exporters", "--bench", "encode"],
        )?;
    }
    Ok(())
}
