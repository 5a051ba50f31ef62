//! Support crate for the fuzz targets.
//!
//! It compiles the provider's pure modules straight from their sources, without
//! depending on the `hybridnet` package (which pulls in the AWS SDK and would make
//! every fuzz build slow). The module layout mirrors the provider's, so the files'
//! own `super::` paths resolve:
//!
//! - `protocol::types` and `protocol::value`: `provider/src/protocol/{types,value}.rs`
//!   (`value.rs` uses `super::types::Type`);
//! - `cidr`: `provider/src/cidr/mod.rs` with its submodules `index`, `parse`, `tables`,
//!   `validate` and `warnings`. The file is named `mod.rs`, so its `mod index;` and the
//!   others resolve next to it.
//!
//! A `#[path]` on an inline module sets the directory its file modules load from,
//! relative to this file's directory (`fuzz/src/`).

#[path = "../../provider/src/protocol"]
pub mod protocol {
    pub mod types;
    pub mod value;

    pub use types::Type;
    pub use value::Value;
}

#[path = "../../provider/src/cidr/mod.rs"]
pub mod cidr;

pub mod schemas;
