//! Checks on the committed C header `include/bt_dr.h` (regenerated and diffed by `make test-c`):
//! every core operation has its `bt_dr_<name>` function, and the status codes are the core's.

use bt_dr_core::{ErrorKind, OPERATIONS};

fn header() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/bt_dr.h"))
        .expect("include/bt_dr.h is committed")
}

#[test]
fn every_operation_has_a_c_function() {
    let h = header();
    let missing: Vec<String> = OPERATIONS
        .iter()
        .map(|op| format!("bt_dr_{}", op.name))
        .filter(|f| !h.contains(&format!("bt_dr_status {f}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "operations of bt_dr_core::OPERATIONS without a C function in bt_dr.h: {missing:?}"
    );
}

#[test]
fn status_codes_are_the_core_numbers() {
    let h = header();
    for k in ErrorKind::ALL {
        let line = format!(
            "BT_DR_STATUS_{} = {},",
            k.as_str().to_ascii_uppercase(),
            k.status()
        );
        assert!(h.contains(&line), "bt_dr.h lacks `{line}`");
    }
    for line in [
        "BT_DR_STATUS_OK = 0,",
        "BT_DR_STATUS_NULL_ARGUMENT = 100,",
        "BT_DR_STATUS_PANIC = 101,",
    ] {
        assert!(h.contains(line), "bt_dr.h lacks `{line}`");
    }
}

#[test]
fn every_function_returns_a_status() {
    // Each prototype starts a line: `<return type> bt_dr_<name>(`.
    let h = header();
    let prototypes: Vec<&str> = h
        .lines()
        .filter(|l| !l.starts_with([' ', '*', '/', '}', '#']) && !l.starts_with("typedef"))
        .filter(|l| l.contains(" bt_dr_") && l.contains('('))
        .collect();
    assert!(prototypes.len() > 50, "{prototypes:?}");
    for line in prototypes {
        assert!(
            line.starts_with("bt_dr_status bt_dr_"),
            "a function that does not return bt_dr_status: {line}"
        );
    }
}
