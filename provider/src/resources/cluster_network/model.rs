//! The resource's configuration and state as Rust types, and their conversion
//! from and to Terraform values.

use std::collections::BTreeMap;
use std::time::Duration;

use hybridnet_rules::{self as cidr, Ipv4Net, Network};
use tfplugin5::{AttrPath, Diagnostics, Value};

/// Marks our own objects: security group rules and route tables carry this tag
/// with the cluster name as value; rule descriptions start with "hybridnet:".
pub const OWNER_TAG: &str = "hybridnet:cluster-network";

pub fn str_attr(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name).and_then(|x| x.as_str()).map(str::to_string)
}

pub fn bool_attr(v: &Value, name: &str, default: bool) -> bool {
    v.get_attr(name).and_then(|x| x.as_bool()).unwrap_or(default)
}

pub fn strings_attr(v: &Value, name: &str) -> Vec<String> {
    v.get_attr(name)
        .and_then(|x| x.as_list())
        .map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

pub fn map_attr(v: &Value, name: &str) -> Vec<(String, String)> {
    v.get_attr(name)
        .and_then(|x| x.as_map())
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

pub fn strings_value(items: &[String]) -> Value {
    Value::list(items.iter().map(|s| Value::string(s.clone())).collect())
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
    pub routable: bool,
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
    pub tags: Vec<(String, String)>,
    pub timeouts: Timeouts,
}

fn cidr_list(v: &Value, attr: &str, diags: &mut Diagnostics) -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    for (i, s) in strings_attr_with_nulls(v, attr).into_iter().enumerate() {
        let path = AttrPath::attr(attr).index(i);
        match s {
            None => diags.error(
                "Missing CIDR",
                format!("Element {i} of {attr} is null. Remove it or set it to an IPv4 CIDR such as \"10.80.0.0/16\"."),
                Some(path),
            ),
            Some(s) => match cidr::parse_ipv4_cidr(&s) {
                Ok(n) => out.push(n),
                Err(e) => diags.error(e.summary(), e.detail(), Some(path)),
            },
        }
    }
    out
}

fn strings_attr_with_nulls(v: &Value, name: &str) -> Vec<Option<String>> {
    v.get_attr(name)
        .and_then(|x| x.as_list())
        .map(|items| items.iter().map(|i| i.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

impl Desired {
    /// Reads a fully known configuration (or planned state). Shape errors go to `diags`.
    pub fn from_value(v: &Value, diags: &mut Diagnostics) -> Desired {
        let nodes = cidr_list(v, "remote_node_cidrs", diags);
        if v.get_attr("remote_node_cidrs").and_then(|x| x.as_list()).is_some_and(|l| l.is_empty()) {
            diags.error(
                "No remote node CIDRs",
                "remote_node_cidrs needs at least one on-premises node CIDR, e.g. [\"10.80.0.0/16\"].",
                Some(AttrPath::attr("remote_node_cidrs")),
            );
        }
        let pods = cidr_list(v, "remote_pod_cidrs", diags);
        let tgw = str_attr(v, "transit_gateway_id").filter(|s| !s.is_empty());
        let vgw = str_attr(v, "vpn_gateway_id").filter(|s| !s.is_empty());
        let gateway = match (&tgw, &vgw) {
            (Some(t), None) => {
                if !t.starts_with("tgw-") {
                    diags.error(
                        "Invalid transit gateway ID",
                        format!(
                            "transit_gateway_id is {t:?}; transit gateway IDs look like \"tgw-0123456789abcdef0\"."
                        ),
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
        };
        let mut webhook_ports = Vec::new();
        if let Some(items) = v.get_attr("webhook_ports").and_then(|x| x.as_list()) {
            for (i, p) in items.iter().enumerate() {
                match p.as_i64() {
                    Some(p) if (1..=65535).contains(&p) => webhook_ports.push(p as u16),
                    _ => diags.error(
                        "Invalid webhook port",
                        format!("webhook_ports[{i}] must be a whole number from 1 to 65535 (a TCP port)."),
                        Some(AttrPath::attr("webhook_ports").index(i)),
                    ),
                }
            }
        }
        let timeouts_v = v.get_attr("timeouts").cloned().unwrap_or(Value::Null);
        let mut timeout = |name: &str| -> Duration {
            let default = Duration::from_secs(30 * 60);
            match str_attr(&timeouts_v, name) {
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
        let timeouts = Timeouts { create: timeout("create"), update: timeout("update"), delete: timeout("delete") };
        let create_route_table = bool_attr(v, "create_route_table", false);
        let route_table_ids = strings_attr(v, "route_table_ids");
        if route_table_ids.is_empty() && !create_route_table {
            diags.error(
                "No route tables",
                "Set route_table_ids to the route tables that need routes to the on-premises networks, or set \
                 create_route_table = true (with route_table_subnet_ids) for a dedicated one.",
                Some(AttrPath::attr("route_table_ids")),
            );
        }
        let mut tags = map_attr(v, "tags");
        tags.retain(|(k, _)| k != OWNER_TAG);
        Desired {
            cluster_name: str_attr(v, "cluster_name").unwrap_or_default(),
            nodes,
            pods,
            routable: bool_attr(v, "pod_network_routable", true),
            gateway,
            attachment_subnet_ids: strings_attr(v, "attachment_subnet_ids"),
            manage_attachment: bool_attr(v, "manage_attachment", true),
            route_table_ids,
            create_route_table,
            route_table_subnet_ids: strings_attr(v, "route_table_subnet_ids"),
            manage_rules: bool_attr(v, "manage_security_group_rules", true),
            security_group_id: str_attr(v, "security_group_id").filter(|s| !s.is_empty()),
            webhook_ports,
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
        cidr::vpc_routes(&self.nodes, &self.pods, self.routable)
            .into_iter()
            .map(|r| (r.destination_cidr, r.network))
            .collect()
    }

    pub fn rules(&self) -> Vec<cidr::SecurityGroupRule> {
        if !self.manage_rules {
            return Vec::new();
        }
        cidr::cluster_security_group_rules(&self.nodes, &self.pods, self.routable, &self.webhook_ports)
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
    pub fn to_value(&self) -> Value {
        Value::object([
            ("route_table_id", Value::string(self.route_table_id.clone())),
            ("destination_cidr", Value::string(self.destination_cidr.clone())),
            ("target_id", Value::string(self.target_id.clone())),
            ("network", Value::string(self.network.clone())),
        ])
    }

    pub fn from_value(v: &Value) -> Option<RouteEntry> {
        Some(RouteEntry {
            route_table_id: str_attr(v, "route_table_id")?,
            destination_cidr: str_attr(v, "destination_cidr")?,
            target_id: str_attr(v, "target_id").unwrap_or_default(),
            network: str_attr(v, "network").unwrap_or_default(),
        })
    }
}

pub fn routes_attr(v: &Value) -> Vec<RouteEntry> {
    v.get_attr("routes")
        .and_then(|x| x.as_list())
        .map(|items| items.iter().filter_map(RouteEntry::from_value).collect())
        .unwrap_or_default()
}

pub fn routes_value(routes: &[RouteEntry]) -> Value {
    Value::list(routes.iter().map(RouteEntry::to_value).collect())
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

/// Firewall rules with the EKS IPs filled in.
pub fn firewall_value(d: &Desired, eks_ips: &[String]) -> Value {
    let ips: Vec<std::net::Ipv4Addr> = eks_ips.iter().filter_map(|s| s.parse().ok()).collect();
    let rules = cidr::onprem_firewall_rules(&d.nodes, &d.pods, d.routable, &d.webhook_ports, Some(&ips));
    Value::list(rules.into_iter().map(crate::data_sources::cidr_plan::firewall_rule_value).collect())
}

/// Attributes of a state object, as a map for in-place edits.
pub fn set_all(state: &mut Value, pairs: Vec<(&str, Value)>) {
    for (k, v) in pairs {
        state.set_attr(k, v);
    }
}

/// Whether two values differ in the given attributes.
pub fn differs(a: &Value, b: &Value, attrs: &[&str]) -> bool {
    attrs.iter().any(|k| a.get_attr(k) != b.get_attr(k))
}

pub type Tags = BTreeMap<String, String>;

/// `items` without repeats, in the order of first appearance (`Vec::dedup` only drops
/// adjacent repeats, which misses them in an unsorted list).
pub fn unique<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = std::collections::BTreeSet::new();
    items.into_iter().filter(|x| seen.insert(x.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_drops_repeats_that_are_not_adjacent() {
        let ids = ["sgr-b", "sgr-a", "sgr-b", "sgr-c", "sgr-a"].map(String::from);
        assert_eq!(unique(ids), ["sgr-b", "sgr-a", "sgr-c"].map(String::from));
    }

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
