//! `validate_remote_cidrs` on small arbitrary inputs. It must never panic (nor may
//! the messages), and it must agree, violation by violation and in order, with the
//! brute-force pairwise reference `cidr::oracle::brute_force` (the one the property
//! tests use).

#![no_main]

use std::net::Ipv4Addr;

use arbitrary::Arbitrary;
use hybridnet_fuzz::cidr::oracle::brute_force as oracle;
use hybridnet_fuzz::cidr::{rfc1918, validate_remote_cidrs, Ipv4Net, Network, RemoteCidr};
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
        let name = hybridnet_fuzz::hybridnet_schema::list_attr;
        let (summary, detail) = (v.summary(name), v.detail(name));
        assert!(!summary.is_empty() && !detail.is_empty());
    }

    assert_eq!(fast, oracle(&remote, &vpc, service, &allowed), "violations differ from the brute force");
});
