//! `parse_ipv4_cidr` on arbitrary text. It must never panic (nor may the error
//! messages); what it accepts is a network without host bits written canonically,
//! so it prints back as the very input and parses back to the same network; every
//! canonical `a.b.c.d/n` without host bits is accepted; and the block a host-bits
//! error suggests parses.

#![no_main]

use hybridnet_fuzz::cidr::{parse_ipv4_cidr, CidrError, Ipv4Net};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match parse_ipv4_cidr(s) {
        Ok(net) => {
            assert_eq!(net, net.trunc(), "accepted host bits in {s:?}");
            let text = net.to_string();
            assert_eq!(text, s, "accepted a non-canonical form");
            assert_eq!(parse_ipv4_cidr(&text), Ok(net), "{text} does not parse back");
        }
        Err(e) => {
            let (summary, detail) = (e.summary(), e.detail());
            assert!(!summary.is_empty() && !detail.is_empty());
            if let CidrError::HostBitsSet { network, .. } = &e {
                assert_eq!(parse_ipv4_cidr(&network.to_string()), Ok(*network), "the suggested block for {s:?}");
            }
            // ipnet's own (laxer) parser: its canonical, host-bit-free blocks must be accepted.
            if let Ok(n) = s.parse::<Ipv4Net>() {
                assert!(n.to_string() != s || n != n.trunc(), "rejected the canonical block {s:?}: {e:?}");
            }
        }
    }
});
