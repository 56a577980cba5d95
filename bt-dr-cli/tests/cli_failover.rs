//! `bt-dr failover execute`: refuses without --yes when stdin is not a terminal (usage exit,
//! nothing contacted, nothing changed); with --yes it swaps the pair.

use crate::cli_common;

use bt_dr_sim::{Endpoint, FailoverRole};
use cli_common::*;

#[test]
fn execute_without_yes_and_without_a_terminal_changes_nothing() {
    let s = SimSite::start("support", false, 64 * 1024);
    let fleet = Fleet::new(&[&s]);
    let before = s.sim.primary().request_count(Endpoint::Any);

    let r = fleet.run(&["failover", "execute", "support"]);
    r.code(2);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    assert_eq!(s.sim.primary().failover_role(), FailoverRole::Primary);
    assert_eq!(
        s.sim.backup().unwrap().failover_role(),
        FailoverRole::Backup
    );
    // Refused before any appliance was asked anything.
    assert_eq!(s.sim.primary().request_count(Endpoint::Any), before);

    // With --yes: the planned swap settles; the timeline is the core's shape.
    let r = fleet.run(&[
        "--json",
        "failover",
        "execute",
        "support",
        "--yes",
        "--confirm-timeout",
        "1",
        "--settle-timeout",
        "20",
    ]);
    r.code(0);
    let v = r.json();
    assert_eq!(v["site"], "support");
    assert_eq!(v["mode"], "planned");
    assert_eq!(v["outcome"], "settled");
    assert!(!v["events"].as_array().unwrap().is_empty());
    assert_eq!(s.sim.primary().failover_role(), FailoverRole::Backup);
    assert_eq!(
        s.sim.backup().unwrap().failover_role(),
        FailoverRole::Primary
    );

    // Health now shows the swapped roles.
    let v = fleet.run(&["--json", "health"]).json();
    assert_eq!(v[0]["appliances"][1]["health"]["failover_role"], "primary");

    // The nightly backup follows the site: it is taken from the appliance serving it now,
    // the inventory's backup, not from the demoted primary.
    let (a, b) = (s.sim.primary(), s.sim.backup().unwrap());
    let before = (
        a.request_count(Endpoint::Backup),
        b.request_count(Endpoint::Backup),
    );
    fleet
        .run(&["backup", "--password-env", PASSWORD_ENV, "--no-recordings"])
        .code(0);
    assert_eq!(
        a.request_count(Endpoint::Backup),
        before.0,
        "asked the demoted primary"
    );
    assert_eq!(b.request_count(Endpoint::Backup), before.1 + 1);

    // Both claim primary (split brain): no set is taken from either, and the job says so.
    s.sim.primary().set_failover_role(FailoverRole::Primary);
    let r = fleet.run(&["--json", "backup", "--password-env", PASSWORD_ENV]);
    r.code(26);
    let v = r.json();
    assert_eq!(v["sites"][0]["error"]["kind"], "refused", "{v}");
    s.sim.primary().set_failover_role(FailoverRole::Backup);

    // An appliance that drops every connection: health reports it down and exits 1.
    s.sim.primary().set_down(true);
    let r = fleet.run(&["health"]);
    r.code(1);
    assert!(r.stdout.contains("DOWN"), "{}", r.stdout);
    s.sim.primary().set_down(false);

    // The site has no failover pair in this inventory: usage.
    let single = Fleet::new(&[&s]);
    let text = std::fs::read_to_string(&single.inventory).unwrap();
    let cut = text.find("[sites.failover]").unwrap();
    std::fs::write(&single.inventory, &text[..cut]).unwrap();
    single.run(&["failover", "plan", "support"]).code(2);
}
