//! The Terraform surface of the hybridnet provider: the schemas of the provider block,
//! of each resource and of each data source, exactly as the provider serves them.
//!
//! Kept apart from the provider crate so that tools which need the schemas but not
//! AWS (the fuzz targets, the docs generator) can depend on them without the AWS SDK.

use hybridnet_rules::Network;
use tfplugin5::{Attribute, Block, Nesting, Schema, Type};

pub mod cidr_plan;
pub mod cluster_network;

/// The attribute that holds the CIDRs of `network`: `remote_node_cidrs` or
/// `remote_pod_cidrs` (the same name in every type of this provider).
pub fn list_attr(network: Network) -> &'static str {
    match network {
        Network::Node => "remote_node_cidrs",
        Network::Pod => "remote_pod_cidrs",
    }
}

/// `pod_network_mode`, shared by every type that takes it.
pub fn pod_network_mode_attribute() -> Attribute {
    Attribute::optional_computed("pod_network_mode", Type::String).description(
        "How pods on hybrid nodes are reached from the VPC: `routable` (default; the on-premises network routes \
         the pod CIDRs, the VPC routes them to the gateway), `unroutable` (the CNI masquerades pod traffic to node \
         IPs) or `gateway` (the EKS Hybrid Nodes gateway tunnels VXLAN to Cilium and writes the pod-CIDR routes \
         itself).",
    )
}

/// The deprecated boolean that `pod_network_mode` replaces.
pub fn pod_network_routable_attribute() -> Attribute {
    Attribute::optional_computed("pod_network_routable", Type::Bool)
        .description(
            "Deprecated: use `pod_network_mode`. `true` is `\"routable\"`, `false` is `\"unroutable\"`; set only one \
             of the two.",
        )
        .deprecated()
}

/// The provider block.
pub fn provider_schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "The hybridnet provider wires Amazon EKS Hybrid Nodes into AWS networking. `hybridnet_cidr_plan` works \
             offline and needs no configuration or credentials; AWS-backed objects use the standard AWS \
             configuration (environment, shared config and credentials files, SSO, web identity, instance \
             profile).",
        )
        .attribute(
            Attribute::optional("region", Type::String)
                .description("AWS region; default from the environment or profile."),
        )
        .attribute(
            Attribute::optional("profile", Type::String).description("Named profile of the shared AWS config files."),
        )
        .attribute(
            Attribute::optional("max_retries", Type::Number)
                .description("How many times a throttled or failed AWS request is retried (default 5)."),
        )
        .block(
            "assume_role",
            Nesting::List,
            0,
            1,
            Block::new("A role to assume for every AWS call.")
                .attribute(Attribute::required("role_arn", Type::String).description("ARN of the role."))
                .attribute(
                    Attribute::optional("session_name", Type::String)
                        .description("Session name (default \"hybridnet\")."),
                )
                .attribute(
                    Attribute::optional("external_id", Type::String)
                        .description("External ID the role's trust policy requires.")
                        .sensitive(),
                ),
        )
        .block(
            "endpoints",
            Nesting::List,
            0,
            1,
            Block::new("Custom service endpoints (e.g. VPC endpoints or a local emulator).")
                .attribute(Attribute::optional("ec2", Type::String).description("EC2 endpoint URL."))
                .attribute(Attribute::optional("eks", Type::String).description("EKS endpoint URL.")),
        ),
    )
}
