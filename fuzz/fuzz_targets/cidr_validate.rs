//! `validate_remote_cidrs` on small arbitrary inputs. It must never panic (nor may
//! the messages), and it must agree with a brute-force pairwise check: first the
//! number of remote-remote overlaps (an entry is reported iff it overlaps an entry
//! listed before it, node entries by index then pod entries by index), then every
//! violation, of every kind, in order.

#![no_main]

use std::net::Ipv4Addr;

use arbitrary::Arbitrary;
use hybridnet_fuzz::cidr::{rfc1918, validate_remote_cidrs, Ipv4Net, Network, RemoteCidr, Violation, ViolationKind};
use libfuzzer_sys::fuzz_target;

/// A block from raw fuzz data. Addresses are mostly crowded into 10.0.0.0/16 and
/// 192.168.0.0/16 and prefixes into /16../32, so that overlaps, duplicates and
/// containment are common; host bits are left set now and then (they must be ignored).
#[derive(Arbitrary, Debug, Clone, Copy)]
struct RawNet {
    addr: u32,
    prefix: u8,
    keep_host_bits: bool,
}

impl RawNet {
    fn net(self) -> Ipv4Net {
        let addr = match self.addr >> 30 {
            0 | 1 => 0x0a00_0000 | (self.addr & 0xffff),
            2 => 0xc0a8_0000 | (self.addr & 0xffff),
            _ => self.addr,
        };
        let prefix = if self.prefix < 192 { 16 + self.prefix % 17 } else { self.prefix % 33 };
        let net = Ipv4Net::new(Ipv4Addr::from(addr), prefix).unwrap_or_default();
        if self.keep_host_bits {
            net
        } else {
            net.trunc()
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// (is a pod entry, index in its list, block).
    remote: Vec<(bool, u8, RawNet)>,
    vpc: Vec<(u8, RawNet)>,
    service: Option<RawNet>,
    /// `None` is RFC 1918, the provider's default.
    allowed: Option<Vec<RawNet>>,
}

const MAX_REMOTE: usize = 48;
const MAX_OTHERS: usize = 8;

fn first(n: &Ipv4Net) -> u32 {
    u32::from(n.network())
}

fn last(n: &Ipv4Net) -> u32 {
    u32::from(n.broadcast())
}

fn overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    first(a) <= last(b) && first(b) <= last(a)
}

fn contains(outer: &Ipv4Net, inner: &Ipv4Net) -> bool {
    first(outer) <= first(inner) && last(inner) <= last(outer)
}

/// Every rule, pair by pair, straight from its definition.
fn oracle(
    remote: &[RemoteCidr],
    vpc: &[(usize, Ipv4Net)],
    service: Option<Ipv4Net>,
    allowed: &[Ipv4Net],
) -> Vec<Violation> {
    let mut listed = remote.to_vec();
    listed.sort_by_key(|r| (r.network, r.index));
    let mut out = Vec::new();
    for (i, r) in listed.iter().enumerate() {
        let v = |kind| Violation { network: r.network, index: r.index, cidr: r.cidr, kind };
        if !allowed.iter().any(|a| contains(a, &r.cidr)) {
            out.push(v(ViolationKind::OutsideAllowed { allowed: allowed.to_vec() }));
        }
        if !(8..=32).contains(&r.cidr.prefix_len()) {
            out.push(v(ViolationKind::PrefixOutOfRange));
        }
        if let Some(o) = listed[..i].iter().find(|o| overlap(&o.cidr, &r.cidr)) {
            out.push(v(ViolationKind::OverlapsRemote {
                other_network: o.network,
                other_index: o.index,
                other: o.cidr,
            }));
        }
        if let Some(&(vpc_index, vpc)) = vpc.iter().find(|(_, n)| overlap(n, &r.cidr)) {
            out.push(v(ViolationKind::OverlapsVpc { vpc_index, vpc }));
        }
        if let Some(service) = service.filter(|s| overlap(s, &r.cidr)) {
            out.push(v(ViolationKind::OverlapsService { service }));
        }
    }
    out
}

fuzz_target!(|input: Input| {
    let remote: Vec<RemoteCidr> = input
        .remote
        .iter()
        .take(MAX_REMOTE)
        .map(|&(pod, index, raw)| RemoteCidr {
            network: if pod { Network::Pod } else { Network::Node },
            index: usize::from(index),
            cidr: raw.net(),
        })
        .collect();
    let vpc: Vec<(usize, Ipv4Net)> =
        input.vpc.iter().take(MAX_OTHERS).map(|&(i, raw)| (usize::from(i), raw.net())).collect();
    let service = input.service.map(RawNet::net);
    let allowed: Vec<Ipv4Net> = match &input.allowed {
        None => rfc1918(),
        Some(list) => list.iter().take(MAX_OTHERS).map(|raw| raw.net()).collect(),
    };

    let fast = validate_remote_cidrs(&remote, &vpc, service, &allowed);
    for v in &fast {
        let (summary, detail) = (v.summary(), v.detail());
        assert!(!summary.is_empty() && !detail.is_empty());
    }

    // The remote-remote overlap count, pairwise.
    let mut listed = remote.clone();
    listed.sort_by_key(|r| (r.network, r.index));
    let expected_overlaps =
        listed.iter().enumerate().filter(|(i, r)| listed[..*i].iter().any(|o| overlap(&o.cidr, &r.cidr))).count();
    let overlaps = fast.iter().filter(|v| matches!(v.kind, ViolationKind::OverlapsRemote { .. })).count();
    assert_eq!(overlaps, expected_overlaps, "remote-remote overlap count for {remote:?}");

    assert_eq!(fast, oracle(&remote, &vpc, service, &allowed), "violations differ from the brute force");
});
