//! VPC endpoints, and what an audit of them needs: the endpoints of a VPC (one
//! filtered, paginated describe) and the inbound rules of their security groups (one
//! describe for every group at once). Subnets come from [`super::ec2::find_subnets`].

use aws_sdk_ec2::types::{Filter, VpcEndpointType};

use super::{sdk_error, AwsError};

fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder().name(name).set_values(Some(values.into_iter().map(Into::into).collect())).build()
}

/// A VPC endpoint as the audit needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VpcEndpoint {
    pub id: String,
    /// `com.amazonaws.<region>.<service>`.
    pub service_name: String,
    /// An interface endpoint (not a gateway or load balancer endpoint).
    pub interface: bool,
    /// `available`, `pending`, `deleted`, ... as EC2 reports it.
    pub state: String,
    pub private_dns: bool,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

impl VpcEndpoint {
    /// Not deleted, failed or rejected: an endpoint that serves or is about to.
    pub fn live(&self) -> bool {
        !matches!(self.state.to_ascii_lowercase().as_str(), "deleted" | "deleting" | "failed" | "rejected" | "expired")
    }
}

/// DescribeVpcEndpoints filtered by `vpc-id`, every page.
pub async fn find_vpc_endpoints(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> Result<Vec<VpcEndpoint>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ec2.describe_vpc_endpoints().filters(filter("vpc-id", [vpc_id])).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeVpcEndpoints", e))?;
        for e in page.vpc_endpoints() {
            out.push(VpcEndpoint {
                id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
                service_name: e.service_name().unwrap_or_default().to_string(),
                interface: e.vpc_endpoint_type().is_none_or(|t| *t == VpcEndpointType::Interface),
                state: e.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                private_dns: e.private_dns_enabled().unwrap_or(false),
                subnet_ids: e.subnet_ids().to_vec(),
                security_group_ids: e.groups().iter().filter_map(|g| g.group_id()).map(str::to_string).collect(),
            });
        }
    }
    Ok(out)
}

/// An inbound IPv4 CIDR rule of a security group (rules naming another group or a
/// prefix list are not read: they cannot admit an on-premises CIDR by address).
#[derive(Clone, Debug, PartialEq)]
pub struct InboundRule {
    pub group_id: String,
    /// `tcp`, `udp`, `-1` (all), ...
    pub protocol: String,
    /// -1 when the protocol has no ports.
    pub from_port: i32,
    pub to_port: i32,
    pub cidr: String,
}

/// The inbound IPv4 CIDR rules of all `group_ids`: one DescribeSecurityGroupRules with a
/// many-valued `group-id` filter, every page. No call when `group_ids` is empty.
pub async fn find_inbound_rules(ec2: &aws_sdk_ec2::Client, group_ids: &[String]) -> Result<Vec<InboundRule>, AwsError> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut pages = ec2
        .describe_security_group_rules()
        .filters(filter("group-id", group_ids.iter().cloned()))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeSecurityGroupRules", e))?;
        for r in page.security_group_rules() {
            let (Some(group), Some(cidr)) = (r.group_id(), r.cidr_ipv4()) else { continue };
            if r.is_egress().unwrap_or(false) {
                continue;
            }
            out.push(InboundRule {
                group_id: group.to_string(),
                protocol: r.ip_protocol().unwrap_or_default().to_string(),
                from_port: r.from_port().unwrap_or(-1),
                to_port: r.to_port().unwrap_or(-1),
                cidr: cidr.to_string(),
            });
        }
    }
    Ok(out)
}
