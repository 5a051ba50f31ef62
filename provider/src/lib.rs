//! hybridnet: a Terraform/OpenTofu provider for the networking of Amazon EKS Hybrid Nodes.
//!
//! Layers (see ARCHITECTURE.md):
//! - [`protocol`]: the plugin protocol (handshake, TLS, gRPC, values, schemas,
//!   diagnostics, logs). Knows nothing about AWS or EKS.
//! - [`cidr`]: the networking rules as pure functions.
//! - [`data_sources`]: one module per data source, composing the above.
//! - [`provider`]: schemas and dispatch.

pub mod cidr;
pub mod data_sources;
pub mod protocol;
pub mod provider;
