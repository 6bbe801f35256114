//! The viewer in a real browser: headless Chromium (Debian's `chromium`) loads the page from a
//! running receiver + viewer on 127.0.0.1, and `interop/viewer_browser.py` clicks through it as
//! a person would: the trace list, the waterfall in order with its critical path, a span's
//! attributes and logs, the log filters and their links back to spans, the metric charts. It
//! takes the screenshots shown in the examples README.
//!
//! Ignored by plain `cargo test` (it needs Chromium); `cargo xtask interop` runs it, with
//! `OTLP_CHROMIUM` naming the browser (default `chromium`) and `OTLP_INTEROP_PYTHON` the
//! interpreter. `OTLP_VIEWER_SCREENSHOTS` sets where the screenshots go (default: a folder
//! under the build's temporary directory).

mod support;

use std::path::PathBuf;

use otlp_examples::viewer::Retention;
use support::Running;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run by `cargo xtask interop`"]
async fn a_person_can_read_the_viewer() {
    let run = Running::start(Retention::default()).await;
    run.send_shop().await;

    let python = std::env::var("OTLP_INTEROP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let chromium = std::env::var("OTLP_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let shots = std::env::var_os("OTLP_VIEWER_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viewer-screenshots"));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/viewer_browser.py");
    let url = run.viewer.url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(chromium)
            .arg(url)
            .arg(shots)
            .output()
    })
    .await
    .expect("the driver thread ran")
    .expect("the driver starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser checks failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("viewer browser checks: all passed"));
}
