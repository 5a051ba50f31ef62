//! `terraform-provider-hybridnet`: started by Terraform or OpenTofu, never by hand.

use std::process::ExitCode;
use std::sync::Arc;

use tfplugin5::handshake::{self, HandshakeError, LaunchEnv};

/// The release version, from the workspace's `Cargo.toml` (what `scripts/release.sh`
/// names the archives after).
const VERSION: &str = env!("CARGO_PKG_VERSION");

const USAGE: &str = "usage: terraform-provider-hybridnet [--version]\n\
    Terraform or OpenTofu starts this plugin itself; see the README's Install section.";

fn main() -> ExitCode {
    // Terraform starts plugins with no arguments: any argument is a person asking.
    if let Some(arg) = std::env::args_os().nth(1) {
        return match arg.to_str() {
            Some("--version" | "-version" | "-v") => {
                println!("terraform-provider-hybridnet v{VERSION}");
                ExitCode::SUCCESS
            }
            Some("--help" | "-help" | "-h") => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            _ => {
                eprintln!("terraform-provider-hybridnet: unknown argument {arg:?}\n{USAGE}");
                ExitCode::from(2)
            }
        };
    }
    let env = match LaunchEnv::from_env() {
        Ok(env) => env,
        Err(e @ HandshakeError::NotLaunchedByTerraform) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("terraform-provider-hybridnet: {e}");
            return ExitCode::from(1);
        }
    };
    tfplugin5::log::init(&["hybridnet", "tfplugin5"]);
    tracing::info!(target: "hybridnet::main", version = VERSION, "terraform-provider-hybridnet v{VERSION} starting");
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(target: "hybridnet::panic", panic = %info, "panic");
    }));

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-hybridnet: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        // Terraform handles Ctrl-C itself and tells us through Stop/Shutdown; the
        // interrupt it forwards to the process group must not kill us mid-apply.
        tokio::spawn(async {
            loop {
                if tokio::signal::ctrl_c().await.is_err() {
                    break;
                }
                tracing::debug!(target: "hybridnet::main", "interrupt received; waiting for Terraform's Stop");
            }
        });
        let registry = hybridnet::provider::registry();
        if let Err(problems) = registry.check_registrations() {
            return Err(format!("the types registered disagree with the declared schemas: {}", problems.join("; ")));
        }
        handshake::serve(Arc::new(registry), env).await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(target: "hybridnet::main", error = %e, "plugin server stopped");
            eprintln!("terraform-provider-hybridnet: {e}");
            ExitCode::from(1)
        }
    }
}
