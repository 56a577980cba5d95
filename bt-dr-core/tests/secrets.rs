//! Secrets (client secret, tokens, backup password, p12 passphrase) never reach an error, a
//! Debug string, a result or a log line — with logging at TRACE for every crate.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use bt_dr_core::api::BackupOptions;
use bt_dr_sim::{Endpoint, Fault, Sim};
use common::*;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_errors_debug_results_or_logs() {
    let buf = Buf::default();
    let b2 = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || b2.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut cfg = config();
    cfg.backup_password = Some("NSB-pass-Kx91".into());
    let sim = Sim::start_pair(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    let mut seen = String::new();
    seen += &format!("{c:?}");
    seen += &format!("{:?}", c.check_health().await.unwrap());
    // Errors along every path: token renewal, rate limit, wrong password, auth failure.
    sim.primary()
        .set_fault(Endpoint::Command, Fault::ExpireTokens, Some(1));
    seen += &format!("{:?}", c.get_api_info().await);
    let dir = tempfile::tempdir().unwrap();
    let opts = BackupOptions {
        password: Some("NSB-pass-Kx91".into()),
        ..Default::default()
    };
    seen += &format!("{opts:?}");
    let d = c.download_backup(dir.path(), opts).await.unwrap();
    seen += &format!("{d:?}{}", std::fs::read_to_string(&d.sidecar_path).unwrap());
    let e = c
        .download_backup(
            dir.path(),
            BackupOptions {
                password: Some("bad-pass-Zz3".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    seen += &format!("{e} {e:?} {}", e.details());
    let wrong = builder(&sim, sim.primary())
        .credentials(&client_id(&sim), "Wrong-Secret-44".into())
        .build()
        .unwrap();
    let e = wrong.check_health().await.unwrap_err();
    seen += &format!("{e} {e:?} {wrong:?}");
    let tokens = sim.live_tokens(&client_id(&sim));
    assert!(!tokens.is_empty());
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.len() > 100, "the test must actually capture logs");
    for s in [SECRET, "NSB-pass-Kx91", "bad-pass-Zz3", "Wrong-Secret-44"]
        .into_iter()
        .map(String::from)
        .chain(tokens)
    {
        assert!(!seen.contains(&s), "secret {s:.4}… in results/errors");
        assert!(!logs.contains(&s), "secret {s:.4}… in logs");
    }
}
