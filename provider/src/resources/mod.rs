//! Resources, one module each.

pub mod cluster_network;
