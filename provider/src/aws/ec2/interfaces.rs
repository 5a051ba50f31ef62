//! Network interfaces: the EKS control plane's ENIs in the VPC, and the interfaces of
//! the gateway nodes' security group.

use super::{Ec2, Filter};
use crate::aws::{sdk_error, AwsError};

/// A network interface, as the resource needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interface {
    pub id: String,
    pub description: String,
    /// Its private IPv4 addresses (the primary one when EC2 lists none).
    pub private_ips: Vec<String>,
    /// EC2's source/destination check (the gateway needs it off).
    pub source_dest_check: bool,
}

/// Private IPv4 addresses of the ENIs EKS made for `cluster` in `vpc_id`
/// (description "Amazon EKS <cluster>"), sorted.
pub async fn find_eks_interface_ips(ec2: &dyn Ec2, vpc_id: &str, cluster: &str) -> Result<Vec<String>, AwsError> {
    let description = format!("Amazon EKS {cluster}");
    let filters = [Filter::new("vpc-id", [vpc_id]), Filter::new("description", [description.clone()])];
    let found = ec2.describe_network_interfaces(&filters).await?;
    let ours: Vec<Interface> = found.into_iter().filter(|i| i.description == description).collect();
    Ok(interface_ips(&ours))
}

/// The network interfaces in security group `group_id` (one paginated, filtered call),
/// by ID.
pub async fn find_interfaces_in_group(ec2: &dyn Ec2, group_id: &str) -> Result<Vec<Interface>, AwsError> {
    let mut out = ec2.describe_network_interfaces(&[Filter::new("group-id", [group_id])]).await?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// The private IPs of `interfaces`, sorted by address, each once.
pub fn interface_ips(interfaces: &[Interface]) -> Vec<String> {
    let mut ips: Vec<String> = interfaces.iter().flat_map(|i| i.private_ips.iter().cloned()).collect();
    ips.sort_by_key(|ip| ip.parse::<std::net::Ipv4Addr>().map(u32::from).unwrap_or(u32::MAX));
    ips.dedup();
    ips
}

// ---- the SDK's side

pub(super) async fn sdk_describe_network_interfaces(
    c: &aws_sdk_ec2::Client,
    filters: &[Filter],
) -> Result<Vec<Interface>, AwsError> {
    let mut out = Vec::new();
    let mut pages = c.describe_network_interfaces().set_filters(Some(Filter::sdk_all(filters))).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeNetworkInterfaces", e))?;
        for ni in page.network_interfaces() {
            let mut private_ips: Vec<String> =
                ni.private_ip_addresses().iter().filter_map(|a| a.private_ip_address().map(str::to_string)).collect();
            if private_ips.is_empty() {
                private_ips.extend(ni.private_ip_address().map(str::to_string));
            }
            out.push(Interface {
                id: ni.network_interface_id().unwrap_or_default().to_string(),
                description: ni.description().unwrap_or_default().to_string(),
                private_ips,
                source_dest_check: ni.source_dest_check().unwrap_or(true),
            });
        }
    }
    Ok(out)
}
