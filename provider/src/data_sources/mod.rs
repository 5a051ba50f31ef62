//! Data sources, one module each.

pub mod cidr_plan;
pub mod cluster_network;
