//! What the remote networks require of the VPC route tables, the EKS cluster security
//! group and the on-premises firewall.
//!
//! Each function returns one row per concrete combination (CIDR, port, protocol,
//! direction), in a fixed order: the order of the reference's tables, then the order of
//! the inputs. Repeated inputs (the same CIDR or port twice) give one row.

use std::collections::HashSet;
use std::hash::Hash;
use std::net::Ipv4Addr;

use super::{Ipv4Net, Network};
use crate::mode::VXLAN_PORT;

/// A route the VPC route tables need, towards the hybrid network gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VpcRoute {
    /// The on-premises block to route.
    pub destination_cidr: Ipv4Net,
    /// Whether it is a node or a pod block.
    pub network: Network,
}

/// The routes the VPC route tables need: every remote node CIDR, then every remote pod
/// CIDR when pods are routable (the reference's "Remote node network" and "Remote Pod
/// network" routes). A destination listed twice gets one route, the first.
pub fn vpc_routes(nodes: &[Ipv4Net], pods: &[Ipv4Net], pod_network_routable: bool) -> Vec<VpcRoute> {
    let pods = if pod_network_routable { pods } else { &[] };
    let mut seen = HashSet::new();
    nodes
        .iter()
        .map(|&c| (c, Network::Node))
        .chain(pods.iter().map(|&c| (c, Network::Pod)))
        .filter(|&(c, _)| seen.insert(c.trunc()))
        .map(|(c, network)| VpcRoute { destination_cidr: c.trunc(), network })
        .collect()
}

/// The direction of a security group rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Inbound to the security group.
    Ingress,
    /// Outbound from the security group.
    Egress,
}

impl Direction {
    /// `ingress` or `egress`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest description EC2 accepts on a security group rule.
pub const MAX_SG_DESCRIPTION_LEN: usize = 255;

/// A rule of the EKS cluster security group (or of the gateway nodes' group).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecurityGroupRule {
    /// Ingress or egress.
    pub direction: Direction,
    /// `tcp`, or `udp` for the gateway's VXLAN rules.
    pub protocol: &'static str,
    /// First port.
    pub from_port: u16,
    /// Last port (equal to `from_port`: every rule is for one port).
    pub to_port: u16,
    /// The remote block the rule allows traffic from (ingress) or to (egress).
    pub cidr: Ipv4Net,
    /// Whether `cidr` is a node or a pod block.
    pub network: Network,
    /// `hybridnet: ...`: what the rule is for and its block; ASCII from EC2's rule
    /// description character set, at most [`MAX_SG_DESCRIPTION_LEN`] characters.
    pub description: String,
}

/// The rules of the reference's "Cluster security group configuration" table:
///
/// 1. ingress tcp 443 from each remote node CIDR (kubelet to Kubernetes API server);
/// 2. ingress tcp 443 from each remote pod CIDR, only when pods are routable (otherwise
///    the CNI NATs pod traffic to node IPs, which rule 1 covers);
/// 3. egress tcp 10250 to each remote node CIDR (Kubernetes API server to kubelet);
/// 4. egress tcp to each webhook port, to each remote pod CIDR, only when pods are
///    routable (otherwise webhooks cannot run on hybrid nodes). Per port, then per CIDR.
///
/// A rule that would repeat an earlier one (same direction, port and block) is left out.
pub fn cluster_security_group_rules(
    nodes: &[Ipv4Net],
    pods: &[Ipv4Net],
    pod_network_routable: bool,
    webhook_ports: &[u16],
) -> Vec<SecurityGroupRule> {
    let nodes = unique(nodes.iter().map(Ipv4Net::trunc));
    let pods = if pod_network_routable { unique(pods.iter().map(Ipv4Net::trunc)) } else { Vec::new() };
    let ports = unique(webhook_ports.iter().copied());

    let mut rules = Vec::new();
    let mut rule = |direction: Direction, port: u16, cidr: Ipv4Net, network: Network, purpose: &str| {
        let description = sg_description(&format!("hybridnet: {purpose}, {} CIDR {cidr}", network.noun()));
        rules.push(SecurityGroupRule {
            direction,
            protocol: "tcp",
            from_port: port,
            to_port: port,
            cidr,
            network,
            description,
        });
    };
    for &c in &nodes {
        rule(Direction::Ingress, 443, c, Network::Node, "kubelet on hybrid nodes to Kubernetes API server");
    }
    for &c in &pods {
        rule(Direction::Ingress, 443, c, Network::Pod, "pods on hybrid nodes to Kubernetes API server");
    }
    for &c in &nodes {
        rule(Direction::Egress, 10250, c, Network::Node, "Kubernetes API server to kubelet on hybrid nodes");
    }
    for &port in &ports {
        for &c in &pods {
            let purpose = format!("Kubernetes API server to webhooks on hybrid nodes on port {port}");
            rule(Direction::Egress, port, c, Network::Pod, &purpose);
        }
    }
    // A block in both lists (invalid input) would give the same rule twice.
    let mut seen = HashSet::new();
    rules.retain(|r| seen.insert((r.direction, r.from_port, r.cidr)));
    rules
}

/// The rules of the EKS Hybrid Nodes gateway's security group (the group of its EC2
/// nodes): UDP [`VXLAN_PORT`] inbound from each remote node CIDR, then outbound to each
/// (the VXLAN tunnel runs between the hybrid nodes' and the gateway nodes' IPs).
pub fn gateway_security_group_rules(nodes: &[Ipv4Net]) -> Vec<SecurityGroupRule> {
    let nodes = unique(nodes.iter().map(Ipv4Net::trunc));
    let mut rules = Vec::new();
    for (direction, purpose) in [
        (Direction::Ingress, "VXLAN from hybrid nodes to the EKS Hybrid Nodes gateway"),
        (Direction::Egress, "VXLAN from the EKS Hybrid Nodes gateway to hybrid nodes"),
    ] {
        for &cidr in &nodes {
            rules.push(SecurityGroupRule {
                direction,
                protocol: UDP,
                from_port: VXLAN_PORT,
                to_port: VXLAN_PORT,
                cidr,
                network: Network::Node,
                description: sg_description(&format!("hybridnet: {purpose}, remote node CIDR {cidr}")),
            });
        }
    }
    rules
}

/// Stands in for the gateway nodes' IPs when they are not given.
pub const GATEWAY_NODE_IPS: &str = "gateway node IPs";

/// The on-premises firewall rows the EKS Hybrid Nodes gateway adds: UDP [`VXLAN_PORT`]
/// outbound from the node CIDRs to the gateway node IPs and inbound from them (`a.b.c.d/32`
/// each; the placeholder [`GATEWAY_NODE_IPS`] when none are given).
pub fn gateway_firewall_rules(nodes: &[Ipv4Net], gateway_ips: Option<&[Ipv4Addr]>) -> Vec<FirewallRule> {
    let nodes: Vec<String> = unique(nodes.iter().map(Ipv4Net::trunc)).iter().map(ToString::to_string).collect();
    let gateway: Vec<String> = match gateway_ips {
        Some(ips) if !ips.is_empty() => unique(ips.iter().copied()).iter().map(|ip| format!("{ip}/32")).collect(),
        _ => vec![GATEWAY_NODE_IPS.to_string()],
    };
    let mut table = Table::default();
    table.rows(
        &[OUTBOUND],
        &[UDP],
        &[VXLAN_PORT],
        &nodes,
        &gateway,
        "VXLAN from hybrid nodes to the EKS Hybrid Nodes gateway",
    );
    table.rows(
        &[INBOUND],
        &[UDP],
        &[VXLAN_PORT],
        &gateway,
        &nodes,
        "VXLAN from the EKS Hybrid Nodes gateway to hybrid nodes",
    );
    table.0
}

/// Keeps EC2's rule description character set (`a-zA-Z0-9`, space and
/// `._-:/()#,@[]+=;{}!$*`), replacing anything else with a space, and the length limit.
fn sg_description(text: &str) -> String {
    const PUNCTUATION: &str = "._-:/()#,@[]+=;{}!$*";
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == ' ' || PUNCTUATION.contains(c) { c } else { ' ' })
        .take(MAX_SG_DESCRIPTION_LEN)
        .collect()
}

/// A rule the on-premises firewall needs, as in the reference's "Access required for
/// ongoing cluster operations" table: one port, one protocol, one direction, one source
/// and one destination per row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FirewallRule {
    /// `inbound` or `outbound`, seen from the on-premises network.
    pub direction: &'static str,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// Destination port.
    pub port: u16,
    /// A CIDR (`10.80.0.0/16`, `a.b.c.d/32` for an EKS IP) or a description.
    pub source: String,
    /// A CIDR or a description (e.g. [`AWS_SSM_ENDPOINTS`]).
    pub destination: String,
    /// What the traffic is, with the reference's "only required for ..." notes.
    pub usage: String,
}

/// Stands in for the EKS cluster's network interface IPs when they are not given.
pub const EKS_CLUSTER_IPS: &str = "EKS cluster IPs";
/// Destination of the SSM hybrid activations rows.
pub const AWS_SSM_ENDPOINTS: &str = "AWS SSM endpoints";
/// Destination of the IAM Roles Anywhere rows.
pub const AWS_IAM_ROLES_ANYWHERE_ENDPOINTS: &str = "AWS IAM Roles Anywhere endpoints";
/// Destination of the IRSA rows.
pub const AWS_STS_ENDPOINT: &str = "AWS STS endpoint";
/// Destination of the EKS Pod Identity rows.
pub const EKS_AUTH_ENDPOINT: &str = "Amazon EKS Auth endpoint";

const INBOUND: &str = "inbound";
const OUTBOUND: &str = "outbound";
const TCP: &str = "tcp";
const UDP: &str = "udp";

/// The on-premises firewall rules of the reference's "Access required for ongoing
/// cluster operations" table, one row per source, destination, port, protocol and
/// direction (nested in that order), the table's rows in the reference's order:
///
/// | direction | port | source → destination | usage |
/// |---|---|---|---|
/// | outbound | 443 | node CIDRs → EKS IPs | kubelet to Kubernetes API server |
/// | outbound | 443 | pod CIDRs → EKS IPs | Pod to Kubernetes API server (routable pods only) |
/// | outbound | 443 | node CIDRs → SSM endpoints | SSM hybrid activations |
/// | outbound | 443 | node CIDRs → IAM Roles Anywhere endpoints | IAM Roles Anywhere |
/// | outbound | 443 | pod CIDRs → STS endpoint | IRSA (from node CIDRs when pods are unroutable) |
/// | outbound | 443 | node CIDRs → EKS Auth endpoint | EKS Pod Identity |
/// | inbound | 10250 | EKS IPs → node CIDRs | Kubernetes API server to kubelet |
/// | inbound | webhook ports | EKS IPs → pod CIDRs | webhooks (routable pods only) |
/// | inbound, outbound (tcp, udp) | 53 | pod CIDRs → pod CIDRs | Pod to CoreDNS |
///
/// EKS IPs are `a.b.c.d/32` per address in `eks_ips`; when `eks_ips` is `None` or
/// empty, the single placeholder [`EKS_CLUSTER_IPS`] stands in.
///
/// With unroutable pods, pod traffic leaving the hosts is masqueraded to node IPs and
/// webhooks run on cloud nodes: pod-sourced outbound rows and the webhook rows are left
/// out. Pod-to-API-server traffic then matches the kubelet row; IRSA's traffic to STS
/// does not match any node row, so its row is kept with the node CIDRs as sources. The
/// DNS rows between pod CIDRs stay: pod-to-pod traffic is not masqueraded. The
/// reference's user-defined "App ports" row is not generated (it depends on the apps).
pub fn onprem_firewall_rules(
    nodes: &[Ipv4Net],
    pods: &[Ipv4Net],
    pod_network_routable: bool,
    webhook_ports: &[u16],
    eks_ips: Option<&[Ipv4Addr]>,
) -> Vec<FirewallRule> {
    let nodes: Vec<String> = unique(nodes.iter().map(Ipv4Net::trunc)).iter().map(ToString::to_string).collect();
    let pods: Vec<String> = unique(pods.iter().map(Ipv4Net::trunc)).iter().map(ToString::to_string).collect();
    let eks: Vec<String> = match eks_ips {
        Some(ips) if !ips.is_empty() => unique(ips.iter().copied()).iter().map(|ip| format!("{ip}/32")).collect(),
        _ => vec![EKS_CLUSTER_IPS.to_string()],
    };
    let ports = unique(webhook_ports.iter().copied());
    let routable_pods: &[String] = if pod_network_routable { &pods } else { &[] };
    let one = |s: &str| vec![s.to_string()];

    let mut table = Table::default();
    table.rows(&[OUTBOUND], &[TCP], &[443], &nodes, &eks, "kubelet to Kubernetes API server");
    table.rows(&[OUTBOUND], &[TCP], &[443], routable_pods, &eks, "Pod to Kubernetes API server");
    table.rows(
        &[OUTBOUND],
        &[TCP],
        &[443],
        &nodes,
        &one(AWS_SSM_ENDPOINTS),
        "SSM hybrid activations credential refresh and SSM heartbeats every 5 minutes, only required if you are \
         using AWS SSM hybrid activations for your on-premises IAM credential provider",
    );
    table.rows(
        &[OUTBOUND],
        &[TCP],
        &[443],
        &nodes,
        &one(AWS_IAM_ROLES_ANYWHERE_ENDPOINTS),
        "IAM Roles Anywhere credential refresh, only required if you are using AWS IAM Roles Anywhere for your \
         on-premises IAM credential provider",
    );
    if pod_network_routable {
        table.rows(
            &[OUTBOUND],
            &[TCP],
            &[443],
            &pods,
            &one(AWS_STS_ENDPOINT),
            "Pod to STS endpoint, only required for IRSA",
        );
    } else {
        table.rows(
            &[OUTBOUND],
            &[TCP],
            &[443],
            &nodes,
            &one(AWS_STS_ENDPOINT),
            "Pod to STS endpoint (pod traffic is masqueraded to node IPs), only required for IRSA",
        );
    }
    table.rows(
        &[OUTBOUND],
        &[TCP],
        &[443],
        &nodes,
        &one(EKS_AUTH_ENDPOINT),
        "Node to Amazon EKS Auth endpoint, only required for Amazon EKS Pod Identity",
    );
    table.rows(&[INBOUND], &[TCP], &[10250], &eks, &nodes, "Kubernetes API server to kubelet");
    table.rows(&[INBOUND], &[TCP], &ports, &eks, routable_pods, "Kubernetes API server to webhooks");
    table.rows(
        &[INBOUND, OUTBOUND],
        &[TCP, UDP],
        &[53],
        &pods,
        &pods,
        "Pod to CoreDNS. If you run at least 1 replica of CoreDNS in the cloud, you must allow DNS traffic to the \
         VPC where CoreDNS is running.",
    );
    table.0
}

/// Firewall rows under construction.
#[derive(Default)]
struct Table(Vec<FirewallRule>);

impl Table {
    /// One row per source, destination, port, protocol and direction, nested in that order.
    fn rows(
        &mut self,
        directions: &[&'static str],
        protocols: &[&'static str],
        ports: &[u16],
        sources: &[String],
        destinations: &[String],
        usage: &str,
    ) {
        for source in sources {
            for destination in destinations {
                for &port in ports {
                    for &protocol in protocols {
                        for &direction in directions {
                            self.0.push(FirewallRule {
                                direction,
                                protocol,
                                port,
                                source: source.clone(),
                                destination: destination.clone(),
                                usage: usage.to_string(),
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The items in order, each once.
fn unique<T: Copy + Eq + Hash>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|x| seen.insert(*x)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::net;
    use super::*;

    fn nets(s: &[&str]) -> Vec<Ipv4Net> {
        s.iter().map(|s| net(s)).collect()
    }

    #[test]
    fn gateway_rules_are_vxlan_both_ways_per_node_cidr() {
        let nodes = nets(&["10.80.0.0/16", "10.81.0.1/16", "10.80.0.0/16"]);
        let rules = gateway_security_group_rules(&nodes);
        let rows: Vec<(Direction, &str, u16, u16, String)> =
            rules.iter().map(|r| (r.direction, r.protocol, r.from_port, r.to_port, r.cidr.to_string())).collect();
        assert_eq!(
            rows,
            [
                (Direction::Ingress, "udp", 8472, 8472, "10.80.0.0/16".to_string()),
                (Direction::Ingress, "udp", 8472, 8472, "10.81.0.0/16".to_string()),
                (Direction::Egress, "udp", 8472, 8472, "10.80.0.0/16".to_string()),
                (Direction::Egress, "udp", 8472, 8472, "10.81.0.0/16".to_string()),
            ]
        );
        assert!(rules.iter().all(|r| r.description.starts_with("hybridnet: VXLAN")), "{rules:?}");

        let ips = [Ipv4Addr::new(10, 0, 1, 5), Ipv4Addr::new(10, 0, 2, 6)];
        let fw = gateway_firewall_rules(&nets(&["10.80.0.0/16"]), Some(&ips));
        let rows: Vec<(&str, &str, u16, &str, &str)> =
            fw.iter().map(|r| (r.direction, r.protocol, r.port, r.source.as_str(), r.destination.as_str())).collect();
        assert_eq!(
            rows,
            [
                ("outbound", "udp", 8472, "10.80.0.0/16", "10.0.1.5/32"),
                ("outbound", "udp", 8472, "10.80.0.0/16", "10.0.2.6/32"),
                ("inbound", "udp", 8472, "10.0.1.5/32", "10.80.0.0/16"),
                ("inbound", "udp", 8472, "10.0.2.6/32", "10.80.0.0/16"),
            ]
        );
        let placeholder = gateway_firewall_rules(&nets(&["10.80.0.0/16"]), None);
        assert_eq!(placeholder[0].destination, GATEWAY_NODE_IPS);
        assert_eq!(placeholder[1].source, GATEWAY_NODE_IPS);
    }

    #[test]
    fn routes_for_nodes_and_routable_pods() {
        let nodes = nets(&["10.80.0.0/16", "10.81.0.0/16"]);
        let pods = nets(&["10.85.0.0/16"]);
        let route = |s: &str, network| VpcRoute { destination_cidr: net(s), network };
        assert_eq!(
            vpc_routes(&nodes, &pods, true),
            [
                route("10.80.0.0/16", Network::Node),
                route("10.81.0.0/16", Network::Node),
                route("10.85.0.0/16", Network::Pod)
            ]
        );
        assert_eq!(
            vpc_routes(&nodes, &pods, false),
            [route("10.80.0.0/16", Network::Node), route("10.81.0.0/16", Network::Node)]
        );
        assert_eq!(vpc_routes(&[], &pods, false), []);
        // Repeated destinations give one route.
        assert_eq!(
            vpc_routes(&nets(&["10.80.0.0/16", "10.80.0.0/16"]), &nets(&["10.80.0.0/16"]), true),
            [route("10.80.0.0/16", Network::Node)]
        );
    }

    fn sg(direction: Direction, port: u16, cidr: &str, network: Network, description: &str) -> SecurityGroupRule {
        SecurityGroupRule {
            direction,
            protocol: "tcp",
            from_port: port,
            to_port: port,
            cidr: net(cidr),
            network,
            description: format!("hybridnet: {description}"),
        }
    }

    #[test]
    fn security_group_rules_routable() {
        let rules = cluster_security_group_rules(
            &nets(&["10.80.0.0/16"]),
            &nets(&["10.85.0.0/16", "10.86.0.0/16"]),
            true,
            &[443, 9443, 443],
        );
        use Direction::{Egress, Ingress};
        use Network::{Node, Pod};
        let kubelet = "kubelet on hybrid nodes to Kubernetes API server";
        let pods = "pods on hybrid nodes to Kubernetes API server";
        let api = "Kubernetes API server to kubelet on hybrid nodes";
        let hook = "Kubernetes API server to webhooks on hybrid nodes on port";
        assert_eq!(
            rules,
            [
                sg(Ingress, 443, "10.80.0.0/16", Node, &format!("{kubelet}, remote node CIDR 10.80.0.0/16")),
                sg(Ingress, 443, "10.85.0.0/16", Pod, &format!("{pods}, remote pod CIDR 10.85.0.0/16")),
                sg(Ingress, 443, "10.86.0.0/16", Pod, &format!("{pods}, remote pod CIDR 10.86.0.0/16")),
                sg(Egress, 10250, "10.80.0.0/16", Node, &format!("{api}, remote node CIDR 10.80.0.0/16")),
                sg(Egress, 443, "10.85.0.0/16", Pod, &format!("{hook} 443, remote pod CIDR 10.85.0.0/16")),
                sg(Egress, 443, "10.86.0.0/16", Pod, &format!("{hook} 443, remote pod CIDR 10.86.0.0/16")),
                sg(Egress, 9443, "10.85.0.0/16", Pod, &format!("{hook} 9443, remote pod CIDR 10.85.0.0/16")),
                sg(Egress, 9443, "10.86.0.0/16", Pod, &format!("{hook} 9443, remote pod CIDR 10.86.0.0/16")),
            ]
        );
        assert!(rules.iter().all(|r| r.description.starts_with("hybridnet: ")));
        assert_eq!(rules[0].direction.as_str(), "ingress");
        assert_eq!(rules[3].direction.to_string(), "egress");
    }

    #[test]
    fn security_group_rules_unroutable_pods() {
        let rules = cluster_security_group_rules(&nets(&["10.80.0.0/16"]), &nets(&["10.85.0.0/16"]), false, &[9443]);
        let got: Vec<(Direction, u16, String)> =
            rules.iter().map(|r| (r.direction, r.from_port, r.cidr.to_string())).collect();
        assert_eq!(
            got,
            [
                (Direction::Ingress, 443, "10.80.0.0/16".to_string()),
                (Direction::Egress, 10250, "10.80.0.0/16".to_string())
            ]
        );
    }

    #[test]
    fn security_group_descriptions_fit_ec2() {
        let rules = cluster_security_group_rules(
            &nets(&["255.255.255.255/32", "0.0.0.0/0"]),
            &nets(&["192.168.100.128/25"]),
            true,
            &[65535, 0, 1],
        );
        assert_eq!(rules.len(), 2 + 1 + 2 + 3);
        for r in &rules {
            assert!(r.description.starts_with("hybridnet: "), "{}", r.description);
            assert!(r.description.contains(&r.cidr.to_string()), "{}", r.description);
            assert!(r.description.len() <= MAX_SG_DESCRIPTION_LEN);
            assert!(r.description.chars().all(|c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=;{}!$*".contains(c)));
        }
        assert_eq!(sg_description("a'b\"c&d é"), "a b c d  ");
        assert_eq!(sg_description(&"x".repeat(300)).len(), 255);
    }

    fn fw(
        direction: &'static str,
        protocol: &'static str,
        port: u16,
        source: &str,
        destination: &str,
        usage: &str,
    ) -> FirewallRule {
        FirewallRule {
            direction,
            protocol,
            port,
            source: source.to_string(),
            destination: destination.to_string(),
            usage: usage.to_string(),
        }
    }

    const SSM: &str = "SSM hybrid activations credential refresh and SSM heartbeats every 5 minutes, only required if \
                       you are using AWS SSM hybrid activations for your on-premises IAM credential provider";
    const IAMRA: &str = "IAM Roles Anywhere credential refresh, only required if you are using AWS IAM Roles Anywhere \
                         for your on-premises IAM credential provider";
    const DNS: &str = "Pod to CoreDNS. If you run at least 1 replica of CoreDNS in the cloud, you must allow DNS \
                       traffic to the VPC where CoreDNS is running.";
    const AUTH: &str = "Node to Amazon EKS Auth endpoint, only required for Amazon EKS Pod Identity";

    #[test]
    fn firewall_rules_routable_with_eks_ips() {
        let ips = [Ipv4Addr::new(10, 0, 1, 10), Ipv4Addr::new(10, 0, 2, 20)];
        let rules =
            onprem_firewall_rules(&nets(&["192.168.10.0/24"]), &nets(&["192.168.64.0/18"]), true, &[9443], Some(&ips));
        let (n, p, a, b) = ("192.168.10.0/24", "192.168.64.0/18", "10.0.1.10/32", "10.0.2.20/32");
        assert_eq!(
            rules,
            [
                fw("outbound", "tcp", 443, n, a, "kubelet to Kubernetes API server"),
                fw("outbound", "tcp", 443, n, b, "kubelet to Kubernetes API server"),
                fw("outbound", "tcp", 443, p, a, "Pod to Kubernetes API server"),
                fw("outbound", "tcp", 443, p, b, "Pod to Kubernetes API server"),
                fw("outbound", "tcp", 443, n, "AWS SSM endpoints", SSM),
                fw("outbound", "tcp", 443, n, "AWS IAM Roles Anywhere endpoints", IAMRA),
                fw("outbound", "tcp", 443, p, "AWS STS endpoint", "Pod to STS endpoint, only required for IRSA"),
                fw("outbound", "tcp", 443, n, "Amazon EKS Auth endpoint", AUTH),
                fw("inbound", "tcp", 10250, a, n, "Kubernetes API server to kubelet"),
                fw("inbound", "tcp", 10250, b, n, "Kubernetes API server to kubelet"),
                fw("inbound", "tcp", 9443, a, p, "Kubernetes API server to webhooks"),
                fw("inbound", "tcp", 9443, b, p, "Kubernetes API server to webhooks"),
                fw("inbound", "tcp", 53, p, p, DNS),
                fw("outbound", "tcp", 53, p, p, DNS),
                fw("inbound", "udp", 53, p, p, DNS),
                fw("outbound", "udp", 53, p, p, DNS),
            ]
        );
    }

    #[test]
    fn firewall_rules_unroutable_with_placeholder() {
        let rules = onprem_firewall_rules(
            &nets(&["192.168.10.0/24"]),
            &nets(&["10.85.0.0/16", "10.86.0.0/16"]),
            false,
            &[9443],
            None,
        );
        let (n, p, q, e) = ("192.168.10.0/24", "10.85.0.0/16", "10.86.0.0/16", "EKS cluster IPs");
        let mut expected = vec![
            fw("outbound", "tcp", 443, n, e, "kubelet to Kubernetes API server"),
            fw("outbound", "tcp", 443, n, "AWS SSM endpoints", SSM),
            fw("outbound", "tcp", 443, n, "AWS IAM Roles Anywhere endpoints", IAMRA),
            fw(
                "outbound",
                "tcp",
                443,
                n,
                "AWS STS endpoint",
                "Pod to STS endpoint (pod traffic is masqueraded to node IPs), only required for IRSA",
            ),
            fw("outbound", "tcp", 443, n, "Amazon EKS Auth endpoint", AUTH),
            fw("inbound", "tcp", 10250, e, n, "Kubernetes API server to kubelet"),
        ];
        for (s, d) in [(p, p), (p, q), (q, p), (q, q)] {
            for proto in ["tcp", "udp"] {
                for dir in ["inbound", "outbound"] {
                    expected.push(fw(dir, proto, 53, s, d, DNS));
                }
            }
        }
        assert_eq!(rules, expected);
        // An empty list of EKS IPs is treated as unknown, not as "no rows".
        assert_eq!(
            onprem_firewall_rules(&nets(&["192.168.10.0/24"]), &[], false, &[], Some(&[])),
            onprem_firewall_rules(&nets(&["192.168.10.0/24"]), &[], false, &[], None)
        );
    }

    #[test]
    fn firewall_rules_without_networks() {
        assert_eq!(onprem_firewall_rules(&[], &[], true, &[443], None), []);
    }
}
