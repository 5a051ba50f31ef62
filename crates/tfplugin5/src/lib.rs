//! Terraform and OpenTofu providers in Rust, over plugin protocol 5 (tfplugin5 over
//! go-plugin): the handshake, AutoMTLS, the gRPC services, Terraform's values with
//! their msgpack and JSON codecs, schemas and diagnostics.
//!
//! It knows nothing of any provider's domain or name: a provider implements
//! [`provider::ProviderLogic`] (dynamic values) and calls [`handshake::serve`].

// Request data reaches every function here: enforce the no-panic rule under clippy.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod convert;
pub mod diag;
pub mod function;
pub mod handshake;
pub mod log;
pub mod provider;
pub mod schema;
pub mod server;
pub mod tls;
pub mod typed;
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
pub use function::{FunctionError, FunctionParameter, FunctionSignature};

/// The message of a caught panic (`&str` or `String` payloads), for diagnostics.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
pub use schema::{Attribute, Block, Nesting, Schema};
pub use types::Type;
pub use value::Value;
