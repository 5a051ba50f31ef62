//! The resource's configuration and state as Rust types, and their conversion
//! from and to Terraform values.

use std::collections::BTreeMap;
use std::time::Duration;

use hybridnet_rules::{self as cidr, Ipv4Net, Network, NodeCredentialProvider, PodNetworkMode};
use serde::{Deserialize, Serialize};
use tfplugin5::typed::Tf;
use tfplugin5::value::Number;
use tfplugin5::{AttrPath, Diagnostics};

/// Marks our own objects: security group rules and route tables carry this tag
/// with the cluster name as value; rule descriptions start with "hybridnet:".
pub const OWNER_TAG: &str = "hybridnet:cluster-network";

/// The resource's configuration and state (`hybridnet_schema::cluster_network::resource_schema`).
/// Every field may be null or unknown (a plan leaves what apply learns unknown).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterNetworkModel {
    pub id: Tf<String>,
    pub cluster_name: Tf<String>,
    pub remote_node_cidrs: Tf<Vec<Tf<String>>>,
    pub remote_pod_cidrs: Tf<Vec<Tf<String>>>,
    pub pod_network_mode: Tf<String>,
    pub pod_network_routable: Tf<bool>,
    pub gateway_security_group_id: Tf<String>,
    pub transit_gateway_id: Tf<String>,
    pub vpn_gateway_id: Tf<String>,
    pub attachment_subnet_ids: Tf<Vec<Tf<String>>>,
    pub manage_attachment: Tf<bool>,
    pub route_table_ids: Tf<Vec<Tf<String>>>,
    pub create_route_table: Tf<bool>,
    pub route_table_subnet_ids: Tf<Vec<Tf<String>>>,
    pub manage_security_group_rules: Tf<bool>,
    pub security_group_id: Tf<String>,
    pub webhook_ports: Tf<Vec<Tf<Number>>>,
    /// nodeadm's credential provider (`ssm`, `iam-ra`): the endpoints a private cluster needs.
    pub node_credential_provider: Tf<String>,
    pub tags: Tf<BTreeMap<String, Tf<String>>>,
    pub timeouts: Tf<TimeoutsModel>,
    pub vpc_id: Tf<String>,
    pub vpc_cidrs: Tf<Vec<Tf<String>>>,
    pub service_cidr: Tf<String>,
    pub attachment_id: Tf<String>,
    pub route_table_id: Tf<String>,
    pub routes: Tf<Vec<Tf<RouteModel>>>,
    pub security_group_rule_ids: Tf<Vec<Tf<String>>>,
    pub gateway_node_ips: Tf<Vec<Tf<String>>>,
    pub eks_network_interface_ips: Tf<Vec<Tf<String>>>,
    pub onprem_firewall_rules: Tf<Vec<Tf<FirewallRuleModel>>>,
    /// Ownership (schema version 1): whether this resource created the attachment,
    /// the routes it found, the rule IDs it found. What it found it never deletes.
    pub attachment_created: Tf<bool>,
    pub adopted_routes: Tf<Vec<Tf<RouteModel>>>,
    pub adopted_security_group_rule_ids: Tf<Vec<Tf<String>>>,
}

/// The `timeouts` block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeoutsModel {
    pub create: Tf<String>,
    pub update: Tf<String>,
    pub delete: Tf<String>,
}

/// One element of `routes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteModel {
    pub route_table_id: Tf<String>,
    pub destination_cidr: Tf<String>,
    pub target_id: Tf<String>,
    pub network: Tf<String>,
}

pub use crate::data_sources::cidr_plan::FirewallRuleModel;

/// A known string, if it is one.
pub fn text(v: &Tf<String>) -> Option<String> {
    v.known().cloned()
}

/// The known elements of a list of strings.
pub fn strings(v: &Tf<Vec<Tf<String>>>) -> Vec<String> {
    v.known().map(|l| l.iter().filter_map(|x| x.known().cloned()).collect()).unwrap_or_default()
}

/// A list of known strings.
pub fn tf_strings(items: &[String]) -> Tf<Vec<Tf<String>>> {
    Tf::Known(items.iter().cloned().map(Tf::Known).collect())
}

/// Whether every element of a list is known (and the list itself).
pub fn list_known<T>(v: &Tf<Vec<Tf<T>>>) -> bool {
    v.known().is_some_and(|l| l.iter().all(Tf::is_known))
}

impl ClusterNetworkModel {
    /// Whether nothing in the model is unknown.
    pub fn is_fully_known(&self) -> bool {
        tfplugin5::typed::to_value_untyped(self).is_ok_and(|v| v.is_fully_known())
    }

    /// The gateway the configuration names.
    pub fn gateway(&self) -> Option<String> {
        text(&self.transit_gateway_id).or_else(|| text(&self.vpn_gateway_id)).filter(|s| !s.is_empty())
    }

    /// The routes recorded in state.
    pub fn route_entries(&self) -> Vec<RouteEntry> {
        self.routes
            .known()
            .map(|l| l.iter().filter_map(|r| r.known().and_then(RouteEntry::from_model)).collect())
            .unwrap_or_default()
    }

    /// The routes, as state.
    pub fn set_routes(&mut self, routes: &[RouteEntry]) {
        self.routes = Tf::Known(routes.iter().map(|r| Tf::Known(r.to_model())).collect());
    }

    /// The routes the state records as found (`adopted_routes`).
    pub fn adopted_route_entries(&self) -> Vec<RouteEntry> {
        self.adopted_routes
            .known()
            .map(|l| l.iter().filter_map(|r| r.known().and_then(RouteEntry::from_model)).collect())
            .unwrap_or_default()
    }

    /// The adopted routes, as state.
    pub fn set_adopted_routes(&mut self, routes: &[RouteEntry]) {
        self.adopted_routes = Tf::Known(routes.iter().map(|r| Tf::Known(r.to_model())).collect());
    }

    /// The routes this resource made (recorded, not adopted): the only ones it deletes.
    pub fn created_route_entries(&self) -> Vec<RouteEntry> {
        let adopted = self.adopted_route_entries();
        self.route_entries().into_iter().filter(|r| !adopted.iter().any(|a| a.same_route(r))).collect()
    }
}

/// Parses "30m", "1h30m", "90s", "45" (seconds).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            let n: u64 = num.parse().ok()?;
            num.clear();
            total = total.checked_add(match c {
                'h' => n.checked_mul(3600)?,
                'm' => n.checked_mul(60)?,
                's' => n,
                _ => return None,
            })?;
        }
    }
    if !num.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

#[derive(Clone, Debug, PartialEq)]
pub struct Timeouts {
    pub create: Duration,
    pub update: Duration,
    pub delete: Duration,
}

/// The resource's arguments, fully known and checked for shape (not against AWS).
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub cluster_name: String,
    pub nodes: Vec<Ipv4Net>,
    pub pods: Vec<Ipv4Net>,
    pub mode: PodNetworkMode,
    /// The gateway nodes' security group (gateway mode).
    pub gateway_security_group_id: Option<String>,
    pub gateway: String,
    pub attachment_subnet_ids: Vec<String>,
    pub manage_attachment: bool,
    pub route_table_ids: Vec<String>,
    pub create_route_table: bool,
    pub route_table_subnet_ids: Vec<String>,
    pub manage_rules: bool,
    /// From configuration; `None` means the cluster security group.
    pub security_group_id: Option<String>,
    pub webhook_ports: Vec<u16>,
    /// `None`: not configured (the private-cluster audit cannot tell which endpoints).
    pub credential_provider: Option<NodeCredentialProvider>,
    pub tags: Vec<(String, String)>,
    pub timeouts: Timeouts,
}

pub use crate::args::{cidr_list, unique};

/// The pod network mode of a planned state or a configuration: `pod_network_mode`,
/// else the deprecated `pod_network_routable`, else routable.
pub fn mode_of(v: &ClusterNetworkModel) -> PodNetworkMode {
    match (v.pod_network_mode.known().and_then(|m| PodNetworkMode::parse(m)), v.pod_network_routable.known()) {
        (Some(m), _) => m,
        (None, Some(&r)) => PodNetworkMode::from_routable(r),
        (None, None) => PodNetworkMode::default(),
    }
}

impl Desired {
    /// Reads a fully known configuration (or planned state). Shape errors go to `diags`.
    pub fn from_model(v: &ClusterNetworkModel, diags: &mut Diagnostics) -> Desired {
        let nodes = cidr_list(&v.remote_node_cidrs, "remote_node_cidrs", diags);
        if v.remote_node_cidrs.known().is_some_and(|l| l.is_empty()) {
            diags.error(
                "No remote node CIDRs",
                "remote_node_cidrs needs at least one on-premises node CIDR, e.g. [\"10.80.0.0/16\"].",
                Some(AttrPath::attr("remote_node_cidrs")),
            );
        }
        let pods = cidr_list(&v.remote_pod_cidrs, "remote_pod_cidrs", diags);
        let gateway = desired_gateway(v, diags);
        let webhook_ports = crate::args::read_port_list(&v.webhook_ports, diags).values();
        let credential_provider = crate::args::read_node_credential_provider(&v.node_credential_provider, diags);
        let timeouts = desired_timeouts(v, diags);
        let create_route_table = v.create_route_table.known().copied().unwrap_or(false);
        let route_table_ids = strings(&v.route_table_ids);
        if route_table_ids.is_empty() && !create_route_table {
            diags.error(
                "No route tables",
                "Set route_table_ids to the route tables that need routes to the on-premises networks, or set \
                 create_route_table = true (with route_table_subnet_ids) for a dedicated one.",
                Some(AttrPath::attr("route_table_ids")),
            );
        }
        let mut tags: Vec<(String, String)> = v
            .tags
            .known()
            .map(|m| m.iter().filter_map(|(k, x)| x.known().map(|x| (k.clone(), x.clone()))).collect())
            .unwrap_or_default();
        tags.retain(|(k, _)| k != OWNER_TAG);
        let flag = |f: &Tf<bool>, default: bool| f.known().copied().unwrap_or(default);
        Desired {
            cluster_name: text(&v.cluster_name).unwrap_or_default(),
            nodes,
            pods,
            mode: mode_of(v),
            gateway_security_group_id: text(&v.gateway_security_group_id).filter(|s| !s.is_empty()),
            gateway,
            attachment_subnet_ids: strings(&v.attachment_subnet_ids),
            manage_attachment: flag(&v.manage_attachment, true),
            route_table_ids,
            create_route_table,
            route_table_subnet_ids: strings(&v.route_table_subnet_ids),
            manage_rules: flag(&v.manage_security_group_rules, true),
            security_group_id: text(&v.security_group_id).filter(|s| !s.is_empty()),
            webhook_ports,
            credential_provider,
            tags,
            timeouts,
        }
    }

    /// Tags for created objects: the user's plus our ownership tag.
    pub fn object_tags(&self) -> Vec<(String, String)> {
        let mut t = self.tags.clone();
        t.push((OWNER_TAG.to_string(), self.cluster_name.clone()));
        t
    }

    /// The (destination, network) pairs every managed route table needs.
    pub fn route_cidrs(&self) -> Vec<(Ipv4Net, Network)> {
        cidr::vpc_routes(&self.nodes, &self.pods, self.mode.routes_pods())
            .into_iter()
            .map(|r| (r.destination_cidr, r.network))
            .collect()
    }

    pub fn rules(&self) -> Vec<cidr::SecurityGroupRule> {
        if !self.manage_rules {
            return Vec::new();
        }
        cidr::cluster_security_group_rules(&self.nodes, &self.pods, self.mode.pods_reachable(), &self.webhook_ports)
    }

    /// The VXLAN rules of the gateway nodes' security group (gateway mode with
    /// `gateway_security_group_id`).
    pub fn gateway_rules(&self) -> Vec<cidr::SecurityGroupRule> {
        match (&self.gateway_security_group_id, self.manage_rules, self.mode) {
            (Some(_), true, PodNetworkMode::Gateway) => cidr::gateway_security_group_rules(&self.nodes),
            _ => Vec::new(),
        }
    }

    /// The security groups and the rules each needs: the rules' group (`sg`, from the
    /// state) and the gateway nodes' group, merged when they are one group.
    pub fn rule_groups(&self, sg: Option<&str>) -> Vec<(String, Vec<cidr::SecurityGroupRule>)> {
        let mut groups: Vec<(String, Vec<cidr::SecurityGroupRule>)> = Vec::new();
        let mut add =
            |group: &str, rules: Vec<cidr::SecurityGroupRule>| match groups.iter_mut().find(|(g, _)| g == group) {
                Some((_, list)) => list.extend(rules),
                None => groups.push((group.to_string(), rules)),
            };
        if let (Some(sg), true) = (sg, self.manage_rules) {
            add(sg, self.rules());
        }
        if let Some(gw) = self.gateway_security_group_id.as_deref().filter(|_| !self.gateway_rules().is_empty()) {
            add(gw, self.gateway_rules());
        }
        groups
    }
}

/// A route as recorded in state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteEntry {
    pub route_table_id: String,
    pub destination_cidr: String,
    pub target_id: String,
    pub network: String,
}

impl RouteEntry {
    pub fn to_model(&self) -> RouteModel {
        RouteModel {
            route_table_id: Tf::Known(self.route_table_id.clone()),
            destination_cidr: Tf::Known(self.destination_cidr.clone()),
            target_id: Tf::Known(self.target_id.clone()),
            network: Tf::Known(self.network.clone()),
        }
    }

    /// The same route table and destination (the target may have changed).
    pub fn same_route(&self, other: &RouteEntry) -> bool {
        self.route_table_id == other.route_table_id && self.destination_cidr == other.destination_cidr
    }

    pub fn from_model(v: &RouteModel) -> Option<RouteEntry> {
        Some(RouteEntry {
            route_table_id: text(&v.route_table_id)?,
            destination_cidr: text(&v.destination_cidr)?,
            target_id: text(&v.target_id).unwrap_or_default(),
            network: text(&v.network).unwrap_or_default(),
        })
    }
}

/// The routes `d` needs, given the route tables to manage.
pub fn desired_routes(d: &Desired, route_tables: &[String]) -> Vec<RouteEntry> {
    let mut out = Vec::new();
    for rt in route_tables {
        for (cidr, network) in d.route_cidrs() {
            out.push(RouteEntry {
                route_table_id: rt.clone(),
                destination_cidr: cidr.to_string(),
                target_id: d.gateway.clone(),
                network: network.as_str().to_string(),
            });
        }
    }
    out
}

/// Route tables managed: the configured ones, then the dedicated one.
pub fn managed_route_tables(d: &Desired, created: Option<&str>) -> Vec<String> {
    let mut rts = d.route_table_ids.clone();
    if let Some(c) = created {
        if !rts.iter().any(|r| r == c) {
            rts.push(c.to_string());
        }
    }
    rts
}

/// The on-premises firewall table with the EKS cluster IPs filled in (resource and
/// data source alike).
pub fn firewall_table(
    nodes: &[Ipv4Net],
    pods: &[Ipv4Net],
    mode: PodNetworkMode,
    webhook_ports: &[u16],
    eks_ips: &[String],
    gateway_ips: &[String],
) -> Vec<FirewallRuleModel> {
    let ips: Vec<std::net::Ipv4Addr> = eks_ips.iter().filter_map(|s| s.parse().ok()).collect();
    let mut rules = cidr::onprem_firewall_rules(nodes, pods, mode.pods_reachable(), webhook_ports, Some(&ips));
    if mode == PodNetworkMode::Gateway {
        let gateway: Vec<std::net::Ipv4Addr> = gateway_ips.iter().filter_map(|s| s.parse().ok()).collect();
        rules.extend(cidr::gateway_firewall_rules(nodes, Some(&gateway)));
    }
    rules.into_iter().map(FirewallRuleModel::from).collect()
}

/// The resource's firewall table for `d`.
pub fn firewall_rules(d: &Desired, eks_ips: &[String], gateway_ips: &[String]) -> Tf<Vec<Tf<FirewallRuleModel>>> {
    let table = firewall_table(&d.nodes, &d.pods, d.mode, &d.webhook_ports, eks_ips, gateway_ips);
    Tf::Known(table.into_iter().map(Tf::Known).collect())
}

/// The one gateway of `transit_gateway_id` and `vpn_gateway_id` (empty, with an error,
/// unless exactly one is set, with the ID's prefix checked).
fn desired_gateway(v: &ClusterNetworkModel, diags: &mut Diagnostics) -> String {
    let tgw = text(&v.transit_gateway_id).filter(|s| !s.is_empty());
    let vgw = text(&v.vpn_gateway_id).filter(|s| !s.is_empty());
    match (&tgw, &vgw) {
        (Some(t), None) => {
            if !t.starts_with("tgw-") {
                diags.error(
                    "Invalid transit gateway ID",
                    format!("transit_gateway_id is {t:?}; transit gateway IDs look like \"tgw-0123456789abcdef0\"."),
                    Some(AttrPath::attr("transit_gateway_id")),
                );
            }
            t.clone()
        }
        (None, Some(g)) => {
            if !g.starts_with("vgw-") {
                diags.error(
                    "Invalid virtual private gateway ID",
                    format!(
                        "vpn_gateway_id is {g:?}; virtual private gateway IDs look like \"vgw-0123456789abcdef0\"."
                    ),
                    Some(AttrPath::attr("vpn_gateway_id")),
                );
            }
            g.clone()
        }
        (Some(_), Some(_)) => {
            diags.error(
                "Conflicting gateways",
                "Set exactly one of transit_gateway_id and vpn_gateway_id: the routes can point at only one gateway.",
                Some(AttrPath::attr("vpn_gateway_id")),
            );
            String::new()
        }
        (None, None) => {
            diags.error(
                "No gateway",
                "Set transit_gateway_id or vpn_gateway_id: the gateway that connects the VPC to the on-premises network.",
                Some(AttrPath::attr("transit_gateway_id")),
            );
            String::new()
        }
    }
}

/// The `timeouts` block, each unset one 30 minutes, each unreadable one an error on
/// its attribute.
fn desired_timeouts(v: &ClusterNetworkModel, diags: &mut Diagnostics) -> Timeouts {
    let timeouts_v = v.timeouts.known().cloned().unwrap_or_default();
    let mut timeout = |name: &str, value: &Tf<String>| -> Duration {
        let default = Duration::from_secs(30 * 60);
        match text(value) {
            None => default,
            Some(s) => parse_duration(&s).unwrap_or_else(|| {
                diags.error(
                    "Invalid timeout",
                    format!("timeouts.{name} is {s:?}; use a duration such as \"30m\", \"1h\" or \"90s\"."),
                    Some(AttrPath::attr("timeouts").then(name)),
                );
                default
            }),
        }
    };
    Timeouts {
        create: timeout("create", &timeouts_v.create),
        update: timeout("update", &timeouts_v.update),
        delete: timeout("delete", &timeouts_v.delete),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
    }
}
