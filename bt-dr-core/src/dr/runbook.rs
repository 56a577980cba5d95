//! A recovery runbook for one site, in Markdown, written for someone tired at 3 a.m.: real
//! hostnames, addresses, versions and backup files, one action per step, and the bt-dr call
//! that automates a step where there is one.

use std::fmt::Write;

use crate::dr::store::BackupStore;
use crate::dr::store::SetSummary;
use crate::model::appliance::{ApplianceKind, FailoverRole};
use crate::model::site::{AtlasCluster, ColdSpare, FailoverPair, RoutingMethod, Site};
use crate::rules::backup::{UpgradeTable, check_restore_onto};
use crate::rules::records::ApplianceRecord;
use crate::support::error::Result;

struct Doc {
    out: String,
    step: u32,
}

impl Doc {
    fn h(&mut self, level: usize, t: &str) {
        self.step = 0;
        let _ = write!(self.out, "\n{} {t}\n\n", "#".repeat(level));
    }
    fn p(&mut self, t: &str) {
        let _ = writeln!(self.out, "{t}\n");
    }
    fn step(&mut self, t: &str) {
        self.step += 1;
        let _ = writeln!(self.out, "{}. {t}", self.step);
    }
    fn auto(&mut self, call: &str) {
        let _ = writeln!(self.out, "   - automated by bt-dr: `{call}`");
    }
    fn end_list(&mut self) {
        self.out.push('\n');
    }
}

fn records_of(set: Option<&SetSummary>) -> Vec<ApplianceRecord> {
    let Some(set) = set else { return Vec::new() };
    set.manifest
        .files_of(crate::dr::manifest::FileKind::ApplianceRecord)
        .filter_map(|f| ApplianceRecord::load(set.path.join(&f.path)).ok())
        .collect()
}

/// Renders the runbook of `site`, naming files from the newest set in `store` when given.
///
/// ```
/// use bt_dr_core::{Inventory, render_runbook, UpgradeTable};
/// let inv = Inventory::from_toml_str(r#"
///     [[sites]]
///     name = "support"
///     fqdn = "support.example.com"
///     product = "rs"
///     version = "24.1.2"
///     [[sites.appliances]]
///     hostname = "bt-a.example.com"
///     kind = "vmware"
/// "#).unwrap();
/// let md = render_runbook(&inv.sites[0], None, &UpgradeTable::default()).unwrap();
/// assert!(md.contains("bt-a.example.com") && md.contains("snapshot"));
/// ```
pub fn render_runbook(
    site: &Site,
    store: Option<&BackupStore>,
    table: &UpgradeTable,
) -> Result<String> {
    let latest = match store {
        Some(s) => s.latest_set(&site.name)?,
        None => None,
    };
    let records = records_of(latest.as_ref());
    let mut d = Doc {
        out: String::new(),
        step: 0,
    };
    heading_and_appliances(&mut d, site);
    what_you_need(&mut d, site, latest.as_ref(), table);
    if let Some(pair) = &site.failover {
        primary_down(&mut d, site, pair);
        planned_swap(&mut d, site, pair);
        restore_onto_pair(&mut d, pair);
    }
    rebuild_appliances(&mut d, site, &records);
    restore_order(&mut d, site);
    if let Some(atlas) = &site.atlas {
        atlas_node_lost(&mut d, atlas);
    }
    if let Some(spare) = &site.cold_spare {
        cold_spare(&mut d, spare);
    }
    Ok(d.out)
}

/// The title, the site line and the table of appliances with their roles.
fn heading_and_appliances(d: &mut Doc, site: &Site) {
    let _ = writeln!(
        d.out,
        "# Recovery runbook: {} ({})",
        site.fqdn,
        site.product.display_name()
    );
    d.p(&format!(
        "Site `{}` runs {} {}. Work top to bottom; skip sections that do not apply. Every step names the exact host, address or file.",
        site.name,
        site.product.display_name(),
        site.version.release()
    ));

    d.h(2, "Appliances");
    d.out += "| hostname | kind | role | IP | serial |\n|---|---|---|---|---|\n";
    for a in &site.appliances {
        let role = match (a.failover_role, site.failover.as_ref()) {
            (FailoverRole::None, Some(p)) if p.primary == a.hostname => "primary".to_string(),
            (FailoverRole::None, Some(p)) if p.backup == a.hostname => "backup".to_string(),
            (r, _) => r.to_string(),
        };
        let _ = writeln!(
            d.out,
            "| {} | {} | {} | {} | {} |",
            a.hostname,
            a.kind,
            role,
            a.ip.map(|i| i.to_string()).unwrap_or_else(|| "—".into()),
            a.serial.as_deref().unwrap_or("—")
        );
    }
}

/// What the operator must have at hand: the newest set's NSB, certificate, Vault key, and
/// whether that NSB restores onto the site's version.
fn what_you_need(d: &mut Doc, site: &Site, latest: Option<&SetSummary>, table: &UpgradeTable) {
    d.h(2, "What you will need");
    match latest {
        Some(set) => {
            let m = &set.manifest;
            d.step(&format!(
                "Backup set `{}` taken {} — folder `{}`.",
                set.id,
                m.created_at.date(),
                set.path.display()
            ));
            d.step(&format!(
                "Site backup (NSB) `{}` from version {}{}.",
                m.nsb.file,
                m.nsb.version.release(),
                if m.nsb.password_protected {
                    "; it needs its backup password"
                } else {
                    ""
                }
            ));
            match &m.certificate {
                Some(c) => d.step(&format!("Certificate bundle `certificates/{}` and its passphrase.", c.file)),
                None => d.step("Certificate bundle: NOT in the set — find the p12 export, or expect to reissue the certificate."),
            }
            match &m.vault_key {
                Some(v) => d.step(&format!("Vault encryption key `{}` (recorded {}, sha256 {}…) and its password.", v.file_name, v.date, &v.sha256[..12])),
                None => d.step("Vault encryption key: NOT in the set — without it, Vault credentials in the NSB stay unreadable."),
            }
            let check = check_restore_onto(site, &m.nsb.version, Some(m.product), table);
            d.step(&format!(
                "Restore check of this NSB onto {}: **{:?}** — {}.",
                site.version.release(),
                check.compatibility,
                check.reason
            ));
            if let Some(w) = &check.warning {
                d.p(&format!("   > {w}"));
            }
            d.auto(&format!("verify_backup_set(\"{}\")", set.path.display()));
        }
        None => {
            d.step("No backup set exists in the store for this site. Find the most recent NSB, certificate export and Vault key by hand before going further.");
        }
    }
    d.end_list();
}

/// The swing step shared by the unplanned and planned sections (the guide's first step
/// after a failure): the text, and what bt-dr automates of it.
fn swing(site: &Site, pair: &FailoverPair, to: &str) -> (String, Option<String>) {
    let site_url = format!("https://{}", site.fqdn);
    match pair.routing {
        RoutingMethod::SharedIp => (
            format!(
                "Redirect traffic — shared IP: `{to}` takes over {} by itself once it is primary; nothing to change in DNS or on the firewall.",
                if pair.shared_ips.is_empty() {
                    "the shared address".to_string()
                } else {
                    pair.shared_ips
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            None,
        ),
        RoutingMethod::DnsSwing => {
            let ip = site
                .appliance(to)
                .and_then(|a| a.ip)
                .map(|i| i.to_string())
                .unwrap_or_else(|| format!("the IP of `{to}`"));
            (
                format!(
                    "Redirect traffic — DNS swing: change the A record of `{}` to {ip} (`{to}`); keep the TTL low.",
                    site.fqdn
                ),
                Some(format!(
                    "execute_failover with a redirect hook (command or callback); bt-dr then checks that {site_url} answers as `{to}` before it changes any role"
                )),
            )
        }
        RoutingMethod::NatSwing => {
            let ip = site
                .appliance(to)
                .and_then(|a| a.ip)
                .map(|i| i.to_string())
                .unwrap_or_else(|| format!("the private IP of `{to}`"));
            (
                format!(
                    "Redirect traffic — NAT swing: point the firewall NAT rule of the site's public IP at {ip} (`{to}`)."
                ),
                Some(format!(
                    "execute_failover with a redirect hook (command or callback); bt-dr then checks that {site_url} answers as `{to}` before it changes any role"
                )),
            )
        }
    }
}

/// The last step of both failover sections: how to tell clients work on `to`.
fn confirm(site: &Site, to: &str) -> String {
    format!(
        "Confirm clients work: clients connect to `{to}` (Status > Connected Clients), https://{} answers, and Jump Clients reconnect in the representative/access console.",
        site.fqdn
    )
}

/// Unplanned failover: the primary is down, the backup takes over.
fn primary_down(d: &mut Doc, site: &Site, pair: &FailoverPair) {
    let site_url = format!("https://{}", site.fqdn);
    d.h(2, "Primary down: move the site to the backup");
    d.p(&format!(
        "Primary `{}`, backup `{}`, traffic moves by {}. The order is: redirect traffic, change the role, confirm clients.",
        pair.primary,
        pair.backup,
        pair.routing.label()
    ));
    d.step(&format!(
        "Confirm the primary `{}` is really down (not just unreachable from your desk).",
        pair.primary
    ));
    d.auto("probe_health / check_health on both appliances");
    let (text, hook) = swing(site, pair, &pair.backup);
    d.step(&text);
    if let Some(h) = hook {
        d.auto(&h);
    }
    if pair.auto_failover.enabled {
        d.step(&format!(
            "Automatic failover is on: the backup promotes itself after {} s without the primary, if it can reach {}. Check it did; if not, promote it by hand (next step).",
            pair.auto_failover.primary_timeout_secs,
            if pair.auto_failover.connectivity_test_ips.is_empty() {
                "— no test IPs are set, fix that".to_string()
            } else {
                pair.auto_failover.connectivity_test_ips.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
            }
        ));
    }
    d.step(&format!("Change the role: promote the backup `{}` to primary without a final sync (the primary is gone): /login > Management > Failover > Become Primary, adjacent box unchecked.", pair.backup));
    d.auto(&format!(
        "execute_failover(site=\"{}\", mode=unplanned)",
        site.name
    ));
    d.step(&confirm(site, &pair.backup));
    d.auto(&format!("execute_failover confirms: get_connected_clients on `{}` and /check_health through {site_url}", pair.backup));
    d.step(&format!("When `{}` comes back, demote it before traffic can reach it: set its role to backup (force if it cannot see its peer), then sync.", pair.primary));
    d.auto("set_failover_role(role=backup, force=true)");
    d.end_list();
}

/// Planned swap, with a final data sync.
fn planned_swap(d: &mut Doc, site: &Site, pair: &FailoverPair) {
    d.h(2, "Planned swap (maintenance or upgrade)");
    d.step("Check both appliances serve the identical certificate: failover appliances must carry the same certificate configuration.");
    d.auto("plan_failover (refuses a planned swap when the served certificates differ)");
    d.step("Warn users: the final data sync disconnects everyone until the swap completes.");
    d.auto("get_connected_clients");
    let (text, hook) = swing(site, pair, &pair.backup);
    d.step(&text);
    if let Some(h) = hook {
        d.auto(&h);
    }
    d.step(&format!(
        "Change the role: on `{}`, become primary with a data sync first.",
        pair.backup
    ));
    d.auto(&format!(
        "execute_failover(site=\"{}\", mode=planned)",
        site.name
    ));
    d.step("Both appliances may read `backup` for a moment; wait until the roles settle.");
    d.step(&confirm(site, &pair.backup));
    d.auto("execute_failover confirms clients and the site URL");
    d.step("Note any /login change made on the interim primary; the next sync direction decides which settings survive.");
    d.end_list();
}

/// Restoring an NSB onto a member of an active pair, in the order that keeps the pair.
fn restore_onto_pair(d: &mut Doc, pair: &FailoverPair) {
    d.h(2, "Restoring a backup onto an appliance in active failover");
    d.p("Usually not needed: a rebuilt member gets /login by failover sync. Restore an NSB onto a pair member only when the primary lacks data that exists only in the backup — and then in this order, because the restore brings the backup's failover settings and pre-shared key with it:");
    for step in crate::rules::backup::failover_restore_steps(pair) {
        d.step(&step);
    }
    d.auto("check_restore_onto");
    d.end_list();
}

/// Rebuilding or replacing each appliance, by kind, with its network settings from the
/// newest `/appliance` records.
fn rebuild_appliances(d: &mut Doc, site: &Site, records: &[ApplianceRecord]) {
    d.h(2, "Rebuild or replace a failed appliance");
    for a in &site.appliances {
        d.h(3, &format!("{} ({})", a.hostname, a.kind));
        match a.kind {
            k if k.is_physical() => {
                d.step(&format!("Hardware: use a spare {} if you have one, otherwise open an RMA with BeyondTrust Support{}.", a.kind, a.serial.as_ref().map(|s| format!(" quoting serial `{s}`")).unwrap_or_default()));
                d.step("Backups restore across B200/B300/B400 and virtual appliances as long as the version rules are kept.");
            }
            ApplianceKind::Aws => {
                d.step("AWS: no image file is sent; launch a new instance from the BeyondTrust AMI shared with your account (EC2 > AMIs > Private images).");
                d.step("Power it on from the AWS console and open its console to set the network.");
            }
            k if k.is_virtual() => {
                if k.supports_snapshots() {
                    d.step("If a snapshot/checkpoint taken while the VM was powered off exists, restore it first: it is the fastest way back.");
                }
                d.step(&format!(
                    "Otherwise redeploy the {} image for {} (ask BeyondTrust Support for an up-to-date file; keep a local copy for out-of-hours failures).",
                    k.redeploy_image().unwrap_or("deployment"),
                    k
                ));
                d.step("Power it on and open the virtual console to set the network.");
            }
            ApplianceKind::Cloud => {
                d.step("Cloud: BeyondTrust runs the appliance and its default certificate; restore only your custom certificates and SSL/TLS settings, if any.");
            }
            _ => {
                d.step("BeyondTrust-hosted: open a case with BeyondTrust Support; there is nothing to rebuild on your side.");
            }
        }
        if a.kind.has_network_settings() {
            match records.iter().find(|r| r.identity.hostname.eq_ignore_ascii_case(&a.hostname)) {
                Some(r) => {
                    for i in &r.ip_configuration {
                        d.step(&format!(
                            "Set {} to {}{}{}.",
                            i.name,
                            i.addresses.join(", "),
                            i.gateway.map(|g| format!(", gateway {g}")).unwrap_or_default(),
                            if i.dns_servers.is_empty() { String::new() } else { format!(", DNS {}", i.dns_servers.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" ")) }
                        ));
                    }
                    for route in &r.static_routes {
                        d.step(&format!("Add static route {} via {}.", route.destination, route.gateway));
                    }
                    d.p(&format!("   (from the /appliance record `{}`)", r.file_name()));
                }
                None => d.step("Set the IP address, netmask and gateway — no /appliance record exists for this appliance; ask the network team."),
            }
        }
        d.end_list();
    }
}

/// The order of restoring a rebuilt appliance: network, settings, certificates, /login, NSB.
fn restore_order(d: &mut Doc, site: &Site) {
    d.h(2, "Restore, in this order");
    d.step("Network first: the appliance must be reachable before anything else can be restored remotely (see above).");
    d.step("Remaining /appliance settings from the record: static routes, SNMP, SSL/TLS configuration, administration restrictions, syslog server and format, login agreement, SMTP for certificate reminders.");
    d.step("Certificates: /appliance > Security > Certificates > Import the p12 with its passphrase; ignore the built-in appliance certificate. Check the chain shows intermediate(s) and root without warnings.");
    d.auto("check_certificate_bundle");
    d.step("On Base 5 or later the certificate is chosen by name (SNI); on older bases assign it to the appliance's IP.");
    if site.failover.is_some() {
        d.step("In a failover pair, the certificate can also be exported from the surviving appliance: both must carry the identical one.");
        d.auto("check_certificate_pair");
    }
    d.step(&format!(
        "/login: a replaced appliance has no /login yet. Send BeyondTrust Support the /appliance Status page, the FQDN `{}` and the backup's version to get the site package, then install base updates before it.",
        site.fqdn
    ));
    if site.failover.is_some() {
        d.step("For a rebuilt member of a failover pair, do not restore the NSB: install the site package, re-establish failover from the working appliance and sync. If an NSB must be restored onto a pair member, follow \"Restoring a backup onto an appliance in active failover\" above.");
    }
    d.step("Check the NSB's version against the site version before uploading it; a newer backup is refused, an older one not listed as a supported upgrade is untested.");
    d.auto("check_restore_onto");
    d.step("Restore the NSB at /login > Management > Software > Restore Settings with the backup password; then restore the Vault encryption key so Vault credentials decrypt.");
    d.step("Test: log in to the console with an account that worked before, and check Jump Clients, Jumpoints and settings. Existing clients reconnect on their own; nothing is redeployed.");
    d.end_list();
}

/// Replacing a lost Atlas traffic node.
fn atlas_node_lost(d: &mut Doc, atlas: &AtlasCluster) {
    d.h(2, "Atlas traffic node lost");
    for n in &atlas.traffic_nodes {
        d.p(&format!(
            "- `{}`{}",
            n.hostname,
            n.region
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    d.step("Rebuild the node as above (network, certificates).");
    d.step("Install the /login site package on it, then add it back to the cluster.");
    d.step("On the primary: /login > Management > Cluster > Sync Now — the node gets /login from the primary, not from a backup file.");
    d.step("From a console in the node's region, watch Status > Connected Clients on the node: one more representative console means it works.");
    d.auto("get_appliances (accepting_connections of the node)");
    d.end_list();
}

/// Bringing up the cold spare.
fn cold_spare(d: &mut Doc, spare: &ColdSpare) {
    d.h(2, "Cold spare");
    d.step(&format!(
        "Restore network, certificates and /login onto the spare `{}` ({}) from the backup set.",
        spare.hostname, spare.kind
    ));
    if spare.same_network {
        d.step("It sits on the failed appliance's local network: give it the failed appliance's IP address, so clients reach it without any DNS or NAT change (or swing DNS/NAT instead).");
        if spare.same_switch {
            d.step("It shares the switch with the failed appliance: reboot the switch after the IP takeover, or the move will not take effect.");
        }
    } else {
        d.step("It is on another network: point clients at it by swinging the site's DNS A record or the NAT rule to the spare's address (taking over the failed IP is not possible from there).");
    }
    d.end_list();
}
