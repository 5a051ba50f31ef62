//! `hybridnet_cidr_plan`: the data source's schema.

use std::net::Ipv4Addr;

use hybridnet_rules::Ipv4Net;
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

/// The ranges remote CIDRs must lie in when `allowed_ranges` is not set (the RFC 1918
/// blocks), as the data source fills them in.
pub fn default_allowed_ranges() -> Vec<Ipv4Net> {
    hybridnet_rules::rfc1918()
}

/// How the default service CIDR is chosen, rendered from the rule the provider applies.
pub fn default_service_cidr_text() -> String {
    let ten = Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8);
    let other = Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16);
    format!(
        "`{}` if any VPC CIDR lies in {ten}, otherwise `{}`",
        hybridnet_rules::default_service_cidr(&[ten]),
        hybridnet_rules::default_service_cidr(&[other])
    )
}

fn joined(nets: &[Ipv4Net]) -> String {
    let parts: Vec<String> = nets.iter().map(ToString::to_string).collect();
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => parts.join(""),
    }
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
        .attribute(Attribute::optional("service_cidr", Type::String).description(&format!(
            "The Kubernetes service IPv4 CIDR. When omitted, EKS's default: {}.",
            default_service_cidr_text()
        )))
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
        .attribute(Attribute::optional_computed("allowed_ranges", strings()).description(&format!(
            "Ranges the remote CIDRs must lie in. Default the RFC 1918 blocks {}, as the EKS requirements state; \
             widen only where AWS accepts more for your account (for example `100.64.0.0/10`).",
            joined(&default_allowed_ranges())
        )))
        .attribute(
            Attribute::computed("effective_service_cidr", Type::String)
                .description("`service_cidr`, or EKS's default when it is omitted."),
        )
        .attribute(
            Attribute::computed("warnings", strings())
                .description("What needs attention (for example an unroutable pod network)."),
        )
        .attribute(Attribute::computed("vpc_routes", Type::list(vpc_route_type())).description(
            "Routes the VPC route tables need towards the on-premises gateway: every node CIDR, and every pod \
             CIDR when pods are routable. `network` is `node` or `pod`.",
        ))
        .attribute(
            Attribute::computed("cluster_security_group_rules", Type::list(security_group_rule_type())).description(
                "Rules for the EKS cluster security group: inbound TCP 443 from node CIDRs and (routable) pod \
                 CIDRs, outbound TCP 10250 to node CIDRs, outbound webhook ports to (routable) pod CIDRs. \
                 `direction` is `ingress` or `egress`.",
            ),
        )
        .attribute(Attribute::computed("onprem_firewall_rules", Type::list(firewall_rule_type())).description(
            "Rules for the on-premises firewall: kubelet and pods to the EKS cluster IPs on 443, the EKS \
                 control plane to kubelet on 10250 and to webhooks, DNS among pods, and the AWS endpoints used \
                 for credentials. `direction` is `inbound` or `outbound`. Destinations that are EKS network \
                 interfaces read `EKS cluster IPs` (find them with `aws ec2 describe-network-interfaces`, \
                 description `Amazon EKS <cluster>`). Application ports between pods are yours to add.",
        ))
        .attribute(
            Attribute::computed("node_address_count", Type::Number).description("Addresses in the remote node CIDRs."),
        )
        .attribute(
            Attribute::computed("pod_address_count", Type::Number).description("Addresses in the remote pod CIDRs."),
        ),
    )
}
