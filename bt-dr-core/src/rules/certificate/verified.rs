//! Signatures this process has already seen verify. A fleet's bundles usually share their CA
//! chain (one intermediate and root for every site an MSP runs), so without a memo an audit of
//! a thousand bundles verifies the same intermediate-by-root and root-by-itself signatures a
//! thousand times. Verification is a pure function of the two certificates' DER, so a pair
//! identified by both SHA-256 digests that verified once verifies again; only successes are
//! kept (a failure is rare and its finding is reported from a fresh check every time).

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

/// Enough pairs for every distinct CA edge of a large fleet; past it the memo starts over
/// rather than growing without bound.
const CAPACITY: usize = 4096;

type Pair = ([u8; 32], [u8; 32]);

fn memo() -> &'static Mutex<BTreeSet<Pair>> {
    // A B-tree rather than a hash set: its nodes are pointed at from their start, so leak
    // checkers (the C tests run under valgrind) see the memo as reachable at exit, not as
    // possibly lost the way a hash table's interior control pointer looks.
    static MEMO: OnceLock<Mutex<BTreeSet<Pair>>> = OnceLock::new();
    MEMO.get_or_init(|| Mutex::new(BTreeSet::new()))
}

fn digest(hex_sha256: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_sha256, &mut out).ok()?;
    Some(out)
}

/// Whether the certificate with digest `child` is signed by the one with digest `issuer`:
/// remembered when a previous call verified the same pair, else `verify()` decides (and a
/// success is remembered). Digests that are not SHA-256 hex are never remembered.
pub(super) fn signed_by(child: &str, issuer: &str, verify: impl FnOnce() -> bool) -> bool {
    let Some(key) = digest(child).zip(digest(issuer)) else {
        return verify();
    };
    // A poisoned lock only means a panic elsewhere while it was held; the set is still whole.
    let lock = || memo().lock().unwrap_or_else(|e| e.into_inner());
    if lock().contains(&key) {
        return true;
    }
    let ok = verify();
    if ok {
        let mut set = lock();
        if set.len() >= CAPACITY {
            set.clear();
        }
        set.insert(key);
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verified_pair_is_remembered_and_a_failure_is_not() {
        let (a, b) = ("1".repeat(64), "2".repeat(64));
        let mut calls = 0;
        assert!(!signed_by(&a, &b, || {
            calls += 1;
            false
        }));
        assert!(signed_by(&a, &b, || {
            calls += 1;
            true
        }));
        assert!(signed_by(&a, &b, || {
            calls += 1;
            false
        }));
        assert_eq!(calls, 2, "the third call came from the memo");
        // The reverse direction is another pair.
        assert!(!signed_by(&b, &a, || false));
        // Not a digest: always asked.
        assert!(!signed_by("zz", &b, || false));
        assert!(!signed_by("zz", &b, || false));
    }
}
