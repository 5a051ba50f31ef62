//! What the resource needs to know about the cluster's AWS surroundings, and the
//! plan-time checks against it.

use crate::aws::{ec2, eks, AwsError, Clients};
use hybridnet_rules::{self as cidr, Ipv4Net, Network, RemoteCidr};
use hybridnet_schema::list_attr;
use tfplugin5::{AttrPath, Diagnostics};

use super::model::{tf_strings, ClusterNetworkModel, Desired};
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

// The surroundings' checks moved to `surroundings.rs`; apply re-checks foreign routes.
pub use super::surroundings::foreign_routes;
