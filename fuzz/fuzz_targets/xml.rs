//! cargo-fuzz target `xml`: see `bt_dr_core::fuzzing::xml` for the input layout and the
//! invariants it asserts. Run with `make fuzz` or `cargo +nightly fuzz run -s none xml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_dr_core::fuzzing::xml(data));
