//! The top README shows each binding's quickstart; the bindings' own tests execute the copies in
//! their READMEs. This keeps the two identical, so what a reader copies is what was run.

fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&fence) {
        let body = &rest[i + fence.len()..];
        let end = body.find("```").expect("closed fence");
        out.push(body[..end].to_string());
        rest = &body[end + 3..];
    }
    out
}

#[test]
fn top_readme_quickstarts_match_the_tested_ones() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let top = read("README.md");
    for (lang, source) in [
        ("python", "bt-dr-py/README.md"),
        ("yaml", "bt-dr-py/README.md"),
        ("js", "bt-dr-node/README.md"),
        ("c", "bt-dr-ffi/README.md"),
    ] {
        let shown = blocks(&top, lang);
        assert!(!shown.is_empty(), "the top README has no {lang} quickstart");
        let tested = blocks(&read(source), lang);
        for b in shown {
            assert!(
                tested.contains(&b),
                "the {lang} block of README.md differs from {source}"
            );
        }
    }
}

#[test]
fn the_readme_inventory_sample_loads() {
    let top = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let samples = blocks(&top, "toml");
    assert_eq!(samples.len(), 1);
    let inv = bt_dr_core::Inventory::from_toml_str(&samples[0]).unwrap();
    let site = &inv.sites[0];
    assert_eq!(
        site.api.as_ref().unwrap().client_secret_env,
        "BT_DR_SUPPORT_SECRET"
    );
    assert_eq!(
        site.intended_primary().unwrap().hostname,
        "bt-a.example.com"
    );
}
