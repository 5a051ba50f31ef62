//! `hybridnet_cidr_plan`: the data source's schema.

use tfplugin5::{Attribute, Block, Schema, Type};

/// The data source's type name.
pub const TYPE_NAME: &str = "hybridnet_cidr_plan";

pub fn vpc_route_type() -> Type {
    Type::object([("destination_cidr", Type::String), ("network", Type::String)])
}

pub fn security_group_rule_type() -> Type {
    Type::object([
        ("direction", Type::String),
        ("protocol", Type::String),
        ("from_port", Type::Number),
        ("to_port", Type::Number),
        ("cidr", Type::String),
        ("description", Type::String),
    ])
}

pub fn firewall_rule_type() -> Type {
    Type::object([
        ("direction", Type::String),
        ("protocol", Type::String),
        ("port", Type::Number),
        ("source", Type::String),
        ("destination", Type::String),
        ("usage", Type::String),
    ])
}

pub fn schema() -> Schema {
    let strings = || Type::list(Type::String);
    Schema::new(
        0,
        Block::new(
            "Validates on-premises node and pod CIDRs for Amazon EKS Hybrid Nodes against the AWS networking \
             requirements, offline, and derives the VPC routes, cluster security group rules and on-premises \
             firewall rules they need.",
        )
        .attribute(Attribute::computed("id", Type::String).description("A digest of the inputs."))
        .attribute(
            Attribute::required("vpc_cidrs", strings())
                .description("The VPC's primary and secondary IPv4 CIDRs. They may be public (non-RFC 1918)."),
        )
        .attribute(Attribute::optional("service_cidr", Type::String).description(
            "The Kubernetes service IPv4 CIDR. When omitted, EKS's default: 172.20.0.0/16 if any VPC CIDR lies in \
             10.0.0.0/8, otherwise 10.100.0.0/16.",
        ))
        .attribute(
            Attribute::required("remote_node_cidrs", strings())
                .description("On-premises node CIDRs (RemoteNodeNetwork). At least one."),
        )
        .attribute(
            Attribute::optional("remote_pod_cidrs", strings()).description("On-premises pod CIDRs (RemotePodNetwork)."),
        )
        .attribute(crate::pod_network_mode_attribute())
        .attribute(crate::pod_network_routable_attribute())
        .attribute(Attribute::optional("cni", Type::String).description(
            "The CNI on the hybrid nodes, `cilium` or `calico`; tailors the warnings (the gateway mode \
                     needs Cilium).",
        ))
        .attribute(
            Attribute::optional("webhook_ports", Type::list(Type::Number))
                .description("Ports of admission webhooks running on hybrid nodes."),
        )
        .attribute(Attribute::optional_computed("allowed_ranges", strings()).description(
            "Ranges the remote CIDRs must lie in. Default the RFC 1918 blocks 10.0.0.0/8, 172.16.0.0/12 and \
             192.168.0.0/16, as the EKS requirements state; widen only where AWS accepts more for your account.",
        ))
        .attribute(
            Attribute::computed("effective_service_cidr", Type::String)
                .description("`service_cidr`, or EKS's default when it is omitted."),
        )
        .attribute(
            Attribute::computed("warnings", strings())
                .description("What follows from the inputs that needs attention (e.g. unroutable pod networks)."),
        )
        .attribute(Attribute::computed("vpc_routes", Type::list(vpc_route_type())).description(
            "Routes the VPC route tables need towards the on-premises gateway: every node CIDR, and every pod \
             CIDR when pods are routable.",
        ))
        .attribute(
            Attribute::computed("cluster_security_group_rules", Type::list(security_group_rule_type()))
                .description("Rules the EKS cluster security group needs for hybrid nodes."),
        )
        .attribute(
            Attribute::computed("onprem_firewall_rules", Type::list(firewall_rule_type()))
                .description("Rules the on-premises firewall needs for ongoing cluster operations."),
        )
        .attribute(
            Attribute::computed("node_address_count", Type::Number).description("Addresses in the remote node CIDRs."),
        )
        .attribute(
            Attribute::computed("pod_address_count", Type::Number).description("Addresses in the remote pod CIDRs."),
        ),
    )
}
