//! The rules of [`validate_remote_cidrs`](super::validate_remote_cidrs), checked pair
//! by pair in O(n²) straight from their definitions, with ipnet's own containment
//! test. It is the reference that the property tests and the `cidr_validate` fuzz
//! target compare the O(n log n) implementation against; it is compiled only for
//! those (`cfg(test)` or `cfg(fuzzing)`), never into the provider.

use super::{Ipv4Net, RemoteCidr, Violation, ViolationKind};

/// Whether the two blocks share an address (host bits ignored).
fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.trunc().contains(&b.trunc()) || b.trunc().contains(&a.trunc())
}

/// Every violation, in the order `validate_remote_cidrs` reports them: entries in list
/// order (node entries by index, then pod entries by index), and per entry the rules in
/// the order outside-allowed, prefix, remote overlap, VPC overlap, service overlap.
pub fn brute_force(
    remote: &[RemoteCidr],
    vpc: &[(usize, Ipv4Net)],
    service: Option<Ipv4Net>,
    allowed: &[Ipv4Net],
) -> Vec<Violation> {
    let mut listed: Vec<RemoteCidr> = remote.to_vec();
    listed.sort_by_key(|r| (r.network, r.index));
    let mut out = Vec::new();
    for (i, r) in listed.iter().enumerate() {
        let v = |kind| Violation { network: r.network, index: r.index, cidr: r.cidr, kind };
        if !allowed.iter().any(|a| a.trunc().contains(&r.cidr.trunc())) {
            out.push(v(ViolationKind::OutsideAllowed { allowed: allowed.to_vec() }));
        }
        if r.cidr.prefix_len() < super::MIN_REMOTE_PREFIX {
            out.push(v(ViolationKind::PrefixOutOfRange));
        }
        if let Some(o) = listed.iter().take(i).find(|o| overlaps(&o.cidr, &r.cidr)) {
            out.push(v(ViolationKind::OverlapsRemote {
                other_network: o.network,
                other_index: o.index,
                other: o.cidr,
            }));
        }
        if let Some(&(vpc_index, vpc)) = vpc.iter().find(|(_, n)| overlaps(n, &r.cidr)) {
            out.push(v(ViolationKind::OverlapsVpc { vpc_index, vpc }));
        }
        if let Some(service) = service.filter(|s| overlaps(s, &r.cidr)) {
            out.push(v(ViolationKind::OverlapsService { service }));
        }
    }
    out
}
