//! Strict parsing of IPv4 CIDR blocks.

use std::fmt;
use std::net::Ipv4Addr;

use super::Ipv4Net;

/// Why a string is not an acceptable IPv4 CIDR block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CidrError {
    /// The string is empty.
    Empty,
    /// The string is not of the form `a.b.c.d/n` with `n` from 0 to 32.
    NotIpv4Cidr {
        /// The string as given.
        input: String,
    },
    /// The address has bits set past the prefix (e.g. `10.0.0.5/16`).
    HostBitsSet {
        /// The string as given.
        input: String,
        /// The block that was probably meant (e.g. `10.0.0.0/16`).
        network: Ipv4Net,
    },
}

/// Parses `a.b.c.d/n` strictly: IPv4 only, decimal octets without leading zeros, a
/// prefix length from 0 to 32 (required), no surrounding whitespace, and no host bits
/// set.
///
/// # Errors
///
/// [`CidrError::Empty`] for `""`; [`CidrError::HostBitsSet`] for a well-formed block
/// whose address is not its first, naming the block probably meant (`10.0.0.5/16` gives
/// `10.0.0.0/16`); [`CidrError::NotIpv4Cidr`] for anything else (IPv6, a missing prefix,
/// junk).
pub fn parse_ipv4_cidr(s: &str) -> Result<Ipv4Net, CidrError> {
    if s.is_empty() {
        return Err(CidrError::Empty);
    }
    let not_cidr = || CidrError::NotIpv4Cidr { input: s.to_string() };
    let (addr, prefix) = s.split_once('/').ok_or_else(not_cidr)?;
    // std's parser takes exactly four decimal octets and rejects leading zeros.
    let addr: Ipv4Addr = addr.parse().map_err(|_| not_cidr())?;
    let prefix = parse_prefix(prefix).ok_or_else(not_cidr)?;
    let net = Ipv4Net::new(addr, prefix).map_err(|_| not_cidr())?;
    if net.addr() != net.network() {
        return Err(CidrError::HostBitsSet { input: s.to_string(), network: net.trunc() });
    }
    Ok(net)
}

/// A prefix length: one or two ASCII digits without a leading zero, at most 32.
fn parse_prefix(s: &str) -> Option<u8> {
    let well_formed =
        matches!(s.len(), 1 | 2) && s.bytes().all(|b| b.is_ascii_digit()) && !(s.len() == 2 && s.starts_with('0'));
    let n: u8 = if well_formed { s.parse().ok()? } else { return None };
    (n <= 32).then_some(n)
}

/// The input, quoted and escaped, shortened when very long.
fn quoted(input: &str) -> String {
    const MAX_CHARS: usize = 64;
    if input.chars().count() <= MAX_CHARS {
        format!("{input:?}")
    } else {
        let head: String = input.chars().take(MAX_CHARS).collect();
        format!("{head:?}...")
    }
}

impl CidrError {
    /// One line saying what is wrong.
    pub fn summary(&self) -> String {
        match self {
            CidrError::Empty => "Empty CIDR block".to_string(),
            CidrError::NotIpv4Cidr { input } => format!("Invalid IPv4 CIDR block {}", quoted(input)),
            CidrError::HostBitsSet { input, .. } => format!("CIDR block {} has host bits set", quoted(input)),
        }
    }

    /// What is wrong and how to fix it.
    pub fn detail(&self) -> String {
        const FORM: &str = "an IPv4 CIDR block of the form a.b.c.d/n, such as \"10.80.0.0/16\"";
        match self {
            CidrError::Empty => format!("The value is an empty string. Expected {FORM}."),
            CidrError::NotIpv4Cidr { input } => {
                let mut text = format!("{} is not {FORM}.", quoted(input));
                if let Some(hint) = hint(input) {
                    text.push(' ');
                    text.push_str(&hint);
                }
                text
            }
            CidrError::HostBitsSet { input, network } => format!(
                "In {} the address {} is not the first address of its /{} block, so bits past the prefix are set. \
                 Use the block's network address: \"{network}\" (or a longer prefix if you meant a smaller range).",
                quoted(input),
                input.split_once('/').map_or(input.as_str(), |(a, _)| a),
                network.prefix_len(),
            ),
        }
    }
}

/// A specific hint for the common ways of getting a CIDR block wrong.
fn hint(input: &str) -> Option<String> {
    if input.trim() != input && parse_ipv4_cidr(input.trim()).is_ok() {
        return Some("Remove the surrounding whitespace.".to_string());
    }
    if input.contains(':') {
        return Some(
            "IPv6 is not supported: EKS Hybrid Nodes remote node and pod networks are IPv4 (RFC 1918) ranges."
                .to_string(),
        );
    }
    match input.split_once('/') {
        None => input.parse::<Ipv4Addr>().ok().map(|a| {
            format!(
                "The prefix length is missing: write \"{a}/32\" for this single address, \
                     or the prefix of the block you mean."
            )
        }),
        Some((addr, _)) => {
            if addr.parse::<Ipv4Addr>().is_err() {
                Some(
                    "The address must be four decimal numbers from 0 to 255 separated by dots, \
                     without leading zeros."
                        .to_string(),
                )
            } else {
                Some("The prefix length after \"/\" must be a number from 0 to 32, without leading zeros.".to_string())
            }
        }
    }
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for CidrError {}

#[cfg(test)]
mod tests {
    use super::super::tests::net;
    use super::*;

    fn not_cidr(s: &str) -> CidrError {
        CidrError::NotIpv4Cidr { input: s.to_string() }
    }

    #[test]
    fn parses_valid_blocks() {
        assert_eq!(parse_ipv4_cidr("10.80.0.0/16"), Ok(net("10.80.0.0/16")));
        assert_eq!(parse_ipv4_cidr("192.168.1.7/32"), Ok(net("192.168.1.7/32")));
        assert_eq!(parse_ipv4_cidr("0.0.0.0/0"), Ok(net("0.0.0.0/0")));
        assert_eq!(parse_ipv4_cidr("255.255.255.255/32"), Ok(net("255.255.255.255/32")));
        assert_eq!(parse_ipv4_cidr("172.16.0.0/12").map(|n| n.prefix_len()), Ok(12));
    }

    #[test]
    fn empty_string() {
        let e = parse_ipv4_cidr("").unwrap_err();
        assert_eq!(e, CidrError::Empty);
        assert_eq!(e.summary(), "Empty CIDR block");
        assert!(e.detail().contains("a.b.c.d/n"), "{}", e.detail());
    }

    #[test]
    fn rejects_ipv6() {
        for s in ["fd00::/8", "::/0", "2001:db8::1/128", "::ffff:10.0.0.0/104"] {
            let e = parse_ipv4_cidr(s).unwrap_err();
            assert_eq!(e, not_cidr(s));
            assert!(e.detail().contains("IPv6 is not supported"), "{}", e.detail());
        }
        assert_eq!(parse_ipv4_cidr("fd00::/8").unwrap_err().summary(), "Invalid IPv4 CIDR block \"fd00::/8\"");
    }

    #[test]
    fn rejects_missing_prefix() {
        let e = parse_ipv4_cidr("10.0.0.0").unwrap_err();
        assert_eq!(e, not_cidr("10.0.0.0"));
        assert!(e.detail().contains("prefix length is missing"), "{}", e.detail());
        assert!(e.detail().contains("\"10.0.0.0/32\""), "{}", e.detail());
        assert_eq!(parse_ipv4_cidr("10.0.0.0/").unwrap_err(), not_cidr("10.0.0.0/"));
    }

    #[test]
    fn rejects_junk() {
        for s in [
            "junk",
            "/",
            "/16",
            "10.0.0/16",
            "10.0.0.0.0/16",
            "256.0.0.0/8",
            "10.0.0.0/33",
            "10.0.0.0/99999999999999999999",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/08",
            "010.0.0.0/8",
            "10.0.0.0/8/8",
            "10.0.0.0/1a",
            " 10.0.0.0/8",
            "10.0.0.0/8\n",
            "10.0.0.0 /8",
            "１０.0.0.0/8",
            "10.0.0.0/８",
        ] {
            let e = parse_ipv4_cidr(s).unwrap_err();
            assert_eq!(e, not_cidr(s), "{s:?}");
            assert!(e.summary().starts_with("Invalid IPv4 CIDR block \""), "{}", e.summary());
        }
        assert!(parse_ipv4_cidr("10.0.0.0/33").unwrap_err().detail().contains("from 0 to 32"));
        assert!(parse_ipv4_cidr("10.0.0/16").unwrap_err().detail().contains("four decimal numbers"));
        assert!(parse_ipv4_cidr(" 10.0.0.0/8").unwrap_err().detail().contains("whitespace"));
    }

    #[test]
    fn host_bits_name_the_intended_network() {
        let e = parse_ipv4_cidr("10.0.0.5/16").unwrap_err();
        assert_eq!(e, CidrError::HostBitsSet { input: "10.0.0.5/16".to_string(), network: net("10.0.0.0/16") });
        assert_eq!(e.summary(), "CIDR block \"10.0.0.5/16\" has host bits set");
        assert!(e.detail().contains("\"10.0.0.0/16\""), "{}", e.detail());
        assert!(e.detail().contains("10.0.0.5 is not the first address of its /16 block"), "{}", e.detail());
        match parse_ipv4_cidr("192.168.255.255/0") {
            Err(CidrError::HostBitsSet { network, .. }) => assert_eq!(network, net("0.0.0.0/0")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long_inputs_are_shortened_in_messages() {
        let long = "x".repeat(1000);
        let e = parse_ipv4_cidr(&long).unwrap_err();
        assert!(e.summary().len() < 100, "{}", e.summary());
        assert!(e.detail().len() < 300, "{}", e.detail());
        // Control characters are escaped.
        assert!(parse_ipv4_cidr("\u{1b}[31m").unwrap_err().summary().contains("\\u{1b}"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_string(s in ".{0,40}|[0-9./:a-f]{0,24}") {
            if let Err(e) = parse_ipv4_cidr(&s) {
                proptest::prop_assert!(!e.summary().is_empty() && !e.detail().is_empty());
            }
        }

        #[test]
        fn round_trips_and_names_the_network(addr in proptest::prelude::any::<u32>(), prefix in 0u8..=32) {
            let given = Ipv4Net::new(Ipv4Addr::from(addr), prefix).unwrap();
            match parse_ipv4_cidr(&given.to_string()) {
                Ok(n) => proptest::prop_assert!(n == given && given == given.trunc()),
                Err(CidrError::HostBitsSet { network, .. }) => {
                    proptest::prop_assert!(given != given.trunc() && network == given.trunc())
                }
                Err(e) => proptest::prop_assert!(false, "{e:?}"),
            }
        }
    }

    #[test]
    fn errors_display_their_summary() {
        let e = parse_ipv4_cidr("nope").unwrap_err();
        assert_eq!(e.to_string(), e.summary());
    }
}
