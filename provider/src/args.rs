//! The one reader of each kind of list argument, shared by every type: CIDR lists and
//! webhook port lists. Each bad element is an error diagnostic on its own path
//! (`remote_pod_cidrs[1]`); unknown elements are kept as unknown, never errors.

use std::collections::BTreeSet;

use hybridnet_rules::{self as cidr, Ipv4Net};
use tfplugin5::typed::Tf;
use tfplugin5::value::Number;
use tfplugin5::{AttrPath, Diagnostics};

/// A list argument as read from configuration.
pub enum ListArg<T> {
    /// The whole list is unknown (comes from something not yet created).
    Unknown,
    /// Elements with their list index; `None` marks an unknown element.
    Known(Vec<(usize, Option<T>)>),
}

impl<T: Clone> ListArg<T> {
    /// The known elements with their index.
    pub fn known_values(&self) -> Vec<(usize, T)> {
        match self {
            ListArg::Unknown => Vec::new(),
            ListArg::Known(items) => items.iter().filter_map(|(i, v)| v.clone().map(|v| (*i, v))).collect(),
        }
    }

    /// The known elements.
    pub fn values(&self) -> Vec<T> {
        self.known_values().into_iter().map(|(_, v)| v).collect()
    }

    /// Whether the list and every element are known.
    pub fn fully_known(&self) -> bool {
        matches!(self, ListArg::Known(items) if items.iter().all(|(_, v)| v.is_some()))
    }
}

/// Reads a list of elements with `parse`; null is an empty list.
fn read_list<S, T>(
    list: &Tf<Vec<Tf<S>>>,
    attr: &str,
    diags: &mut Diagnostics,
    mut parse: impl FnMut(&S, usize, AttrPath, &mut Diagnostics) -> Option<T>,
    null_element: impl Fn(usize) -> (String, String),
) -> ListArg<T> {
    let items = match list {
        Tf::Unknown => return ListArg::Unknown,
        Tf::Null => return ListArg::Known(Vec::new()),
        Tf::Known(items) => items,
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = AttrPath::attr(attr).index(i);
        match item {
            Tf::Unknown => out.push((i, None)),
            Tf::Null => {
                let (summary, detail) = null_element(i);
                diags.error(summary, detail, Some(path));
            }
            Tf::Known(s) => {
                if let Some(v) = parse(s, i, path, diags) {
                    out.push((i, Some(v)));
                }
            }
        }
    }
    ListArg::Known(out)
}

/// A list of IPv4 CIDRs.
pub fn read_cidr_list(list: &Tf<Vec<Tf<String>>>, attr: &str, diags: &mut Diagnostics) -> ListArg<Ipv4Net> {
    read_list(
        list,
        attr,
        diags,
        |s, _, path, diags| match cidr::parse_ipv4_cidr(s) {
            Ok(net) => Some(net),
            Err(e) => {
                diags.error(e.summary(), e.detail(), Some(path));
                None
            }
        },
        |i| {
            (
                "Missing CIDR".into(),
                format!("Element {i} of {attr} is null. Remove it or set it to an IPv4 CIDR such as \"10.80.0.0/16\"."),
            )
        },
    )
}

/// The known CIDRs of a list (for configurations read when fully known).
pub fn cidr_list(list: &Tf<Vec<Tf<String>>>, attr: &str, diags: &mut Diagnostics) -> Vec<Ipv4Net> {
    read_cidr_list(list, attr, diags).values()
}

/// `webhook_ports`: TCP ports 1 to 65535.
pub fn read_port_list(list: &Tf<Vec<Tf<Number>>>, diags: &mut Diagnostics) -> ListArg<u16> {
    let invalid = |i: usize| {
        (
            "Invalid webhook port".to_string(),
            format!("webhook_ports[{i}] must be a whole number from 1 to 65535 (a TCP port)."),
        )
    };
    read_list(
        list,
        "webhook_ports",
        diags,
        |n, i, path, diags| match n.as_i64().and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0) {
            Some(p) => Some(p),
            None => {
                let (summary, detail) = invalid(i);
                diags.error(summary, detail, Some(path));
                None
            }
        },
        invalid,
    )
}

/// `node_credential_provider` (`ssm` or `iam-ra`, nodeadm's names): `None` when null,
/// unknown or invalid (an error on the attribute names the allowed values).
pub fn read_node_credential_provider(v: &Tf<String>, diags: &mut Diagnostics) -> Option<cidr::NodeCredentialProvider> {
    let s = v.known()?;
    let p = cidr::NodeCredentialProvider::parse(s);
    if p.is_none() {
        diags.error(
            "Invalid node credential provider",
            format!(
                "node_credential_provider is {s:?}; use {}, the credential provider of the hybrid nodes' nodeadm \
                 configuration (SSM hybrid activations or IAM Roles Anywhere), or leave it out.",
                cidr::NodeCredentialProvider::names()
            ),
            Some(AttrPath::attr("node_credential_provider")),
        );
    }
    p
}

/// `items` without repeats, in the order of first appearance (`Vec::dedup` only drops
/// adjacent repeats, which misses them in an unsorted list).
pub fn unique<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = BTreeSet::new();
    items.into_iter().filter(|x| seen.insert(x.clone())).collect()
}

/// `pod_network_mode` and the deprecated `pod_network_routable` of a configuration
/// (every type takes both): the mode, `None` while either is unknown. An unknown mode
/// name and both set are errors, the deprecated one alone a warning, each on its
/// attribute (Terraform 1.0 does not warn for deprecated arguments itself).
pub fn read_pod_network_mode(
    mode: &Tf<String>,
    routable: &Tf<bool>,
    diags: &mut Diagnostics,
) -> Option<cidr::PodNetworkMode> {
    if routable.is_known() {
        if mode.is_null() {
            diags.warning(
                "Deprecated argument",
                format!(
                    "pod_network_routable is deprecated: replace it by pod_network_mode = {:?} (the same network; \
                     the plan stays empty).",
                    cidr::PodNetworkMode::from_routable(routable.known().copied().unwrap_or(true)).as_str()
                ),
                Some(AttrPath::attr("pod_network_routable")),
            );
        } else {
            diags.error(
                "Conflicting arguments",
                "pod_network_routable is the deprecated form of pod_network_mode: set only pod_network_mode.",
                Some(AttrPath::attr("pod_network_routable")),
            );
        }
    }
    if mode.is_unknown() || routable.is_unknown() {
        return None;
    }
    match (mode.known(), routable.known()) {
        (Some(m), _) => match cidr::PodNetworkMode::parse(m) {
            Some(m) => Some(m),
            None => {
                let names: Vec<String> =
                    cidr::PodNetworkMode::ALL.iter().map(|m| format!("{:?}", m.as_str())).collect();
                diags.error(
                    "Invalid pod network mode",
                    format!("pod_network_mode is {m:?}; use one of {}.", names.join(", ")),
                    Some(AttrPath::attr("pod_network_mode")),
                );
                None
            }
        },
        (None, Some(&r)) => Some(cidr::PodNetworkMode::from_routable(r)),
        (None, None) => Some(cidr::PodNetworkMode::default()),
    }
}

/// The pod network arguments every cluster type takes: the mode (see
/// [`read_pod_network_mode`]) and `gateway_security_group_id`, which only gateway mode
/// uses (an error on it otherwise).
pub fn read_pod_network(
    mode: &Tf<String>,
    routable: &Tf<bool>,
    gateway_security_group_id: &Tf<String>,
    diags: &mut Diagnostics,
) -> Option<cidr::PodNetworkMode> {
    let m = read_pod_network_mode(mode, routable, diags);
    if let (Some(m), true) = (m, gateway_security_group_id.is_known()) {
        if m != cidr::PodNetworkMode::Gateway {
            diags.error(
                "Gateway security group without the gateway",
                format!(
                    "gateway_security_group_id is for the EKS Hybrid Nodes gateway, but pod_network_mode is {:?}. Set \
                     pod_network_mode = \"gateway\", or remove gateway_security_group_id.",
                    m.as_str()
                ),
                Some(AttrPath::attr("gateway_security_group_id")),
            );
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[Tf<&str>]) -> Tf<Vec<Tf<String>>> {
        Tf::Known(items.iter().map(|t| t.clone().map(str::to_string)).collect())
    }

    #[test]
    fn each_bad_element_is_an_error_on_its_path_and_unknowns_wait() {
        let mut d = Diagnostics::new();
        let list = strings(&[Tf::Known("10.80.0.0/16"), Tf::Unknown, Tf::Known("x"), Tf::Null]);
        let got = read_cidr_list(&list, "remote_pod_cidrs", &mut d);
        assert!(!got.fully_known());
        assert_eq!(got.values(), vec!["10.80.0.0/16".parse::<Ipv4Net>().expect("CIDR")]);
        let paths: Vec<String> = d.iter().filter_map(|x| x.path.as_ref().map(ToString::to_string)).collect();
        assert_eq!(paths, ["remote_pod_cidrs[2]", "remote_pod_cidrs[3]"]);
        assert!(matches!(read_cidr_list(&Tf::Unknown, "x", &mut d), ListArg::Unknown));
    }

    #[test]
    fn ports_are_tcp_ports() {
        let mut d = Diagnostics::new();
        let n = |s: &str| Tf::Known(Number::parse(s).expect("number"));
        let got = read_port_list(&Tf::Known(vec![n("9443"), n("0"), n("1.5"), n("70000"), Tf::Unknown]), &mut d);
        assert_eq!(got.values(), vec![9443]);
        assert_eq!(d.iter().count(), 3);
        assert!(d.iter().all(|x| x.summary == "Invalid webhook port"));
    }

    #[test]
    fn unique_drops_repeats_that_are_not_adjacent() {
        let ids = ["sgr-b", "sgr-a", "sgr-b", "sgr-c", "sgr-a"].map(String::from);
        assert_eq!(unique(ids), ["sgr-b", "sgr-a", "sgr-c"].map(String::from));
    }

    #[test]
    fn the_mode_comes_from_either_argument_and_both_is_an_error() {
        use hybridnet_rules::PodNetworkMode as M;
        let read = |mode: Tf<String>, routable: Tf<bool>| {
            let mut d = Diagnostics::new();
            let m = read_pod_network_mode(&mode, &routable, &mut d);
            let diags: Vec<(bool, String, String)> =
                d.0.iter()
                    .map(|x| {
                        (
                            x.severity == tfplugin5::Severity::Error,
                            x.summary.clone(),
                            x.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                        )
                    })
                    .collect();
            (m, diags)
        };
        assert_eq!(read(Tf::Null, Tf::Null), (Some(M::Routable), vec![]));
        assert_eq!(read(Tf::Known("gateway".into()), Tf::Null), (Some(M::Gateway), vec![]));
        let (m, d) = read(Tf::Null, Tf::Known(false));
        assert_eq!(m, Some(M::Unroutable));
        assert_eq!(d, vec![(false, "Deprecated argument".to_string(), "pod_network_routable".to_string())]);
        let (_, d) = read(Tf::Known("routable".into()), Tf::Known(true));
        assert_eq!(d, vec![(true, "Conflicting arguments".to_string(), "pod_network_routable".to_string())]);
        let (m, d) = read(Tf::Known("bgp".into()), Tf::Null);
        assert_eq!(m, None);
        assert_eq!(d, vec![(true, "Invalid pod network mode".to_string(), "pod_network_mode".to_string())]);
        assert_eq!(read(Tf::Unknown, Tf::Null).0, None);
    }

    #[test]
    fn a_gateway_group_needs_gateway_mode() {
        let mut d = Diagnostics::new();
        let sg = Tf::Known("sg-1".to_string());
        assert_eq!(
            read_pod_network(&Tf::Known("gateway".into()), &Tf::Null, &sg, &mut d),
            Some(cidr::PodNetworkMode::Gateway)
        );
        assert!(d.0.is_empty(), "{:?}", d.0);
        read_pod_network(&Tf::Null, &Tf::Null, &sg, &mut d);
        let got: Vec<(String, String)> =
            d.0.iter()
                .map(|x| (x.summary.clone(), x.path.as_ref().map(ToString::to_string).unwrap_or_default()))
                .collect();
        assert_eq!(
            got,
            vec![("Gateway security group without the gateway".to_string(), "gateway_security_group_id".to_string())]
        );
    }
}
