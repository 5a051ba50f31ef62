//! The Terraform plugin protocol (tfplugin5 over go-plugin). Knows nothing about AWS
//! or about what the resources do: it speaks the wire format and calls a
//! [`provider::ProviderLogic`].

pub mod convert;
pub mod diag;
pub mod handshake;
pub mod log;
pub mod provider;
pub mod schema;
pub mod server;
pub mod tls;
pub mod types;
pub mod value;

/// Code generated from `proto/` by tonic.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("tfplugin5");
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

pub use diag::{AttrPath, Diagnostic, Diagnostics, Severity};
pub use schema::{Attribute, Block, Nesting, Schema};
pub use types::Type;
pub use value::Value;
