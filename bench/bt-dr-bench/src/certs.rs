//! Item 3: certificate audit of many PKCS#12 bundles, the library against a shell loop of
//! `openssl pkcs12` + `openssl verify`, next to the floor set by the key derivations alone.
//!
//! The bundles are made once by `bench/scripts/gen_bundles.sh` (openssl CLI, OpenSSL 3
//! defaults) and cached under `--dir`. Library rows read each file and call
//! `check_certificate_bundle` with the site FQDN; every report must be usable, with the key
//! matching the leaf and a 3-certificate chain, so the timed work is the real work.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bt_dr_core::{BundleCheckOptions, SecretString, check_certificate_bundle};
use serde_json::{Value, json};

use crate::kdf::{Impl, bundle_kdf_floor};
use crate::{Opts, Stats, print_table, ratio, run_measured};

struct Bundle {
    path: PathBuf,
    kind: String,
    fqdn: String,
}

fn manifest(dir: &Path) -> Result<Vec<Bundle>, String> {
    let text = std::fs::read_to_string(dir.join("manifest.tsv"))
        .map_err(|e| format!("reading {}/manifest.tsv: {e}", dir.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut it = l.split('\t');
            Some(Bundle {
                path: dir.join(it.next()?),
                kind: it.next()?.to_string(),
                fqdn: it.next()?.to_string(),
            })
        })
        .collect())
}

/// Checks one bundle; `Err` when the report is not what a good bundle gives.
fn check_one(b: &Bundle, pass: &SecretString) -> Result<(), String> {
    let bytes = std::fs::read(&b.path).map_err(|e| format!("{}: {e}", b.path.display()))?;
    let r = check_certificate_bundle(&bytes, pass, &BundleCheckOptions::for_site(&b.fqdn))
        .map_err(|e| format!("{}: {e}", b.path.display()))?;
    if !r.is_usable() || r.key_matches_leaf != Some(true) || r.chain.len() != 3 {
        return Err(format!(
            "{}: unexpected report (usable {}, key {:?}, chain {:?}, findings {:?})",
            b.path.display(),
            r.is_usable(),
            r.key_matches_leaf,
            r.chain,
            r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

/// Runs the certificate benchmark and writes `--out` (default `target/bench/certs.json`).
pub fn run(o: &Opts) -> Result<Value, String> {
    let dir = PathBuf::from(o.str_or("dir", "target/bench/p12"));
    let count: usize = o.num_or("count", 1000)?;
    let reps: usize = o.num_or("reps", 3)?;
    let scripts = PathBuf::from(o.str_or("scripts", "bench/scripts"));
    let out = PathBuf::from(o.str_or("out", "target/bench/certs.json"));
    let iterations: u32 = o.num_or("iterations", 2048)?;
    let pass_text = "bt-dr-bench-p12";
    let pass = SecretString::from(pass_text);
    let scratch = dir.with_extension("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;

    let t = Instant::now();
    let gen_script = scripts
        .join("gen_bundles.sh")
        .to_string_lossy()
        .into_owned();
    let g = run_measured(
        &[
            "bash".into(),
            gen_script,
            dir.to_string_lossy().into_owned(),
            count.to_string(),
        ],
        &[("P12PASS", pass_text)],
        &scratch,
    );
    if !g.ok {
        return Err(format!("generating bundles failed: {}", g.stderr.trim()));
    }
    let gen_secs = t.elapsed().as_secs_f64();
    let bundles = manifest(&dir)?;
    if bundles.len() != count {
        return Err(format!(
            "{} bundles in the manifest, want {count}",
            bundles.len()
        ));
    }
    let params = std::fs::read_to_string(dir.join("params.txt")).unwrap_or_default();
    eprintln!(
        "  {count} bundles ready in {} ({gen_secs:.1} s)",
        dir.display()
    );

    // Warm the page cache and check every bundle once (untimed).
    for b in &bundles {
        check_one(b, &pass)?;
    }

    // Library, one thread: total per pass, and per bundle by key type.
    let mut one_thread = Vec::new();
    let mut per_kind: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for _ in 0..reps {
        let t = Instant::now();
        for b in &bundles {
            let t1 = Instant::now();
            check_one(b, &pass)?;
            per_kind
                .entry(b.kind.clone())
                .or_default()
                .push(t1.elapsed().as_secs_f64());
        }
        one_thread.push(t.elapsed().as_secs_f64());
    }
    // Library, one thread per core (the caller's choice: the function is synchronous and Send).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut all_threads = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let chunk = bundles.len().div_ceil(threads);
        std::thread::scope(|s| {
            let hs: Vec<_> = bundles
                .chunks(chunk)
                .map(|part| {
                    let pass = pass.clone();
                    s.spawn(move || part.iter().try_for_each(|b| check_one(b, &pass)))
                })
                .collect();
            hs.into_iter()
                .try_for_each(|h| h.join().map_err(|_| "thread panicked".to_string())?)
        })?;
        all_threads.push(t.elapsed().as_secs_f64());
    }
    if o.flag("library-only") {
        // For profiling the library alone (`perf record ... certs --library-only`).
        let per = Stats::of(&one_thread).median / count as f64;
        println!("library, 1 thread: {:.3} ms per bundle", per * 1000.0);
        return Ok(json!({ "library_1_thread_per_bundle_ms": per * 1000.0 }));
    }
    // The KDF floor: the three derivations every bundle needs, nothing else.
    let floor_n = count.clamp(20, 300);
    let mut floor = std::collections::BTreeMap::new();
    for (label, which) in [("rustcrypto", Impl::RustCrypto), ("ring", Impl::Ring)] {
        let mut per = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            let mut acc = 0u8;
            for _ in 0..floor_n {
                acc ^= bundle_kdf_floor(pass_text, iterations, which);
            }
            std::hint::black_box(acc);
            per.push(t.elapsed().as_secs_f64() / floor_n as f64);
        }
        floor.insert(label, Stats::of(&per).median);
    }
    // The shell loop, sequential (the target's peer) and with one job per core.
    let loop_script = scripts
        .join("openssl_loop.sh")
        .to_string_lossy()
        .into_owned();
    let shell_reps: usize = o.num_or("shell-reps", 2)?;
    let shell = |jobs: usize| -> Result<(f64, Option<u64>), String> {
        let m = run_measured(
            &[
                "bash".into(),
                loop_script.clone(),
                dir.to_string_lossy().into_owned(),
                jobs.to_string(),
            ],
            &[("P12PASS", pass_text)],
            &scratch,
        );
        if !m.ok {
            return Err(format!(
                "the openssl loop failed: {}",
                m.stdout
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" / ")
            ));
        }
        eprintln!("  shell loop, {jobs} job(s): {:.3} s", m.wall_secs);
        Ok((m.wall_secs, m.max_rss_kib))
    };
    let mut sh1 = Vec::new();
    for _ in 0..shell_reps.max(1) {
        sh1.push(shell(1)?.0);
    }
    let (shn, _) = shell(threads)?;
    let _ = std::fs::remove_dir_all(&scratch);

    let n = count as f64;
    let lib1 = Stats::of(&one_thread);
    let libn = Stats::of(&all_threads);
    let sh1 = Stats::of(&sh1);
    let per_lib1 = lib1.median / n;
    let per_libn = libn.median / n;
    let per_shell = sh1.median / n;
    let per_shelln = shn / n;
    let floor_rc = floor["rustcrypto"];
    let floor_ring = floor["ring"];
    let ms = |s: f64| format!("{:.3}", s * 1000.0);
    let kind_med: Vec<(String, f64)> = per_kind
        .iter()
        .map(|(k, v)| (k.clone(), Stats::of(v).median))
        .collect();
    let mut rows = vec![
        vec![
            "bt-dr check_certificate_bundle, 1 thread".into(),
            format!("{:.3}", lib1.median),
            ms(per_lib1),
            format!("{} (1 job)", ratio(per_shell / per_lib1)),
            ratio(per_lib1 / floor_rc),
        ],
        vec![
            format!("bt-dr check_certificate_bundle, {threads} threads"),
            format!("{:.3}", libn.median),
            ms(per_libn),
            format!("{} ({threads} jobs)", ratio(per_shelln / per_libn)),
            "-".into(),
        ],
    ];
    for (k, m) in &kind_med {
        rows.push(vec![
            format!("  of which {k} bundles (1 thread, per bundle)"),
            "-".into(),
            ms(*m),
            "-".into(),
            ratio(m / floor_rc),
        ]);
    }
    rows.extend([
        vec![
            "shell loop: openssl pkcs12 + openssl verify, 1 job".into(),
            format!("{:.3}", sh1.median),
            ms(per_shell),
            "1.00×".into(),
            ratio(per_shell / floor_rc),
        ],
        vec![
            format!("shell loop, {threads} jobs (xargs -P)"),
            format!("{shn:.3}"),
            ms(per_shelln),
            "1.00×".into(),
            "-".into(),
        ],
        vec![
            "KDF floor (PKCS#12 MAC KDF + 2× PBKDF2), RustCrypto".into(),
            format!("{:.3}", floor_rc * n),
            ms(floor_rc),
            ratio(per_shell / floor_rc),
            "1.00×".into(),
        ],
        vec![
            "KDF floor, PBKDF2 by ring".into(),
            format!("{:.3}", floor_ring * n),
            ms(floor_ring),
            ratio(per_shell / floor_ring),
            ratio(floor_ring / floor_rc),
        ],
    ]);
    let speedup = per_shell / per_lib1;
    print_table(
        &format!(
            "Certificate audit of {count} PKCS#12 bundles (RSA-2048 and EC P-256, chain of 3, {iterations} PBKDF2 iterations); target ≥ 20× the shell loop: {}",
            if speedup >= 20.0 { "met" } else { "MISSED" }
        ),
        &[
            "run",
            "total s",
            "per bundle ms",
            "vs shell loop",
            "vs KDF floor",
        ],
        &rows,
    );
    let v = json!({
        "benchmark": "certificate_audit",
        "machine": crate::machine(),
        "bundles": count,
        "bundle_dir": dir,
        "openssl_params": params.lines().collect::<Vec<_>>(),
        "generation_secs_this_run": gen_secs,
        "library_1_thread_secs": lib1,
        "library_threads": threads,
        "library_all_threads_secs": libn,
        "library_per_bundle_ms_by_kind": kind_med.iter().map(|(k, m)| (k.clone(), m * 1000.0)).collect::<std::collections::BTreeMap<_, _>>(),
        "shell_loop_1_job_secs": sh1,
        "shell_loop_all_jobs_secs": shn,
        "shell_loop_command": ["bash", loop_script, dir, "JOBS"],
        "per_bundle_ms": {
            "library_1_thread": per_lib1 * 1000.0,
            "library_all_threads": per_libn * 1000.0,
            "shell_loop_1_job": per_shell * 1000.0,
            "shell_loop_all_jobs": per_shelln * 1000.0,
            "kdf_floor_rustcrypto": floor_rc * 1000.0,
            "kdf_floor_ring_pbkdf2": floor_ring * 1000.0,
        },
        "ratios": {
            "library_1_thread_vs_shell_1_job": speedup,
            "library_all_threads_vs_shell_all_jobs": per_shelln / per_libn,
            "library_vs_kdf_floor": per_lib1 / floor_rc,
        },
        "target_ge_20x_shell": speedup >= 20.0,
    });
    crate::write_json(&out, &v)?;
    Ok(v)
}
