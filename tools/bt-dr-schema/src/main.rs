//! `bt-dr-schema [OUT]`: writes the JSON Schema of bt-dr-core's public types to `OUT`
//! (atomically) or, without an argument, to stdout. `make generate` runs it with
//! `schema/bt-dr.schema.json`; `make check-generated` writes to a temp dir and diffs.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text = bt_dr_schema::schema_text();
    match args.as_slice() {
        [] => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                eprintln!("bt-dr-schema: writing to stdout: {e}");
                return ExitCode::FAILURE;
            }
        }
        [path] if !path.starts_with('-') => {
            if let Err(e) = bt_dr_core::write_atomic(path, text.as_bytes()) {
                eprintln!("bt-dr-schema: {e}");
                return ExitCode::FAILURE;
            }
        }
        _ => {
            eprintln!(
                "usage: bt-dr-schema [OUT]   (default: stdout; see {})",
                bt_dr_schema::SCHEMA_PATH
            );
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
