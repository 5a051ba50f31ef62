//! `hybridnet_cidr_plan`: offline validation of on-premises node and pod CIDRs for
//! EKS Hybrid Nodes, and the routes, security group rules and firewall table they
//! imply. Makes no network call and needs no credentials.
//!
//! The rules live in [`hybridnet_rules`]; this module maps the typed configuration
//! ([`CidrPlanModel`]) to those pure functions and their findings to diagnostics on
//! the exact list element.

use std::net::Ipv4Addr;

use hybridnet_rules::{self as cidr, Cni, Ipv4Net, Network, PodNetworkMode, RemoteCidr};
use hybridnet_schema::cidr_plan::default_allowed_ranges;
use hybridnet_schema::list_attr;

use crate::args::{read_cidr_list, read_pod_network_mode, read_port_list, ListArg};
use serde::{Deserialize, Serialize};
use tfplugin5::typed::{DataSource, StopToken, Tf};
use tfplugin5::value::Number;
use tfplugin5::{AttrPath, Diagnostics};

pub use hybridnet_schema::cidr_plan::{schema, TYPE_NAME};

const TEN_SLASH_8: Ipv4Net = match Ipv4Net::new(Ipv4Addr::new(10, 0, 0, 0), 8) {
    Ok(n) => n,
    Err(_) => panic!("10.0.0.0/8 is a valid network"),
};

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

/// The whole `hybridnet_cidr_plan` object (see [`hybridnet_schema::cidr_plan::schema`]):
/// arguments, then computed attributes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CidrPlanModel {
    /// Computed: a digest of the inputs.
    pub id: Tf<String>,
    pub vpc_cidrs: Tf<Vec<Tf<String>>>,
    pub service_cidr: Tf<String>,
    pub remote_node_cidrs: Tf<Vec<Tf<String>>>,
    pub remote_pod_cidrs: Tf<Vec<Tf<String>>>,
    /// Optional and computed: default `routable`.
    pub pod_network_mode: Tf<String>,
    /// Deprecated form of `pod_network_mode`.
    pub pod_network_routable: Tf<bool>,
    pub cni: Tf<String>,
    /// Numbers as Terraform sent them, so that a fraction or an out-of-range value
    /// is a diagnostic on its element rather than a decoding error.
    pub webhook_ports: Tf<Vec<Tf<Number>>>,
    /// Optional and computed: default the RFC 1918 blocks.
    pub allowed_ranges: Tf<Vec<Tf<String>>>,
    pub effective_service_cidr: Tf<String>,
    pub warnings: Tf<Vec<String>>,
    pub vpc_routes: Tf<Vec<VpcRouteModel>>,
    pub cluster_security_group_rules: Tf<Vec<SecurityGroupRuleModel>>,
    pub onprem_firewall_rules: Tf<Vec<FirewallRuleModel>>,
    pub node_address_count: Tf<i64>,
    pub pod_address_count: Tf<i64>,
}

/// An element of `vpc_routes` ([`hybridnet_schema::cidr_plan::vpc_route_type`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcRouteModel {
    pub destination_cidr: String,
    /// `node` or `pod`.
    pub network: String,
}

impl From<cidr::VpcRoute> for VpcRouteModel {
    fn from(r: cidr::VpcRoute) -> Self {
        VpcRouteModel { destination_cidr: r.destination_cidr.to_string(), network: r.network.as_str().to_string() }
    }
}

/// An element of `cluster_security_group_rules`
/// ([`hybridnet_schema::cidr_plan::security_group_rule_type`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRuleModel {
    pub direction: String,
    pub protocol: String,
    pub from_port: i64,
    pub to_port: i64,
    pub cidr: String,
    pub description: String,
}

impl From<cidr::SecurityGroupRule> for SecurityGroupRuleModel {
    fn from(r: cidr::SecurityGroupRule) -> Self {
        SecurityGroupRuleModel {
            direction: r.direction.as_str().to_string(),
            protocol: r.protocol.to_string(),
            from_port: i64::from(r.from_port),
            to_port: i64::from(r.to_port),
            cidr: r.cidr.to_string(),
            description: r.description,
        }
    }
}

/// An element of `onprem_firewall_rules` ([`hybridnet_schema::cidr_plan::firewall_rule_type`]),
/// shared with `hybridnet_cluster_network`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleModel {
    pub direction: Tf<String>,
    pub protocol: Tf<String>,
    pub port: Tf<i64>,
    pub source: Tf<String>,
    pub destination: Tf<String>,
    pub usage: Tf<String>,
}

impl From<cidr::FirewallRule> for FirewallRuleModel {
    fn from(r: cidr::FirewallRule) -> Self {
        FirewallRuleModel {
            direction: Tf::Known(r.direction.to_string()),
            protocol: Tf::Known(r.protocol.to_string()),
            port: Tf::Known(i64::from(r.port)),
            source: Tf::Known(r.source),
            destination: Tf::Known(r.destination),
            usage: Tf::Known(r.usage),
        }
    }
}

// ---------------------------------------------------------------------------
// The data source
// ---------------------------------------------------------------------------

/// The `hybridnet_cidr_plan` data source.
pub struct CidrPlan;

#[tonic::async_trait]
impl DataSource for CidrPlan {
    type Model = CidrPlanModel;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    async fn validate(&self, config: CidrPlanModel) -> Diagnostics {
        validate(&config)
    }

    async fn read(&self, config: CidrPlanModel, _stop: StopToken) -> (Option<CidrPlanModel>, Diagnostics) {
        read(config)
    }
}

// ---------------------------------------------------------------------------
// Reading the configuration
// ---------------------------------------------------------------------------

/// Whether a list is set and empty (null and unknown are not).
fn is_empty_list<T>(list: &Tf<Vec<T>>) -> bool {
    list.known().is_some_and(Vec::is_empty)
}

/// The inputs, read and checked element by element.
struct Inputs {
    vpc: ListArg<Ipv4Net>,
    service: Option<Option<Ipv4Net>>, // None = unknown; Some(None) = omitted
    nodes: ListArg<Ipv4Net>,
    pods: ListArg<Ipv4Net>,
    mode: Option<PodNetworkMode>, // None = unknown (or invalid: an error says so)
    cni: Option<Option<Cni>>,
    webhook_ports: ListArg<u16>,
    allowed: ListArg<Ipv4Net>,
    allowed_is_default: bool,
}

fn read_inputs(config: &CidrPlanModel, diags: &mut Diagnostics) -> Inputs {
    let vpc = read_cidr_list(&config.vpc_cidrs, "vpc_cidrs", diags);
    if is_empty_list(&config.vpc_cidrs) {
        diags.error(
            "No VPC CIDRs",
            "vpc_cidrs must list the VPC's primary CIDR (and any secondary CIDRs), e.g. [\"10.0.0.0/16\"].",
            Some(AttrPath::attr("vpc_cidrs")),
        );
    }
    let nodes = read_cidr_list(&config.remote_node_cidrs, "remote_node_cidrs", diags);
    if is_empty_list(&config.remote_node_cidrs) {
        diags.error(
            "No remote node CIDRs",
            "remote_node_cidrs needs at least one on-premises node CIDR, e.g. [\"10.80.0.0/16\"].",
            Some(AttrPath::attr("remote_node_cidrs")),
        );
    }
    let pods = read_cidr_list(&config.remote_pod_cidrs, "remote_pod_cidrs", diags);

    let service = match &config.service_cidr {
        Tf::Unknown => None,
        Tf::Null => Some(None),
        Tf::Known(s) => match cidr::parse_ipv4_cidr(s) {
            Ok(net) => Some(Some(net)),
            Err(e) => {
                diags.error(e.summary(), e.detail(), Some(AttrPath::attr("service_cidr")));
                None
            }
        },
    };

    let mode = read_pod_network_mode(&config.pod_network_mode, &config.pod_network_routable, diags);

    let cni = match config.cni.as_deref() {
        Tf::Unknown => None,
        Tf::Null => Some(None),
        Tf::Known("cilium") => Some(Some(Cni::Cilium)),
        Tf::Known("calico") => Some(Some(Cni::Calico)),
        Tf::Known(other) => {
            diags.error(
                "Unsupported CNI",
                format!("cni is {other:?}; the CNIs AWS supports for hybrid nodes are \"cilium\" and \"calico\"."),
                Some(AttrPath::attr("cni")),
            );
            Some(None)
        }
    };

    let webhook_ports = read_port_list(&config.webhook_ports, diags);

    let (allowed, allowed_is_default) = if config.allowed_ranges.is_null() {
        (ListArg::Known(default_allowed_ranges().into_iter().enumerate().map(|(i, n)| (i, Some(n))).collect()), true)
    } else {
        let a = read_cidr_list(&config.allowed_ranges, "allowed_ranges", diags);
        if is_empty_list(&config.allowed_ranges) {
            diags.error(
                "No allowed ranges",
                "allowed_ranges is empty, so no remote CIDR could be valid. Omit it to use the RFC 1918 blocks.",
                Some(AttrPath::attr("allowed_ranges")),
            );
        }
        (a, false)
    };

    if let (Some(PodNetworkMode::Gateway), Some(Some(Cni::Calico))) = (mode, cni) {
        diags.error(
            "The EKS Hybrid Nodes gateway needs Cilium",
            "pod_network_mode = \"gateway\" works only with Cilium on the hybrid nodes (the gateway tunnels VXLAN to \
             Cilium's VTEP); Calico is not supported. Use cni = \"cilium\", or pod_network_mode = \"routable\" or \
             \"unroutable\".",
            Some(AttrPath::attr("cni")),
        );
    }
    Inputs { vpc, service, nodes, pods, mode, cni, webhook_ports, allowed, allowed_is_default }
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
            && self.mode.is_some()
            && self.cni.is_some()
            && self.webhook_ports.fully_known()
            && self.allowed.fully_known()
    }
}

/// Checks everything that can be checked with what is known; unknown values defer
/// the checks that need them.
fn check(config: &CidrPlanModel) -> (Inputs, Diagnostics) {
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
/// Unknown values, whole lists or elements, defer the checks that need them.
/// `provider::hybridnet::cidr_problems` returns exactly these errors
/// ([`crate::functions::cidr_problems`]).
pub fn validate(config: &CidrPlanModel) -> Diagnostics {
    let (_, diags) = check(config);
    Diagnostics(diags.0.into_iter().filter(|d| d.severity == tfplugin5::Severity::Error).collect())
}

fn net_strings(nets: &[Ipv4Net]) -> Tf<Vec<Tf<String>>> {
    Tf::Known(nets.iter().map(|n| Tf::Known(n.to_string())).collect())
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

/// ReadDataSource: the full result, or errors on the exact elements (and no state).
/// `provider::hybridnet::onprem_firewall_rules` returns its `onprem_firewall_rules`
/// ([`crate::functions::onprem_firewall_rules`]).
pub fn read(config: CidrPlanModel) -> (Option<CidrPlanModel>, Diagnostics) {
    let (inputs, mut diags) = check(&config);
    if diags.has_errors() {
        return (None, diags);
    }
    let config_sets_mode = config.pod_network_mode.is_known();
    let mut state = config;

    if let Some(mode) = inputs.mode {
        state.pod_network_mode = Tf::Known(mode.as_str().to_string());
        state.pod_network_routable = Tf::Known(mode.routable());
    }
    if inputs.allowed.fully_known() && inputs.allowed_is_default {
        // Keep the user's own spelling when they set it; fill in the default otherwise.
        let allowed: Vec<Ipv4Net> = inputs.allowed.known_values().into_iter().map(|(_, n)| n).collect();
        state.allowed_ranges = net_strings(&allowed);
    }

    if !inputs.fully_known() {
        // Only reachable from clients that read with unknowns: results wait too.
        state.id = Tf::Unknown;
        state.effective_service_cidr = Tf::Unknown;
        state.warnings = Tf::Unknown;
        state.vpc_routes = Tf::Unknown;
        state.cluster_security_group_rules = Tf::Unknown;
        state.onprem_firewall_rules = Tf::Unknown;
        state.node_address_count = Tf::Unknown;
        state.pod_address_count = Tf::Unknown;
        return (Some(state), diags);
    }

    let mode = inputs.mode.unwrap_or_default();
    let reachable = mode.pods_reachable();
    // Warnings about the mode go on the attribute the configuration set.
    let mode_attr = if config_sets_mode { "pod_network_mode" } else { "pod_network_routable" };
    let nodes: Vec<Ipv4Net> = inputs.nodes.known_values().into_iter().map(|(_, n)| n).collect();
    let pods: Vec<Ipv4Net> = inputs.pods.known_values().into_iter().map(|(_, n)| n).collect();
    let ports: Vec<u16> = inputs.webhook_ports.known_values().into_iter().map(|(_, p)| p).collect();
    let service = inputs.effective_service().unwrap_or_else(|| cidr::default_service_cidr(&[]));
    let cni = inputs.cni.flatten();

    let warnings = cidr::unroutable_pod_warnings(reachable, cni);
    for w in &warnings {
        diags.warning("Pod network is not routable on premises", w.clone(), Some(AttrPath::attr(mode_attr)));
    }
    if let Some(w) = cidr::webhook_ports_warning(mode, &ports) {
        diags.warning(w.summary, w.detail, Some(AttrPath::attr("webhook_ports")));
    }

    let mut parts: Vec<String> = Vec::new();
    parts.extend(inputs.vpc.known_values().iter().map(|(_, n)| format!("vpc={n}")));
    parts.push(format!("svc={service}"));
    parts.extend(nodes.iter().map(|n| format!("node={n}")));
    parts.extend(pods.iter().map(|n| format!("pod={n}")));
    parts.push(match mode {
        PodNetworkMode::Gateway => "mode=gateway".to_string(),
        m => format!("routable={}", m.routable()),
    });
    parts.extend(ports.iter().map(|p| format!("port={p}")));

    state.id = Tf::Known(digest(&parts));
    state.effective_service_cidr = Tf::Known(service.to_string());
    state.warnings = Tf::Known(warnings);
    state.vpc_routes =
        Tf::Known(cidr::vpc_routes(&nodes, &pods, mode.routes_pods()).into_iter().map(VpcRouteModel::from).collect());
    state.cluster_security_group_rules = Tf::Known(
        cidr::cluster_security_group_rules(&nodes, &pods, reachable, &ports)
            .into_iter()
            .map(SecurityGroupRuleModel::from)
            .collect(),
    );
    let mut firewall = cidr::onprem_firewall_rules(&nodes, &pods, reachable, &ports, None::<&[Ipv4Addr]>);
    if mode == PodNetworkMode::Gateway {
        // No AWS is read here: the destination reads "gateway node IPs".
        firewall.extend(cidr::gateway_firewall_rules(&nodes, None));
    }
    state.onprem_firewall_rules = Tf::Known(firewall.into_iter().map(FirewallRuleModel::from).collect());
    state.node_address_count = Tf::Known(cidr::address_count(&nodes) as i64);
    state.pod_address_count = Tf::Known(cidr::address_count(&pods) as i64);
    (Some(state), diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin5::typed::{from_value, to_value};
    use tfplugin5::{Severity, Type, Value};

    fn strings(items: &[&str]) -> Value {
        Value::list(items.iter().map(|s| Value::string(*s)).collect())
    }

    /// A configuration as Terraform sends it: every attribute present, unset ones null.
    fn config(set: Vec<(&str, Value)>) -> CidrPlanModel {
        let Type::Object(attrs) = schema().value_type() else { panic!("an object type") };
        let mut v = Value::Map(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
        for (k, x) in set {
            assert!(attrs.contains_key(k), "{k} is not an attribute");
            v.set_attr(k, x);
        }
        from_value(&v).expect("the configuration fits the model")
    }

    fn base(pods: Value) -> CidrPlanModel {
        config(vec![
            ("vpc_cidrs", strings(&["10.0.0.0/16"])),
            ("remote_node_cidrs", strings(&["192.168.0.0/16"])),
            ("remote_pod_cidrs", pods),
        ])
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter().map(|d| d.path.as_ref().map(ToString::to_string).unwrap_or_default()).collect()
    }

    #[test]
    fn invalid_element_is_reported_on_its_index() {
        let d = validate(&base(strings(&["172.16.0.0/16", "10.0.4.0/24"])));
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].severity, Severity::Error);
        assert!(!d.0[0].detail.is_empty());
        assert_eq!(d.0[0].path, Some(AttrPath::attr("remote_pod_cidrs").index(1)));
        let (state, d2) = read(base(strings(&["172.16.0.0/16", "10.0.4.0/24"])));
        assert!(state.is_none());
        assert_eq!(d2, d);
    }

    #[test]
    fn unknown_elements_and_lists_defer() {
        assert!(validate(&base(Value::list(vec![Value::Unknown]))).is_empty());
        assert!(validate(&base(Value::Unknown)).is_empty());
        // A known bad element next to an unknown one is still reported.
        let d = validate(&base(Value::list(vec![Value::Unknown, Value::string("10.0.4.0/24")])));
        assert_eq!(paths(&d), ["remote_pod_cidrs[1]"]);
        // Reading with unknowns leaves the results unknown.
        let (state, d) = read(base(Value::list(vec![Value::Unknown])));
        assert!(d.is_empty(), "{d:?}");
        let state = state.unwrap();
        assert!(state.vpc_routes.is_unknown() && state.id.is_unknown() && state.node_address_count.is_unknown());
        assert_eq!(state.pod_network_routable, Tf::Known(true));
    }

    #[test]
    fn argument_errors_point_at_the_argument() {
        let mut c = base(Value::Null);
        c.vpc_cidrs = Tf::Known(Vec::new());
        c.cni = Tf::Known("flannel".into());
        c.service_cidr = Tf::Known("nope".into());
        c.webhook_ports = Tf::Known(vec![Tf::Known(Number::from(443i64)), Tf::Known(Number::from(1.5)), Tf::Null]);
        c.allowed_ranges = Tf::Known(vec![Tf::Null, Tf::Known("192.168.0.0/16".into())]);
        let d = validate(&c);
        let mut p = paths(&d);
        p.sort();
        assert_eq!(
            p,
            ["allowed_ranges[0]", "cni", "service_cidr", "vpc_cidrs", "webhook_ports[1]", "webhook_ports[2]"],
            "{d:?}"
        );
        assert!(d.0.iter().any(|d| d.summary == "Invalid webhook port"));
        assert!(d.0.iter().any(|d| d.summary == "Missing CIDR"));
    }

    #[test]
    fn read_derives_the_tables_and_fits_the_schema() {
        let (state, d) = read(base(strings(&["172.16.0.0/16"])));
        assert!(d.is_empty(), "{d:?}");
        let state = state.unwrap();
        assert_eq!(state.effective_service_cidr, Tf::Known("172.20.0.0/16".to_string()));
        assert_eq!(state.vpc_routes.known().map(Vec::len), Some(2));
        assert_eq!(state.pod_network_routable, Tf::Known(true));
        assert_eq!(state.allowed_ranges.known().map(|l| l.len()), Some(3), "the RFC 1918 default is filled in");
        assert_eq!(state.node_address_count, Tf::Known(65536));
        assert_eq!(state.pod_address_count, Tf::Known(65536));
        assert!(state.id.known().is_some_and(|id| id.len() == 16));
        let v = to_value(&state, &schema().value_type()).expect("the state fits the schema");
        assert_eq!(v.get_attr("service_cidr"), Some(&Value::Null));
        // The same inputs give the same id.
        assert_eq!(read(base(strings(&["172.16.0.0/16"]))).0.unwrap().id, state.id);
    }

    #[test]
    fn unroutable_pods_warn_on_read_only() {
        let mut c = base(strings(&["172.16.0.0/16"]));
        c.pod_network_routable = Tf::Known(false);
        c.webhook_ports = Tf::Known(vec![Tf::Known(Number::from(9443i64))]);
        assert!(validate(&c).is_empty());
        let (state, d) = read(c);
        assert!(state.is_some());
        assert!(!d.has_errors());
        assert!(d.0.iter().all(|d| d.severity == Severity::Warning));
        assert!(paths(&d).contains(&"webhook_ports".to_string()), "{d:?}");
        assert!(paths(&d).contains(&"pod_network_routable".to_string()), "{d:?}");
    }

    #[test]
    fn firewall_rules_fit_their_schema_type() {
        let rules = cidr::onprem_firewall_rules(
            &[cidr::parse_ipv4_cidr("10.80.0.0/16").unwrap()],
            &[],
            true,
            &[],
            None::<&[Ipv4Addr]>,
        );
        assert!(!rules.is_empty());
        let ty = hybridnet_schema::cidr_plan::firewall_rule_type();
        for r in rules {
            let port = i64::from(r.port);
            let typed = to_value(&FirewallRuleModel::from(r.clone()), &ty).unwrap();
            assert_eq!(typed.get_attr("port").and_then(Value::as_i64), Some(port));
            assert_eq!(typed.get_attr("usage").and_then(Value::as_str), Some(r.usage.as_str()));
            assert_eq!(typed.get_attr("direction").and_then(Value::as_str), Some(r.direction.to_string().as_str()));
        }
    }
}
