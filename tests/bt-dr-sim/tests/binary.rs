//! The bt-dr-sim binary prints its JSON line and serves the control API.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn post(c: &reqwest::Client, url: String, body: &str) -> (u16, serde_json::Value) {
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("control request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).expect("json"))
}

#[tokio::test]
async fn binary_prints_json_line_and_obeys_control_api() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bt-dr-sim"))
        .args([
            "--product",
            "pra",
            "--client-id",
            "cid",
            "--client-secret",
            "csecret",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let child = Child(child);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .expect("line within 30 s")
        .expect("join")
        .expect("read");
    let v: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
    for key in [
        "primary_url",
        "backup_url",
        "ca_pem_path",
        "client_id",
        "client_secret",
        "site_hostname",
        "product",
        "version",
        "leaf_cert_sha256",
        "control_url",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {line}");
    }
    assert_eq!(v["product"], "pra");
    assert_eq!(v["client_id"], "cid");
    assert_eq!(v["client_secret"], "csecret");
    assert_eq!(v["version"], "24.1.2");
    assert_eq!(v["leaf_cert_sha256"].as_str().map(str::len), Some(64));
    let ca_path = v["ca_pem_path"].as_str().expect("path");
    let ca = std::fs::read(ca_path).expect("CA file exists");

    let control = v["control_url"].as_str().expect("control").to_string();
    let plain = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let (status, _) = post(
        &plain,
        format!("{control}/appliances/1/fault"),
        r#"{"endpoint":"token","fault":"server_error","value":502,"times":1}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &plain,
        format!("{control}/appliances/0/down"),
        r#"{"down":true}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &plain,
        format!("{control}/appliances/1/role"),
        r#"{"role":"primary"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &plain,
        format!("{control}/appliances/5/down"),
        r#"{"down":true}"#,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &plain,
        format!("{control}/appliances/0/fault"),
        r#"{"fault":"zap"}"#,
    )
    .await;
    assert_eq!(status, 400);

    // Talk TLS to the backup appliance with the printed CA and credentials.
    let tls = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("pem")])
        .no_proxy()
        .build()
        .expect("client");
    let backup = v["backup_url"].as_str().expect("backup url");
    let token_url = format!("{backup}/oauth2/token");
    let send = || {
        tls.post(&token_url)
            .basic_auth("cid", Some("csecret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
    };
    assert_eq!(send().await.expect("token").status(), 502);
    assert_eq!(send().await.expect("token").status(), 200);

    // The hostile-appliance faults by their control names.
    for body in [
        r#"{"endpoint":"token","fault":"answer","value":{"status":200,"content_type":"application/json","body":"{\"error\":\"access_denied\"}"},"times":1}"#,
        r#"{"endpoint":"token","fault":"header","value":{"name":"Retry-After","value":"1e20"},"times":1}"#,
        r#"{"endpoint":"token","fault":"filename","value":"manifest.json","times":1}"#,
    ] {
        let (status, reply) = post(&plain, format!("{control}/appliances/1/fault"), body).await;
        assert_eq!(status, 200, "{body}: {reply}");
    }
    let state: serde_json::Value = plain
        .get(format!("{control}/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = state["appliances"][1]["faults"]
        .as_array()
        .expect("faults")
        .iter()
        .filter_map(|f| f["fault"].as_str())
        .collect();
    assert_eq!(names, ["answer", "header", "filename"]);
    let r = send().await.expect("token");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["retry-after"], "1e20");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"manifest.json\""
    );
    assert_eq!(
        r.text().await.expect("body"),
        r#"{"error":"access_denied"}"#
    );
    for body in [
        r#"{"endpoint":"token","fault":"reject_tokens","value":403,"times":1}"#,
        r#"{"endpoint":"token","fault":"echo_headers","times":1}"#,
    ] {
        let (status, reply) = post(&plain, format!("{control}/appliances/1/fault"), body).await;
        assert_eq!(status, 200, "{body}: {reply}");
    }
    // Both are used up by one request; the first armed replacing fault is the answer.
    let r = send().await.expect("token");
    assert_eq!(r.status(), 403);
    let (status, _) = post(
        &plain,
        format!("{control}/appliances/1/fault"),
        r#"{"endpoint":"token","fault":"echo_headers","times":1}"#,
    )
    .await;
    assert_eq!(status, 200);
    let r = send().await.expect("token");
    assert_eq!(r.status(), 502);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("authorization: Basic "),
        "the echo shows the credentials it was sent"
    );
    assert_eq!(send().await.expect("token").status(), 200);
    let primary = v["primary_url"].as_str().expect("primary url");
    assert!(
        tls.get(format!("{primary}/check_health"))
            .send()
            .await
            .is_err()
    );

    let state: serde_json::Value = serde_json::from_str(
        &plain
            .get(format!("{control}/state"))
            .send()
            .await
            .expect("state")
            .text()
            .await
            .expect("body"),
    )
    .expect("json");
    let apps = state["appliances"].as_array().expect("list");
    assert_eq!(apps.len(), 2);
    assert_eq!(apps[0]["down"], true);
    assert_eq!(apps[1]["role"], "primary");
    assert_eq!(apps[1]["request_counts"]["token"], 6);
    assert_eq!(apps[0]["request_counts"]["any"], 0);
    drop(child);
}

#[tokio::test]
async fn binary_single_mode_and_bad_args() {
    let out = Command::new(env!("CARGO_BIN_EXE_bt-dr-sim"))
        .arg("--bogus")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_bt-dr-sim"))
        .args(["--single", "--namespace", "bomgar"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let _child = Child(child);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("read");
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert!(v["backup_url"].is_null());
    assert_eq!(v["product"], "rs");
}
