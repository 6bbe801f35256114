//! The demos' small command line: `--quick`, `--help`, `--print-config`, and `--name value`
//! options.

use std::collections::HashMap;

/// Parsed arguments.
#[derive(Debug, Default)]
pub struct Args {
    /// `--quick`: a short run for CI smoke tests.
    pub quick: bool,
    /// `--print-config`: print the configuration in effect and exit.
    pub print_config: bool,
    options: HashMap<String, String>,
}

impl Args {
    /// Parses the process arguments. Prints `usage` and exits 0 on `--help`; exits 2 with a
    /// message on an unknown flag or an option without a value.
    pub fn parse(usage: &str, known_options: &[&str]) -> Args {
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
                flag if flag.starts_with("--") && known_options.contains(&&flag[2..]) => {
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
        args
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
