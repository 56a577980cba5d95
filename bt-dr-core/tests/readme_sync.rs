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
