//! The viewer in a real browser: headless Chromium (Debian's `chromium`) loads the page from a
//! running receiver + viewer on 127.0.0.1, and `interop/viewer_browser.py` clicks through it as
//! a person would: the trace list, the waterfall in order with its critical path, a span's
//! attributes and logs, the log filters and their links back to spans, the metric charts. It
//! takes the screenshots shown in the examples README. A second test lists 1,000 traces and
//! reports how long the page takes to render the list and to open one (bound: 10 s each).
//!
//! Ignored by plain `cargo test` (it needs Chromium); `cargo xtask interop` runs it, with
//! `OTLP_CHROMIUM` naming the browser (default `chromium`) and `OTLP_INTEROP_PYTHON` the
//! interpreter. `OTLP_VIEWER_SCREENSHOTS` sets where the screenshots go (default: a folder
//! under the build's temporary directory).

mod support;

use std::path::PathBuf;

use otlp_core::Signal;
use otlp_examples::viewer::Retention;
use support::Running;

/// Runs `interop/viewer_browser.py CHROMIUM URL ARGS...`; returns its stdout, failing the test
/// when it fails.
async fn drive(url: String, args: Vec<std::ffi::OsString>) -> String {
    let python = std::env::var("OTLP_INTEROP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let chromium = std::env::var("OTLP_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/viewer_browser.py");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(chromium)
            .arg(url)
            .args(args)
            .output()
    })
    .await
    .expect("the driver thread ran")
    .expect("the driver starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser checks failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("viewer browser checks: all passed"));
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run by `cargo xtask interop`"]
async fn a_person_can_read_the_viewer() {
    let run = Running::start(Retention::default()).await;
    run.send_shop().await;
    let shots = std::env::var_os("OTLP_VIEWER_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viewer-screenshots"));
    drive(run.viewer.url(), vec![shots.into_os_string()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run by `cargo xtask interop`"]
async fn the_page_stays_responsive_with_a_thousand_traces() {
    let run = Running::start(Retention::default()).await;
    let t0 = support::now();
    for batch in 0..10u64 {
        let mut resource_spans = Vec::new();
        for i in 0..100u64 {
            let id = format!("{:032x}", batch * 100 + i + 1);
            let trace = support::trace(&id, t0 + (batch * 100 + i) * 1_000_000);
            resource_spans.extend(
                trace["resourceSpans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        let body = serde_json::json!({ "resourceSpans": resource_spans });
        run.send(Signal::Traces, body, (batch as usize + 1) * 400)
            .await;
    }
    let stdout = drive(run.viewer.url(), vec!["--many".into(), "1000".into()]).await;
    assert!(stdout.contains("1000 traces listed in"), "{stdout}");
}
