//! C ABI (issue 7).
