//! `/api/command`: the XML command API actions a DR tool uses.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::StatusCode;

use crate::server::{Params, Reply};
use crate::state::{SiteState, lock, now_unix, request_role_change};
use crate::xml::{PROLOG, esc, iso_millis, success_doc};
use crate::{Account, ClusterRole, FailoverRole, PermCommand, Product};

const CLIENT_TYPES: [&str; 4] = [
    "representative",
    "support_customer",
    "presentation_attendee",
    "push_agent",
];

pub(crate) fn handle(
    site: &Arc<SiteState>,
    idx: usize,
    account: &Account,
    params: &Params,
) -> Reply {
    let ns = site.cfg.namespace.command_uri();
    if account.perm_command == PermCommand::Deny {
        return Reply::xml_error(
            StatusCode::FORBIDDEN,
            ns,
            "This API account has no access to the Command API (perm_command is deny).",
        );
    }
    let Some(action) = params.get("action").filter(|a| !a.is_empty()) else {
        return Reply::xml_error(StatusCode::OK, ns, "Missing required parameter: action.");
    };
    match action {
        "check_health" => check_health(site, idx),
        "get_api_info" => api_info(site, account),
        "get_appliances" => appliances(site),
        "get_connected_client_list" => connected_client_list(site, idx, params),
        "get_connected_clients" => connected_clients(site, idx, params),
        "set_failover_role" => {
            if account.perm_command != PermCommand::FullAccess {
                return Reply::xml_error(
                    StatusCode::FORBIDDEN,
                    ns,
                    "set_failover_role requires perm_command full_access; this API account has read_only.",
                );
            }
            set_failover_role(site, idx, params)
        }
        other => Reply::xml_error(StatusCode::OK, ns, &format!("Invalid action: {other}.")),
    }
}

fn open_root(name: &str, ns: &str) -> String {
    format!("{PROLOG}<{name} xmlns=\"{}\">\n", esc(ns))
}

fn check_health(site: &SiteState, idx: usize) -> Reply {
    let cfg = &site.cfg;
    let app = &site.appliances[idx];
    let (healthy, message) = lock(&app.health).clone();
    let (role, last_sync) = {
        let fo = lock(&site.failover);
        (
            fo.roles.get(idx).copied().unwrap_or(FailoverRole::None),
            fo.last_sync.get(idx).cloned().unwrap_or_default(),
        )
    };
    // A traffic node that has not synced the site's software reports its own release.
    let version = lock(&app.version)
        .clone()
        .unwrap_or_else(|| cfg.version.clone());
    let mut x = open_root("health_check", cfg.namespace.command_uri());
    x += &format!(
        "\t<appliance id=\"{}\">{}</appliance>\n",
        esc(&app.id),
        esc(&app.hostname)
    );
    x += &format!(
        "\t<version>{} ({})</version>\n",
        esc(&version),
        esc(&cfg.build)
    );
    x += &format!("\t<success>{}</success>\n", u8::from(healthy));
    x += &format!("\t<failover_role>{}</failover_role>\n", role.as_str());
    if !cfg.shared_ips.is_empty() {
        x += "\t<enabled_shared_ips>\n";
        for ip in &cfg.shared_ips {
            x += &format!("\t\t<ip>{}</ip>\n", esc(ip));
        }
        x += "\t</enabled_shared_ips>\n";
    }
    if !healthy {
        let text = message.unwrap_or_else(|| "The appliance reported a problem.".to_string());
        x += &format!("\t<error_message>{}</error_message>\n", esc(&text));
    }
    // The pair reports its failover data sync; a traffic node (an assumption: the reference
    // does not say) the last sync it received from the cluster's primary.
    if (site.pair && idx < 2) || app.cluster_role == ClusterRole::Traffic {
        let (ms, status) = last_sync;
        x += &format!(
            "\t<last_data_sync_time ts=\"{}\">{}</last_data_sync_time>\n",
            ms.div_euclid(1000),
            iso_millis(ms)
        );
        x += &format!(
            "\t<last_data_sync_status>{}</last_data_sync_status>\n",
            esc(&status)
        );
    }
    x += "</health_check>\n";
    Reply::xml(x)
}

fn api_info(site: &SiteState, account: &Account) -> Reply {
    let cfg = &site.cfg;
    let mut x = open_root("api_information", cfg.namespace.command_uri());
    x += &format!("\t<api_version>{}</api_version>\n", esc(&cfg.api_version));
    if cfg.product == Product::Rs {
        let company = cfg.site_hostname.split('.').next().unwrap_or("example");
        x += &format!("\t<company_name>{}</company_name>\n", esc(company));
    }
    x += &format!("\t<timestamp>{}</timestamp>\n", now_unix());
    x += "\t<permissions>\n";
    x += &format!(
        "\t\t<permission name=\"perm_command\">{}</permission>\n",
        account.perm_command.as_str()
    );
    // The PRA documentation misspells the vault-account permission; serve that spelling on PRA so
    // clients prove they tolerate it.
    let vault_account_perm = match cfg.product {
        Product::Rs => "perm_configuration_vault_account",
        Product::Pra => "perm_configuration_vault_acount",
    };
    let flags = [
        ("perm_reporting_support", account.perm_reporting_support),
        (
            "perm_reporting_presentation",
            account.perm_reporting_presentation,
        ),
        ("perm_reporting_license", false),
        ("perm_reporting_archive", account.perm_reporting_archive),
        ("perm_backup", account.perm_backup),
        ("perm_vault_backup", account.perm_vault_backup),
        ("perm_scim", false),
        ("perm_configuration", account.perm_configuration),
        (vault_account_perm, account.perm_configuration),
    ];
    for (name, value) in flags {
        x += &format!(
            "\t\t<permission name=\"{name}\">{}</permission>\n",
            u8::from(value)
        );
    }
    x += "\t</permissions>\n</api_information>\n";
    Reply::xml(x)
}

fn appliances(site: &SiteState) -> Reply {
    let roles = lock(&site.failover).roles.clone();
    let mut x = open_root("appliances", site.cfg.namespace.command_uri());
    for (i, app) in site.appliances.iter().enumerate() {
        if !app.cluster_member.load(Ordering::SeqCst) {
            continue;
        }
        let name = app.hostname.split('.').next().unwrap_or(&app.hostname);
        let role = roles.get(i).copied().unwrap_or(FailoverRole::None);
        x += &format!("\t<appliance id=\"{}\">\n", esc(&app.id));
        x += &format!("\t\t<name>{}</name>\n", esc(name));
        x += &format!(
            "\t\t<public_hostname>{}</public_hostname>\n",
            esc(&app.hostname)
        );
        x += &format!(
            "\t\t<cluster_role>{}</cluster_role>\n",
            app.cluster_role.as_str()
        );
        x += &format!("\t\t<failover_role>{}</failover_role>\n", role.as_str());
        x += &format!(
            "\t\t<accepting_connections>{}</accepting_connections>\n",
            u8::from(app.accepting.load(Ordering::SeqCst))
        );
        x += "\t\t<timezone_offset>0</timezone_offset>\n";
        x += "\t</appliance>\n";
    }
    x += "</appliances>\n";
    Reply::xml(x)
}

/// The connected clients of this appliance: the next count of its schedule when a test set
/// one (every other client a representative console), else a fixed handful unless it is a
/// backup.
fn clients_on(site: &SiteState, idx: usize) -> Vec<(u32, &'static str)> {
    if let Some(n) = site.appliances.get(idx).and_then(|a| a.next_client_count()) {
        let base = 10_000 * (idx as u32 + 1);
        return (0..n)
            .map(|i| {
                let kind = if i.is_multiple_of(2) {
                    "representative"
                } else {
                    "support_customer"
                };
                (base.saturating_add(i), kind)
            })
            .collect();
    }
    if site.role_of(idx) == FailoverRole::Backup {
        return Vec::new();
    }
    vec![
        (101, "representative"),
        (102, "representative"),
        (201, "support_customer"),
        (202, "support_customer"),
        (203, "support_customer"),
        (401, "push_agent"),
    ]
}

fn client_type_filter(params: &Params) -> Result<Option<String>, String> {
    match params.get("type") {
        None | Some("") | Some("all") => Ok(None),
        Some(t) if CLIENT_TYPES.contains(&t) => Ok(Some(t.to_string())),
        Some(t) => Err(format!(
            "Invalid value for parameter type: {t}. Expected all, representative, support_customer, presentation_attendee or push_agent."
        )),
    }
}

fn flag(params: &Params, name: &str) -> Result<bool, String> {
    match params.get(name) {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(v) => Err(format!(
            "Invalid value for parameter {name}: {v}. Expected 0 or 1."
        )),
    }
}

fn connected_client_list(site: &SiteState, idx: usize, params: &Params) -> Reply {
    let ns = site.cfg.namespace.command_uri();
    let filter = match client_type_filter(params) {
        Ok(f) => f,
        Err(e) => return Reply::xml_error(StatusCode::OK, ns, &e),
    };
    let summary = match flag(params, "summary_only") {
        Ok(s) => s,
        Err(e) => return Reply::xml_error(StatusCode::OK, ns, &e),
    };
    let clients: Vec<_> = clients_on(site, idx)
        .into_iter()
        .filter(|(_, t)| filter.as_deref().is_none_or(|f| f == *t))
        .collect();
    let mut x = open_root("connected_client_list", ns);
    if summary {
        x += "\t<connected_client_summary>\n";
        for t in CLIENT_TYPES {
            if filter.as_deref().is_some_and(|f| f != t) {
                continue;
            }
            let n = clients.iter().filter(|(_, ct)| *ct == t).count();
            x += &format!("\t\t<{t}>{n}</{t}>\n");
        }
        x += "\t</connected_client_summary>\n";
    } else {
        for (id, t) in &clients {
            x += &format!("\t<connected_client id=\"{id}\" type=\"{t}\"/>\n");
        }
    }
    x += "</connected_client_list>\n";
    Reply::xml(x)
}

fn connected_clients(site: &SiteState, idx: usize, params: &Params) -> Reply {
    let ns = site.cfg.namespace.command_uri();
    let filter = match client_type_filter(params) {
        Ok(f) => f,
        Err(e) => return Reply::xml_error(StatusCode::OK, ns, &e),
    };
    let ids: Option<Vec<u32>> = params
        .get("id")
        .filter(|s| !s.is_empty())
        .map(|s| s.split(',').filter_map(|p| p.trim().parse().ok()).collect());
    let mut x = open_root("connected_clients", ns);
    for (id, t) in clients_on(site, idx) {
        if filter.as_deref().is_some_and(|f| f != t)
            || ids.as_ref().is_some_and(|l| !l.contains(&id))
        {
            continue;
        }
        x += &format!("\t<connected_client id=\"{id}\" type=\"{t}\">\n");
        x += &format!("\t\t<hostname>client-{id}.example.net</hostname>\n");
        x += "\t</connected_client>\n";
    }
    x += "</connected_clients>\n";
    Reply::xml(x)
}

fn set_failover_role(site: &Arc<SiteState>, idx: usize, params: &Params) -> Reply {
    let ns = site.cfg.namespace.command_uri();
    let role = match params.get("role") {
        Some("primary") => FailoverRole::Primary,
        Some("backup") => FailoverRole::Backup,
        Some(other) => {
            return Reply::xml_error(
                StatusCode::OK,
                ns,
                &format!("Invalid value for parameter role: {other}. Expected primary or backup."),
            );
        }
        None => {
            return Reply::xml_error(
                StatusCode::OK,
                ns,
                "Missing required parameter: role (primary or backup).",
            );
        }
    };
    let (sync_first, force) = match (flag(params, "data_sync_first"), flag(params, "force")) {
        (Ok(s), Ok(f)) => (s, f),
        (Err(e), _) | (_, Err(e)) => return Reply::xml_error(StatusCode::OK, ns, &e),
    };
    match request_role_change(site, idx, role, sync_first, force) {
        Ok(message) => Reply::xml(success_doc(ns, message)),
        Err(message) => Reply::xml_error(StatusCode::OK, ns, &message),
    }
}
