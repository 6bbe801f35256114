//! The `receiver` binary (or a demo) as a child process on 127.0.0.1 free ports: its stdout read line by
//! line as it comes, SIGTERM to stop it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub struct ReceiverProcess {
    child: Child,
    lines: Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl ReceiverProcess {
    /// Starts `receiver --grpc 127.0.0.1:0 --http 127.0.0.1:0` with `args`.
    #[allow(dead_code)]
    pub fn start(args: &[&str]) -> ReceiverProcess {
        let mut all = vec!["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"];
        all.extend_from_slice(args);
        ReceiverProcess::spawn(env!("CARGO_BIN_EXE_receiver"), &all)
    }

    /// Starts `program` with `args`.
    pub fn spawn(program: &str, args: &[&str]) -> ReceiverProcess {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the receiver binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        ReceiverProcess {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `wanted` (returned), or 20 s pass (a panic that shows
    /// every line seen).
    pub fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!(
                        "no such line; the receiver printed:\n{}",
                        self.seen.join("\n")
                    )
                }
            }
        }
    }

    /// Sends SIGTERM, reads the rest of stdout, and returns the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("waitable") {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
                    self.seen.push(line);
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ReceiverProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
