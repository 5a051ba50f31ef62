//! EKS: the one describe the provider needs, and the list of the account's clusters
//! (for the neighbours). The [`Eks`] trait is implemented by the SDK's client and by
//! the fake ([`crate::aws::fake`]).

use super::ec2::absent;
use super::{sdk_error, AwsError};

/// EKS as the provider uses it: one method per request (ListClusters: every page).
#[tonic::async_trait]
pub trait Eks: Send + Sync {
    /// DescribeCluster; `None` when the cluster does not exist.
    async fn describe_cluster(&self, name: &str) -> Result<Option<Cluster>, AwsError>;
    /// ListClusters: every cluster name in the account and region.
    async fn list_clusters(&self) -> Result<Vec<String>, AwsError>;
}

#[tonic::async_trait]
impl Eks for aws_sdk_eks::Client {
    async fn describe_cluster(&self, name: &str) -> Result<Option<Cluster>, AwsError> {
        sdk_describe_cluster(self, name).await
    }
    async fn list_clusters(&self) -> Result<Vec<String>, AwsError> {
        sdk_list_clusters(self).await
    }
}

/// What the provider needs to know about a cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub status: String,
    pub subnet_ids: Vec<String>,
    /// Not reported by every EKS implementation; fall back to the subnets' VPC.
    pub vpc_id: Option<String>,
    pub cluster_security_group_id: Option<String>,
    pub service_cidr: Option<String>,
    pub remote_node_cidrs: Vec<String>,
    pub remote_pod_cidrs: Vec<String>,
    /// Endpoint access as EKS reports it (false when not reported: a cluster reporting
    /// neither is treated as neither private-only nor both).
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
}

impl Cluster {
    /// Only the private endpoint: hybrid nodes reach AWS through the VPC's endpoints.
    pub fn private_only(&self) -> bool {
        self.endpoint_private_access && !self.endpoint_public_access
    }
}

/// DescribeCluster; `None` when the cluster does not exist.
pub async fn find_cluster(eks: &dyn Eks, name: &str) -> Result<Option<Cluster>, AwsError> {
    eks.describe_cluster(name).await
}

/// ListClusters: every cluster name in the account and region (paginated).
pub async fn list_cluster_names(eks: &dyn Eks) -> Result<Vec<String>, AwsError> {
    eks.list_clusters().await
}

async fn sdk_describe_cluster(eks: &aws_sdk_eks::Client, name: &str) -> Result<Option<Cluster>, AwsError> {
    let sent = eks.describe_cluster().name(name).send().await;
    let Some(out) = absent(sent.map_err(|e| sdk_error("eks:DescribeCluster", e)))? else { return Ok(None) };
    let Some(c) = out.cluster() else { return Ok(None) };
    let vpc = c.resources_vpc_config();
    let remote = c.remote_network_config();
    Ok(Some(Cluster {
        name: c.name().unwrap_or(name).to_string(),
        status: c.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        subnet_ids: vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default(),
        vpc_id: vpc.and_then(|v| v.vpc_id()).filter(|s| !s.is_empty()).map(str::to_string),
        cluster_security_group_id: vpc
            .and_then(|v| v.cluster_security_group_id())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        service_cidr: c
            .kubernetes_network_config()
            .and_then(|k| k.service_ipv4_cidr())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        remote_node_cidrs: remote
            .map(|r| r.remote_node_networks().iter().flat_map(|n| n.cidrs().iter().cloned()).collect())
            .unwrap_or_default(),
        remote_pod_cidrs: remote
            .map(|r| r.remote_pod_networks().iter().flat_map(|n| n.cidrs().iter().cloned()).collect())
            .unwrap_or_default(),
        endpoint_public_access: vpc.is_some_and(|v| v.endpoint_public_access()),
        endpoint_private_access: vpc.is_some_and(|v| v.endpoint_private_access()),
    }))
}

async fn sdk_list_clusters(eks: &aws_sdk_eks::Client) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut pages = eks.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("eks:ListClusters", e))?;
        names.extend(page.clusters().iter().cloned());
    }
    Ok(names)
}
