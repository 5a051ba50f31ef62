//! The rules on remote node and pod CIDRs.
//!
//! From the reference: the on-premises node and pod CIDR blocks must be within one of the
//! RFC 1918 ranges (or the caller's `allowed` ranges), and must not overlap each other,
//! the VPC CIDR of the cluster, or the Kubernetes service IPv4 CIDR. Prefix lengths must
//! be from /8 to /32.

use super::index::{first_overlapping, OverlapIndex};
use super::{contains, is_rfc1918, join_or, size, Ipv4Net, ListName, Network};

/// The shortest prefix length a remote CIDR may have.
pub const MIN_REMOTE_PREFIX: u8 = 8;
/// The longest prefix length a remote CIDR may have.
pub const MAX_REMOTE_PREFIX: u8 = 32;

/// One entry of `remote_node_cidrs` or `remote_pod_cidrs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemoteCidr {
    /// Which list the entry is in.
    pub network: Network,
    /// Its position in that list (entries with unknown values may be left out, so the
    /// indexes need not be contiguous).
    pub index: usize,
    /// Its value.
    pub cidr: Ipv4Net,
}

/// A broken rule, attached to the remote CIDR that breaks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The list of the offending entry.
    pub network: Network,
    /// The offending entry's index in that list.
    pub index: usize,
    /// The offending entry's value.
    pub cidr: Ipv4Net,
    /// Which rule it breaks.
    pub kind: ViolationKind,
}

/// The rules a remote CIDR can break, in the order violations are reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// Not wholly inside any of the allowed ranges (by default RFC 1918).
    OutsideAllowed {
        /// The allowed ranges, as given.
        allowed: Vec<Ipv4Net>,
    },
    /// The prefix length is not from /8 to /32.
    PrefixOutOfRange,
    /// Overlaps (or duplicates) another remote CIDR listed before it: node entries come
    /// first by index, then pod entries. Names the earliest-listed such entry.
    OverlapsRemote {
        /// The list of the entry it collides with.
        other_network: Network,
        /// That entry's index.
        other_index: usize,
        /// That entry's value.
        other: Ipv4Net,
    },
    /// Overlaps a CIDR of the cluster's VPC (the earliest such in the given list).
    OverlapsVpc {
        /// The VPC CIDR's index, as given by the caller.
        vpc_index: usize,
        /// The VPC CIDR.
        vpc: Ipv4Net,
    },
    /// Overlaps the Kubernetes service IPv4 CIDR.
    OverlapsService {
        /// The service CIDR.
        service: Ipv4Net,
    },
}

/// Checks the remote node and pod CIDRs against every rule and returns all violations.
///
/// - `remote`: the entries of both lists, in any order.
/// - `vpc`: the VPC's CIDRs with the index each is reported under.
/// - `service`: the Kubernetes service CIDR, when known.
/// - `allowed`: the ranges remote CIDRs must lie in, usually [`rfc1918`](super::rfc1918).
///
/// An entry gets at most one violation of each kind. For overlaps between remote
/// entries, the entries are put in list order (all node entries by index, then all pod
/// entries by index): an entry is reported iff it overlaps an entry listed before it,
/// naming the earliest-listed one, so the first entry of an overlapping group is never
/// reported. A VPC overlap names the earliest overlapping CIDR in `vpc`.
///
/// Violations come ordered by network (node, then pod), index, then kind in the order
/// of [`ViolationKind`]'s variants. Runs in O(n log n) for n remote, VPC and allowed
/// CIDRs together (no pairwise scan). Host bits in the given blocks are ignored.
pub fn validate_remote_cidrs(
    remote: &[RemoteCidr],
    vpc: &[(usize, Ipv4Net)],
    service: Option<Ipv4Net>,
    allowed: &[Ipv4Net],
) -> Vec<Violation> {
    // List order; ties (the same entry given twice) keep the input order.
    let mut listed: Vec<&RemoteCidr> = remote.iter().collect();
    listed.sort_by_key(|r| (r.network, r.index));

    let cidrs: Vec<Ipv4Net> = listed.iter().map(|r| r.cidr).collect();
    let first_overlapping = first_overlapping(&cidrs);
    let vpcs = OverlapIndex::new(vpc.iter().enumerate().map(|(pos, &(_, net))| (net, pos)));
    let allowed_index = OverlapIndex::new(allowed.iter().map(|&net| (net, 0)));

    let mut violations = Vec::new();
    for (rank, r) in listed.iter().enumerate() {
        let mut report = |kind| violations.push(Violation { network: r.network, index: r.index, cidr: r.cidr, kind });

        if allowed_index.min_containing(&r.cidr).is_none() {
            report(ViolationKind::OutsideAllowed { allowed: allowed.to_vec() });
        }
        if !(MIN_REMOTE_PREFIX..=MAX_REMOTE_PREFIX).contains(&r.cidr.prefix_len()) {
            report(ViolationKind::PrefixOutOfRange);
        }
        // The first overlapping entry is the entry itself when none before it overlaps.
        let earliest = first_overlapping.get(rank).copied().filter(|&first| first < rank);
        if let Some(other) = earliest.and_then(|first| listed.get(first)) {
            report(ViolationKind::OverlapsRemote {
                other_network: other.network,
                other_index: other.index,
                other: other.cidr,
            });
        }
        if let Some(&(vpc_index, vpc)) = vpcs.min_overlapping(&r.cidr).and_then(|pos| vpc.get(pos)) {
            report(ViolationKind::OverlapsVpc { vpc_index, vpc });
        }
        if let Some(service) = service.filter(|s| super::overlaps(s, &r.cidr)) {
            report(ViolationKind::OverlapsService { service });
        }
    }
    violations
}

/// `remote_pod_cidrs[1] (10.80.0.0/16)`, with the list named by `name`.
fn entry(name: ListName, network: Network, index: usize, cidr: &Ipv4Net) -> String {
    format!("{}[{index}] ({cidr})", name(network))
}

impl Violation {
    /// This entry as `remote_pod_cidrs[1] (10.80.0.0/16)`, the list named by `name`.
    pub fn entry(&self, name: ListName) -> String {
        entry(name, self.network, self.index, &self.cidr)
    }

    /// One line naming the entry and what it breaks or collides with.
    pub fn summary(&self, name: ListName) -> String {
        let this = self.entry(name);
        match &self.kind {
            ViolationKind::OutsideAllowed { allowed } if is_rfc1918(allowed) => {
                format!("{this} is not within an RFC 1918 private range")
            }
            ViolationKind::OutsideAllowed { .. } => format!("{this} is outside the allowed ranges"),
            ViolationKind::PrefixOutOfRange => format!(
                "{this} has prefix length /{}, outside /{MIN_REMOTE_PREFIX} to /{MAX_REMOTE_PREFIX}",
                self.cidr.prefix_len()
            ),
            ViolationKind::OverlapsRemote { other_network, other_index, other } => {
                let verb = if same_block(&self.cidr, other) { "duplicates" } else { "overlaps" };
                format!("{this} {verb} {}", entry(name, *other_network, *other_index, other))
            }
            ViolationKind::OverlapsVpc { vpc, .. } => format!("{this} overlaps the VPC CIDR {vpc}"),
            ViolationKind::OverlapsService { service } => {
                format!("{this} overlaps the Kubernetes service CIDR {service}")
            }
        }
    }

    /// Why the rule exists and how to fix the entry (other entries named by `name`).
    pub fn detail(&self, name: ListName) -> String {
        let cidr = self.cidr;
        let noun = self.network.noun();
        match &self.kind {
            ViolationKind::OutsideAllowed { allowed } => {
                let rule = if is_rfc1918(allowed) {
                    format!(
                        "EKS Hybrid Nodes require every remote node and pod CIDR to lie wholly within one of the \
                         IPv4 RFC 1918 private ranges {}.",
                        join_or(allowed, "")
                    )
                } else if allowed.is_empty() {
                    return format!(
                        "No allowed ranges were given, so no {noun} CIDR can be accepted. \
                         Allow at least one range (by default the RFC 1918 private ranges)."
                    );
                } else {
                    format!(
                        "Every remote node and pod CIDR must lie wholly within one of the allowed ranges {}.",
                        join_or(allowed, "")
                    )
                };
                match allowed.iter().find(|a| contains(&cidr, a)) {
                    Some(inner) => format!(
                        "{rule} {cidr} is larger than {inner} and extends beyond it: use a longer prefix so the \
                         block fits inside {inner}."
                    ),
                    None => format!("{rule} Pick a {noun} range inside one of them that {cidr} does not cover."),
                }
            }
            ViolationKind::PrefixOutOfRange => format!(
                "Remote node and pod CIDRs must have a prefix length from /{MIN_REMOTE_PREFIX} to \
                 /{MAX_REMOTE_PREFIX}. {cidr} spans {} addresses, more than a /{MIN_REMOTE_PREFIX}: \
                 split it into blocks of /{MIN_REMOTE_PREFIX} or longer and list only those you use.",
                size(&cidr)
            ),
            ViolationKind::OverlapsRemote { other_network, other_index, other } => {
                let them = entry(name, *other_network, *other_index, other);
                let me = entry(name, self.network, self.index, &cidr);
                let same_list = *other_network == self.network;
                let rule = "Remote node and pod CIDRs must not overlap each other (duplicates included).";
                if same_block(&cidr, other) {
                    if same_list {
                        format!("{rule} {cidr} is already listed as {them}: remove the duplicate entry {me}.")
                    } else {
                        format!(
                            "{rule} {cidr} is listed both as a remote node and as a remote pod network ({them}): \
                             remove {me}, or pick a {noun} range outside {other}."
                        )
                    }
                } else if contains(other, &cidr) {
                    let fix = if same_list {
                        format!("remove {me}, since {them} already covers it")
                    } else {
                        format!("pick a {noun} range outside {other}")
                    };
                    format!("{rule} {cidr} lies inside {them}: {fix}.")
                } else {
                    let fix = if same_list {
                        format!("remove {them}, since {cidr} already covers it")
                    } else {
                        format!("pick a {noun} range that does not include {other}")
                    };
                    format!("{rule} {cidr} contains {them}: {fix}.")
                }
            }
            ViolationKind::OverlapsVpc { vpc, .. } => format!(
                "On-premises node and pod CIDRs must not overlap the CIDRs of the cluster's VPC: traffic to \
                 those addresses would stay in the VPC instead of reaching your on-premises network. \
                 Pick a {noun} range outside {vpc}."
            ),
            ViolationKind::OverlapsService { service } => format!(
                "On-premises node and pod CIDRs must not overlap the cluster's Kubernetes service IPv4 CIDR, \
                 from which ClusterIP services get their addresses. Pick a {noun} range outside {service}, \
                 or use a different service IPv4 CIDR (EKS only takes it when the cluster is created)."
            ),
        }
    }
}

/// Whether two blocks cover the same addresses (host bits ignored).
fn same_block(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.trunc() == b.trunc()
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary(crate::plain_list_name))
    }
}

#[cfg(test)]
mod tests {
    use super::super::oracle::brute_force as oracle;
    use super::super::tests::net;
    use super::super::{overlaps, rfc1918};
    use super::*;
    use proptest::prelude::*;

    /// The provider's naming, as the messages read in Terraform.
    fn tf(n: Network) -> &'static str {
        match n {
            Network::Node => "remote_node_cidrs",
            Network::Pod => "remote_pod_cidrs",
        }
    }

    fn node(index: usize, s: &str) -> RemoteCidr {
        RemoteCidr { network: Network::Node, index, cidr: net(s) }
    }

    fn pod(index: usize, s: &str) -> RemoteCidr {
        RemoteCidr { network: Network::Pod, index, cidr: net(s) }
    }

    fn check(remote: &[RemoteCidr], vpc: &[&str], service: Option<&str>) -> Vec<Violation> {
        let vpc: Vec<(usize, Ipv4Net)> = vpc.iter().enumerate().map(|(i, s)| (i, net(s))).collect();
        validate_remote_cidrs(remote, &vpc, service.map(net), &rfc1918())
    }

    #[test]
    fn valid_input_has_no_violations() {
        let remote = [node(0, "10.80.0.0/16"), node(1, "192.168.10.0/24"), pod(0, "10.85.0.0/16")];
        assert_eq!(check(&remote, &["10.0.0.0/16"], Some("172.20.0.0/16")), []);
        assert_eq!(check(&[], &["10.0.0.0/16"], Some("172.20.0.0/16")), []);
        // /8 and /32 are both fine.
        assert_eq!(check(&[node(0, "10.0.0.0/8"), pod(0, "192.168.0.1/32")], &[], None), []);
    }

    #[test]
    fn outside_rfc1918() {
        let v = check(&[node(0, "10.80.0.0/16"), pod(0, "100.64.0.0/16")], &[], None);
        assert_eq!(
            v,
            [Violation {
                network: Network::Pod,
                index: 0,
                cidr: net("100.64.0.0/16"),
                kind: ViolationKind::OutsideAllowed { allowed: rfc1918() },
            }]
        );
        assert_eq!(v[0].summary(tf), "remote_pod_cidrs[0] (100.64.0.0/16) is not within an RFC 1918 private range");
        let detail = v[0].detail(tf);
        assert!(detail.contains("10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"), "{detail}");
        assert!(detail.contains("Pick a remote pod range inside one of them"), "{detail}");
    }

    #[test]
    fn partly_outside_rfc1918() {
        // 172.0.0.0/8 contains 172.16.0.0/12 but is not inside it.
        let v = check(&[node(3, "172.0.0.0/8")], &[], None);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].network, v[0].index, v[0].cidr), (Network::Node, 3, net("172.0.0.0/8")));
        assert!(matches!(v[0].kind, ViolationKind::OutsideAllowed { .. }));
        assert!(v[0].detail(tf).contains("172.0.0.0/8 is larger than 172.16.0.0/12"), "{}", v[0].detail(tf));
    }

    #[test]
    fn custom_allowed_ranges() {
        let allowed = [net("10.80.0.0/12"), net("100.64.0.0/10")];
        let remote = [node(0, "100.64.0.0/16"), node(1, "10.64.0.0/16"), pod(0, "10.80.0.0/16")];
        let v = validate_remote_cidrs(&remote, &[], None, &allowed);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].network, v[0].index), (Network::Node, 1));
        assert_eq!(v[0].kind, ViolationKind::OutsideAllowed { allowed: allowed.to_vec() });
        assert_eq!(v[0].summary(tf), "remote_node_cidrs[1] (10.64.0.0/16) is outside the allowed ranges");
        assert!(v[0].detail(tf).contains("allowed ranges 10.80.0.0/12 or 100.64.0.0/10"), "{}", v[0].detail(tf));

        // Nothing allowed: everything is outside. Everything allowed: nothing is.
        let v = validate_remote_cidrs(&remote, &[], None, &[]);
        assert_eq!(v.len(), 3);
        assert!(v[0].detail(tf).contains("No allowed ranges were given"), "{}", v[0].detail(tf));
        assert_eq!(validate_remote_cidrs(&remote, &[], None, &[net("0.0.0.0/0")]), []);
    }

    #[test]
    fn prefix_out_of_range() {
        let v = validate_remote_cidrs(&[pod(2, "8.0.0.0/6")], &[], None, &[net("0.0.0.0/0")]);
        assert_eq!(
            v,
            [Violation {
                network: Network::Pod,
                index: 2,
                cidr: net("8.0.0.0/6"),
                kind: ViolationKind::PrefixOutOfRange
            }]
        );
        assert_eq!(v[0].summary(tf), "remote_pod_cidrs[2] (8.0.0.0/6) has prefix length /6, outside /8 to /32");
        assert!(v[0].detail(tf).contains("67108864 addresses"), "{}", v[0].detail(tf));
        // With RFC 1918, such a block is outside too: both are reported, in kind order.
        let v = check(&[node(0, "0.0.0.0/0")], &[], None);
        let kinds: Vec<_> = v.iter().map(|v| std::mem::discriminant(&v.kind)).collect();
        assert_eq!(
            kinds,
            [
                std::mem::discriminant(&ViolationKind::OutsideAllowed { allowed: vec![] }),
                std::mem::discriminant(&ViolationKind::PrefixOutOfRange)
            ]
        );
    }

    #[test]
    fn node_and_pod_overlap() {
        let v = check(&[pod(0, "10.80.1.0/24"), node(0, "10.80.0.0/16")], &[], None);
        assert_eq!(
            v,
            [Violation {
                network: Network::Pod,
                index: 0,
                cidr: net("10.80.1.0/24"),
                kind: ViolationKind::OverlapsRemote {
                    other_network: Network::Node,
                    other_index: 0,
                    other: net("10.80.0.0/16")
                },
            }]
        );
        assert_eq!(v[0].summary(tf), "remote_pod_cidrs[0] (10.80.1.0/24) overlaps remote_node_cidrs[0] (10.80.0.0/16)");
        let detail = v[0].detail(tf);
        assert!(detail.contains("10.80.1.0/24 lies inside remote_node_cidrs[0] (10.80.0.0/16)"), "{detail}");
        assert!(detail.contains("pick a remote pod range outside 10.80.0.0/16"), "{detail}");
    }

    #[test]
    fn later_entry_containing_earlier_one() {
        // The pod entry is the larger block; it is still the one reported (listed later).
        let v = check(&[node(0, "10.80.1.0/24"), pod(0, "10.80.0.0/16")], &[], None);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].network, v[0].index), (Network::Pod, 0));
        assert!(v[0].detail(tf).contains("10.80.0.0/16 contains remote_node_cidrs[0] (10.80.1.0/24)"));
        assert!(v[0].detail(tf).contains("does not include 10.80.1.0/24"));
    }

    #[test]
    fn duplicates_in_one_list() {
        let v = check(&[node(0, "10.80.0.0/16"), node(1, "10.81.0.0/16"), node(2, "10.80.0.0/16")], &[], None);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].network, v[0].index, v[0].cidr), (Network::Node, 2, net("10.80.0.0/16")));
        assert_eq!(
            v[0].kind,
            ViolationKind::OverlapsRemote { other_network: Network::Node, other_index: 0, other: net("10.80.0.0/16") }
        );
        assert_eq!(
            v[0].summary(tf),
            "remote_node_cidrs[2] (10.80.0.0/16) duplicates remote_node_cidrs[0] (10.80.0.0/16)"
        );
        assert!(v[0].detail(tf).contains("remove the duplicate entry remote_node_cidrs[2]"), "{}", v[0].detail(tf));
    }

    #[test]
    fn redundant_entry_in_one_list() {
        let v = check(&[node(0, "10.80.0.0/16"), node(1, "10.80.4.0/22")], &[], None);
        assert_eq!(v.len(), 1);
        assert!(v[0].detail(tf).contains("remove remote_node_cidrs[1] (10.80.4.0/22), since remote_node_cidrs[0]"));
    }

    #[test]
    fn overlap_names_the_earliest_listed_entry() {
        // List order: node 0, node 1, node 5, pod 0, pod 1.
        let remote = [
            pod(1, "10.1.0.0/16"),
            node(5, "10.0.0.0/8"),
            node(1, "10.1.2.0/24"),
            pod(0, "192.168.0.0/24"),
            node(0, "10.2.0.0/16"),
        ];
        let v = check(&remote, &[], None);
        let got: Vec<(Network, usize, Network, usize)> = v
            .iter()
            .map(|v| match v.kind {
                ViolationKind::OverlapsRemote { other_network, other_index, .. } => {
                    (v.network, v.index, other_network, other_index)
                }
                ref k => panic!("unexpected {k:?}"),
            })
            .collect();
        // node 1 is disjoint from node 0; node 5 (10/8) overlaps both and names node 0;
        // pod 1 (10.1/16) overlaps node 1 (inside it) and node 5 (contains it): node 1 first.
        assert_eq!(got, [(Network::Node, 5, Network::Node, 0), (Network::Pod, 1, Network::Node, 1)]);
    }

    #[test]
    fn overlaps_vpc() {
        let v = check(&[node(0, "10.0.0.0/8"), pod(0, "192.168.0.0/16")], &["10.0.0.0/16", "10.1.0.0/16"], None);
        assert_eq!(
            v,
            [Violation {
                network: Network::Node,
                index: 0,
                cidr: net("10.0.0.0/8"),
                kind: ViolationKind::OverlapsVpc { vpc_index: 0, vpc: net("10.0.0.0/16") },
            }]
        );
        assert_eq!(v[0].summary(tf), "remote_node_cidrs[0] (10.0.0.0/8) overlaps the VPC CIDR 10.0.0.0/16");
        assert!(v[0].detail(tf).contains("Pick a remote node range outside 10.0.0.0/16"), "{}", v[0].detail(tf));

        // The VPC index is the caller's, and the earliest in the given list wins.
        let vpc = [(4, net("10.1.0.0/16")), (2, net("10.0.0.0/16"))];
        let v = validate_remote_cidrs(&[node(0, "10.0.0.0/8")], &vpc, None, &rfc1918());
        assert_eq!(v[0].kind, ViolationKind::OverlapsVpc { vpc_index: 4, vpc: net("10.1.0.0/16") });
        // A non-RFC 1918 VPC is fine.
        assert_eq!(check(&[node(0, "10.0.0.0/8")], &["100.64.0.0/16"], None), []);
    }

    #[test]
    fn overlaps_service() {
        let v = check(&[pod(0, "172.20.0.0/24")], &[], Some("172.20.0.0/16"));
        assert_eq!(
            v,
            [Violation {
                network: Network::Pod,
                index: 0,
                cidr: net("172.20.0.0/24"),
                kind: ViolationKind::OverlapsService { service: net("172.20.0.0/16") },
            }]
        );
        assert_eq!(
            v[0].summary(tf),
            "remote_pod_cidrs[0] (172.20.0.0/24) overlaps the Kubernetes service CIDR 172.20.0.0/16"
        );
        assert!(v[0].detail(tf).contains("Pick a remote pod range outside 172.20.0.0/16"), "{}", v[0].detail(tf));
    }

    #[test]
    fn all_kinds_in_order() {
        let remote = [node(0, "172.16.0.0/12"), pod(0, "172.0.0.0/8")];
        let v = check(&remote, &["172.31.0.0/16"], Some("172.20.0.0/16"));
        let kinds: Vec<(Network, &ViolationKind)> = v.iter().map(|v| (v.network, &v.kind)).collect();
        assert_eq!(
            kinds,
            [
                (Network::Node, &ViolationKind::OverlapsVpc { vpc_index: 0, vpc: net("172.31.0.0/16") }),
                (Network::Node, &ViolationKind::OverlapsService { service: net("172.20.0.0/16") }),
                (Network::Pod, &ViolationKind::OutsideAllowed { allowed: rfc1918() }),
                (
                    Network::Pod,
                    &ViolationKind::OverlapsRemote {
                        other_network: Network::Node,
                        other_index: 0,
                        other: net("172.16.0.0/12")
                    }
                ),
                (Network::Pod, &ViolationKind::OverlapsVpc { vpc_index: 0, vpc: net("172.31.0.0/16") }),
                (Network::Pod, &ViolationKind::OverlapsService { service: net("172.20.0.0/16") }),
            ]
        );
        for v in &v {
            assert!(v.summary(tf).starts_with(&v.entry(tf)), "{}", v.summary(tf));
            assert_eq!(v.to_string(), v.summary(crate::plain_list_name));
        }
    }

    #[test]
    fn scales_to_many_overlapping_entries() {
        // 100,000 copies of one block plus 100,000 nested blocks: stays fast.
        let mut remote: Vec<RemoteCidr> = (0..100_000).map(|i| node(i, "10.0.0.0/16")).collect();
        remote.extend((0..100_000u32).map(|i| RemoteCidr {
            network: Network::Pod,
            index: i as usize,
            cidr: Ipv4Net::new(std::net::Ipv4Addr::from(0x0a00_0000 | (i % 65_536)), 32).unwrap(),
        }));
        let vpc: Vec<(usize, Ipv4Net)> = (0..1000u32)
            .map(|i| (i as usize, Ipv4Net::new(std::net::Ipv4Addr::from(0x0a00_0000 | (i << 6)), 26).unwrap()))
            .collect();
        let v = validate_remote_cidrs(&remote, &vpc, Some(net("10.0.0.0/8")), &rfc1918());
        let remote_overlaps =
            v.iter().filter(|v| matches!(v.kind, ViolationKind::OverlapsRemote { other_index: 0, .. })).count();
        assert_eq!(remote_overlaps, 199_999);
        assert_eq!(v.iter().filter(|v| matches!(v.kind, ViolationKind::OverlapsService { .. })).count(), 200_000);
    }

    // ---- Properties -----------------------------------------------------------------

    /// Blocks crowded into 10.0.0.0/20 (so overlaps and duplicates are common), now and
    /// then anywhere with any prefix. Host bits are sometimes left set.
    fn block() -> impl Strategy<Value = Ipv4Net> {
        let addr = prop_oneof![
            8 => (0u32..4096).prop_map(|o| 0x0a00_0000 | o),
            1 => (0u32..4096).prop_map(|o| 0xc0a8_0000 | o),
            1 => any::<u32>(),
        ];
        let prefix = prop_oneof![8 => 17u8..=28, 1 => 0u8..=32];
        (addr, prefix, any::<bool>()).prop_map(|(a, p, keep_host_bits)| {
            let n = Ipv4Net::new(std::net::Ipv4Addr::from(a), p).unwrap_or_default();
            if keep_host_bits && a % 7 == 0 {
                n
            } else {
                n.trunc()
            }
        })
    }

    /// Node and pod entries with increasing, sometimes sparse indexes, shuffled.
    fn remotes() -> impl Strategy<Value = Vec<RemoteCidr>> {
        let list = || proptest::collection::vec((block(), 1usize..3), 0..24);
        (list(), list())
            .prop_map(|(nodes, pods)| {
                let mut out = Vec::new();
                for (network, items) in [(Network::Node, nodes), (Network::Pod, pods)] {
                    let mut index = 0;
                    for (cidr, step) in items {
                        out.push(RemoteCidr { network, index, cidr });
                        index += step;
                    }
                }
                out
            })
            .prop_shuffle()
    }

    fn allowed() -> impl Strategy<Value = Vec<Ipv4Net>> {
        prop_oneof![
            3 => Just(rfc1918()),
            1 => proptest::collection::vec(block(), 0..4),
        ]
    }

    fn vpcs() -> impl Strategy<Value = Vec<(usize, Ipv4Net)>> {
        proptest::collection::vec((0usize..10, block()), 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn agrees_with_brute_force(
            remote in remotes(),
            vpc in vpcs(),
            service in proptest::option::of(block()),
            allowed in allowed(),
        ) {
            let fast = validate_remote_cidrs(&remote, &vpc, service, &allowed);
            prop_assert_eq!(&fast, &oracle(&remote, &vpc, service, &allowed));
            for v in &fast {
                prop_assert!(v.summary(tf).contains(&v.cidr.to_string()));
                prop_assert!(!v.detail(tf).is_empty());
            }
        }

        #[test]
        fn first_of_each_overlapping_group_is_never_reported(remote in remotes()) {
            let v = validate_remote_cidrs(&remote, &[], None, &[Ipv4Net::default()]);
            let mut listed = remote.clone();
            listed.sort_by_key(|r| (r.network, r.index));
            for (i, r) in listed.iter().enumerate() {
                let earlier = listed[..i].iter().any(|o| overlaps(&o.cidr, &r.cidr));
                let reported = v
                    .iter()
                    .filter(|v| (v.network, v.index) == (r.network, r.index))
                    .filter(|v| matches!(v.kind, ViolationKind::OverlapsRemote { .. }))
                    .count();
                prop_assert_eq!(reported, usize::from(earlier));
            }
        }

        #[test]
        fn never_panics_on_any_blocks(
            remote in proptest::collection::vec(
                (any::<bool>(), any::<usize>(), any::<u32>(), 0u8..=32), 0..40),
            vpc in proptest::collection::vec((any::<usize>(), any::<u32>(), 0u8..=32), 0..8),
            service in proptest::option::of((any::<u32>(), 0u8..=32)),
            allowed in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..5),
        ) {
            let n = |a: u32, p: u8| Ipv4Net::new(a.into(), p).unwrap_or_default();
            let remote: Vec<RemoteCidr> = remote
                .into_iter()
                .map(|(pod, index, a, p)| RemoteCidr {
                    network: if pod { Network::Pod } else { Network::Node },
                    index,
                    cidr: n(a, p),
                })
                .collect();
            let vpc: Vec<(usize, Ipv4Net)> = vpc.into_iter().map(|(i, a, p)| (i, n(a, p))).collect();
            let allowed: Vec<Ipv4Net> = allowed.into_iter().map(|(a, p)| n(a, p)).collect();
            let service = service.map(|(a, p)| n(a, p));
            let fast = validate_remote_cidrs(&remote, &vpc, service, &allowed);
            for v in &fast {
                let _ = (v.summary(tf), v.detail(tf));
            }
            prop_assert_eq!(fast, oracle(&remote, &vpc, service, &allowed));
        }
    }
}
