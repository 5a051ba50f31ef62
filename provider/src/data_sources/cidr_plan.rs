//! `hybridnet_cidr_plan`: offline validation of on-premises node and pod CIDRs for
//! EKS Hybrid Nodes, and the routes, security group rules and firewall table they
//! imply. Makes no network call and needs no credentials.
//!
//! The rules live in [`hybridnet_rules`]; this module maps configuration values to those
//! pure functions and their findings to diagnostics on the exact list element.

use std::net::Ipv4Addr;

use hybridnet_rules::{self as cidr, Cni, Ipv4Net, Network, RemoteCidr};
use hybridnet_schema::list_attr;
use tfplugin5::{AttrPath, Diagnostics, Value};

pub use hybridnet_schema::cidr_plan::{schema, TYPE_NAME};

const TEN_SLASH_8: Ipv4Net = match Ipv4Net::new(Ipv4Addr::new(10, 0, 0, 0), 8) {
    Ok(n) => n,
    Err(_) => panic!("10.0.0.0/8 is a valid network"),
};

/// A list argument as read from configuration.
enum ListArg<T> {
    /// The whole list is unknown (comes from something not yet created).
    Unknown,
    /// Elements with their list index; `None` marks an unknown element.
    Known(Vec<(usize, Option<T>)>),
}

impl<T: Clone> ListArg<T> {
    fn known_values(&self) -> Vec<(usize, T)> {
        match self {
            ListArg::Unknown => Vec::new(),
            ListArg::Known(items) => items.iter().filter_map(|(i, v)| v.clone().map(|v| (*i, v))).collect(),
        }
    }
    fn fully_known(&self) -> bool {
        matches!(self, ListArg::Known(items) if items.iter().all(|(_, v)| v.is_some()))
    }
}

/// Reads a list of CIDR strings, reporting each malformed element on its path.
fn read_cidr_list(config: &Value, attr: &str, diags: &mut Diagnostics) -> ListArg<Ipv4Net> {
    let v = config.get_attr(attr).cloned().unwrap_or(Value::Null);
    if v.is_unknown() {
        return ListArg::Unknown;
    }
    let Some(items) = v.as_list() else { return ListArg::Known(Vec::new()) };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = AttrPath::attr(attr).index(i);
        if item.is_unknown() {
            out.push((i, None));
            continue;
        }
        match item.as_str() {
            None => diags.error(
                "Missing CIDR",
                format!("Element {i} of {attr} is null. Remove it or set it to an IPv4 CIDR such as \"10.80.0.0/16\"."),
                Some(path),
            ),
            Some(s) => match cidr::parse_ipv4_cidr(s) {
                Ok(net) => out.push((i, Some(net))),
                Err(e) => diags.error(e.summary(), e.detail(), Some(path)),
            },
        }
    }
    ListArg::Known(out)
}

/// The inputs, read and checked element by element.
struct Inputs {
    vpc: ListArg<Ipv4Net>,
    service: Option<Option<Ipv4Net>>, // None = unknown; Some(None) = omitted
    nodes: ListArg<Ipv4Net>,
    pods: ListArg<Ipv4Net>,
    routable: Option<bool>, // None = unknown
    cni: Option<Option<Cni>>,
    webhook_ports: ListArg<u16>,
    allowed: ListArg<Ipv4Net>,
    allowed_is_default: bool,
}

fn read_inputs(config: &Value, diags: &mut Diagnostics) -> Inputs {
    let vpc = read_cidr_list(config, "vpc_cidrs", diags);
    if config.get_attr("vpc_cidrs").and_then(Value::as_list).is_some_and(<[Value]>::is_empty) {
        {
            diags.error(
                "No VPC CIDRs",
                "vpc_cidrs must list the VPC's primary CIDR (and any secondary CIDRs), e.g. [\"10.0.0.0/16\"].",
                Some(AttrPath::attr("vpc_cidrs")),
            );
        }
    }
    let nodes = read_cidr_list(config, "remote_node_cidrs", diags);
    if config.get_attr("remote_node_cidrs").and_then(Value::as_list).is_some_and(<[Value]>::is_empty) {
        {
            diags.error(
                "No remote node CIDRs",
                "remote_node_cidrs needs at least one on-premises node CIDR, e.g. [\"10.80.0.0/16\"].",
                Some(AttrPath::attr("remote_node_cidrs")),
            );
        }
    }
    let pods = read_cidr_list(config, "remote_pod_cidrs", diags);

    let service = match config.get_attr("service_cidr") {
        Some(v) if v.is_unknown() => None,
        Some(v) => match v.as_str() {
            None => Some(None),
            Some(s) => match cidr::parse_ipv4_cidr(s) {
                Ok(net) => Some(Some(net)),
                Err(e) => {
                    diags.error(e.summary(), e.detail(), Some(AttrPath::attr("service_cidr")));
                    None
                }
            },
        },
        None => Some(None),
    };

    let routable = match config.get_attr("pod_network_routable") {
        Some(v) if v.is_unknown() => None,
        Some(v) => Some(v.as_bool().unwrap_or(true)),
        None => Some(true),
    };

    let cni = match config.get_attr("cni") {
        Some(v) if v.is_unknown() => None,
        Some(v) => match v.as_str() {
            None => Some(None),
            Some("cilium") => Some(Some(Cni::Cilium)),
            Some("calico") => Some(Some(Cni::Calico)),
            Some(other) => {
                diags.error(
                    "Unsupported CNI",
                    format!("cni is {other:?}; the CNIs AWS supports for hybrid nodes are \"cilium\" and \"calico\"."),
                    Some(AttrPath::attr("cni")),
                );
                Some(None)
            }
        },
        None => Some(None),
    };

    let webhook_ports = match config.get_attr("webhook_ports") {
        Some(v) if v.is_unknown() => ListArg::Unknown,
        Some(v) => {
            let mut out = Vec::new();
            for (i, item) in v.as_list().unwrap_or(&[]).iter().enumerate() {
                if item.is_unknown() {
                    out.push((i, None));
                    continue;
                }
                match item.as_i64() {
                    Some(p) if (1..=65535).contains(&p) => out.push((i, Some(p as u16))),
                    _ => diags.error(
                        "Invalid webhook port",
                        format!("webhook_ports[{i}] must be a whole number from 1 to 65535 (a TCP port)."),
                        Some(AttrPath::attr("webhook_ports").index(i)),
                    ),
                }
            }
            ListArg::Known(out)
        }
        None => ListArg::Known(Vec::new()),
    };

    let allowed_attr = config.get_attr("allowed_ranges").cloned().unwrap_or(Value::Null);
    let (allowed, allowed_is_default) = if allowed_attr.is_null() {
        (ListArg::Known(cidr::rfc1918().into_iter().enumerate().map(|(i, n)| (i, Some(n))).collect()), true)
    } else {
        let a = read_cidr_list(config, "allowed_ranges", diags);
        if allowed_attr.as_list().is_some_and(<[Value]>::is_empty) {
            {
                diags.error(
                    "No allowed ranges",
                    "allowed_ranges is empty, so no remote CIDR could be valid. Omit it to use the RFC 1918 blocks.",
                    Some(AttrPath::attr("allowed_ranges")),
                );
            }
        }
        (a, false)
    };

    Inputs { vpc, service, nodes, pods, routable, cni, webhook_ports, allowed, allowed_is_default }
}

impl Inputs {
    /// The service CIDR in force, when it can be known yet.
    fn effective_service(&self) -> Option<Ipv4Net> {
        match self.service {
            Some(Some(s)) => Some(s),
            Some(None) => {
                let known: Vec<Ipv4Net> = self.vpc.known_values().into_iter().map(|(_, n)| n).collect();
                let in_ten = known.iter().any(|n| TEN_SLASH_8.contains(n));
                // One known VPC CIDR in 10.0.0.0/8 settles EKS's choice; otherwise all must be known.
                (in_ten || self.vpc.fully_known()).then(|| cidr::default_service_cidr(&known))
            }
            None => None,
        }
    }

    fn fully_known(&self) -> bool {
        self.vpc.fully_known()
            && self.service.is_some()
            && self.nodes.fully_known()
            && self.pods.fully_known()
            && self.routable.is_some()
            && self.cni.is_some()
            && self.webhook_ports.fully_known()
            && self.allowed.fully_known()
    }
}

/// Checks everything that can be checked with what is known; unknown values defer
/// the checks that need them.
fn check(config: &Value) -> (Inputs, Diagnostics) {
    let mut diags = Diagnostics::new();
    let inputs = read_inputs(config, &mut diags);

    let mut remote: Vec<RemoteCidr> = Vec::new();
    for (index, cidr) in inputs.nodes.known_values() {
        remote.push(RemoteCidr { network: Network::Node, index, cidr });
    }
    for (index, cidr) in inputs.pods.known_values() {
        remote.push(RemoteCidr { network: Network::Pod, index, cidr });
    }
    let vpc = inputs.vpc.known_values();
    let service = inputs.effective_service();
    // With unknown allowed ranges the containment check waits; "everything" stands in.
    let allowed: Vec<Ipv4Net> = if inputs.allowed.fully_known() {
        inputs.allowed.known_values().into_iter().map(|(_, n)| n).collect()
    } else {
        vec![Ipv4Net::default()]
    };
    for v in cidr::validate_remote_cidrs(&remote, &vpc, service, &allowed) {
        diags.error(
            v.summary(list_attr),
            v.detail(list_attr),
            Some(AttrPath::attr(list_attr(v.network)).index(v.index)),
        );
    }
    let _ = inputs.allowed_is_default;
    (inputs, diags)
}

/// ValidateDataSourceConfig: errors only (warnings come with the read, once).
pub fn validate(config: &Value) -> Diagnostics {
    let (_, diags) = check(config);
    Diagnostics(diags.0.into_iter().filter(|d| d.severity == tfplugin5::Severity::Error).collect())
}

fn net_strings(nets: &[Ipv4Net]) -> Value {
    Value::list(nets.iter().map(|n| Value::string(n.to_string())).collect())
}

/// A short stable digest of the inputs (FNV-1a), used as the data source's id.
fn digest(parts: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// ReadDataSource: the full result, or errors on the exact elements.
pub fn read(config: &Value) -> (Value, Diagnostics) {
    let (inputs, mut diags) = check(config);
    if diags.has_errors() {
        return (Value::Null, diags);
    }
    let mut state = config.clone();
    let set = |state: &mut Value, k: &str, v: Value| state.set_attr(k, v);

    let routable_known = inputs.routable;
    if inputs.routable.is_some() {
        set(&mut state, "pod_network_routable", Value::Bool(inputs.routable.unwrap_or(true)));
    }
    if inputs.allowed.fully_known() {
        let allowed: Vec<Ipv4Net> = inputs.allowed.known_values().into_iter().map(|(_, n)| n).collect();
        // Keep the user's own spelling when they set it; fill in the default otherwise.
        if inputs.allowed_is_default {
            set(&mut state, "allowed_ranges", net_strings(&allowed));
        }
    }

    if !inputs.fully_known() {
        // Only reachable from clients that read with unknowns: results wait too.
        for k in [
            "id",
            "effective_service_cidr",
            "warnings",
            "vpc_routes",
            "cluster_security_group_rules",
            "onprem_firewall_rules",
            "node_address_count",
            "pod_address_count",
        ] {
            set(&mut state, k, Value::Unknown);
        }
        return (state, diags);
    }

    let routable = routable_known.unwrap_or(true);
    let nodes: Vec<Ipv4Net> = inputs.nodes.known_values().into_iter().map(|(_, n)| n).collect();
    let pods: Vec<Ipv4Net> = inputs.pods.known_values().into_iter().map(|(_, n)| n).collect();
    let ports: Vec<u16> = inputs.webhook_ports.known_values().into_iter().map(|(_, p)| p).collect();
    let service = inputs.effective_service().unwrap_or_else(|| cidr::default_service_cidr(&[]));
    let cni = inputs.cni.flatten();

    let warnings = cidr::unroutable_pod_warnings(routable, cni);
    for w in &warnings {
        diags.warning(
            "Pod network is not routable on premises",
            w.clone(),
            Some(AttrPath::attr("pod_network_routable")),
        );
    }
    if !routable && !ports.is_empty() {
        diags.warning(
            "Webhook ports given for an unroutable pod network",
            "The EKS control plane cannot reach pods on hybrid nodes when the pod network is not routable, so \
             webhooks must run on cloud nodes; no security group rules are derived for webhook_ports. Remove \
             webhook_ports or make the pod network routable.",
            Some(AttrPath::attr("webhook_ports")),
        );
    }

    let routes: Vec<Value> = cidr::vpc_routes(&nodes, &pods, routable)
        .into_iter()
        .map(|r| {
            Value::object([
                ("destination_cidr", Value::string(r.destination_cidr.to_string())),
                ("network", Value::string(r.network.as_str())),
            ])
        })
        .collect();
    let sg_rules: Vec<Value> = cidr::cluster_security_group_rules(&nodes, &pods, routable, &ports)
        .into_iter()
        .map(|r| {
            Value::object([
                ("direction", Value::string(r.direction.as_str())),
                ("protocol", Value::string(r.protocol)),
                ("from_port", Value::int(i64::from(r.from_port))),
                ("to_port", Value::int(i64::from(r.to_port))),
                ("cidr", Value::string(r.cidr.to_string())),
                ("description", Value::string(r.description)),
            ])
        })
        .collect();
    let fw_rules: Vec<Value> = cidr::onprem_firewall_rules(&nodes, &pods, routable, &ports, None::<&[Ipv4Addr]>)
        .into_iter()
        .map(firewall_rule_value)
        .collect();

    let mut parts: Vec<String> = Vec::new();
    parts.extend(inputs.vpc.known_values().iter().map(|(_, n)| format!("vpc={n}")));
    parts.push(format!("svc={service}"));
    parts.extend(nodes.iter().map(|n| format!("node={n}")));
    parts.extend(pods.iter().map(|n| format!("pod={n}")));
    parts.push(format!("routable={routable}"));
    parts.extend(ports.iter().map(|p| format!("port={p}")));

    set(&mut state, "id", Value::string(digest(&parts)));
    set(&mut state, "effective_service_cidr", Value::string(service.to_string()));
    set(&mut state, "warnings", Value::list(warnings.into_iter().map(Value::string).collect()));
    set(&mut state, "vpc_routes", Value::list(routes));
    set(&mut state, "cluster_security_group_rules", Value::list(sg_rules));
    set(&mut state, "onprem_firewall_rules", Value::list(fw_rules));
    set(&mut state, "node_address_count", Value::int(cidr::address_count(&nodes) as i64));
    set(&mut state, "pod_address_count", Value::int(cidr::address_count(&pods) as i64));
    (state, diags)
}

pub fn firewall_rule_value(r: cidr::FirewallRule) -> Value {
    Value::object([
        ("direction", Value::string(r.direction)),
        ("protocol", Value::string(r.protocol)),
        ("port", Value::int(i64::from(r.port))),
        ("source", Value::string(r.source)),
        ("destination", Value::string(r.destination)),
        ("usage", Value::string(r.usage)),
    ])
}
