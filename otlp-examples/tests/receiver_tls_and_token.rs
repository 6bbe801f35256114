//! The receiver binary's `--tls-cert/--tls-key` and `--bearer-token`: it serves HTTPS with the
//! given certificate, and a request without the token is refused with 401 and one line saying
//! why, while one with it is accepted.

mod receiver_process;

use receiver_process::ReceiverProcess;

#[tokio::test(flavor = "multi_thread")]
async fn tls_and_the_token_are_required_as_asked() {
    let dir = std::env::temp_dir().join(format!("receiver-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("a certificate");
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert, certified.cert.pem()).expect("written");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("written");
    let mut receiver = ReceiverProcess::start(&[
        "--tls-cert",
        cert.to_str().expect("a UTF-8 path"),
        "--tls-key",
        key.to_str().expect("a UTF-8 path"),
        "--bearer-token",
        "s3cret",
    ]);
    let banner = receiver.wait_for_line(|l| l.contains("OTLP receiver"));
    let endpoint = banner
        .rsplit("HTTP ")
        .next()
        .map(|e| e.trim().to_owned())
        .expect("the HTTP endpoint in the banner");
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{banner}");
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).expect("PEM"),
        )
        .build()
        .expect("a client");
    let post = |token: Option<&str>| {
        let mut request = client
            .post(format!("{endpoint}/v1/traces"))
            .header("content-type", "application/json")
            .body("{}");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(post(None).await.expect("an answer").status(), 401);
    let refused = receiver.wait_for_line(|l| l.starts_with("✗ refused"));
    assert_eq!(
        refused,
        "✗ refused HTTP 401 traces: missing bearer token (authorization: Bearer ...)"
    );
    assert_eq!(post(Some("s3cret")).await.expect("an answer").status(), 200);
    assert!(receiver.terminate().success());
    assert!(
        receiver.seen.iter().any(|l| l.starts_with(
            "requests: 1 accepted (1 empty probe(s), not shown), 1 refused (HTTP 401 ×1)"
        )),
        "{}",
        receiver.seen.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
