//! VPC endpoints, for the private-cluster audit: the endpoints of a VPC (one
//! filtered, paginated describe). Their security groups' rules come from
//! [`super::find_rules_of_groups`], subnets from [`super::find_subnets`].

use aws_sdk_ec2::types::VpcEndpointType;

use super::{Ec2, Filter};
use crate::aws::{sdk_error, AwsError};

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
pub async fn find_vpc_endpoints(ec2: &dyn Ec2, vpc_id: &str) -> Result<Vec<VpcEndpoint>, AwsError> {
    ec2.describe_vpc_endpoints(&[Filter::new("vpc-id", [vpc_id])]).await
}

// ---- the SDK's side

pub(super) async fn sdk_describe_vpc_endpoints(
    c: &aws_sdk_ec2::Client,
    filters: &[Filter],
) -> Result<Vec<VpcEndpoint>, AwsError> {
    let mut out = Vec::new();
    let mut pages = c.describe_vpc_endpoints().set_filters(Some(Filter::sdk_all(filters))).into_paginator().send();
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
