//! Provider-defined functions, one module each: the offline rules of
//! `hybridnet_cidr_plan` for `variable` validation, `check` blocks and preconditions
//! (`provider::hybridnet::NAME(...)`, Terraform 1.8+, OpenTofu 1.7+). Their
//! signatures live in `hybridnet_schema::functions`; both functions read the same
//! `networks` object ([`Networks`]) and run the data source's own code.

pub mod cidr_problems;
pub mod onprem_firewall_rules;

use serde::Deserialize;
use tfplugin5::typed::Tf;
use tfplugin5::value::Number;

use crate::data_sources::cidr_plan::CidrPlanModel;

/// The `networks` argument: the arguments of `hybridnet_cidr_plan`, by the same
/// names. An attribute it does not name is an error on the argument; a missing
/// required one too.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Networks {
    pub vpc_cidrs: Vec<Tf<String>>,
    #[serde(default)]
    pub service_cidr: Tf<String>,
    pub remote_node_cidrs: Vec<Tf<String>>,
    #[serde(default)]
    pub remote_pod_cidrs: Tf<Vec<Tf<String>>>,
    #[serde(default)]
    pub pod_network_mode: Tf<String>,
    #[serde(default)]
    pub cni: Tf<String>,
    #[serde(default)]
    pub webhook_ports: Tf<Vec<Tf<Number>>>,
    #[serde(default)]
    pub allowed_ranges: Tf<Vec<Tf<String>>>,
}

/// The one-parameter argument list of both functions.
#[derive(Clone, Debug, Deserialize)]
pub struct NetworksArgs {
    pub networks: Networks,
}

impl From<Networks> for CidrPlanModel {
    /// The data source's configuration with these arguments (computed attributes null).
    fn from(n: Networks) -> Self {
        CidrPlanModel {
            vpc_cidrs: Tf::Known(n.vpc_cidrs),
            service_cidr: n.service_cidr,
            remote_node_cidrs: Tf::Known(n.remote_node_cidrs),
            remote_pod_cidrs: n.remote_pod_cidrs,
            pod_network_mode: n.pod_network_mode,
            cni: n.cni,
            webhook_ports: n.webhook_ports,
            allowed_ranges: n.allowed_ranges,
            ..CidrPlanModel::default()
        }
    }
}
