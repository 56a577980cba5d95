//! cargo-fuzz target `p12`: see `bt_dr_core::fuzzing::p12` for the input layout and the
//! invariants it asserts. Run with `make fuzz` or `cargo +nightly fuzz run -s none p12`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_dr_core::fuzzing::p12(data));
