//! hybridnet: a Terraform/OpenTofu provider for the networking of Amazon EKS Hybrid Nodes.
//!
//! Layers (see ARCHITECTURE.md):
//! - [`protocol`]: the plugin protocol (handshake, TLS, gRPC, values, schemas,
//!   diagnostics, logs). Knows nothing about AWS or EKS.
//! - [`cidr`]: the networking rules as pure functions.
//! - [`aws`]: every AWS call (`find_*`, `wait_*`, `ensure_*`), lazily-built clients.
//! - [`data_sources`], [`resources`]: one module per Terraform type, composing the above.
//! - [`provider`]: schemas and dispatch.

pub mod aws;
pub mod cidr;
pub mod data_sources;
pub mod protocol;
pub mod provider;
pub mod resources;
