//! After a failover the nightly backup follows the site: it is taken from whichever appliance
//! serves as primary now, never from a split-brain pair.

use crate::common;

use bt_dr_core::{ErrorKind, backup_source};
use bt_dr_sim::{FailoverRole as SimRole, Sim};
use common::*;

fn clients(sim: &Sim) -> Vec<(String, bt_dr_core::api::Client)> {
    vec![
        (
            sim.primary().hostname().to_string(),
            client(sim, sim.primary()),
        ),
        (
            sim.backup().unwrap().hostname().to_string(),
            client(sim, sim.backup().unwrap()),
        ),
    ]
}

#[tokio::test]
async fn the_backup_follows_the_live_primary() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let cs = clients(&sim);
    let (a, b) = (
        sim.primary().hostname().to_string(),
        sim.backup().unwrap().hostname().to_string(),
    );

    // As the inventory says.
    assert_eq!(backup_source(&site, &cs).await.unwrap().0, a);

    // After a failover: the former backup serves the site and is backed up.
    sim.primary().set_failover_role(SimRole::Backup);
    sim.backup().unwrap().set_failover_role(SimRole::Primary);
    assert_eq!(backup_source(&site, &cs).await.unwrap().0, b);

    // Both claim primary: no backup from either.
    sim.primary().set_failover_role(SimRole::Primary);
    let e = backup_source(&site, &cs).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    assert!(e.to_string().contains("split brain"), "{e}");

    // Nobody answers as primary: the inventory's primary, whose own error the set will report.
    sim.primary().set_failover_role(SimRole::Backup);
    sim.backup().unwrap().set_down(true);
    assert_eq!(backup_source(&site, &cs).await.unwrap().0, a);
}

#[tokio::test]
async fn a_site_without_a_pair_is_backed_up_from_its_appliance_without_asking() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let mut site = pair_site(&sim);
    site.failover = None;
    site.appliances.truncate(1);
    let host = sim.primary().hostname().to_string();
    let cs = vec![(host.clone(), client(&sim, sim.primary()))];
    sim.primary().set_down(true);
    assert_eq!(backup_source(&site, &cs).await.unwrap().0, host);
}
