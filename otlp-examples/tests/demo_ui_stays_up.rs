//! `--ui` on a demo that embeds a receiver: the demo runs, its telemetry shows in the viewer,
//! and the process stays up at the end until SIGTERM, then exits 0.

mod receiver_process;

use receiver_process::ReceiverProcess;

#[tokio::test(flavor = "multi_thread")]
async fn a_demo_with_ui_keeps_its_viewer_up_until_stopped() {
    let mut demo = ReceiverProcess::spawn(
        env!("CARGO_BIN_EXE_distributed_tracing"),
        &["--quick", "--ui", "127.0.0.1:0"],
    );
    let line = demo.wait_for_line(|l| l.contains("the viewer stays up at"));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .map(|w| w.trim_end_matches(';').to_owned())
        .expect("the viewer's URL");
    let traces: serde_json::Value = reqwest::get(format!("{url}api/traces"))
        .await
        .expect("the viewer answers after the demo ended")
        .json()
        .await
        .expect("JSON");
    assert!(
        traces["traces"].as_array().is_some_and(|t| !t.is_empty()),
        "the demo's traces are in the viewer: {traces}"
    );
    let status = demo.terminate();
    assert!(status.success(), "{status:?}");
}
