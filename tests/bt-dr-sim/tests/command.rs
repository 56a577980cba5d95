//! Command API XML shapes and permissions.

use crate::common;

use bt_dr_sim::{Account, FailoverRole, Product, Sim, SimConfig, XmlNamespace};
use common::*;
use reqwest::header::CONTENT_TYPE;

const BOMGAR_CMD: &str = "http://www.bomgar.com/namespaces/API/command";
const BT_CMD: &str = "https://www.beyondtrust.com/namespaces/API/command";

#[tokio::test]
async fn check_health_single_in_both_namespaces() {
    for (ns, uri) in [
        (XmlNamespace::Bomgar, BOMGAR_CMD),
        (XmlNamespace::BeyondTrust, BT_CMD),
    ] {
        let sim = Sim::start_single(SimConfig {
            namespace: ns,
            ..cfg()
        })
        .await
        .expect("sim");
        let c = client(&sim);
        let base = sim.primary().url();
        let t = token(&c, &base).await;
        let r = command(&c, &base, &t, "action=check_health").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/xml; charset=UTF-8"));
        assert!(
            r.body
                .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<health_check xmlns=")
        );
        let x = r.xml();
        assert_eq!(x.name, "health_check");
        assert_eq!(x.ns.as_deref(), Some(uri));
        let app = x.child("appliance").expect("appliance");
        assert_eq!(app.attr("id"), Some(sim.primary().id()));
        assert_eq!(sim.primary().id().len(), 32);
        assert!(
            sim.primary()
                .id()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(app.text, "bt-a.example.com");
        assert_eq!(app.ns.as_deref(), Some(uri));
        let version = x.text_of("version").expect("version");
        assert!(version.starts_with("24.1.2 (37380-"), "{version}");
        assert_eq!(version.len(), "24.1.2 (37380-".len() + 40 + 1);
        assert_eq!(x.text_of("success").as_deref(), Some("1"));
        assert_eq!(x.text_of("failover_role").as_deref(), Some("none"));
        assert!(x.child("error_message").is_none());
        assert!(x.child("last_data_sync_time").is_none());
        assert!(x.child("last_data_sync_status").is_none());
        assert!(x.child("enabled_shared_ips").is_none());
    }
}

#[tokio::test]
async fn check_health_pair_unhealthy_with_shared_ips() {
    let sim = Sim::start_pair(SimConfig {
        shared_ips: vec!["10.0.0.10".into(), "10.0.0.11".into()],
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let backup = sim.backup().expect("backup");
    let t = token(&c, &sim.primary().url()).await;
    let x = command(&c, &backup.url(), &t, "action=check_health")
        .await
        .xml();
    assert_eq!(x.text_of("failover_role").as_deref(), Some("backup"));
    assert_eq!(
        x.child("appliance").map(|a| a.text.as_str()),
        Some("bt-b.example.com")
    );
    let ips: Vec<String> = x
        .child("enabled_shared_ips")
        .expect("shared ips")
        .all("ip")
        .iter()
        .map(|n| n.text.clone())
        .collect();
    assert_eq!(ips, ["10.0.0.10", "10.0.0.11"]);
    let sync = x.child("last_data_sync_time").expect("sync time");
    let ts: i64 = sync.attr("ts").expect("ts").parse().expect("unix");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!((now - ts - 60).abs() <= 5, "sync {} s ago", now - ts);
    assert_eq!(sync.text.len(), "2019-10-07T00:32:50.877+0000".len());
    assert!(sync.text.ends_with("+0000"));
    assert_eq!(
        x.text_of("last_data_sync_status").as_deref(),
        Some("success")
    );

    backup.set_health(false, Some("Data sync failed: disk full"));
    backup.set_last_sync(1_570_408_370, "failed");
    let x = command(&c, &backup.url(), &t, "action=check_health")
        .await
        .xml();
    assert_eq!(x.text_of("success").as_deref(), Some("0"));
    assert_eq!(
        x.text_of("error_message").as_deref(),
        Some("Data sync failed: disk full")
    );
    let sync = x.child("last_data_sync_time").expect("sync");
    assert_eq!(sync.attr("ts"), Some("1570408370"));
    assert_eq!(sync.text, "2019-10-07T00:32:50.000+0000");
    assert_eq!(
        x.text_of("last_data_sync_status").as_deref(),
        Some("failed")
    );
}

#[tokio::test]
async fn probe_reflects_health_without_auth() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let url = format!("{}/check_health", sim.primary().url());
    let r = into_resp(c.get(&url).send().await.expect("probe")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("OK"));
    assert!(r.header("x-ratelimit-limit").is_none());
    sim.primary().set_health(false, Some("disk"));
    let r = into_resp(c.get(&url).send().await.expect("probe")).await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("disk"));
}

#[tokio::test]
async fn api_info_lists_permissions() {
    for product in [Product::Rs, Product::Pra] {
        let sim = Sim::start_single(SimConfig { product, ..cfg() })
            .await
            .expect("sim");
        let c = client(&sim);
        let base = sim.primary().url();
        let t = token(&c, &base).await;
        let x = command(&c, &base, &t, "action=get_api_info").await.xml();
        assert_eq!(x.name, "api_information");
        assert_eq!(x.text_of("api_version").as_deref(), Some("1.24.0"));
        assert_eq!(x.child("company_name").is_some(), product == Product::Rs);
        let ts: i64 = x.text_of("timestamp").expect("ts").parse().expect("int");
        assert!(ts > 1_600_000_000);
        let perms = x.child("permissions").expect("permissions");
        let perm = |name: &str| {
            perms
                .all("permission")
                .into_iter()
                .find(|p| p.attr("name") == Some(name))
                .map(|p| p.text.clone())
        };
        assert_eq!(perm("perm_command").as_deref(), Some("full_access"));
        for p in [
            "perm_backup",
            "perm_reporting_support",
            "perm_reporting_archive",
            "perm_vault_backup",
            "perm_configuration",
        ] {
            assert_eq!(perm(p).as_deref(), Some("1"), "{p}");
        }
        match product {
            Product::Rs => {
                assert_eq!(
                    perm("perm_configuration_vault_account").as_deref(),
                    Some("1")
                )
            }
            Product::Pra => {
                assert_eq!(
                    perm("perm_configuration_vault_acount").as_deref(),
                    Some("1")
                )
            }
        }
    }
}

#[tokio::test]
async fn read_only_account_cannot_change_roles() {
    let sim = Sim::start_pair(SimConfig {
        accounts: vec![Account::read_only("ro", "ro-secret")],
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token_request(&c, &base, "ro", "ro-secret").await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let x = command(&c, &base, &t, "action=get_api_info").await.xml();
    let perms = x.child("permissions").expect("perms");
    let find = |n: &str| {
        perms
            .all("permission")
            .into_iter()
            .find(|p| p.attr("name") == Some(n))
            .map(|p| p.text.clone())
    };
    assert_eq!(find("perm_command").as_deref(), Some("read_only"));
    assert_eq!(find("perm_backup").as_deref(), Some("0"));
    let r = command(&c, &base, &t, "action=set_failover_role&role=backup").await;
    assert_eq!(r.status, 403);
    let x = r.xml();
    assert_eq!(x.name, "error");
    assert!(x.text.contains("perm_command"), "{}", x.text);
    assert_eq!(sim.primary().failover_role(), FailoverRole::Primary);
    let r = get(&c, &base, &t, "/api/backup").await;
    assert_eq!(r.status, 403);
    assert!(r.xml().text.contains("perm_backup"));
    let r = reporting(
        &c,
        &base,
        &t,
        "generate_report=SupportSessionListing&start_time=0&duration=0",
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.xml().text.contains("perm_reporting_support"));
}

#[tokio::test]
async fn deny_account_gets_403() {
    let mut acct = Account::read_only("deny", "deny-secret");
    acct.perm_command = bt_dr_sim::PermCommand::Deny;
    let sim = Sim::start_single(SimConfig {
        accounts: vec![acct],
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token_request(&c, &base, "deny", "deny-secret").await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 403);
    assert!(r.xml().text.contains("perm_command"));
}

#[tokio::test]
async fn appliances_and_clients() {
    let sim = Sim::start_pair(cfg()).await.expect("sim");
    let c = client(&sim);
    let a = sim.primary().url();
    let b = sim.backup().expect("backup").url();
    let t = token(&c, &a).await;
    let x = command(&c, &a, &t, "action=get_appliances").await.xml();
    assert_eq!(x.name, "appliances");
    let apps = x.all("appliance");
    assert_eq!(apps.len(), 2);
    assert_eq!(apps[0].attr("id"), Some(sim.primary().id()));
    assert_eq!(
        apps[0].text_of("public_hostname").as_deref(),
        Some("bt-a.example.com")
    );
    assert_eq!(apps[0].text_of("cluster_role").as_deref(), Some("single"));
    assert_eq!(apps[0].text_of("failover_role").as_deref(), Some("primary"));
    assert_eq!(apps[1].text_of("failover_role").as_deref(), Some("backup"));
    assert_eq!(
        apps[1].text_of("accepting_connections").as_deref(),
        Some("1")
    );
    assert_eq!(apps[1].text_of("timezone_offset").as_deref(), Some("0"));
    assert!(apps[1].child("name").is_some());

    let x = command(&c, &a, &t, "action=get_connected_client_list")
        .await
        .xml();
    assert_eq!(x.name, "connected_client_list");
    let clients = x.all("connected_client");
    assert_eq!(clients.len(), 6);
    let count = |ty: &str| {
        clients
            .iter()
            .filter(|n| n.attr("type") == Some(ty))
            .count()
    };
    assert_eq!(
        (
            count("representative"),
            count("support_customer"),
            count("push_agent")
        ),
        (2, 3, 1)
    );
    let x = command(
        &c,
        &a,
        &t,
        "action=get_connected_client_list&type=representative",
    )
    .await
    .xml();
    assert_eq!(x.all("connected_client").len(), 2);
    let x = command(
        &c,
        &a,
        &t,
        "action=get_connected_client_list&summary_only=1",
    )
    .await
    .xml();
    let s = x.child("connected_client_summary").expect("summary");
    assert_eq!(s.text_of("representative").as_deref(), Some("2"));
    assert_eq!(s.text_of("support_customer").as_deref(), Some("3"));
    assert_eq!(s.text_of("presentation_attendee").as_deref(), Some("0"));
    assert_eq!(s.text_of("push_agent").as_deref(), Some("1"));
    let x = command(&c, &b, &t, "action=get_connected_client_list")
        .await
        .xml();
    assert!(x.all("connected_client").is_empty());
    let x = command(&c, &a, &t, "action=get_connected_client_list&type=bogus")
        .await
        .xml();
    assert_eq!(x.name, "error");
}

#[tokio::test]
async fn errors_and_post_form() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let r = command(&c, &base, &t, "action=make_coffee").await;
    assert_eq!(r.status, 200);
    let x = r.xml();
    assert_eq!(x.name, "error");
    assert_eq!(x.ns.as_deref(), Some(BT_CMD));
    assert!(x.text.contains("make_coffee"));
    let x = command(&c, &base, &t, "").await.xml();
    assert_eq!(x.name, "error");
    // Parameters in a form body.
    let r = into_resp(
        c.post(format!("{base}/api/command"))
            .bearer_auth(&t)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("action=check_health")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.xml().name, "health_check");
    // set_failover_role on a single appliance.
    let x = command(&c, &base, &t, "action=set_failover_role&role=primary")
        .await
        .xml();
    assert_eq!(x.name, "error");
    assert!(x.text.to_lowercase().contains("failover"));
}
