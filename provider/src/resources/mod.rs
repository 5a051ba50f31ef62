//! Resources, one module each, and what every resource needs (`shared`).

pub mod cluster_network;
pub mod shared;
