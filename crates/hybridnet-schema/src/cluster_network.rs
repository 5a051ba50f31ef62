//! The schema of `hybridnet_cluster_network` (resource and data source), with the
//! resource's plan behaviour declared on its attributes: `cluster_name` replaces the
//! resource, and what apply learns is planned unknown while an argument is unknown
//! (`unknown_until_apply`; the VPC's attributes and the security group only for a new
//! object, `unknown_until_created`). The protocol crate's plan rules apply them.

use crate::cidr_plan::firewall_rule_type;
use tfplugin5::{Attribute, Block, Nesting, Schema, Type};

use crate::with_default;

pub const TYPE_NAME: &str = "hybridnet_cluster_network";

pub fn route_type() -> Type {
    Type::object([
        ("route_table_id", Type::String),
        ("destination_cidr", Type::String),
        ("target_id", Type::String),
        ("network", Type::String),
    ])
}

fn strings() -> Type {
    Type::list(Type::String)
}

/// IDs whose order carries no meaning.
fn id_set() -> Type {
    Type::set(Type::String)
}

/// Defaults `hybridnet_cluster_network` (the resource) fills in when an argument is null.
pub mod defaults {
    pub const MANAGE_ATTACHMENT: bool = true;
    pub const CREATE_ROUTE_TABLE: bool = false;
    pub const MANAGE_SECURITY_GROUP_RULES: bool = true;
    /// Each of `timeouts.create`, `update` and `delete`, in minutes.
    pub const TIMEOUT_MINUTES: u64 = 30;
}

/// Attributes computed from AWS, shared by the resource and the data source.
fn computed_attributes(b: Block) -> Block {
    b.attribute(Attribute::computed("vpc_id", Type::String).unknown_until_created().description("The cluster's VPC."))
        .attribute(Attribute::computed("vpc_cidrs", strings()).unknown_until_created().description("The VPC's primary and secondary CIDRs."))
        .attribute(
            Attribute::computed("service_cidr", Type::String).unknown_until_created().description("The cluster's Kubernetes service CIDR."),
        )
        .attribute(Attribute::computed("attachment_id", Type::String).unknown_until_apply().description(
            "The transit gateway VPC attachment ID, or `<vgw-id>:<vpc-id>` for a virtual private gateway.",
        ))
        .attribute(
            Attribute::computed("route_table_id", Type::String)
                .unknown_until_apply()
                .description(
                    "The dedicated route table hybridnet created (the resource with `create_route_table = true`); \
                     null in the data source.",
                ),
        )
        .attribute(Attribute::computed("routes", Type::list(route_type())).unknown_until_apply().description(
            "The routes to the on-premises gateway, one per route table and remote CIDR. `network` is `node` or \
             `pod`.",
        ))
        .attribute(Attribute::computed("security_group_rule_ids", strings()).unknown_until_apply().description(
            "IDs of the cluster security group rules that satisfy the requirements (ours, or identical rules that \
             already existed).",
        ))
        .attribute(Attribute::computed("gateway_node_ips", strings()).unknown_until_apply().description(
            "Private IPs of the network interfaces in `gateway_security_group_id` (the EKS Hybrid Nodes gateway \
             nodes): the VXLAN peers the on-premises firewall must allow. Empty without that group.",
        ))
        .attribute(Attribute::computed("eks_network_interface_ips", strings()).unknown_until_apply().description(
            "Private IPs of the network interfaces EKS made for the cluster (described \"Amazon EKS \
             <cluster_name>\"): the EKS cluster IPs the on-premises firewall must allow.",
        ))
        .attribute(Attribute::computed("onprem_firewall_rules", Type::list(firewall_rule_type())).unknown_until_apply().description(
            "Rules the on-premises firewall needs, as in `hybridnet_cidr_plan`, with the EKS cluster IPs filled in.",
        ))
}

/// `node_credential_provider` (resource and data source): which of the credential
/// endpoints a private cluster's VPC needs.
fn node_credential_provider_attribute() -> Attribute {
    use hybridnet_rules::NodeCredentialProvider as P;
    let choices: Vec<String> = P::ALL
        .iter()
        .map(|p| {
            let services = p.endpoint_services();
            let plural = if services.len() > 1 { "s" } else { "" };
            format!("`{}` ({}, the `{}` endpoint{plural})", p.as_str(), p.title(), services.join("` and `"))
        })
        .collect();
    Attribute::optional("node_credential_provider", Type::String).description(&format!(
        "How the hybrid nodes get their AWS credentials, as nodeadm names it: {}. Used only when the cluster's \
         endpoint is private only, to check just the interface VPC endpoints that provider needs. Without it the \
         plan cannot tell which are needed and warns once while either provider's endpoints are missing.",
        choices.join(" or ")
    ))
}

pub fn resource_schema() -> Schema {
    let timeout = |op: &str| {
        Attribute::optional(op, Type::String).description(&with_default(
            &format!("How long {op} may wait, as a duration such as `\"45m\"` or `\"1h\"`."),
            format!("{}m", defaults::TIMEOUT_MINUTES),
        ))
    };
    let b = Block::new(
        "Manages the VPC side of Amazon EKS Hybrid Nodes: the transit gateway or virtual private gateway \
         attachment, the VPC routes to the on-premises node and pod CIDRs, and the cluster security group rules.",
    )
    .attribute(Attribute::computed("id", Type::String).description("The cluster name."))
    .attribute(
        Attribute::required("cluster_name", Type::String)
            .requires_replace()
            .description("The EKS cluster. Changing it replaces the resource."),
    )
    .attribute(Attribute::required("remote_node_cidrs", strings()).description("On-premises node CIDRs."))
    .attribute(Attribute::optional("remote_pod_cidrs", strings()).description("On-premises pod CIDRs."))
    .attribute(crate::pod_network_mode_attribute())
    .attribute(crate::pod_network_routable_attribute())
    .attribute(Attribute::optional("gateway_security_group_id", Type::String).description(
        "With `pod_network_mode = \"gateway\"`: the security group of the EKS Hybrid Nodes gateway nodes, which gets \
         UDP 8472 (VXLAN) inbound from and outbound to each remote node CIDR.",
    ))
    .attribute(
        Attribute::optional("transit_gateway_id", Type::String)
            .description("The transit gateway to on premises. Exactly one of this and `vpn_gateway_id`."),
    )
    .attribute(
        Attribute::optional("vpn_gateway_id", Type::String).description("The virtual private gateway to on premises."),
    )
    .attribute(Attribute::optional("attachment_subnet_ids", id_set()).description(
        "Subnets for the transit gateway VPC attachment, in the cluster's VPC: at least two, in two Availability \
         Zones, at most one per zone.",
    ))
    .attribute(Attribute::optional_computed("manage_attachment", Type::Bool).description(&with_default(
        "Create and delete the attachment. When `false`, an existing attachment is required and left alone.",
        defaults::MANAGE_ATTACHMENT,
    )))
    .attribute(
        Attribute::optional("route_table_ids", id_set()).description("Existing route tables that get the routes."),
    )
    .attribute(
        Attribute::optional_computed("create_route_table", Type::Bool).description(&with_default(
            "Create a dedicated route table with the routes.",
            defaults::CREATE_ROUTE_TABLE,
        )),
    )
    .attribute(
        Attribute::optional("route_table_subnet_ids", id_set())
            .description("Subnets to associate with the dedicated route table."),
    )
    .attribute(Attribute::optional_computed("manage_security_group_rules", Type::Bool).description(&with_default(
        "Manage the cluster security group rules for the remote CIDRs.",
        defaults::MANAGE_SECURITY_GROUP_RULES,
    )))
    .attribute(
        Attribute::optional_computed("security_group_id", Type::String)
            .unknown_until_created()
            .description("The security group for the rules. Default the cluster security group EKS reports."),
    )
    .attribute(
        Attribute::optional("webhook_ports", Type::list(Type::Number))
            .description("Ports of webhooks running on hybrid nodes: egress rules to the pod CIDRs."),
    )
    .attribute(node_credential_provider_attribute())
    .attribute(
        Attribute::optional("tags", Type::Map(Box::new(Type::String)))
            .description("Tags for every object the resource creates that can carry tags."),
    )
    .block(
        "timeouts",
        Nesting::Single,
        0,
        0,
        Block::new("How long to wait for the attachment.")
            .attribute(timeout("create"))
            .attribute(timeout("update"))
            .attribute(timeout("delete")),
    );
    Schema::new(SCHEMA_VERSION, ownership_attributes(computed_attributes(b)))
}

/// The resource's schema version: 1 added the ownership attributes
/// (`attachment_created`, `adopted_routes`, `adopted_security_group_rule_ids`).
pub const SCHEMA_VERSION: i64 = 1;

/// What the resource created and what it found (the resource only): what it found it
/// never deletes.
fn ownership_attributes(b: Block) -> Block {
    b.attribute(Attribute::computed("attachment_created", Type::Bool).unknown_until_apply().description(
        "Whether this resource created the attachment (it carries the `hybridnet:cluster-network` tag with this \
         cluster's name). `false` when it found one: made by hand, by another tool, or by the resource of another \
         cluster in the VPC (`DuplicateTransitGatewayAttachment`). Destroy deletes the attachment only when \
         hybridnet made it and no other cluster in the VPC still routes through it.",
    ))
    .attribute(Attribute::computed("adopted_routes", Type::list(route_type())).unknown_until_apply().description(
        "The routes of `routes` that already pointed at the gateway before this resource needed them (another \
         cluster's resource or another writer made them): used, never deleted by this resource.",
    ))
    .attribute(
        Attribute::computed("adopted_security_group_rule_ids", strings()).unknown_until_apply().description(
            "The IDs of `security_group_rule_ids` that this resource found (identical rules it did not make): used, \
         never revoked by this resource.",
        ),
    )
}

pub fn data_source_schema() -> Schema {
    let b = Block::new(
        "Reads the hybrid networking of an EKS cluster and reports what the EKS Hybrid Nodes requirements need but \
         AWS lacks. Read-only.",
    )
    .attribute(Attribute::computed("id", Type::String).description("The cluster name."))
    .attribute(Attribute::required("cluster_name", Type::String).description("The EKS cluster."))
    .attribute(
        Attribute::optional_computed("remote_node_cidrs", strings())
            .description("Node CIDRs to check. Default the cluster's remote node networks."),
    )
    .attribute(
        Attribute::optional_computed("remote_pod_cidrs", strings())
            .description("Pod CIDRs to check. Default the cluster's remote pod networks."),
    )
    .attribute(crate::pod_network_mode_attribute())
    .attribute(crate::pod_network_routable_attribute())
    .attribute(Attribute::optional("gateway_security_group_id", Type::String).description(
        "With `pod_network_mode = \"gateway\"`: the gateway nodes' security group, whose VXLAN rules are checked.",
    ))
    .attribute(
        Attribute::optional_computed("security_group_id", Type::String)
            .description("Security group to check. Default the cluster security group."),
    )
    .attribute(Attribute::optional("webhook_ports", Type::list(Type::Number)).description(
        "Ports of admission webhooks running on hybrid nodes: their outbound rules to the pod CIDRs are checked \
         too, as the resource would create them.",
    ))
    .attribute(node_credential_provider_attribute())
    .attribute(Attribute::optional_computed("route_table_ids", strings()).description(
        "Route tables to check. Default those with routes for the remote CIDRs, else the VPC's main route table.",
    ))
    .attribute(
        Attribute::computed("gateway_id", Type::String)
            .description("The transit or virtual private gateway the routes use."),
    )
    .attribute(Attribute::computed("missing", strings()).description(
        "What the requirements need but AWS lacks (routes, security group rules, the attachment, DNS settings): \
         exactly what the resource would create. A security group rule counts as present only when an identical \
         rule exists.",
    ));
    Schema::new(0, computed_attributes(b))
}
