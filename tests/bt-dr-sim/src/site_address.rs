//! The site's own address: a TCP forwarder on loopback that stands for the FQDN clients use,
//! reaching whichever appliance it currently points at — what a DNS A record or a NAT rule
//! does for a real pair. Tests swing it (in Rust, or through the control API) the way an
//! operator swings DNS, and TLS passes through untouched, so clients see the target's own
//! certificate.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Where the site address points.
#[derive(Debug)]
pub(crate) struct SiteAddress {
    pub port: u16,
    /// Loopback ports of the appliances, by index.
    ports: Vec<u16>,
    target: AtomicUsize,
}

impl SiteAddress {
    pub fn new(port: u16, ports: Vec<u16>) -> Self {
        SiteAddress {
            port,
            ports,
            target: AtomicUsize::new(0),
        }
    }

    /// Points the address at appliance `index` (out-of-range indexes are ignored and reported).
    pub fn point_at(&self, index: usize) -> bool {
        if index >= self.ports.len() {
            return false;
        }
        self.target.store(index, Ordering::SeqCst);
        true
    }

    pub fn target(&self) -> usize {
        self.target.load(Ordering::SeqCst)
    }
}

/// Forwards each connection to the current target, for as long as the connection lasts: a
/// swing affects new connections only, as a DNS change does.
pub(crate) async fn forward_loop(
    listener: TcpListener,
    site: Arc<SiteAddress>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let mut inbound = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!(error = %e, "site address accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let port = site.ports[site.target()];
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(mut upstream) => {
                    let _ = upstream.set_nodelay(true);
                    if tokio::io::copy_bidirectional(&mut inbound, &mut upstream)
                        .await
                        .is_err()
                    {
                        // Pass a reset on (a downed appliance resets its connections).
                        let _ = inbound.set_zero_linger();
                    }
                }
                Err(_) => {
                    let _ = inbound.set_zero_linger();
                }
            }
        });
    }
}
