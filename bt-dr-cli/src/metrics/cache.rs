//! The one snapshot a server answers scrapes from, refreshed at most once per TTL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::collect::{Collector, Snapshot};
use super::registry::ServerCounters;

#[derive(Debug, Default)]
struct State {
    current: Option<(Instant, Arc<Snapshot>)>,
    counters: ServerCounters,
}

/// Scrapes share one collection per `ttl`: the first scrape after it runs out refreshes while
/// holding the lock, and scrapes arriving meanwhile wait for that refresh instead of starting
/// their own, so appliances and their rate limits see one round of requests per TTL whatever
/// the number of scrapers.
#[derive(Debug)]
pub struct Cache {
    collector: Arc<Collector>,
    ttl: Duration,
    state: Mutex<State>,
}

impl Cache {
    /// A cache over `collector`; nothing is collected until the first scrape.
    pub fn new(collector: Arc<Collector>, ttl: Duration) -> Self {
        Cache {
            collector,
            ttl,
            state: Mutex::new(State::default()),
        }
    }

    /// The collector behind the cache.
    pub fn collector(&self) -> &Collector {
        &self.collector
    }

    /// A snapshot no older than the TTL, and the server's counters as of now. The work runs
    /// in its own task: a scraper that gives up (a scrape timeout drops its request) does not
    /// cancel the refresh others are waiting for.
    /// None only while the runtime shuts down.
    pub async fn get(self: &Arc<Self>) -> Option<(Arc<Snapshot>, ServerCounters)> {
        let me = Arc::clone(self);
        match tokio::spawn(async move { me.get_here().await }).await {
            Ok(x) => Some(x),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => None,
        }
    }

    async fn get_here(&self) -> (Arc<Snapshot>, ServerCounters) {
        let mut st = self.state.lock().await;
        let fresh = st
            .current
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(at, s)| (*at, Arc::clone(s)));
        let (at, snap) = match fresh {
            Some(x) => x,
            None => {
                let snap = Arc::new(self.collector.collect().await);
                let at = Instant::now();
                st.counters.refreshes += 1;
                if snap.error_count() > 0 {
                    st.counters.refresh_errors += 1;
                }
                st.current = Some((at, Arc::clone(&snap)));
                (at, snap)
            }
        };
        let mut counters = st.counters;
        counters.cache_age_seconds = at.elapsed().as_secs_f64();
        (snap, counters)
    }
}
