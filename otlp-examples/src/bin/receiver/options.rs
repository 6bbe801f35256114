//! The receiver's command line beyond addresses: `--fault STATUS[:COUNT]` with
//! `--retry-after SECONDS`, `--tls-cert/--tls-key/--client-ca`, `--bearer-token`, and how long
//! a trace must be quiet before it is printed.

use std::time::Duration;

use otlp_examples::cli::Args;
use otlp_transport::receiver::{Fault, Receiver, ServerTls};

/// A scripted fault from `--fault` and `--retry-after`.
#[derive(Debug)]
pub struct FaultOption {
    /// The HTTP status (gRPC clients get its gRPC code).
    pub status: u16,
    /// How many requests get it; `None`: every request.
    pub count: Option<usize>,
    /// The retry delay sent with it.
    pub retry_after: Option<Duration>,
}

impl FaultOption {
    /// Parses `--fault` (`503:2`, `429`) and `--retry-after` (seconds, e.g. `1` or `0.5`).
    pub fn parse(args: &Args) -> Result<Option<FaultOption>, String> {
        let retry_after = match args.option("retry-after") {
            None => None,
            Some(text) => Some(
                text.parse::<f64>()
                    .ok()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or_else(|| {
                        format!("--retry-after expects seconds such as 1 or 0.5, not {text:?}")
                    })?,
            ),
        };
        let Some(text) = args.option("fault") else {
            return match retry_after {
                Some(_) => Err("--retry-after goes with --fault STATUS:COUNT".to_owned()),
                None => Ok(None),
            };
        };
        let (status, count) = match text.split_once(':') {
            Some((status, count)) => (status, Some(count)),
            None => (text, None),
        };
        let status = status
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|s| (400..=599).contains(s))
            .ok_or_else(|| {
                format!("--fault expects an HTTP error status 400-599 and a count such as 503:2, not {text:?}")
            })?;
        let count = match count {
            None => None,
            Some(count) => Some(count.trim().parse::<usize>().map_err(|_| {
                format!(
                    "--fault expects a request count after the colon, such as 503:2, not {text:?}"
                )
            })?),
        };
        Ok(Some(FaultOption {
            status,
            count,
            retry_after,
        }))
    }

    /// Scripts the fault on `receiver`.
    pub fn apply(&self, receiver: &Receiver) {
        let mut fault = Fault::http_status(self.status, "fault injected by the receiver's --fault");
        if let Some(delay) = self.retry_after {
            fault = fault.with_retry_after(delay);
        }
        match self.count {
            Some(count) => receiver.faults().push_n(fault, count),
            None => receiver.faults().set_default(Some(fault)),
        }
    }

    /// `the next 2 requests get HTTP 503 (Retry-After 1 s)`.
    pub fn describe(&self) -> String {
        let which = match self.count {
            Some(count) => format!("the next {count} request(s)"),
            None => "every request".to_owned(),
        };
        let delay = self
            .retry_after
            .map(|d| format!(" with a retry delay of {d:?}"))
            .unwrap_or_default();
        format!("{which} get HTTP {}{delay}", self.status)
    }
}

/// A PEM file's bytes; a file without a PEM block is refused here, naming the flag and the
/// file, rather than by the TLS setup without either.
fn read(flag: &str, path: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("--{flag}: cannot read {path:?}: {e}"))?;
    if !String::from_utf8_lossy(&bytes).contains("-----BEGIN ") {
        return Err(format!(
            "--{flag}: {path:?} is not a PEM file (no \"-----BEGIN\" line)"
        ));
    }
    Ok(bytes)
}

/// `--bearer-token TOKEN`: the token clients must send; an empty one is refused.
pub fn bearer_token(args: &Args) -> Result<Option<&str>, String> {
    match args.option("bearer-token") {
        Some(token) if token.trim().is_empty() => {
            Err(format!("--bearer-token expects a token, not {token:?}"))
        }
        token => Ok(token),
    }
}

/// TLS from `--tls-cert`, `--tls-key` and `--client-ca` (PEM files).
pub fn tls(args: &Args) -> Result<Option<ServerTls>, String> {
    match (
        args.option("tls-cert"),
        args.option("tls-key"),
        args.option("client-ca"),
    ) {
        (None, None, None) => Ok(None),
        (Some(cert), Some(key), ca) => Ok(Some(ServerTls {
            certificate_pem: read("tls-cert", cert)?,
            key_pem: read("tls-key", key)?,
            client_ca_pem: ca.map(|ca| read("client-ca", ca)).transpose()?,
        })),
        _ => Err("--tls-cert and --tls-key go together (and --client-ca needs both)".to_owned()),
    }
}

/// `--trace-quiet MS`: how long a trace must get no new span before it is printed.
pub fn trace_quiet(args: &Args) -> Result<Duration, String> {
    match args.option("trace-quiet") {
        None => Ok(Duration::from_millis(1000)),
        Some(text) => text
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("--trace-quiet expects milliseconds such as 1000, not {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_descriptions_say_what_the_exporter_will_see() {
        let fault = FaultOption {
            status: 503,
            count: Some(2),
            retry_after: Some(Duration::from_secs(1)),
        };
        assert_eq!(
            fault.describe(),
            "the next 2 request(s) get HTTP 503 with a retry delay of 1s"
        );
    }
}
