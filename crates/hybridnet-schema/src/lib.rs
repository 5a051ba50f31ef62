//! The Terraform surface of the hybridnet provider: the schemas of the provider block,
//! of each resource and of each data source, exactly as the provider serves them, and
//! the defaults the provider fills in (one definition, used by the provider and
//! rendered into the descriptions).
//!
//! Kept apart from the provider crate so that tools which need the schemas but not
//! AWS (the fuzz targets, the docs generator in [`docs`]) can depend on them without
//! the AWS SDK.

use std::collections::BTreeMap;
use std::fmt::Display;

use hybridnet_rules::Network;
use tfplugin5::provider::ProviderSchemas;
use tfplugin5::{Attribute, Block, Nesting, Schema, Type};

pub mod cidr_plan;
pub mod cluster_network;
pub mod docs;
pub mod functions;

/// The provider's name, as in `hybridnet/hybridnet` and `terraform-provider-hybridnet`.
pub const PROVIDER_NAME: &str = "hybridnet";

/// Defaults of the provider block.
pub mod defaults {
    /// Retries of a throttled or failed AWS request when `max_retries` is not set.
    pub const MAX_RETRIES: u32 = 5;
    /// The largest `max_retries` the provider accepts.
    pub const MAX_RETRIES_LIMIT: u32 = 25;
    /// `assume_role.session_name` when not set.
    pub const SESSION_NAME: &str = "hybridnet";
}

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
    Attribute::optional_computed("pod_network_mode", Type::String).description(&with_default(
        "How pods on hybrid nodes are reached from the VPC: `routable` (the on-premises network routes the pod \
         CIDRs, the VPC routes them to the gateway), `unroutable` (the CNI masquerades pod traffic to node IPs) or \
         `gateway` (the EKS Hybrid Nodes gateway tunnels VXLAN to Cilium and writes the pod-CIDR routes itself).",
        hybridnet_rules::PodNetworkMode::default().as_str(),
    ))
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

/// A description that ends with the default the provider applies, rendered from the
/// value the provider uses (so the docs and the provider cannot disagree).
pub(crate) fn with_default(text: &str, default: impl Display) -> String {
    format!("{text} Defaults to `{default}`.")
}

/// Every schema the provider serves: the provider block, each resource, each data
/// source and each function, by name. The one list of types: the provider's registry
/// is built from it (`Registry::declared`, one implementation registered per name;
/// a name without one stops the provider at start and fails its tests), and the docs
/// are rendered from it.
pub fn provider_schemas() -> ProviderSchemas {
    ProviderSchemas {
        provider: provider_schema(),
        resources: BTreeMap::from([(cluster_network::TYPE_NAME.to_string(), cluster_network::resource_schema())]),
        data_sources: BTreeMap::from([
            (cidr_plan::TYPE_NAME.to_string(), cidr_plan::schema()),
            (cluster_network::TYPE_NAME.to_string(), cluster_network::data_source_schema()),
        ]),
        functions: BTreeMap::from([
            (functions::CIDR_PROBLEMS.to_string(), functions::cidr_problems()),
            (functions::ONPREM_FIREWALL_RULES.to_string(), functions::onprem_firewall_rules()),
        ]),
    }
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
                .description("AWS region. Default from the environment (`AWS_REGION`) or the profile."),
        )
        .attribute(
            Attribute::optional("profile", Type::String).description("Named profile of the shared AWS config files."),
        )
        .attribute(Attribute::optional("max_retries", Type::Number).description(&with_default(
            &format!(
                "How many times a failed AWS request (server error, lost connection, timeout) is retried, from 0 to \
                 {}. Throttling answers are not counted: they are retried until the operation's `timeouts`.",
                defaults::MAX_RETRIES_LIMIT
            ),
            defaults::MAX_RETRIES,
        )))
        .block(
            "assume_role",
            Nesting::List,
            0,
            1,
            Block::new("A role to assume for every AWS call.")
                .attribute(Attribute::required("role_arn", Type::String).description("ARN of the role."))
                .attribute(
                    Attribute::optional("session_name", Type::String)
                        .description(&with_default("Session name.", defaults::SESSION_NAME)),
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
            Block::new("Custom service endpoint URLs (for example VPC endpoints or a local emulator).")
                .attribute(Attribute::optional("ec2", Type::String).description("EC2 endpoint URL."))
                .attribute(Attribute::optional("eks", Type::String).description("EKS endpoint URL.")),
        ),
    )
}
