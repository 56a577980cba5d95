//! Replays every fuzz input kept in the repository on stable Rust, through the same functions the
//! cargo-fuzz targets call (`bt_dr_core::fuzzing`): the seed/minimised corpus
//! (`fuzz/corpus/<target>/`) and every crash found so far (`fuzz/regressions/<target>/`).
//!
//! A failing input names its file and, when it is listed in
//! `fuzz/regressions/known_failures.txt`, the file that owns the fix: such an input keeps
//! failing here until that fix lands (then remove its line). See FUZZING.md.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// `<target>/<file>` → `<owner file>: <what>` from known_failures.txt.
fn known_failures() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fuzz_dir().join("regressions/known_failures.txt"))
        .unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (input, note) = l.split_once(char::is_whitespace)?;
            Some((input.to_string(), note.trim().to_string()))
        })
        .collect()
}

fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Panics of the replayed inputs are reported below, one line each.
            if std::thread::current()
                .name()
                .is_some_and(|n| n.contains("replay"))
            {
                return;
            }
            default(info);
        }));
    });
}

fn replay(target: &str) {
    quiet_panics();
    let family = bt_dr_core::fuzzing::TARGETS
        .iter()
        .find(|(n, _)| *n == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzzing family `{target}`"));
    let known = known_failures();
    let mut inputs = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                inputs.push((kind, p));
            }
        }
    }
    inputs.sort();
    let count = inputs.len();
    // Inputs run on a thread of their own so the panic hook can tell them apart.
    let failures: Vec<(String, String)> = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("replay-{target}"))
            .spawn_scoped(scope, || {
                let mut failures = Vec::new();
                for (kind, p) in &inputs {
                    let data = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| family(&data))) {
                        let name = p.file_name().unwrap_or_default().to_string_lossy();
                        failures.push((
                            format!("{kind}/{target}/{name}"),
                            bt_dr_core::Error::from_panic(payload.as_ref()).to_string(),
                        ));
                    }
                }
                failures
            })
            .expect("replay thread")
            .join()
            .expect("replay thread")
    });
    if failures.is_empty() {
        eprintln!("fuzz replay {target}: {count} input(s), all pass");
        return;
    }
    let mut report = format!(
        "fuzz replay {target}: {} of {count} input(s) fail\n",
        failures.len()
    );
    for (path, msg) in &failures {
        let key = path.split_once('/').map_or(path.as_str(), |(_, k)| k);
        let owner = known
            .get(key)
            .map(|o| format!("KNOWN, fix owned by {o}"))
            .unwrap_or_else(|| "NEW: not in fuzz/regressions/known_failures.txt".into());
        let first = msg.lines().next().unwrap_or("");
        report += &format!("  fuzz/{path}\n    [{owner}]\n    panic: {first}\n");
    }
    panic!("{report}");
}

#[test]
fn replay_xml() {
    replay("xml");
}

#[test]
fn replay_headers() {
    replay("headers");
}

#[test]
fn replay_file_name() {
    replay("file_name");
}

#[test]
fn replay_names() {
    replay("names");
}

#[test]
fn replay_documents() {
    replay("documents");
}

#[test]
fn replay_p12() {
    replay("p12");
}

#[test]
fn replay_verify() {
    let r = std::panic::catch_unwind(|| replay("verify"));
    bt_dr_core::fuzzing::cleanup_scratch();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn replay_pair() {
    replay("pair");
}

#[test]
fn every_target_has_a_family_and_a_corpus() {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut targets: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter_map(|e| {
            e.path()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    targets.sort();
    let mut families: Vec<String> = bt_dr_core::fuzzing::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    families.sort();
    assert_eq!(
        targets, families,
        "fuzz/fuzz_targets/*.rs vs fuzzing::TARGETS"
    );
    for t in &targets {
        let c = fuzz_dir().join("corpus").join(t);
        assert!(
            std::fs::read_dir(&c).is_ok_and(|mut d| d.next().is_some()),
            "{}: no seed corpus",
            c.display()
        );
    }
    for key in known_failures().keys() {
        assert!(
            fuzz_dir().join("regressions").join(key).is_file(),
            "known_failures.txt lists {key}, which is not in fuzz/regressions/"
        );
    }
}
