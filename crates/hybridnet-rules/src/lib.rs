//! The networking rules of Amazon EKS Hybrid Nodes, as pure functions.
//!
//! Everything here follows the AWS guide "Prepare networking for hybrid nodes"
//! (kept as `shared/reference/eks-hybrid-nodes-networking.md`):
//!
//! - [`parse_ipv4_cidr`]: strict parsing of `a.b.c.d/n` with errors that say how to fix
//!   the input ([`CidrError`]).
//! - [`validate_remote_cidrs`]: the rules on the on-premises node and pod CIDRs
//!   (`RemoteNodeNetwork` / `RemotePodNetwork`): inside RFC 1918, prefix /8 to /32, no
//!   overlap with each other, the VPC or the Kubernetes service CIDR. It runs in
//!   O(n log n) for n CIDRs ([`Violation`]).
//! - [`vpc_routes`], [`cluster_security_group_rules`], [`onprem_firewall_rules`]: what the
//!   VPC route tables, the EKS cluster security group and the on-premises firewall need.
//! - [`unroutable_pod_warnings`]: what an unroutable pod network gives up;
//!   [`webhook_ports_warning`]: webhook ports that unroutable pods make useless.
//! - [`subnets_sharing_a_zone`]: a transit gateway attachment takes one subnet per zone.
//! - [`NodeCredentialProvider`]: nodeadm's credential providers and the VPC endpoints
//!   each needs in a private cluster.
//!
//! The module does no I/O and never panics, whatever its input.

// Every input here is user data: enforce the no-panic rule mechanically under clippy.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]
#![warn(missing_docs)]

mod attachment;
mod credentials;
mod index;
mod mode;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod oracle;
mod parse;
mod tables;
mod validate;
mod warnings;

use std::fmt;
use std::net::Ipv4Addr;

pub use ipnet::Ipv4Net;

pub use attachment::{subnets_sharing_a_zone, SharedZone};
pub use credentials::NodeCredentialProvider;
pub use mode::{PodNetworkMode, VXLAN_PORT};
pub use parse::{parse_ipv4_cidr, CidrError};
pub use tables::{
    cluster_security_group_rules, gateway_firewall_rules, gateway_security_group_rules, onprem_firewall_rules,
    vpc_routes, Direction, FirewallRule, SecurityGroupRule, VpcRoute, AWS_IAM_ROLES_ANYWHERE_ENDPOINTS,
    AWS_SSM_ENDPOINTS, AWS_STS_ENDPOINT, EKS_AUTH_ENDPOINT, EKS_CLUSTER_IPS, GATEWAY_NODE_IPS, MAX_SG_DESCRIPTION_LEN,
};
pub use validate::{validate_remote_cidrs, RemoteCidr, Violation, ViolationKind, MAX_REMOTE_PREFIX, MIN_REMOTE_PREFIX};
pub use warnings::{unroutable_pod_warnings, webhook_ports_warning, Cni, Warning};

/// Which list a remote CIDR came from.
///
/// `Node` is `remote_node_cidrs` (EKS `RemoteNodeNetwork`), `Pod` is `remote_pod_cidrs`
/// (EKS `RemotePodNetwork`). Node sorts before pod: that is the "list order" the
/// overlap rule uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// On-premises node CIDRs.
    Node,
    /// On-premises pod CIDRs.
    Pod,
}

/// How a caller names the list of each network in messages (a Terraform provider
/// passes its attribute names, e.g. `remote_pod_cidrs`); the rules know no schema.
pub type ListName = fn(Network) -> &'static str;

/// The neutral naming: `node CIDRs`, `pod CIDRs`.
pub fn plain_list_name(network: Network) -> &'static str {
    match network {
        Network::Node => "node CIDRs",
        Network::Pod => "pod CIDRs",
    }
}

impl Network {
    /// The short name used in computed results: `node` or `pod`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Network::Node => "node",
            Network::Pod => "pod",
        }
    }

    /// Human wording for messages: `remote node` or `remote pod`.
    fn noun(&self) -> &'static str {
        match self {
            Network::Node => "remote node",
            Network::Pod => "remote pod",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 10.0.0.0/8.
const TEN: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8);
/// The three IPv4 private ranges of RFC 1918, in address order.
const RFC1918: [Ipv4Net; 3] = [
    TEN,
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
];
/// EKS's service CIDR when the VPC uses 10.0.0.0/8.
const SERVICE_CIDR_WHEN_TEN: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(172, 20, 0, 0), 16);
/// EKS's service CIDR otherwise.
const SERVICE_CIDR_OTHERWISE: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(10, 100, 0, 0), 16);

/// The RFC 1918 private IPv4 ranges: 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16.
///
/// This is the default set of ranges remote node and pod CIDRs must lie in.
pub fn rfc1918() -> Vec<Ipv4Net> {
    RFC1918.to_vec()
}

/// The Kubernetes service CIDR EKS picks when `service_cidr` is omitted:
/// 172.20.0.0/16 when any VPC CIDR lies within 10.0.0.0/8, else 10.100.0.0/16.
pub fn default_service_cidr(vpc_cidrs: &[Ipv4Net]) -> Ipv4Net {
    if vpc_cidrs.iter().any(|c| contains(&TEN, c)) {
        SERVICE_CIDR_WHEN_TEN
    } else {
        SERVICE_CIDR_OTHERWISE
    }
}

/// The number of addresses in `cidrs`, added up (a /24 counts 256).
///
/// Overlaps are not removed: validated remote lists do not overlap. Saturates at
/// `u64::MAX`, which no realistic input reaches.
pub fn address_count(cidrs: &[Ipv4Net]) -> u64 {
    cidrs.iter().fold(0u64, |sum, c| sum.saturating_add(size(c)))
}

/// Whether the two blocks share at least one address. Two CIDR blocks overlap exactly
/// when one contains the other.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    first(a) <= last(b) && first(b) <= last(a)
}

/// Whether `outer` contains every address of `inner` (host bits are ignored).
pub fn contains(outer: &Ipv4Net, inner: &Ipv4Net) -> bool {
    first(outer) <= first(inner) && last(inner) <= last(outer)
}

/// The first address of a block, as a number (host bits ignored).
fn first(n: &Ipv4Net) -> u32 {
    u32::from(n.network())
}

/// The last address of a block, as a number.
fn last(n: &Ipv4Net) -> u32 {
    u32::from(n.broadcast())
}

/// The number of addresses in a block: 2^(32 - prefix), from 1 to 2^32.
fn size(n: &Ipv4Net) -> u64 {
    u64::from(last(n) - first(n)) + 1
}

/// Whether `ranges` is exactly the RFC 1918 set (in any order, duplicates allowed).
fn is_rfc1918(ranges: &[Ipv4Net]) -> bool {
    let mut given: Vec<Ipv4Net> = ranges.iter().map(Ipv4Net::trunc).collect();
    given.sort_unstable();
    given.dedup();
    given == RFC1918
}

/// "a, b or c" (or "a" / "a or b"); `none` when empty.
fn join_or(items: &[Ipv4Net], none: &str) -> String {
    match items {
        [] => none.to_string(),
        [only] => only.to_string(),
        [init @ .., tail] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} or {tail}", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn rfc1918_ranges() {
        let r: Vec<String> = rfc1918().iter().map(ToString::to_string).collect();
        assert_eq!(r, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
        assert!(is_rfc1918(&rfc1918()));
        assert!(is_rfc1918(&[net("192.168.0.0/16"), net("10.0.0.0/8"), net("172.16.0.0/12"), net("10.0.0.0/8")]));
        assert!(!is_rfc1918(&[net("10.0.0.0/8")]));
        assert!(!is_rfc1918(&[]));
    }

    #[test]
    fn default_service_cidr_with_vpc_in_ten() {
        assert_eq!(default_service_cidr(&[net("10.0.0.0/16")]), net("172.20.0.0/16"));
        assert_eq!(default_service_cidr(&[net("192.168.0.0/16"), net("10.200.0.0/24")]), net("172.20.0.0/16"));
        assert_eq!(default_service_cidr(&[net("10.0.0.0/8")]), net("172.20.0.0/16"));
    }

    #[test]
    fn default_service_cidr_otherwise() {
        assert_eq!(default_service_cidr(&[]), net("10.100.0.0/16"));
        assert_eq!(default_service_cidr(&[net("192.168.0.0/16")]), net("10.100.0.0/16"));
        assert_eq!(default_service_cidr(&[net("172.31.0.0/16"), net("100.64.0.0/16")]), net("10.100.0.0/16"));
        // Overlapping 10.0.0.0/8 without lying in it does not count.
        assert_eq!(default_service_cidr(&[net("8.0.0.0/6")]), net("10.100.0.0/16"));
    }

    #[test]
    fn address_counts() {
        assert_eq!(address_count(&[]), 0);
        assert_eq!(address_count(&[net("10.0.0.0/24")]), 256);
        assert_eq!(address_count(&[net("10.0.0.0/24"), net("10.0.1.0/32"), net("10.1.0.0/16")]), 256 + 1 + 65536);
        assert_eq!(address_count(&[net("0.0.0.0/0"), net("0.0.0.0/0")]), 1 << 33);
    }

    #[test]
    fn overlap_and_containment() {
        assert!(overlaps(&net("10.0.0.0/8"), &net("10.1.2.0/24")));
        assert!(overlaps(&net("10.1.2.0/24"), &net("10.0.0.0/8")));
        assert!(overlaps(&net("10.1.2.0/24"), &net("10.1.2.0/24")));
        assert!(!overlaps(&net("10.1.2.0/24"), &net("10.1.3.0/24")));
        assert!(contains(&net("0.0.0.0/0"), &net("255.255.255.255/32")));
        assert!(!contains(&net("10.1.2.0/24"), &net("10.0.0.0/8")));
    }

    #[test]
    fn network_names() {
        assert_eq!(plain_list_name(Network::Pod), "pod CIDRs");
        assert_eq!(Network::Node.as_str(), "node");
        assert_eq!(Network::Pod.to_string(), "pod");
        assert!(Network::Node < Network::Pod);
    }

    #[test]
    fn join_or_wording() {
        assert_eq!(join_or(&[], "nothing"), "nothing");
        assert_eq!(join_or(&[net("10.0.0.0/8")], ""), "10.0.0.0/8");
        assert_eq!(join_or(&rfc1918(), ""), "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16");
    }
}
