//! cargo-fuzz target `documents`: see `bt_dr_core::fuzzing::documents` for the input layout and the
//! invariants it asserts. Run with `make fuzz` or `cargo +nightly fuzz run -s none documents`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_dr_core::fuzzing::documents(data));
