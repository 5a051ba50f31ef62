//! Support crate for the fuzz targets: the crates under test, under short names, and
//! the types the value targets decode against.
//!
//! The schemas come from `hybridnet-schema`, the same definitions the provider serves;
//! `cidr::oracle` (the brute-force reference) exists in builds with `--cfg fuzzing`,
//! which cargo-fuzz sets.

pub use hybridnet_rules as cidr;
pub use hybridnet_schema;
pub use tfplugin5 as protocol;

pub mod schemas;
