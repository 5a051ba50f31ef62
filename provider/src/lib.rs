//! hybridnet: a Terraform/OpenTofu provider for the networking of Amazon EKS Hybrid Nodes.
//!
//! Crates (see ARCHITECTURE.md): [`tfplugin5`] speaks the plugin protocol and knows no
//! AWS; [`hybridnet_rules`] holds the networking rules as pure functions;
//! [`hybridnet_schema`] the Terraform schemas. This crate is the AWS edge and the
//! resources and data sources that compose them:
//! - [`aws`]: every AWS call (`find_*`, `wait_*`, `ensure_*`, `delete_*`), lazily-built clients.
//! - [`data_sources`], [`resources`]: one module per Terraform type.
//! - [`functions`]: one module per provider-defined function.
//! - [`provider`]: the provider block, and the registry of types.

pub mod args;
pub mod aws;
pub mod data_sources;
pub mod functions;
pub mod provider;
pub mod resources;
