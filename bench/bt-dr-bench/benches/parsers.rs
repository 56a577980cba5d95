//! Criterion micro-benchmarks of the parsers (issue 8, item 4) and the PBKDF2 floor (item 3).
//!
//! * `backup_name/*` — `BackupName::from_str` on the name forms the appliance produces.
//! * `inventory_load/*` — `Inventory::load` of a 100-site fleet file in TOML, JSON and YAML.
//! * `check_health_xml/*` — `Health::from_xml` alone, on the three namespace spellings.
//! * `check_health/*` — `Client::check_health` end to end: against a minimal plain-HTTP
//!   loopback responder (client + HTTP + XML parse, no TLS), next to a raw TCP exchange with the
//!   same responder (the transport floor), and against the simulator over TLS.
//! * `kdf/*` — the key derivations one OpenSSL 3 default PKCS#12 bundle needs.
//!
//! Run: `cargo bench -p bt-dr-bench --bench parsers` (quick check: `cargo test -p bt-dr-bench --benches`).

use std::hint::black_box;
use std::time::Duration;

use bt_dr_bench::kdf;
use bt_dr_core::api::{Client, Health};
use bt_dr_core::{BackupName, Inventory, SecretString};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NAMES: &[(&str, &str)] = &[
    ("compact", "bomgar-24.1.2-support-20260101-1a2b3c4d.nsb"),
    (
        "dashed_date_site",
        "bomgar-24.1.2-support-eu.example-2026-11-20-5f3a9c01.nsb",
    ),
    (
        "with_time",
        "bomgar-23.3.1-support-20251231T235959-deadbeef.nsb",
    ),
    (
        "uuid_id",
        "bomgar-24.3.1-remote-access-2026-02-03-3f2a8c1e-9b4d-4e6f-a1b2-c3d4e5f60718.nsb",
    ),
];

fn backup_names(c: &mut Criterion) {
    let mut g = c.benchmark_group("backup_name");
    for (label, name) in NAMES {
        // Fail loudly if a sample stops parsing: a benchmark of the error path would mislead.
        name.parse::<BackupName>()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        g.bench_function(*label, |b| {
            b.iter(|| black_box(black_box(*name).parse::<BackupName>()))
        });
    }
    g.finish();
}

/// A fleet of `n` sites: pairs with NAT swing and automatic failover, some with API access.
fn fleet_toml(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let product = if i % 3 == 0 { "pra" } else { "rs" };
        s += &format!(
            "[[sites]]\nname = \"site{i:03}\"\nfqdn = \"site{i:03}.example.com\"\nproduct = \"{product}\"\nversion = \"24.{}.{}\"\n\
             [[sites.appliances]]\nhostname = \"bt-a{i:03}.example.com\"\nkind = \"b400\"\nserial = \"SN{i:06}A\"\n\
             [[sites.appliances]]\nhostname = \"bt-b{i:03}.example.com\"\nkind = \"vmware\"\nip = \"10.{}.{}.2\"\n\
             [sites.failover]\nprimary = \"bt-a{i:03}.example.com\"\nbackup = \"bt-b{i:03}.example.com\"\nrouting = \"nat-swing\"\n\
             [sites.failover.auto_failover]\nenabled = true\nconnectivity_test_ips = [\"10.0.0.1\", \"10.0.0.2\"]\n\
             [sites.api]\nclient_id = \"dr-{i:03}\"\nclient_secret_env = \"BT_SECRET_{i:03}\"\n\n",
            1 + i % 3,
            i % 5,
            i / 250,
            i % 250,
        );
    }
    s
}

fn inventory_load(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let toml_text = fleet_toml(100);
    let inv = Inventory::from_toml_str(&toml_text).expect("fleet parses");
    let files = [
        ("toml_100_sites", "fleet.toml", toml_text.clone()),
        (
            "json_100_sites",
            "fleet.json",
            serde_json::to_string_pretty(&inv).expect("json"),
        ),
        (
            "yaml_100_sites",
            "fleet.yaml",
            serde_yaml_ng::to_string(&inv).expect("yaml"),
        ),
    ];
    let mut g = c.benchmark_group("inventory_load");
    for (label, file, text) in files {
        let path = dir.path().join(file);
        std::fs::write(&path, text).expect("write");
        assert_eq!(Inventory::load(&path).expect("loads").sites.len(), 100);
        g.bench_function(label, |b| b.iter(|| black_box(Inventory::load(&path))));
    }
    g.finish();
}

const HEALTH_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n\
<health_check xmlns=\"https://www.beyondtrust.com/namespaces/API/command\">\n\
\t<appliance id=\"0123456789abcdef0123456789abcdef\">bt-a.example.com</appliance>\n\
\t<version>24.1.2 (37380-5f3c2a9e0b7d41c6a8e2f09d13b4c5a6e7f80912)</version>\n\
\t<success>1</success>\n\
\t<failover_role>primary</failover_role>\n\
\t<enabled_shared_ips><ip>10.0.0.10</ip></enabled_shared_ips>\n\
\t<last_data_sync_time ts=\"1570408370\">2019-10-07T00:32:50.877+0000</last_data_sync_time>\n\
\t<last_data_sync_status>success</last_data_sync_status>\n\
</health_check>\n";

/// A minimal HTTP/1.1 responder: a token for `POST /oauth2/token`, the health XML otherwise,
/// one request per connection (as the appliance does).
async fn responder(listener: tokio::net::TcpListener) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(2048);
            let mut chunk = [0u8; 2048];
            let head_end = loop {
                let Ok(n) = sock.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break p + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + len {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let (ctype, body) = if head.starts_with("post /oauth2/token") {
                (
                    "application/json",
                    "{\"access_token\":\"abcdefghijklmnopqrstuvwxyz0123456789ABCD\",\"token_type\":\"Bearer\",\"expires_in\":3600}",
                )
            } else {
                ("text/xml; charset=UTF-8", HEALTH_XML)
            };
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

/// The `check_health` body as the three namespace spellings appliances use.
fn health_xml_variants() -> [(&'static str, String); 3] {
    let old = HEALTH_XML.replace(
        "https://www.beyondtrust.com/namespaces/API/command",
        "http://www.bomgar.com/namespaces/API/command",
    );
    let prefixed = HEALTH_XML
        .replace("<health_check xmlns=", "<ns:health_check xmlns:ns=")
        .replace("</health_check>", "</ns:health_check>");
    [
        ("beyondtrust_ns", HEALTH_XML.to_string()),
        ("bomgar_ns", old),
        ("prefixed", prefixed),
    ]
}

fn health_xml(c: &mut Criterion) {
    let mut g = c.benchmark_group("check_health_xml");
    for (label, xml) in health_xml_variants() {
        let h = Health::from_xml(&xml).expect("health parses");
        assert_eq!(h.hostname, "bt-a.example.com");
        assert_eq!(h.enabled_shared_ips, ["10.0.0.10"]);
        g.bench_function(label, |b| {
            b.iter(|| black_box(Health::from_xml(black_box(&xml))))
        });
    }
    g.finish();
}

fn check_health(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("check_health");

    // Plain HTTP loopback: what is left is the client, one TCP connection and the XML parse.
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(responder(listener));
    let http = Client::builder(&format!("http://{addr}"))
        .credentials("bench", SecretString::from("bench-secret"))
        .danger_allow_http(true)
        .rate_limit_per_second(1_000_000)
        .build()
        .expect("client");
    let h = rt.block_on(http.check_health()).expect("health");
    assert_eq!(h.hostname, "bt-a.example.com");
    g.bench_function("plain_http_loopback", |b| {
        b.iter(|| black_box(rt.block_on(http.check_health()).expect("health")))
    });
    // The floor under that: one raw TCP exchange with the same responder, no HTTP client, no XML.
    g.bench_function("raw_tcp_exchange_baseline", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
                s.write_all(b"GET /api/command?action=check_health HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await
                    .expect("write");
                let mut body = Vec::with_capacity(1024);
                s.read_to_end(&mut body).await.expect("read");
                black_box(body)
            })
        })
    });

    // The simulator over TLS (a full handshake per request: the appliance closes every connection).
    let sim = rt
        .block_on(bt_dr_sim::Sim::start_single(bt_dr_sim::SimConfig {
            rate_limit_per_second: 0,
            rate_limit_per_hour: 0,
            ..Default::default()
        }))
        .expect("sim");
    let acct = sim.config().accounts[0].clone();
    let tls = Client::builder(&sim.primary().url())
        .credentials(&acct.client_id, SecretString::from(acct.client_secret))
        .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
        .only_extra_ca(true)
        .rate_limit_per_second(1_000_000)
        .build()
        .expect("client");
    rt.block_on(tls.check_health()).expect("health");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("sim_tls_loopback", |b| {
        b.iter(|| black_box(rt.block_on(tls.check_health()).expect("health")))
    });
    g.finish();
    drop(sim);
}

fn kdf_floor(c: &mut Criterion) {
    let mut g = c.benchmark_group("kdf");
    g.bench_function("pbkdf2_hmac_sha256_2048_rustcrypto", |b| {
        b.iter(|| {
            black_box(kdf::pbkdf2_rustcrypto(
                b"bench-pass",
                b"0123456789abcdef",
                2048,
            ))
        })
    });
    g.bench_function("pbkdf2_hmac_sha256_2048_ring", |b| {
        b.iter(|| black_box(kdf::pbkdf2_ring(b"bench-pass", b"0123456789abcdef", 2048)))
    });
    g.bench_function("pkcs12_kdf_sha256_2048", |b| {
        b.iter(|| black_box(kdf::pkcs12_mac_key("bench-pass", b"01234567", 2048)))
    });
    g.bench_function("bundle_floor_2048_rustcrypto", |b| {
        b.iter(|| {
            black_box(kdf::bundle_kdf_floor(
                "bench-pass",
                2048,
                kdf::Impl::RustCrypto,
            ))
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    backup_names,
    inventory_load,
    health_xml,
    check_health,
    kdf_floor
);
criterion_main!(benches);
