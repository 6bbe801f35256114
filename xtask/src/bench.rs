//! `cargo xtask bench`: otlp-rust against the upstream `opentelemetry-otlp`.

use crate::{cargo, command};

/// The comparison harness (a release build), then, unless quick, scaling or collector, the
/// criterion encode bench. `collector`: only row 9, against the OpenTelemetry Collector built
/// from `interop/collector/` (built first when missing, as `cargo xtask interop` does).
pub(crate) fn bench(quick: bool, scaling: bool, collector: bool) -> Result<(), String> {
    if collector {
        let binary = crate::interop::interop_collector()?;
        let mut args = vec!["bench", "-p", "otlp-exporters", "--bench", "compare", "--"];
        args.push("--collector");
        if quick {
            args.push("--quick");
        }
        let status = std::process::Command::new(cargo())
            .args(&args)
            .env("OTLP_INTEROP_COLLECTOR", &binary)
            .status()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        return if status.success() {
            Ok(())
        } else {
            Err(format!("the Collector row failed ({status})"))
        };
    }
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
