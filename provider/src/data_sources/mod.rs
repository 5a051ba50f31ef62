//! Data sources, one module each.

pub mod cidr_plan;
