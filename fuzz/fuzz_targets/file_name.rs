//! cargo-fuzz target `file_name`: see `bt_dr_core::fuzzing::file_name` for the input layout and the
//! invariants it asserts. Run with `make fuzz` or `cargo +nightly fuzz run -s none file_name`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_dr_core::fuzzing::file_name(data));
