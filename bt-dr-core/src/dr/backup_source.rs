//! Which appliance a site's backup is taken from tonight. The inventory names the pair's
//! intended primary, but after a failover the other appliance serves the site until the pair
//! is swapped back; a nightly job that kept asking the inventory's primary would back up the
//! appliance that no longer takes the site's changes.

use futures_util::future::join_all;

use crate::api::Client;
use crate::model::appliance::FailoverRole;
use crate::model::site::Site;
use crate::support::error::{Error, Result};

/// The appliance (hostname, client) to take `site`'s backup from, out of `clients` (one per
/// appliance of the site, as `(hostname, client)`):
///
/// - a site without a failover pair: its intended primary, asked nothing;
/// - a pair: the one appliance that reports itself primary right now (`check_health`), which
///   after a failover is the inventory's backup;
/// - a pair where no appliance answers as primary (both down, or a swap in progress): the
///   intended primary, so the set fails with that appliance's own error rather than a guess;
/// - a pair where both report primary (split brain): [`Error::Refused`] — either NSB could
///   hold the wrong half of the site's data; the audit's `split_brain` finding says what to do.
///
/// ```no_run
/// # async fn f(site: &bt_dr_core::Site, clients: Vec<(String, bt_dr_core::api::Client)>) -> bt_dr_core::Result<()> {
/// let (host, client) = bt_dr_core::dr::backup_source::backup_source(site, &clients).await?;
/// println!("taking {}'s backup from {host}", site.name);
/// # let _ = client; Ok(()) }
/// ```
pub async fn backup_source(site: &Site, clients: &[(String, Client)]) -> Result<(String, Client)> {
    let intended = site.intended_primary().ok_or_else(|| {
        Error::invalid_input(
            "site",
            format!("{} lists no appliance to back up", site.name),
        )
    })?;
    let find = |host: &str| {
        clients
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .cloned()
            .ok_or_else(|| Error::invalid_input("clients", format!("no client for {host}")))
    };
    let Some(pair) = &site.failover else {
        return find(&intended.hostname);
    };
    let members: Vec<&(String, Client)> = clients
        .iter()
        .filter(|(h, _)| {
            h.eq_ignore_ascii_case(&pair.primary) || h.eq_ignore_ascii_case(&pair.backup)
        })
        .collect();
    let roles = join_all(members.iter().map(|(_, c)| c.check_health())).await;
    let primaries: Vec<&(String, Client)> = members
        .iter()
        .zip(&roles)
        .filter(|(_, r)| matches!(r, Ok(h) if h.failover_role == FailoverRole::Primary))
        .map(|(m, _)| *m)
        .collect();
    match primaries.as_slice() {
        [one] => Ok((*one).clone()),
        [] => find(&intended.hostname),
        _ => Err(Error::Refused {
            reason: format!(
                "both appliances of {} report themselves primary (split brain): no backup is taken until one is demoted",
                site.name
            ),
        }),
    }
}
