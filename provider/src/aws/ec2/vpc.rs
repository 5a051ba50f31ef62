//! VPCs and subnets: `find_vpc` (with its two DNS attributes), `find_subnets`.

use aws_sdk_ec2::types::{VpcAttributeName, VpcCidrBlockStateCode};

use super::{absent, Ec2, Filter};
use crate::aws::{sdk_error, AwsError};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vpc {
    pub id: String,
    /// The account that owns the VPC (compared with a transit gateway's owner).
    pub owner_id: String,
    /// Primary and associated secondary IPv4 CIDRs.
    pub cidrs: Vec<String>,
    pub dns_hostnames: bool,
    pub dns_support: bool,
}

/// The two DNS attributes of a VPC, one DescribeVpcAttribute each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsAttribute {
    Hostnames,
    Support,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: String,
}

/// DescribeVpcs plus the two DNS attributes; `None` when the VPC does not exist.
pub async fn find_vpc(ec2: &dyn Ec2, vpc_id: &str) -> Result<Option<Vpc>, AwsError> {
    let Some(mut vpc) = ec2.describe_vpc(vpc_id).await? else { return Ok(None) };
    let (hostnames, support) = tokio::join!(
        ec2.describe_vpc_attribute(vpc_id, DnsAttribute::Hostnames),
        ec2.describe_vpc_attribute(vpc_id, DnsAttribute::Support),
    );
    vpc.dns_hostnames = hostnames?.unwrap_or(false);
    vpc.dns_support = support?.unwrap_or(true);
    Ok(Some(vpc))
}

/// DescribeSubnets for all `ids` in one paginated call (missing IDs are simply absent).
pub async fn find_subnets(ec2: &dyn Ec2, ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    ec2.describe_subnets(&[Filter::new("subnet-id", ids.iter().cloned())]).await
}

// ---- the SDK's side: one request (or one paginated describe) each

pub(super) async fn sdk_describe_vpc(c: &aws_sdk_ec2::Client, vpc_id: &str) -> Result<Option<Vpc>, AwsError> {
    let sent = c.describe_vpcs().filters(Filter::new("vpc-id", [vpc_id]).sdk()).send().await;
    let Some(out) = absent(sent.map_err(|e| sdk_error("ec2:DescribeVpcs", e)))? else { return Ok(None) };
    let Some(v) = out.vpcs().first() else { return Ok(None) };
    let mut cidrs: Vec<String> = Vec::new();
    for a in v.cidr_block_association_set() {
        let associated = a
            .cidr_block_state()
            .and_then(|s| s.state())
            .is_none_or(|s| matches!(s, VpcCidrBlockStateCode::Associated | VpcCidrBlockStateCode::Associating));
        if let (true, Some(c)) = (associated, a.cidr_block()) {
            if !cidrs.iter().any(|x| x == c) {
                cidrs.push(c.to_string());
            }
        }
    }
    if cidrs.is_empty() {
        if let Some(c) = v.cidr_block() {
            cidrs.push(c.to_string());
        }
    }
    Ok(Some(Vpc {
        id: vpc_id.to_string(),
        owner_id: v.owner_id().unwrap_or_default().to_string(),
        cidrs,
        dns_hostnames: false,
        dns_support: true,
    }))
}

pub(super) async fn sdk_describe_vpc_attribute(
    c: &aws_sdk_ec2::Client,
    vpc_id: &str,
    attribute: DnsAttribute,
) -> Result<Option<bool>, AwsError> {
    let name = match attribute {
        DnsAttribute::Hostnames => VpcAttributeName::EnableDnsHostnames,
        DnsAttribute::Support => VpcAttributeName::EnableDnsSupport,
    };
    let out = c
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(name)
        .send()
        .await
        .map_err(|e| sdk_error("ec2:DescribeVpcAttribute", e))?;
    Ok(match attribute {
        DnsAttribute::Hostnames => out.enable_dns_hostnames().and_then(|a| a.value()),
        DnsAttribute::Support => out.enable_dns_support().and_then(|a| a.value()),
    })
}

pub(super) async fn sdk_describe_subnets(c: &aws_sdk_ec2::Client, filters: &[Filter]) -> Result<Vec<Subnet>, AwsError> {
    let mut out = Vec::new();
    let mut pages = c.describe_subnets().set_filters(Some(Filter::sdk_all(filters))).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeSubnets", e))?;
        for s in page.subnets() {
            out.push(Subnet {
                id: s.subnet_id().unwrap_or_default().to_string(),
                vpc_id: s.vpc_id().unwrap_or_default().to_string(),
                availability_zone: s.availability_zone().unwrap_or_default().to_string(),
            });
        }
    }
    Ok(out)
}
