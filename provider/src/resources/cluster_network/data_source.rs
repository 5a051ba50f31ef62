//! Data source `hybridnet_cluster_network`: reads a cluster's hybrid networking and
//! lists what the EKS Hybrid Nodes requirements need but AWS lacks.

use crate::aws::{ec2, Aws};
use hybridnet_rules::{self as cidr, Direction, Ipv4Net};
use tfplugin5::{AttrPath, Diagnostics, Value};

use super::context::{aws_diag, cluster_not_found, find_context};
use super::matching::{routed_gateway, satisfying_rule};
use super::model::{str_attr, strings_attr, strings_value, unique};

pub async fn read(aws: &Aws, config: &Value) -> (Value, Diagnostics) {
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return (Value::Null, aws_diag(&e, None)),
    };
    let ec2 = &clients.ec2;
    let name = str_attr(config, "cluster_name").unwrap_or_default();
    let ctx = match find_context(clients, &name, str_attr(config, "security_group_id").as_deref()).await {
        Ok(Some(c)) => c,
        Ok(None) => return (Value::Null, cluster_not_found(&name, &clients.region)),
        Err(e) => return (Value::Null, aws_diag(&clients.explain(e), None)),
    };
    let mut diags = Diagnostics::new();
    let pick = |attr: &str, default: &[String]| -> Vec<String> {
        match config.get_attr(attr) {
            Some(v) if !v.is_null() => strings_attr(config, attr),
            _ => default.to_vec(),
        }
    };
    let nodes_s = pick("remote_node_cidrs", &ctx.cluster.remote_node_cidrs);
    let pods_s = pick("remote_pod_cidrs", &ctx.cluster.remote_pod_cidrs);
    let parse = |attr: &str, list: &[String], diags: &mut Diagnostics| -> Vec<Ipv4Net> {
        let mut out = Vec::new();
        for (i, s) in list.iter().enumerate() {
            match cidr::parse_ipv4_cidr(s) {
                Ok(n) => out.push(n),
                Err(e) => diags.error(e.summary(), e.detail(), Some(AttrPath::attr(attr).index(i))),
            }
        }
        out
    };
    let mut webhook_ports = Vec::new();
    for (i, p) in config.get_attr("webhook_ports").and_then(Value::as_list).unwrap_or_default().iter().enumerate() {
        match p.as_i64().and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0) {
            Some(p) => webhook_ports.push(p),
            None => diags.error(
                "Invalid webhook port",
                format!("webhook_ports[{i}] must be a whole number from 1 to 65535 (a TCP port)."),
                Some(AttrPath::attr("webhook_ports").index(i)),
            ),
        }
    }
    let nodes = parse("remote_node_cidrs", &nodes_s, &mut diags);
    let pods = parse("remote_pod_cidrs", &pods_s, &mut diags);
    if diags.has_errors() {
        return (Value::Null, diags);
    }
    let all: Vec<String> = unique(nodes.iter().chain(pods.iter()).map(|n| n.to_string()));

    let route_tables = match config.get_attr("route_table_ids") {
        Some(v) if !v.is_null() => ec2::find_route_tables(ec2, &strings_attr(config, "route_table_ids")).await,
        _ => ec2::find_route_tables_routing(ec2, &ctx.vpc.id, &all).await,
    };
    let sg = ctx.security_group_id.clone();
    let (rules, ips) = tokio::join!(
        async {
            match &sg {
                Some(sg) => ec2::find_security_group_rules(ec2, sg).await,
                None => Ok(Vec::new()),
            }
        },
        ec2::find_eks_interface_ips(ec2, &ctx.vpc.id, &name),
    );
    let (route_tables, rules, ips) = match (route_tables, rules, ips) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return (Value::Null, aws_diag(&clients.explain(e), None)),
    };

    let gateway = routed_gateway(&route_tables, &all);
    let routable = config.get_attr("pod_network_routable").and_then(Value::as_bool).unwrap_or(true);

    let mut missing = Vec::new();
    if !ctx.vpc.dns_hostnames {
        missing.push(format!("VPC {}: DNS hostnames are disabled", ctx.vpc.id));
    }
    if !ctx.vpc.dns_support {
        missing.push(format!("VPC {}: DNS resolution is disabled", ctx.vpc.id));
    }
    let attachment = match &gateway {
        None => {
            missing.push(format!(
                "a transit gateway or virtual private gateway route for {} in VPC {}",
                all.join(", "),
                ctx.vpc.id
            ));
            None
        }
        Some(g) => match ec2::find_attachment(ec2, g, &ctx.vpc.id).await {
            Ok(a) => {
                if a.as_ref().is_none_or(|a| !a.usable()) {
                    missing.push(format!("attachment of VPC {} to {g}", ctx.vpc.id));
                }
                a
            }
            Err(e) => return (Value::Null, aws_diag(&clients.explain(e), None)),
        },
    };
    let mut routes = Vec::new();
    let gw_text = gateway.clone().unwrap_or_else(|| "a transit or virtual private gateway".to_string());
    let wanted: Vec<String> =
        cidr::vpc_routes(&nodes, &pods, routable).iter().map(|r| r.destination_cidr.to_string()).collect();
    for t in &route_tables {
        for c in &wanted {
            match t.routes.iter().find(|r| &r.destination_cidr == c) {
                Some(r) => {
                    let network = if nodes.iter().any(|n| n.to_string() == *c) { "node" } else { "pod" };
                    routes.push(Value::object([
                        ("route_table_id", Value::string(t.id.clone())),
                        ("destination_cidr", Value::string(c.clone())),
                        ("target_id", Value::string(r.target_id.clone())),
                        ("network", Value::string(network)),
                    ]));
                    if gateway.as_ref().is_some_and(|g| &r.target_id != g) {
                        missing.push(format!("route {c} in {} to {gw_text} (it points at {})", t.id, r.target_id));
                    }
                }
                None => missing.push(format!("route {c} in {} to {gw_text}", t.id)),
            }
        }
    }
    let mut rule_ids = Vec::new();
    match &sg {
        None => missing.push(format!("a cluster security group for {name} (EKS reports none; set security_group_id)")),
        Some(sg) => {
            for r in cidr::cluster_security_group_rules(&nodes, &pods, routable, &webhook_ports) {
                match satisfying_rule(&rules, &r, &name) {
                    Some(x) => rule_ids.push(x.id.clone()),
                    None => missing.push(format!(
                        "security group {sg}: {} {} {} {} {}",
                        r.direction.as_str(),
                        r.protocol,
                        r.from_port,
                        if r.direction == Direction::Egress { "to" } else { "from" },
                        r.cidr
                    )),
                }
            }
        }
    }
    let rule_ids = unique(rule_ids);
    let fw: Vec<std::net::Ipv4Addr> = ips.iter().filter_map(|s| s.parse().ok()).collect();
    let firewall = cidr::onprem_firewall_rules(&nodes, &pods, routable, &webhook_ports, Some(&fw));
    let state = Value::object([
        ("id", Value::string(name.clone())),
        ("cluster_name", Value::string(name.clone())),
        ("remote_node_cidrs", strings_value(&nodes_s)),
        ("remote_pod_cidrs", strings_value(&pods_s)),
        ("pod_network_routable", Value::Bool(routable)),
        (
            "webhook_ports",
            match config.get_attr("webhook_ports") {
                Some(v) if !v.is_null() => v.clone(),
                _ => Value::Null,
            },
        ),
        ("security_group_id", sg.clone().map(Value::string).unwrap_or(Value::Null)),
        ("route_table_ids", strings_value(&route_tables.iter().map(|t| t.id.clone()).collect::<Vec<_>>())),
        ("gateway_id", gateway.clone().map(Value::string).unwrap_or(Value::Null)),
        ("missing", strings_value(&missing)),
        ("vpc_id", Value::string(ctx.vpc.id.clone())),
        ("vpc_cidrs", strings_value(&ctx.vpc.cidrs)),
        ("service_cidr", Value::string(ctx.service_cidr.clone())),
        ("attachment_id", attachment.map(|a| Value::string(a.id)).unwrap_or(Value::Null)),
        ("route_table_id", Value::Null),
        ("routes", Value::list(routes)),
        ("security_group_rule_ids", strings_value(&rule_ids)),
        ("eks_network_interface_ips", strings_value(&ips)),
        (
            "onprem_firewall_rules",
            Value::list(firewall.into_iter().map(crate::data_sources::cidr_plan::firewall_rule_value).collect()),
        ),
    ]);
    (state, diags)
}
