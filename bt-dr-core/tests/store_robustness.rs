//! Issue 12 items 11 and 9 (first half): one unreadable set never breaks a site's listing or
//! retention, site names that differ only in case are one site, symbolic links are never
//! followed, and crash leftovers are cleaned (only they, and only when old enough).

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bt_dr_core::{
    BackupStore, ErrorKind, Inventory, RetentionPolicy, run_backup_set, verify_backup_set,
};
use bt_dr_sim::Sim;
use common::*;

fn no_recordings() -> bt_dr_core::BackupSetOptions {
    bt_dr_core::BackupSetOptions {
        recordings: false,
        ..Default::default()
    }
}

async fn store_with_sets(n: usize) -> (Sim, tempfile::TempDir, BackupStore, Vec<String>) {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(
            run_backup_set(&store, &site, &c, &no_recordings())
                .await
                .unwrap()
                .set_id,
        );
    }
    ids.reverse(); // newest first
    (sim, root, store, ids)
}

#[tokio::test]
async fn one_corrupt_manifest_does_not_break_listing_or_retention() {
    let (_sim, root, store, ids) = store_with_sets(3).await;
    let sets = root.path().join("support/sets");
    // The middle set's manifest is garbage; an empty folder sits under a set name too.
    std::fs::write(sets.join(&ids[1]).join("manifest.json"), b"{ not json").unwrap();
    std::fs::create_dir(sets.join("20200101T000000Z")).unwrap();
    let listed: Vec<_> = store
        .list_sets("support")
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [ids[0].clone(), ids[2].clone()]);
    let scan = store.scan("support").unwrap();
    assert_eq!(scan.sets.len(), 2);
    let bad: Vec<_> = scan
        .unreadable
        .iter()
        .map(|u| (u.id.as_str(), u.error.kind))
        .collect();
    assert_eq!(
        bad,
        [
            (ids[1].as_str(), ErrorKind::Parse),
            ("20200101T000000Z", ErrorKind::NotFound)
        ]
    );
    // Retention works, keeps the unreadable folders with the reason and never removes them.
    let plan = store
        .plan_retention(
            "support",
            &RetentionPolicy {
                keep_last: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(plan.remove, [ids[2].clone()]);
    let kept_unreadable = plan.keep.iter().find(|k| k.id == ids[1]).unwrap();
    assert!(kept_unreadable.reasons[0].starts_with("unreadable"));
    assert_eq!(store.apply_retention(&plan).unwrap(), [ids[2].clone()]);
    let mut stale = plan.clone();
    stale.remove = vec![ids[1].clone()];
    assert_eq!(
        store.apply_retention(&stale).unwrap_err().kind(),
        ErrorKind::Refused
    );
    assert!(sets.join(&ids[1]).join("manifest.json").exists());
    assert!(sets.join("20200101T000000Z").exists());
}

#[test]
fn site_names_differing_only_in_case_are_one_site() {
    let site = |name: &str| {
        format!(
            "[[sites]]\nname = \"{name}\"\nfqdn = \"{}.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n",
            name.to_ascii_lowercase()
        )
    };
    let e =
        Inventory::from_toml_str(&format!("{}{}", site("Support"), site("support"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let msg = e.to_string();
    assert!(
        msg.contains("`Support`") && msg.contains("`support`"),
        "{msg}"
    );
    let inv = Inventory::from_toml_str(&format!("{}{}", site("Support"), site("other"))).unwrap();
    assert_eq!(inv.site("SUPPORT").unwrap().name, "Support");

    // The store keeps one folder for every spelling (lower case when new).
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let a = store.site_dir("Support").unwrap();
    assert_eq!(a, store.site_dir("support").unwrap());
    assert_eq!(a.file_name().unwrap(), "support");
    // An existing folder of another case is found, not doubled.
    std::fs::create_dir(root.path().join("Legacy")).unwrap();
    assert_eq!(
        store.site_dir("LEGACY").unwrap().file_name().unwrap(),
        "Legacy"
    );
    // A store split before this rule is refused, naming both folders.
    std::fs::create_dir(root.path().join("legacy")).unwrap();
    let e = store.list_sets("legacy").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("`Legacy` and `legacy`"), "{e}");
}

#[tokio::test]
async fn sets_taken_under_two_spellings_land_in_one_site() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let mut site = pair_site(&sim);
    site.name = "Support".into();
    run_backup_set(&store, &site, &c, &no_recordings())
        .await
        .unwrap();
    site.name = "support".into();
    run_backup_set(&store, &site, &c, &no_recordings())
        .await
        .unwrap();
    assert_eq!(store.list_sets("SUPPORT").unwrap().len(), 2);
    let folders: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(folders, ["support"]);
}

#[tokio::test]
async fn verify_and_retention_never_follow_symlinks() {
    let (_sim, root, store, ids) = store_with_sets(2).await;
    let sets = root.path().join("support/sets");
    let outside = tempfile::tempdir().unwrap();

    // A file of the newest set replaced by a link to an identical copy outside: reported as a
    // symlink (not followed, although the content would match).
    let newest = sets.join(&ids[0]);
    let m = &store.list_sets("support").unwrap()[0].manifest;
    let sidecar = &m
        .files_of(bt_dr_core::backup_set::FileKind::Sidecar)
        .next()
        .unwrap()
        .path;
    let copy = outside.path().join("copy");
    std::fs::copy(newest.join(sidecar), &copy).unwrap();
    std::fs::remove_file(newest.join(sidecar)).unwrap();
    std::os::unix::fs::symlink(&copy, newest.join(sidecar)).unwrap();
    // And a linked folder inside it.
    std::fs::create_dir(outside.path().join("d")).unwrap();
    std::fs::write(outside.path().join("d/secret"), b"x").unwrap();
    std::os::unix::fs::symlink(outside.path().join("d"), newest.join("linked")).unwrap();
    let v = verify_backup_set(&newest).unwrap();
    let mut problems: Vec<_> = v
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.problem.as_str()))
        .collect();
    problems.sort();
    let mut expected = [("linked", "symlink"), (sidecar.as_str(), "symlink")];
    expected.sort();
    assert_eq!(problems, expected);
    assert_eq!(v.files_checked, 1, "only the NSB was hashed");

    // A set folder that is a link (to a real set elsewhere) is not listed, not verified
    // through, and not removed through.
    let elsewhere = outside.path().join("set");
    copy_dir(&sets.join(&ids[1]), &elsewhere);
    std::os::unix::fs::symlink(&elsewhere, sets.join("20200101T000000Z")).unwrap();
    let scan = store.scan("support").unwrap();
    assert_eq!(scan.sets.len(), 2);
    assert_eq!(scan.unreadable.len(), 1);
    assert_eq!(scan.unreadable[0].error.kind, ErrorKind::Refused);
    let v = verify_backup_set(sets.join("20200101T000000Z")).unwrap();
    assert_eq!(v.problems[0].problem, "symlink");
    let plan = store
        .plan_retention(
            "support",
            &RetentionPolicy {
                keep_last: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    // The newest set does not verify (links), so the older one is the protected set.
    assert!(plan.remove.is_empty(), "{plan:?}");
    let mut through_link = plan.clone();
    through_link.remove = vec!["20200101T000000Z".into()];
    assert_eq!(
        store.apply_retention(&through_link).unwrap_err().kind(),
        ErrorKind::Refused
    );
    assert!(elsewhere.join("manifest.json").exists());
    assert!(copy.exists() && outside.path().join("d/secret").exists());
    // Removing the newest set removes the links, never what they point at.
    let mut rm = plan.clone();
    rm.remove = vec![ids[0].clone()];
    assert_eq!(store.apply_retention(&rm).unwrap(), [ids[0].clone()]);
    assert!(copy.exists() && outside.path().join("d/secret").exists());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Sets the modification time of `p` and everything in it.
fn age(p: &Path, by: Duration) {
    let t = SystemTime::now() - by;
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            age(&e.unwrap().path(), by);
        }
    }
    std::fs::File::open(p).unwrap().set_modified(t).unwrap();
}

struct Leftovers {
    old: Vec<PathBuf>,
    young: Vec<PathBuf>,
    deleting: PathBuf,
    others: Vec<PathBuf>,
}

fn plant_leftovers(site_dir: &Path, target: &Path) -> Leftovers {
    let sets = site_dir.join("sets");
    std::fs::create_dir_all(&sets).unwrap();
    let mk_dir = |p: PathBuf| {
        std::fs::create_dir_all(p.join("recordings")).unwrap();
        std::fs::write(p.join("recordings/a.bin"), b"half").unwrap();
        std::fs::write(p.join(".bt-dr-x1.partial"), b"half").unwrap();
        p
    };
    let mk_file = |p: PathBuf| {
        std::fs::write(&p, b"half").unwrap();
        p
    };
    let old = vec![
        mk_dir(sets.join(".incomplete-20261101T020000Z")),
        mk_file(sets.join(".bt-dr-AbC123.partial")),
        mk_file(site_dir.join(".bt-dr-Zz9.partial")),
    ];
    for p in &old {
        age(p, Duration::from_secs(7 * 3600));
    }
    // A run still going: its staging folder is old but its NSB is being written right now.
    let running = mk_dir(sets.join(".incomplete-20261120T020000Z"));
    age(&running, Duration::from_secs(7 * 3600));
    std::fs::write(running.join(".bt-dr-live.partial"), b"growing").unwrap();
    let young = vec![running, mk_file(sets.join(".bt-dr-new.partial"))];
    let deleting = mk_dir(sets.join(".deleting-20261001T020000Z"));
    // Not leftovers: look alike, but are not ours to remove.
    let others = vec![
        mk_file(sets.join(".bt-dr-notes.txt")),
        mk_file(sets.join("bt-dr-x.partial")),
        mk_file(site_dir.join("checkpoint.json.bak")),
        mk_file(sets.join(".incomplete-file")),
        mk_dir(sets.join(".keep")),
    ];
    for p in &others {
        age(p, Duration::from_secs(7 * 3600));
    }
    std::fs::write(target.join("precious"), b"x").unwrap();
    let _ = std::fs::remove_file(sets.join(".incomplete-link"));
    std::os::unix::fs::symlink(target, sets.join(".incomplete-link")).unwrap();
    let mut others = others;
    others.push(sets.join(".incomplete-link"));
    others.push(target.join("precious"));
    Leftovers {
        old,
        young,
        deleting,
        others,
    }
}

#[tokio::test]
async fn crash_leftovers_are_cleaned_and_nothing_else() {
    let (sim, root, store, ids) = store_with_sets(1).await;
    let site_dir = store.site_dir("support").unwrap();
    let outside = tempfile::tempdir().unwrap();
    let l = plant_leftovers(&site_dir, outside.path());

    // A store operation (the next set) removes old leftovers and finished removals, reports
    // them, and leaves a run still going alone.
    let r = run_backup_set(
        &store,
        &pair_site(&sim),
        &client(&sim, sim.primary()),
        &no_recordings(),
    )
    .await
    .unwrap();
    let mut expected: Vec<PathBuf> = l.old.clone();
    expected.push(l.deleting.clone());
    expected.sort();
    assert_eq!(r.cleaned.removed, expected);
    assert!(r.cleaned.failed.is_empty());
    for p in &l.young {
        assert!(p.exists(), "{} is in use", p.display());
        assert!(r.cleaned.kept_recent.contains(p));
    }
    for p in &l.others {
        assert!(
            std::fs::symlink_metadata(p).is_ok(),
            "{} is not a leftover",
            p.display()
        );
    }
    assert_eq!(store.list_sets("support").unwrap().len(), 2);
    assert!(
        verify_backup_set(root.path().join("support/sets").join(&ids[0]))
            .unwrap()
            .ok()
    );

    // Retention cleans too and says so; an explicit clean with age zero takes the rest.
    let l2 = plant_leftovers(&site_dir, outside.path());
    let plan = store
        .plan_retention(
            "support",
            &RetentionPolicy {
                keep_last: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
    let out = store.apply_retention_report(&plan).unwrap();
    assert!(out.removed.is_empty());
    assert!(out.cleaned.removed.contains(&l2.deleting));
    assert!(out.cleaned.removed.contains(&l2.old[0]));
    let rest = store.clean_leftovers("support", Duration::ZERO).unwrap();
    let mut young = l2.young.clone();
    young.sort();
    assert_eq!(rest.removed, young);
    for p in &l2.others {
        assert!(std::fs::symlink_metadata(p).is_ok(), "{}", p.display());
    }
    assert_eq!(store.list_sets("support").unwrap().len(), 2);
    // Nothing left to clean.
    let again = store.clean_leftovers("support", Duration::ZERO).unwrap();
    assert!(again.removed.is_empty() && again.kept_recent.is_empty());
}

#[tokio::test]
async fn opening_the_store_cleans_old_leftovers() {
    let (_sim, root, store, _ids) = store_with_sets(1).await;
    let outside = tempfile::tempdir().unwrap();
    let l = plant_leftovers(&store.site_dir("support").unwrap(), outside.path());
    assert!(store.cleaned_on_open().is_empty());
    let reopened = BackupStore::open(root.path()).unwrap();
    let cleaned = reopened.cleaned_on_open();
    assert_eq!(cleaned.len(), 1);
    assert_eq!(cleaned[0].site, "support");
    let mut expected = l.old.clone();
    expected.push(l.deleting.clone());
    expected.sort();
    assert_eq!(cleaned[0].report.removed, expected);
    for p in l.young.iter().chain(&l.others) {
        assert!(std::fs::symlink_metadata(p).is_ok(), "{}", p.display());
    }
    assert_eq!(reopened.list_sets("support").unwrap().len(), 1);
}

#[tokio::test]
async fn a_complete_set_left_in_staging_is_finished_not_removed() {
    let (_sim, root, store, ids) = store_with_sets(2).await;
    let sets = root.path().join("support/sets");
    // A crash after the manifest was written but before the rename leaves a whole set in
    // staging; a half-built one (no manifest) is only a leftover.
    let staged = sets.join(format!(".incomplete-{}", ids[0]));
    std::fs::rename(sets.join(&ids[0]), &staged).unwrap();
    let half = sets.join(".incomplete-20200101T000000Z");
    std::fs::create_dir(&half).unwrap();
    std::fs::write(half.join("half.nsb"), b"partial").unwrap();
    assert_eq!(store.list_sets("support").unwrap().len(), 1);

    let c = store.clean_leftovers("support", Duration::ZERO).unwrap();
    assert_eq!(c.recovered, [sets.join(&ids[0])]);
    assert_eq!(c.removed, std::slice::from_ref(&half));
    assert!(!staged.exists() && !half.exists());
    let listed: Vec<String> = store
        .list_sets("support")
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&ids[0]));
    assert!(verify_backup_set(sets.join(&ids[0])).unwrap().ok());

    // A staged set whose files do not verify is not promoted.
    let staged = sets.join(format!(".incomplete-{}", ids[1]));
    std::fs::rename(sets.join(&ids[1]), &staged).unwrap();
    let nsb = std::fs::read_dir(&staged)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "nsb"))
        .unwrap();
    std::fs::write(&nsb, b"tampered").unwrap();
    let c = store.clean_leftovers("support", Duration::ZERO).unwrap();
    assert!(c.recovered.is_empty());
    assert_eq!(c.removed, [staged]);
}

#[tokio::test]
async fn a_vault_key_file_named_like_the_record_keeps_both() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let key = inputs.path().join("vault-key.json");
    std::fs::write(&key, b"the real encrypted key").unwrap();
    let opts = bt_dr_core::BackupSetOptions {
        recordings: false,
        vault_key: Some(bt_dr_core::backup_set::VaultKeyInput {
            path: key,
            password_protected: true,
            exported_on: None,
        }),
        ..Default::default()
    };
    let r = run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts)
        .await
        .unwrap();
    assert!(!r.partial, "{:?}", r.manifest.parts);
    let key_file = r
        .manifest
        .files_of(bt_dr_core::backup_set::FileKind::VaultKey)
        .next()
        .expect("the key is in the set");
    assert_ne!(key_file.path, "vault/vault-key.json");
    assert_eq!(
        std::fs::read(r.path.join(&key_file.path)).unwrap(),
        b"the real encrypted key"
    );
    assert!(verify_backup_set(&r.path).unwrap().ok());
}

#[tokio::test]
async fn a_manifest_entry_that_is_not_a_file_is_a_problem_not_a_failure() {
    let (_sim, root, _store, ids) = store_with_sets(1).await;
    let set = root.path().join("support/sets").join(&ids[0]);
    let mp = set.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mp).unwrap()).unwrap();
    let files = m["files"].as_array_mut().unwrap();
    let template = files[0].clone();
    for p in ["", ".", "recordings"] {
        let mut e = template.clone();
        e["path"] = p.into();
        files.push(e);
    }
    std::fs::create_dir_all(set.join("recordings")).unwrap();
    std::fs::write(&mp, serde_json::to_vec(&m).unwrap()).unwrap();
    let v = verify_backup_set(&set).expect("a bad entry is a problem, not an error");
    let bad: Vec<(&str, &str)> = v
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.problem.as_str()))
        .collect();
    for p in ["", ".", "recordings"] {
        assert!(bad.contains(&(p, "not_a_file")), "{bad:?}");
    }
    assert!(!v.ok());
}
