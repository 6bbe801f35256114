//! The demos' small command line: `--quick`, `--help`, `--print-config`, `--ui ADDR` (every
//! demo), `--name value` options and `--name` flags.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// `--ui ADDR` of this process, once parsed.
static UI: OnceLock<SocketAddr> = OnceLock::new();

/// The address of `--ui`, when the process was started with it: demos that embed a receiver
/// then also serve the telemetry viewer there (see [`crate::target::Target::from_env`]).
pub fn ui_address() -> Option<SocketAddr> {
    UI.get().copied()
}

/// Parsed arguments.
#[derive(Debug, Default)]
pub struct Args {
    /// `--quick`: a short run for CI smoke tests.
    pub quick: bool,
    /// `--print-config`: print the configuration in effect and exit.
    pub print_config: bool,
    options: HashMap<String, String>,
    flags: HashSet<String>,
}

impl Args {
    /// Parses the process arguments. Prints `usage` and exits 0 on `--help`; exits 2 with a
    /// message on an unknown flag or an option without a value.
    pub fn parse(usage: &str, known_options: &[&str]) -> Args {
        Args::parse_with_flags(usage, known_options, &[])
    }

    /// [`Args::parse`], with `known_flags` (`--name` without a value, see [`Args::flag`]).
    /// `--ui ADDR` is known to every demo: it sets [`ui_address`].
    pub fn parse_with_flags(usage: &str, known_options: &[&str], known_flags: &[&str]) -> Args {
        let mut args = Args::default();
        let mut iter = std::env::args().skip(1);
        while let Some(arg) = iter.next() {
            match arg.as_str() {
                "--help" | "-h" => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                "--quick" => args.quick = true,
                "--print-config" => args.print_config = true,
                flag if flag.starts_with("--") && known_flags.contains(&&flag[2..]) => {
                    args.flags.insert(flag[2..].to_owned());
                }
                flag if flag.starts_with("--")
                    && (known_options.contains(&&flag[2..]) || flag == "--ui") =>
                {
                    let Some(value) = iter.next() else {
                        eprintln!("error: {flag} needs a value\n\n{usage}");
                        std::process::exit(2);
                    };
                    args.options.insert(flag[2..].to_owned(), value);
                }
                other => {
                    eprintln!("error: unknown argument {other:?}\n\n{usage}");
                    std::process::exit(2);
                }
            }
        }
        if let Some(text) = args.option("ui") {
            let Ok(addr) = text.parse::<SocketAddr>() else {
                eprintln!("error: --ui expects an address such as 127.0.0.1:16686, not {text:?}");
                std::process::exit(2);
            };
            let _ = UI.set(addr);
        }
        args
    }

    /// Whether the flag `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(name)
    }

    /// With `--print-config`: prints the pipeline's configuration report (every value in
    /// effect, where it came from, every warning; secrets redacted) and returns true, so that
    /// the demo stops there.
    pub fn print_config(&self, pipeline: &otlp_exporters::OtlpPipeline) -> bool {
        if self.print_config {
            println!("{}", pipeline.config_report());
        }
        self.print_config
    }

    /// The value of `--name`, if given.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// `--name` parsed as a number, or `default`; exits 2 with a message if it is not one.
    pub fn number(&self, name: &str, default: usize) -> usize {
        match self.option(name) {
            None => default,
            Some(value) => value.parse().unwrap_or_else(|_| {
                eprintln!("error: --{name} expects a whole number, not {value:?}");
                std::process::exit(2);
            }),
        }
    }
}
