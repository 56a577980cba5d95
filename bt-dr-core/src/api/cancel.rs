//! Cooperative cancellation for long transfers (Ctrl-C in Python, AbortSignal in Node).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag a caller sets to stop a transfer; the transfer removes its partial file.
///
/// ```
/// let t = bt_dr_core::api::CancelToken::new();
/// let t2 = t.clone();
/// t2.cancel();
/// assert!(t.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, unset token.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the transfer to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst)
    }
    /// Whether cancel was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
