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
    ui: Option<SocketAddr>,
}

/// Why parsing stopped short of a result.
#[derive(Debug, PartialEq)]
enum Stop {
    /// `--help` or `-h`: print the usage and exit 0.
    Help,
    /// A bad command line: print this and the usage, exit 2.
    Error(String),
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
        match Args::parse_from(std::env::args().skip(1), known_options, known_flags) {
            Ok(args) => {
                if let Some(addr) = args.ui {
                    let _ = UI.set(addr);
                }
                args
            }
            Err(Stop::Help) => {
                println!("{usage}");
                std::process::exit(0);
            }
            Err(Stop::Error(message)) => {
                eprintln!("error: {message}\n\n{usage}");
                std::process::exit(2);
            }
        }
    }

    /// Parses `arguments` (without the program name). An option's value may not start with
    /// `--`: `--bearer-token --verbose` is an option without a value, not the token "--verbose".
    fn parse_from(
        arguments: impl IntoIterator<Item = String>,
        known_options: &[&str],
        known_flags: &[&str],
    ) -> Result<Args, Stop> {
        let mut args = Args::default();
        let mut iter = arguments.into_iter();
        while let Some(arg) = iter.next() {
            match arg.as_str() {
                "--help" | "-h" => return Err(Stop::Help),
                "--quick" => args.quick = true,
                "--print-config" => args.print_config = true,
                flag if flag.starts_with("--") && known_flags.contains(&&flag[2..]) => {
                    args.flags.insert(flag[2..].to_owned());
                }
                flag if flag.starts_with("--")
                    && (known_options.contains(&&flag[2..]) || flag == "--ui") =>
                {
                    match iter.next() {
                        Some(value) if !value.starts_with("--") => {
                            args.options.insert(flag[2..].to_owned(), value);
                        }
                        Some(next) => {
                            return Err(Stop::Error(format!(
                                "{flag} needs a value, but the next argument is {next:?}"
                            )))
                        }
                        None => return Err(Stop::Error(format!("{flag} needs a value"))),
                    }
                }
                other => return Err(Stop::Error(format!("unknown argument {other:?}"))),
            }
        }
        if let Some(text) = args.option("ui") {
            let Ok(addr) = text.parse::<SocketAddr>() else {
                return Err(Stop::Error(format!(
                    "--ui expects an address such as 127.0.0.1:16686, not {text:?}"
                )));
            };
            args.ui = Some(addr);
        }
        Ok(args)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<Args, Stop> {
        Args::parse_from(
            line.iter().map(|s| s.to_string()),
            &["bearer-token", "fault"],
            &["verbose"],
        )
    }

    #[test]
    fn an_option_followed_by_a_flag_has_no_value() {
        let Err(Stop::Error(message)) = parse(&["--bearer-token", "--verbose"]) else {
            panic!("--bearer-token --verbose was accepted");
        };
        assert!(
            message.contains("--bearer-token needs a value"),
            "{message}"
        );
        assert!(message.contains("--verbose"), "{message}");
    }

    #[test]
    fn an_option_at_the_end_has_no_value() {
        assert_eq!(
            parse(&["--fault"]).unwrap_err(),
            Stop::Error("--fault needs a value".into())
        );
    }

    #[test]
    fn options_flags_and_the_ui_address_are_read() {
        let args = parse(&[
            "--bearer-token",
            "s3cret",
            "--verbose",
            "--ui",
            "127.0.0.1:9",
        ])
        .expect("a good line");
        assert_eq!(args.option("bearer-token"), Some("s3cret"));
        assert!(args.flag("verbose"));
        assert_eq!(args.ui, Some("127.0.0.1:9".parse().unwrap()));
        assert!(
            matches!(parse(&["--ui", "nowhere"]), Err(Stop::Error(m)) if m.contains("nowhere"))
        );
        assert!(matches!(parse(&["--what"]), Err(Stop::Error(m)) if m.contains("--what")));
        assert_eq!(parse(&["-h"]).unwrap_err(), Stop::Help);
    }
}
