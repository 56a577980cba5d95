//! Progress events at a pace a caller can take: at most one per interval, plus the last one.
//!
//! A download reports every chunk (thousands a second on a fast link). A binding hands each
//! event to a Python or JavaScript callback, which must not be flooded; the pace is decided
//! here, once, so every binding reports alike.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::download::Progress;

/// The pace bindings report progress at unless told otherwise: ten events a second, enough
/// for a smooth progress bar, few enough that a callback never slows the transfer.
pub const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Throttled [`Progress`] callbacks: `Progress::throttled(interval, f)`.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use bt_dr_core::api::{Progress, ProgressExt};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// let p = Progress::throttled(Duration::from_secs(3600), move |done, _| s.lock().unwrap().push(done));
/// for done in 1..=10 { p(done, Some(10)); }
/// // The first event, then nothing within the hour but the last one.
/// assert_eq!(*seen.lock().unwrap(), vec![1, 10]);
/// ```
pub trait ProgressExt {
    /// A callback that passes to `f` at most one event per `interval` — the first event at
    /// once — and always the event that completes a transfer of known size (`done == total`).
    /// For a transfer of unknown size, use [`ThrottledProgress`] and call
    /// [`ThrottledProgress::finish`] after it, so the final count is not lost.
    fn throttled(
        interval: Duration,
        f: impl Fn(u64, Option<u64>) + Send + Sync + 'static,
    ) -> Progress;
}

impl ProgressExt for Progress {
    fn throttled(
        interval: Duration,
        f: impl Fn(u64, Option<u64>) + Send + Sync + 'static,
    ) -> Progress {
        ThrottledProgress::new(interval, f).progress()
    }
}

/// What a [`ThrottledProgress`] has seen and passed on.
#[derive(Debug, Default)]
struct State {
    /// When an event was last passed on (None: never).
    last_emit: Option<Instant>,
    /// The latest event seen, and whether it was passed on.
    latest: Option<(u64, Option<u64>)>,
    latest_emitted: bool,
}

/// A throttled progress callback that can also flush the last event after the transfer
/// ([`Self::finish`]), for transfers whose size was not announced.
pub struct ThrottledProgress {
    interval: Duration,
    f: Box<dyn Fn(u64, Option<u64>) + Send + Sync>,
    state: Mutex<State>,
}

impl std::fmt::Debug for ThrottledProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrottledProgress")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl ThrottledProgress {
    /// Throttles `f` to one event per `interval` (plus the completing one).
    pub fn new(
        interval: Duration,
        f: impl Fn(u64, Option<u64>) + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            interval,
            f: Box::new(f),
            state: Mutex::new(State::default()),
        })
    }

    /// Throttles `f` at [`DEFAULT_PROGRESS_INTERVAL`].
    pub fn with_default_interval(
        f: impl Fn(u64, Option<u64>) + Send + Sync + 'static,
    ) -> Arc<Self> {
        Self::new(DEFAULT_PROGRESS_INTERVAL, f)
    }

    /// One event: passed on when the interval has gone by since the last one passed on, or
    /// when it completes a transfer of known size.
    pub fn report(&self, done: u64, total: Option<u64>) {
        let now = Instant::now();
        let due = {
            // A callback that panicked earlier poisons nothing we rely on: the state is plain data.
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let due = s
                .last_emit
                .is_none_or(|t| now.duration_since(t) >= self.interval)
                || total == Some(done);
            s.latest = Some((done, total));
            s.latest_emitted = due;
            if due {
                s.last_emit = Some(now);
            }
            due
        };
        // Called outside the lock: the callback may take its time or report again.
        if due {
            (self.f)(done, total);
        }
    }

    /// Passes on the latest event if throttling held it back, so the caller always sees the
    /// final count once. Does nothing when no event came or the latest was passed on.
    pub fn finish(&self) {
        let pending = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match s.latest {
                Some(latest) if !s.latest_emitted => {
                    s.latest_emitted = true;
                    s.last_emit = Some(Instant::now());
                    Some(latest)
                }
                _ => None,
            }
        };
        if let Some((done, total)) = pending {
            (self.f)(done, total);
        }
    }

    /// The [`Progress`] callback to hand to a transfer; it shares this throttle, so
    /// [`Self::finish`] afterwards flushes what it held back.
    pub fn progress(self: &Arc<Self>) -> Progress {
        let me = Arc::clone(self);
        Arc::new(move |done, total| me.report(done, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events a test callback received.
    type Seen = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

    fn recorder() -> (Seen, impl Fn(u64, Option<u64>) + Send + Sync) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        (seen, move |d, t| s.lock().unwrap().push((d, t)))
    }

    #[test]
    fn one_event_per_interval_plus_the_completing_one() {
        let (seen, f) = recorder();
        let t = ThrottledProgress::new(Duration::from_secs(3600), f);
        let p = t.progress();
        for d in 1..=5 {
            p(d, Some(5));
        }
        assert_eq!(*seen.lock().unwrap(), vec![(1, Some(5)), (5, Some(5))]);
        // The completing event was passed on: nothing to flush.
        t.finish();
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[test]
    fn finish_flushes_the_held_back_count_of_an_unsized_transfer_once() {
        let (seen, f) = recorder();
        let t = ThrottledProgress::new(Duration::from_secs(3600), f);
        t.report(10, None);
        t.report(20, None);
        t.report(30, None);
        t.finish();
        t.finish();
        assert_eq!(*seen.lock().unwrap(), vec![(10, None), (30, None)]);
    }

    #[test]
    fn a_zero_interval_passes_everything_and_finish_without_events_is_silent() {
        let (seen, f) = recorder();
        let t = ThrottledProgress::new(Duration::ZERO, f);
        t.finish();
        assert!(seen.lock().unwrap().is_empty());
        let p = Progress::throttled(Duration::ZERO, {
            let seen = seen.clone();
            move |d, t| seen.lock().unwrap().push((d, t))
        });
        p(1, None);
        p(2, None);
        assert_eq!(*seen.lock().unwrap(), vec![(1, None), (2, None)]);
    }

    #[test]
    fn events_after_the_interval_pass_again() {
        let (seen, f) = recorder();
        let t = ThrottledProgress::new(Duration::from_millis(20), f);
        t.report(1, Some(100));
        t.report(2, Some(100));
        std::thread::sleep(Duration::from_millis(30));
        t.report(3, Some(100));
        assert_eq!(*seen.lock().unwrap(), vec![(1, Some(100)), (3, Some(100))]);
    }
}
