//! Regenerates `docs/` from `templates/` and the provider's schema:
//! `cargo run -p hybridnet-schema --bin hybridnet-docs` (`--check` only reports).

use std::path::PathBuf;
use std::process::ExitCode;

use hybridnet_schema::docs;

fn main() -> ExitCode {
    let mut check = false;
    let mut root: Option<PathBuf> = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: hybridnet-docs [--check] [REPO_ROOT]\nRenders docs/ from templates/ and the schema.");
                return ExitCode::SUCCESS;
            }
            other if !other.starts_with('-') && root.is_none() => root = Some(PathBuf::from(other)),
            other => {
                eprintln!("hybridnet-docs: unknown argument {other:?} (usage: hybridnet-docs [--check] [REPO_ROOT])");
                return ExitCode::from(2);
            }
        }
    }
    // Read at run time (cargo run sets it): a binary cached from another checkout must
    // not write into that checkout.
    let root = root.unwrap_or_else(|| match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir).join("../.."),
        None => PathBuf::from("."),
    });
    let result = if check { docs::stale(&root) } else { docs::write_all(&root) };
    match result {
        Ok(paths) if check && !paths.is_empty() => {
            for p in &paths {
                eprintln!("docs/{} is out of date", p.display());
            }
            eprintln!("run `{}`", docs::REGENERATE);
            ExitCode::from(1)
        }
        Ok(paths) => {
            for p in &paths {
                println!("wrote docs/{}", p.display());
            }
            if paths.is_empty() {
                println!("docs/ is up to date");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hybridnet-docs: {e}");
            ExitCode::from(1)
        }
    }
}
