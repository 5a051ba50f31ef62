//! What the resource needs to know about the cluster's AWS surroundings, and the
//! plan-time checks against it.

use crate::aws::handover::Phase;
use crate::aws::{ec2, eks, AwsError, Clients};
use hybridnet_rules::{self as cidr, Ipv4Net, Network, RemoteCidr};
use hybridnet_schema::list_attr;
use tfplugin5::{AttrPath, Diagnostics};

use super::model::{desired_routes, tf_strings, ClusterNetworkModel, Desired, RouteEntry};
use tfplugin5::typed::Tf;

/// The cluster and its VPC, as AWS reports them.
#[derive(Clone, Debug)]
pub struct ClusterContext {
    pub cluster: eks::Cluster,
    pub vpc: ec2::Vpc,
    pub service_cidr: String,
    /// The security group the rules go in (configured, else the cluster's).
    pub security_group_id: Option<String>,
    /// The subnets asked for that exist (and the cluster's, when EKS names no VPC).
    pub subnets: Vec<ec2::Subnet>,
}

impl ClusterContext {
    /// Sets the computed attributes that come from the surroundings: `vpc_id`,
    /// `vpc_cidrs`, `service_cidr` and `security_group_id`.
    pub fn set_attrs(&self, v: &mut ClusterNetworkModel) {
        v.vpc_id = Tf::Known(self.vpc.id.clone());
        v.vpc_cidrs = tf_strings(&self.vpc.cidrs);
        v.service_cidr = Tf::Known(self.service_cidr.clone());
        v.security_group_id = self.security_group_id.clone().into();
    }
}

pub use crate::resources::shared::aws_diag;

/// The one diagnostic for a cluster that does not exist, on `cluster_name`.
pub fn cluster_not_found(name: &str, region: &str) -> Diagnostics {
    Diagnostics::from_error(
        "EKS cluster not found",
        format!(
            "There is no EKS cluster named {name:?} in region {region}. Check cluster_name and the provider's region."
        ),
        Some(AttrPath::attr("cluster_name")),
    )
}

/// Reads the cluster, its VPC (from EKS, else from the cluster's subnets), the VPC's
/// CIDRs and DNS attributes, and the subnets `subnet_ids` (with the cluster's, in one
/// DescribeSubnets). `Ok(None)` when the cluster does not exist.
pub async fn find_context(
    clients: &Clients,
    cluster_name: &str,
    security_group_id: Option<&str>,
    subnet_ids: &[String],
) -> Result<Option<ClusterContext>, AwsError> {
    let Some(cluster) = eks::find_cluster(&*clients.eks, cluster_name).await? else { return Ok(None) };
    let mut ids: Vec<String> = subnet_ids.to_vec();
    if cluster.vpc_id.is_none() {
        ids.extend(cluster.subnet_ids.iter().cloned());
    }
    ids.sort();
    ids.dedup();
    let subnets = ec2::find_subnets(&*clients.ec2, &ids).await?;
    let vpc_id = match &cluster.vpc_id {
        Some(v) => Some(v.clone()),
        None => cluster.subnet_ids.iter().find_map(|id| subnets.iter().find(|s| &s.id == id)).map(|s| s.vpc_id.clone()),
    };
    let Some(vpc_id) = vpc_id else {
        return Err(AwsError::Conflict(crate::aws::Conflict::NoVpc { cluster: cluster_name.to_string() }));
    };
    let Some(vpc) = ec2::find_vpc(&*clients.ec2, &vpc_id).await? else {
        return Err(AwsError::Api {
            operation: "ec2:DescribeVpcs",
            code: "InvalidVpcID.NotFound".into(),
            message: format!("the cluster's VPC {vpc_id} was not found"),
        });
    };
    let service_cidr = cluster.service_cidr.clone().unwrap_or_else(|| {
        let nets: Vec<Ipv4Net> = vpc.cidrs.iter().filter_map(|c| c.parse().ok()).collect();
        cidr::default_service_cidr(&nets).to_string()
    });
    let security_group_id = security_group_id.map(str::to_string).or_else(|| cluster.cluster_security_group_id.clone());
    Ok(Some(ClusterContext { cluster, vpc, service_cidr, security_group_id, subnets }))
}

/// The CIDR rules of `hybridnet_cidr_plan`, with the VPC and service CIDRs from AWS.
pub fn check_cidrs(d: &Desired, ctx: &ClusterContext, diags: &mut Diagnostics) {
    let mut remote = Vec::new();
    for (index, cidr) in d.nodes.iter().enumerate() {
        remote.push(RemoteCidr { network: Network::Node, index, cidr: *cidr });
    }
    for (index, cidr) in d.pods.iter().enumerate() {
        remote.push(RemoteCidr { network: Network::Pod, index, cidr: *cidr });
    }
    let vpc: Vec<(usize, Ipv4Net)> =
        ctx.vpc.cidrs.iter().enumerate().filter_map(|(i, c)| c.parse().ok().map(|n| (i, n))).collect();
    let service = ctx.service_cidr.parse().ok();
    for v in cidr::validate_remote_cidrs(&remote, &vpc, service, &cidr::rfc1918()) {
        diags.error(
            v.summary(list_attr),
            v.detail(list_attr),
            Some(AttrPath::attr(list_attr(v.network)).index(v.index)),
        );
    }
}

/// The checks against the cluster's own configuration and the VPC.
pub fn check_cluster(d: &Desired, ctx: &ClusterContext, diags: &mut Diagnostics) {
    if !ctx.vpc.dns_hostnames || !ctx.vpc.dns_support {
        let missing: Vec<&str> =
            [(!ctx.vpc.dns_hostnames).then_some("DNS hostnames"), (!ctx.vpc.dns_support).then_some("DNS resolution")]
                .into_iter()
                .flatten()
                .collect();
        diags.error(
            "The cluster's VPC lacks DNS support",
            format!(
                "VPC {} of cluster {} has {} disabled; EKS Hybrid Nodes require both DNS hostnames and DNS resolution. \
                 Enable them with `aws ec2 modify-vpc-attribute --vpc-id {} --enable-dns-hostnames` (and \
                 --enable-dns-support).",
                ctx.vpc.id,
                d.cluster_name,
                missing.join(" and "),
                ctx.vpc.id
            ),
            Some(AttrPath::attr("cluster_name")),
        );
    }
    let covered =
        |list: &[String], net: &Ipv4Net| list.iter().filter_map(|c| c.parse::<Ipv4Net>().ok()).any(|r| r.contains(net));
    let checks = [
        (&d.nodes, &ctx.cluster.remote_node_cidrs, "remote_node_cidrs", "node", "RemoteNodeNetwork"),
        (&d.pods, &ctx.cluster.remote_pod_cidrs, "remote_pod_cidrs", "pod", "RemotePodNetwork"),
    ];
    for (given, eks_list, attr, kind, field) in checks {
        for (i, n) in given.iter().enumerate() {
            if !covered(eks_list, n) && kind == "pod" && d.mode == hybridnet_rules::PodNetworkMode::Gateway {
                diags.warning(
                    "Pod CIDR not in the cluster's remote pod networks",
                    format!(
                        "{n} is not covered by the remote pod networks of EKS cluster {} ({}). With the EKS Hybrid \
                         Nodes gateway AWS does not say whether the cluster needs it; add it to the cluster's \
                         {field} (aws eks update-cluster-config --remote-network-config) if webhooks or other \
                         control plane traffic to these pods fail.",
                        d.cluster_name,
                        list_or_none(eks_list)
                    ),
                    Some(AttrPath::attr(attr).index(i)),
                );
            } else if !covered(eks_list, n) {
                diags.error(
                    format!(
                        "{} CIDR not in the cluster's remote {kind} networks",
                        if kind == "node" { "Node" } else { "Pod" }
                    ),
                    format!(
                        "{n} is not covered by the remote {kind} networks of EKS cluster {} ({}). Add it to the \
                         cluster's {field} (aws eks update-cluster-config --remote-network-config) or remove it here.",
                        d.cluster_name,
                        list_or_none(eks_list)
                    ),
                    Some(AttrPath::attr(attr).index(i)),
                );
            }
        }
    }
}

fn list_or_none(l: &[String]) -> String {
    if l.is_empty() {
        "none".into()
    } else {
        l.join(", ")
    }
}

/// Subnet, route table, gateway and security group checks (one describe each), quotas
/// included. `ours` are the routes the prior state records: only those may be re-pointed
/// at our gateway. Returns the gateway, when it exists.
pub async fn check_surroundings(
    clients: &Clients,
    d: &Desired,
    ctx: &ClusterContext,
    ours: &[RouteEntry],
    diags: &mut Diagnostics,
) -> Result<Option<ec2::Gateway>, AwsError> {
    let subnets = &ctx.subnets;
    let route_tables = clients.handover.route_tables(&*clients.ec2, &d.route_table_ids, Phase::Plan).await?;

    // These are sets: Terraform hands them over sorted, so an element index would
    // not match the configuration; the diagnostic names the ID and points at the set.
    let check_subnets = |attr: &str, list: &[String], diags: &mut Diagnostics| {
        for id in list.iter() {
            match subnets.iter().find(|s| &s.id == id) {
                None => diags.error(
                    "Subnet not found",
                    format!(
                        "Subnet {id} does not exist in this account and region. Use a subnet of VPC {}.",
                        ctx.vpc.id
                    ),
                    Some(AttrPath::attr(attr)),
                ),
                Some(s) if s.vpc_id != ctx.vpc.id => diags.error(
                    "Subnet outside the cluster's VPC",
                    format!(
                        "Subnet {id} is in {}, but cluster {} is in {}. Use subnets of {}.",
                        s.vpc_id, d.cluster_name, ctx.vpc.id, ctx.vpc.id
                    ),
                    Some(AttrPath::attr(attr)),
                ),
                Some(_) => {}
            }
        }
    };
    let is_tgw = d.gateway.starts_with("tgw-");
    if is_tgw && d.manage_attachment {
        check_subnets("attachment_subnet_ids", &d.attachment_subnet_ids, diags);
        let azs: std::collections::BTreeSet<&str> = subnets
            .iter()
            .filter(|s| d.attachment_subnet_ids.contains(&s.id))
            .map(|s| s.availability_zone.as_str())
            .collect();
        if d.attachment_subnet_ids.len() < 2 || azs.len() < 2 {
            diags.error(
                "Attachment needs subnets in two Availability Zones",
                format!(
                    "The transit gateway attachment needs at least two subnets in at least two Availability Zones of \
                     VPC {}, at most one per zone; attachment_subnet_ids has {} subnet(s) in {} zone(s).",
                    ctx.vpc.id,
                    d.attachment_subnet_ids.len(),
                    azs.len()
                ),
                Some(AttrPath::attr("attachment_subnet_ids")),
            );
        } else {
            check_attachment_zones(&d.attachment_subnet_ids, subnets, &ctx.vpc.id, diags);
        }
    }
    check_subnets("route_table_subnet_ids", &d.route_table_subnet_ids, diags);
    for id in d.route_table_ids.iter() {
        match route_tables.iter().find(|r| &r.id == id) {
            None => diags.error(
                "Route table not found",
                format!("Route table {id} does not exist. Use a route table of VPC {}.", ctx.vpc.id),
                Some(AttrPath::attr("route_table_ids")),
            ),
            Some(r) if r.vpc_id != ctx.vpc.id => diags.error(
                "Route table outside the cluster's VPC",
                format!("Route table {id} belongs to {}, not to the cluster's VPC {}.", r.vpc_id, ctx.vpc.id),
                Some(AttrPath::attr("route_table_ids")),
            ),
            Some(_) => {}
        }
    }
    super::quotas::check_route_tables(d, &route_tables, ours, diags);
    for (rt, cidr, target) in foreign_routes(d, &route_tables, ours) {
        diags.error(
            "Route belongs to another writer",
            format!(
                "Route table {rt} already routes {cidr} to {target}, which is not {} and not a route this resource \
                 made, so it will not be replaced (something else, such as an appliance or the EKS Hybrid Nodes \
                 gateway, owns it). Remove that route if {cidr} should go to {}, or leave {rt} out of \
                 route_table_ids.",
                d.gateway, d.gateway
            ),
            Some(AttrPath::attr("route_table_ids")),
        );
    }

    let gateway_attr = if is_tgw { "transit_gateway_id" } else { "vpn_gateway_id" };
    let Some(gateway) = ec2::find_gateway(&*clients.ec2, &d.gateway).await? else {
        diags.error(
            if is_tgw { "Transit gateway not found" } else { "Virtual private gateway not found" },
            format!(
                "{} does not exist in region {} (or was deleted). Check the ID and the provider's region.",
                d.gateway, clients.region
            ),
            Some(AttrPath::attr(gateway_attr)),
        );
        return Ok(None);
    };
    let existing = if d.manage_attachment {
        None
    } else {
        clients.handover.attachment(&*clients.ec2, &d.gateway, &ctx.vpc.id, Phase::Plan).await?
    };
    if let Some(a) = existing.as_ref().filter(|a| a.phase == ec2::AttachmentPhase::Failed) {
        diags.error(
            format!("Attachment {} is {}", a.id, a.state),
            format!(
                "The attachment of VPC {} to {} is {} and will never carry traffic. manage_attachment is false, so \
                 replace it where it is managed (delete it and attach the VPC again), or set manage_attachment = true \
                 to let this resource replace it.",
                ctx.vpc.id, d.gateway, a.state
            ),
            Some(AttrPath::attr(gateway_attr)),
        );
    } else if !d.manage_attachment && existing.is_none() {
        let attr = if is_tgw { "transit_gateway_id" } else { "vpn_gateway_id" };
        diags.error(
            "No attachment to the gateway",
            format!(
                "manage_attachment is false, so an existing attachment of VPC {} to {} is required, but there is \
                     none. Attach the VPC, or set manage_attachment = true.",
                ctx.vpc.id, d.gateway
            ),
            Some(AttrPath::attr(attr)),
        );
    }

    if d.manage_rules {
        match &ctx.security_group_id {
            None => diags.error(
                "No security group",
                format!("EKS reports no cluster security group for {}; set security_group_id.", d.cluster_name),
                Some(AttrPath::attr("security_group_id")),
            ),
            Some(sg) => {
                // Every security group has rules of its own (a new one allows all
                // outbound), so only a group without any needs the existence check.
                let rules = clients.handover.rules(&*clients.ec2, sg, Phase::Plan).await?;
                if rules.is_empty() && !ec2::security_group_exists(&*clients.ec2, sg).await? {
                    diags.error(
                        "Security group not found",
                        format!(
                            "Security group {sg} does not exist. Set security_group_id to the cluster security group."
                        ),
                        Some(AttrPath::attr("security_group_id")),
                    );
                } else {
                    super::quotas::check_security_group(sg, &rules, &d.rules(), diags);
                }
            }
        }
    }
    Ok(Some(gateway))
}

/// At most one attachment subnet per Availability Zone: an error on each extra element
/// of the set `attachment_subnet_ids` (the path steps into the set by the subnet ID),
/// naming its zone and the first subnet there (in the set's order, as Terraform sends
/// it). Only subnets of the cluster's VPC count (others are errors of their own). Zones
/// come from the DescribeSubnets the plan made already.
pub fn check_attachment_zones(ids: &[String], subnets: &[ec2::Subnet], vpc_id: &str, diags: &mut Diagnostics) {
    let zoned: Vec<(String, String)> = ids
        .iter()
        .filter_map(|id| subnets.iter().find(|s| &s.id == id && s.vpc_id == vpc_id))
        .map(|s| (s.id.clone(), s.availability_zone.clone()))
        .collect();
    for shared in cidr::subnets_sharing_a_zone(&zoned) {
        diags.error(
            shared.summary(),
            shared.detail("attachment_subnet_ids"),
            Some(AttrPath::attr("attachment_subnet_ids").key(shared.subnet.clone())),
        );
    }
}

/// The routes `d` needs in its configured route tables that exist already, point
/// elsewhere than our gateway and are not ours (not in `ours`, the prior state):
/// (route table, CIDR, current target).
pub fn foreign_routes(d: &Desired, tables: &[ec2::RouteTable], ours: &[RouteEntry]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for want in desired_routes(d, &d.route_table_ids) {
        let live = tables
            .iter()
            .find(|t| t.id == want.route_table_id)
            .and_then(|t| t.routes.iter().find(|r| r.destination_cidr == want.destination_cidr));
        let Some(live) = live else { continue };
        let recorded =
            ours.iter().any(|o| o.route_table_id == want.route_table_id && o.destination_cidr == want.destination_cidr);
        if live.target_id != d.gateway && !recorded {
            out.push((want.route_table_id, want.destination_cidr, live.target_id.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(id: &str, vpc: &str, zone: &str) -> ec2::Subnet {
        ec2::Subnet { id: id.into(), vpc_id: vpc.into(), availability_zone: zone.into() }
    }

    #[test]
    fn an_extra_subnet_in_a_zone_is_an_error_on_its_set_element() {
        let subnets = [
            subnet("subnet-a", "vpc-1", "us-east-1a"),
            subnet("subnet-b", "vpc-1", "us-east-1b"),
            subnet("subnet-c", "vpc-1", "us-east-1a"),
            subnet("subnet-x", "vpc-2", "us-east-1b"),
        ];
        let ids: Vec<String> = ["subnet-a", "subnet-b", "subnet-c", "subnet-gone", "subnet-x"].map(String::from).into();
        let mut diags = Diagnostics::new();
        check_attachment_zones(&ids, &subnets, "vpc-1", &mut diags);
        let got: Vec<(bool, &str, String)> = diags
            .iter()
            .map(|d| {
                (
                    d.severity == tfplugin5::Severity::Error,
                    d.summary.as_str(),
                    d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                )
            })
            .collect();
        // A subnet of another VPC (in us-east-1b too) and a missing one are not counted.
        assert_eq!(
            got,
            [(true, "Two attachment subnets in us-east-1a", r#"attachment_subnet_ids["subnet-c"]"#.to_string())]
        );
        assert!(diags.0[0].detail.contains("Subnets subnet-a and subnet-c are both in Availability Zone us-east-1a."));
    }
}
