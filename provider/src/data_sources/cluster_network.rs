//! Data source `hybridnet_cluster_network`: reads a cluster's hybrid networking and
//! lists what the EKS Hybrid Nodes requirements need but AWS lacks.

use std::sync::Arc;

use crate::args::{cidr_list, read_node_credential_provider, read_pod_network, read_port_list, unique};
use crate::aws::ConfiguredAws;
use crate::aws::{ec2, Aws, AwsError};
use crate::data_sources::cidr_plan::FirewallRuleModel;
use hybridnet_rules::{self as cidr, Direction, PodNetworkMode};
use serde::{Deserialize, Serialize};
use tfplugin5::typed::{DataSource, StopToken, Tf};
use tfplugin5::value::Number;
use tfplugin5::{AttrPath, Diagnostics};

use crate::resources::cluster_network::context::{aws_diag, cluster_not_found, find_context, ClusterContext};
use crate::resources::cluster_network::matching::{routed_gateway, satisfying_rule};
use crate::resources::cluster_network::model::{firewall_table, strings, tf_strings};

/// The whole `hybridnet_cluster_network` data source object (see
/// [`hybridnet_schema::cluster_network::data_source_schema`]): arguments, then
/// computed attributes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ClusterNetworkAuditModel {
    /// Computed: the cluster name.
    pub id: Tf<String>,
    pub cluster_name: Tf<String>,
    /// Optional and computed: default the cluster's remote node networks.
    pub remote_node_cidrs: Tf<Vec<Tf<String>>>,
    /// Optional and computed: default the cluster's remote pod networks.
    pub remote_pod_cidrs: Tf<Vec<Tf<String>>>,
    /// Optional and computed: default `routable`.
    pub pod_network_mode: Tf<String>,
    /// Deprecated form of `pod_network_mode`.
    pub pod_network_routable: Tf<bool>,
    pub gateway_security_group_id: Tf<String>,
    /// Optional and computed: default the cluster security group.
    pub security_group_id: Tf<String>,
    /// Numbers as Terraform sent them, so that a fraction or an out-of-range value
    /// is a diagnostic on its element rather than a decoding error.
    pub webhook_ports: Tf<Vec<Tf<Number>>>,
    /// nodeadm's credential provider (`ssm`, `iam-ra`): the endpoints a private cluster needs.
    pub node_credential_provider: Tf<String>,
    /// Optional and computed: default the route tables routing the remote CIDRs.
    pub route_table_ids: Tf<Vec<Tf<String>>>,
    pub gateway_id: Tf<String>,
    pub missing: Tf<Vec<String>>,
    pub vpc_id: Tf<String>,
    pub vpc_cidrs: Tf<Vec<String>>,
    pub service_cidr: Tf<String>,
    pub attachment_id: Tf<String>,
    /// Always null for the data source (the resource's dedicated route table).
    pub route_table_id: Tf<String>,
    pub routes: Tf<Vec<AuditRouteModel>>,
    pub security_group_rule_ids: Tf<Vec<String>>,
    pub gateway_node_ips: Tf<Vec<String>>,
    pub eks_network_interface_ips: Tf<Vec<String>>,
    pub onprem_firewall_rules: Tf<Vec<FirewallRuleModel>>,
}

/// An element of `routes` ([`hybridnet_schema::cluster_network::route_type`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRouteModel {
    pub route_table_id: String,
    pub destination_cidr: String,
    pub target_id: String,
    /// `node` or `pod`.
    pub network: String,
}

/// The `hybridnet_cluster_network` data source: an audit, read-only.
pub struct ClusterNetworkAudit {
    shared: Arc<ConfiguredAws>,
}

impl ClusterNetworkAudit {
    pub fn new(shared: Arc<ConfiguredAws>) -> Self {
        ClusterNetworkAudit { shared }
    }
}

#[tonic::async_trait]
impl DataSource for ClusterNetworkAudit {
    type Model = ClusterNetworkAuditModel;

    fn type_name(&self) -> &'static str {
        hybridnet_schema::cluster_network::TYPE_NAME
    }

    async fn read(
        &self,
        config: ClusterNetworkAuditModel,
        _stop: StopToken,
    ) -> (Option<ClusterNetworkAuditModel>, Diagnostics) {
        let aws = self.shared.aws().await;
        read(&aws, &config).await
    }
}

fn or_default(list: &Tf<Vec<Tf<String>>>, default: &[String]) -> Vec<String> {
    if list.is_null() {
        default.to_vec()
    } else {
        strings(list)
    }
}

/// The CIDRs of `list` (the configuration's, or the cluster's), each malformed one an
/// error on `attr[i]`.
fn parse_cidrs(attr: &str, list: &[String], diags: &mut Diagnostics) -> Vec<cidr::Ipv4Net> {
    cidr_list(&tf_strings(list), attr, diags)
}

/// ReadDataSource: the cluster's networking as AWS has it, and what is missing.
pub async fn read(aws: &Aws, config: &ClusterNetworkAuditModel) -> (Option<ClusterNetworkAuditModel>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mode = read_pod_network(
        &config.pod_network_mode,
        &config.pod_network_routable,
        &config.gateway_security_group_id,
        &mut diags,
    )
    .unwrap_or_default();
    let credential_provider = read_node_credential_provider(&config.node_credential_provider, &mut diags);
    if diags.has_errors() {
        return (None, diags);
    }
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return (None, aws_diag(&e, None)),
    };
    let ec2 = &*clients.ec2;
    let name = config.cluster_name.known().cloned().unwrap_or_default();
    let ctx = match find_context(clients, &name, config.security_group_id.known().map(String::as_str), &[]).await {
        Ok(Some(c)) => c,
        Ok(None) => return (None, cluster_not_found(&name, &clients.region)),
        Err(e) => return (None, aws_diag(&clients.explain(e), None)),
    };
    let gateway_group = config.gateway_security_group_id.known().cloned().filter(|_| mode == PodNetworkMode::Gateway);
    let nodes_s = or_default(&config.remote_node_cidrs, &ctx.cluster.remote_node_cidrs);
    let pods_s = or_default(&config.remote_pod_cidrs, &ctx.cluster.remote_pod_cidrs);
    let webhook_ports = read_port_list(&config.webhook_ports, &mut diags).values();
    if let Some(w) = cidr::webhook_ports_warning(mode, &webhook_ports) {
        diags.warning(w.summary, w.detail, Some(AttrPath::attr("webhook_ports")));
    }
    let nodes = parse_cidrs("remote_node_cidrs", &nodes_s, &mut diags);
    let pods = parse_cidrs("remote_pod_cidrs", &pods_s, &mut diags);
    if diags.has_errors() {
        return (None, diags);
    }
    let all: Vec<String> = unique(nodes.iter().chain(pods.iter()).map(|n| n.to_string()));

    let found = match observe(ec2, config, &ctx, &name, &all, gateway_group.as_deref()).await {
        Ok(f) => f,
        Err(e) => return (None, aws_diag(&clients.explain(e), None)),
    };
    let gateway = routed_gateway(&found.route_tables, &all);

    let mut missing = missing_dns(&ctx.vpc);
    let attachment = match audit_attachment(ec2, gateway.as_deref(), &ctx.vpc.id, &all, &mut missing).await {
        Ok(a) => a,
        Err(e) => return (None, aws_diag(&clients.explain(e), None)),
    };
    let routes = audit_routes(&found.route_tables, &nodes, &pods, mode, gateway.as_deref(), &mut missing);
    let rule_ids = audit_rules(&found, &nodes, &pods, mode, &webhook_ports, &name, &mut missing);
    missing.extend(
        crate::resources::cluster_network::private::missing(
            clients,
            &ctx,
            &nodes,
            &pods,
            credential_provider,
            &mut diags,
        )
        .await,
    );
    let gateway_ips = ec2::interface_ips(&found.gateway_interfaces);
    let firewall = firewall_table(&nodes, &pods, mode, &webhook_ports, &found.eks_ips, &gateway_ips);
    let state = ClusterNetworkAuditModel {
        id: Tf::Known(name.clone()),
        cluster_name: Tf::Known(name),
        remote_node_cidrs: tf_strings(&nodes_s),
        remote_pod_cidrs: tf_strings(&pods_s),
        pod_network_mode: Tf::Known(mode.as_str().to_string()),
        pod_network_routable: Tf::Known(mode.routable()),
        gateway_security_group_id: config.gateway_security_group_id.clone(),
        webhook_ports: config.webhook_ports.clone(),
        node_credential_provider: config.node_credential_provider.clone(),
        security_group_id: found.security_group.into(),
        route_table_ids: tf_strings(&found.route_tables.iter().map(|t| t.id.clone()).collect::<Vec<_>>()),
        gateway_id: gateway.into(),
        missing: Tf::Known(missing),
        vpc_id: Tf::Known(ctx.vpc.id.clone()),
        vpc_cidrs: Tf::Known(ctx.vpc.cidrs.clone()),
        service_cidr: Tf::Known(ctx.service_cidr.clone()),
        attachment_id: attachment.map(|a| a.id).into(),
        route_table_id: Tf::Null,
        routes: Tf::Known(routes),
        security_group_rule_ids: Tf::Known(rule_ids),
        gateway_node_ips: Tf::Known(gateway_ips),
        eks_network_interface_ips: Tf::Known(found.eks_ips),
        onprem_firewall_rules: Tf::Known(firewall),
    };
    (Some(state), diags)
}

/// What the audit reads from EC2 around the cluster, in parallel.
struct Observed {
    route_tables: Vec<ec2::RouteTable>,
    /// The cluster security group (configured, else the cluster's), if any.
    security_group: Option<String>,
    rules: Vec<ec2::SgRule>,
    eks_ips: Vec<String>,
    gateway_rules: Vec<ec2::SgRule>,
    gateway_interfaces: Vec<ec2::Interface>,
    /// The gateway security group, in gateway mode.
    gateway_group: Option<String>,
}

/// Reads the route tables (configured, else those routing `all`), the cluster security
/// group's rules, the EKS ENIs and, in gateway mode, the gateway group's rules and
/// interfaces.
async fn observe(
    ec2: &dyn ec2::Ec2,
    config: &ClusterNetworkAuditModel,
    ctx: &ClusterContext,
    name: &str,
    all: &[String],
    gateway_group: Option<&str>,
) -> Result<Observed, AwsError> {
    let route_tables = if config.route_table_ids.is_null() {
        ec2::find_route_tables_routing(ec2, &ctx.vpc.id, all).await
    } else {
        ec2::find_route_tables(ec2, &strings(&config.route_table_ids)).await
    };
    let sg = ctx.security_group_id.clone();
    let (rules, ips, gateway_parts) = tokio::join!(
        async {
            match &sg {
                Some(sg) => ec2::find_security_group_rules(ec2, sg).await,
                None => Ok(Vec::new()),
            }
        },
        ec2::find_eks_interface_ips(ec2, &ctx.vpc.id, name),
        async {
            match gateway_group {
                Some(g) => {
                    let (r, i) =
                        tokio::join!(ec2::find_security_group_rules(ec2, g), ec2::find_interfaces_in_group(ec2, g));
                    Ok((r?, i?))
                }
                None => Ok((Vec::new(), Vec::new())),
            }
        },
    );
    let (route_tables, rules, eks_ips, (gateway_rules, gateway_interfaces)) =
        (route_tables?, rules?, ips?, gateway_parts?);
    Ok(Observed {
        route_tables,
        security_group: sg,
        rules,
        eks_ips,
        gateway_rules,
        gateway_interfaces,
        gateway_group: gateway_group.map(str::to_string),
    })
}

/// The VPC's DNS attributes EKS Hybrid Nodes need, as `missing` entries.
fn missing_dns(vpc: &ec2::Vpc) -> Vec<String> {
    let mut missing = Vec::new();
    if !vpc.dns_hostnames {
        missing.push(format!("VPC {}: DNS hostnames are disabled", vpc.id));
    }
    if !vpc.dns_support {
        missing.push(format!("VPC {}: DNS resolution is disabled", vpc.id));
    }
    missing
}

/// The VPC's attachment to the gateway the remote CIDRs are routed to; a missing
/// gateway route or an attachment that is absent or unusable is `missing`.
async fn audit_attachment(
    ec2: &dyn ec2::Ec2,
    gateway: Option<&str>,
    vpc_id: &str,
    all: &[String],
    missing: &mut Vec<String>,
) -> Result<Option<ec2::Attachment>, AwsError> {
    match gateway {
        None => {
            missing.push(format!(
                "a transit gateway or virtual private gateway route for {} in VPC {vpc_id}",
                all.join(", "),
            ));
            Ok(None)
        }
        Some(g) => {
            let a = ec2::find_attachment(ec2, g, vpc_id).await?;
            if a.as_ref().is_none_or(|a| !a.usable()) {
                missing.push(format!("attachment of VPC {vpc_id} to {g}"));
            }
            Ok(a)
        }
    }
}

/// The remote networks' routes in each table (as `routes`), each absent or mis-pointed
/// one `missing`; in gateway mode also the pod routes the gateway must program.
fn audit_routes(
    route_tables: &[ec2::RouteTable],
    nodes: &[cidr::Ipv4Net],
    pods: &[cidr::Ipv4Net],
    mode: PodNetworkMode,
    gateway: Option<&str>,
    missing: &mut Vec<String>,
) -> Vec<AuditRouteModel> {
    let mut routes = Vec::new();
    let gw_text = gateway.unwrap_or("a transit or virtual private gateway");
    let wanted: Vec<String> =
        cidr::vpc_routes(nodes, pods, mode.routes_pods()).iter().map(|r| r.destination_cidr.to_string()).collect();
    for t in route_tables {
        for c in &wanted {
            match t.routes.iter().find(|r| &r.destination_cidr == c) {
                Some(r) => {
                    let network = if nodes.iter().any(|n| n.to_string() == *c) { "node" } else { "pod" };
                    routes.push(AuditRouteModel {
                        route_table_id: t.id.clone(),
                        destination_cidr: c.clone(),
                        target_id: r.target_id.clone(),
                        network: network.to_string(),
                    });
                    if gateway.is_some_and(|g| r.target_id != g) {
                        missing.push(format!("route {c} in {} to {gw_text} (it points at {})", t.id, r.target_id));
                    }
                }
                None => missing.push(format!("route {c} in {} to {gw_text}", t.id)),
            }
        }
    }
    if mode == PodNetworkMode::Gateway {
        // The gateway writes these itself, to its own network interface.
        for t in route_tables {
            for c in unique(pods.iter().map(|p| p.to_string())) {
                let to_interface = t.routes.iter().any(|r| r.destination_cidr == c && r.target_id.starts_with("eni-"));
                if !to_interface {
                    missing.push(format!(
                        "route {c} in {} to the EKS Hybrid Nodes gateway's network interface (the gateway has not \
                         programmed this table: add it to the gateway's routeTableIDs)",
                        t.id
                    ));
                }
            }
        }
    }
    routes
}

/// The IDs of the rules satisfying the gateway group's and the cluster group's required
/// rules; each unsatisfied one (or the cluster group itself) is `missing`.
fn audit_rules(
    found: &Observed,
    nodes: &[cidr::Ipv4Net],
    pods: &[cidr::Ipv4Net],
    mode: PodNetworkMode,
    webhook_ports: &[u16],
    name: &str,
    missing: &mut Vec<String>,
) -> Vec<String> {
    let mut rule_ids = Vec::new();
    let describe = |group: &str, r: &cidr::SecurityGroupRule| {
        format!(
            "security group {group}: {} {} {} {} {}",
            r.direction.as_str(),
            r.protocol,
            r.from_port,
            if r.direction == Direction::Egress { "to" } else { "from" },
            r.cidr
        )
    };
    if let Some(g) = &found.gateway_group {
        for r in cidr::gateway_security_group_rules(nodes) {
            match satisfying_rule(&found.gateway_rules, &r, name) {
                Some(x) => rule_ids.push(x.id.clone()),
                None => missing.push(describe(g, &r)),
            }
        }
    }
    match &found.security_group {
        None => missing.push(format!("a cluster security group for {name} (EKS reports none; set security_group_id)")),
        Some(sg) => {
            for r in cidr::cluster_security_group_rules(nodes, pods, mode.pods_reachable(), webhook_ports) {
                match satisfying_rule(&found.rules, &r, name) {
                    Some(x) => rule_ids.push(x.id.clone()),
                    None => missing.push(describe(sg, &r)),
                }
            }
        }
    }
    unique(rule_ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_lists_win_over_the_cluster_defaults() {
        let default = ["10.80.0.0/16".to_string()];
        assert_eq!(or_default(&Tf::Null, &default), default);
        let set = Tf::Known(vec![Tf::Known("10.90.0.0/16".to_string()), Tf::Unknown, Tf::Null]);
        assert_eq!(or_default(&set, &default), ["10.90.0.0/16"]);
        assert!(or_default(&Tf::Unknown, &default).is_empty());
    }

    #[test]
    fn ports_and_cidrs_are_reported_on_their_element() {
        let mut d = Diagnostics::new();
        let ports = Tf::Known(vec![
            Tf::Known(Number::from(443i64)),
            Tf::Known(Number::from(0i64)),
            Tf::Known(Number::from(2.5)),
            Tf::Null,
            Tf::Known(Number::from(65536i64)),
        ]);
        assert_eq!(read_port_list(&ports, &mut d).values(), [443]);
        let nets = parse_cidrs("remote_pod_cidrs", &["10.1.0.0/16".into(), "x".into()], &mut d);
        assert_eq!(nets.len(), 1);
        let paths: Vec<String> = d.0.iter().map(|d| d.path.as_ref().unwrap().to_string()).collect();
        assert_eq!(
            paths,
            ["webhook_ports[1]", "webhook_ports[2]", "webhook_ports[3]", "webhook_ports[4]", "remote_pod_cidrs[1]"]
        );
        assert!(d.0[..4].iter().all(|d| d.summary == "Invalid webhook port"));
    }
}
