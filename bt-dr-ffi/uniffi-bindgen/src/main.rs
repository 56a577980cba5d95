//! `uniffi-bindgen`, used by `make test-c` to generate the Kotlin and Swift bindings of
//! `libbt_dr.so` in library mode.

fn main() {
    uniffi::uniffi_bindgen_main()
}
