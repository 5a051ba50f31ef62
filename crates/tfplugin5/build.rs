//! Compiles the plugin protocol definitions with tonic. They live in the
//! repository's top-level `proto/`; a `proto/` inside this crate (copied in to
//! package it on its own) is read first.
//! protoc comes from the `protoc-bin-vendored` crate so no system install is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let include = protoc_bin_vendored::include_path()?;
    // Read at run time: a build script binary reused from another checkout of the same
    // sources must not look for the protos there.
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = [manifest.join("proto"), manifest.join("../../proto")]
        .into_iter()
        .find(|d| d.join("tfplugin5.proto").is_file())
        .ok_or("no proto/tfplugin5.proto in the crate or at the repository's top level")?;
    let files = ["tfplugin5.proto", "grpc_controller.proto", "grpc_stdio.proto"].map(|f| proto_dir.join(f));
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(&files, &[proto_dir, include])?;
    Ok(())
}
