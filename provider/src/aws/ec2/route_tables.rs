//! Route tables and their routes: finders over one describe, create/delete of our
//! dedicated table and its associations, `ensure_route` / `delete_route`.

use aws_sdk_ec2::types::{ResourceType, RouteOrigin};

use super::tags::{tag_spec, tags_of, Tags};
use super::{absent, Ec2, Filter, GatewayKind};
use crate::aws::{sdk_error, AwsError};

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub destination_cidr: String,
    /// transit gateway, gateway (VGW/IGW), NAT gateway, ... whichever is set.
    pub target_id: String,
    pub state: String,
    /// Propagated from a virtual private gateway (not counted in the route quota).
    pub propagated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub routes: Vec<Route>,
    /// (association id, subnet id) for subnet associations.
    pub associations: Vec<(String, String)>,
    pub tags: Tags,
}

/// DescribeRouteTables for all `ids` at once.
pub async fn find_route_tables(ec2: &dyn Ec2, ids: &[String]) -> Result<Vec<RouteTable>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    ec2.describe_route_tables(&[Filter::new("route-table-id", ids.iter().cloned())]).await
}

/// Route tables of a VPC carrying tag `key` = `value` (our dedicated route table).
pub async fn find_route_tables_by_tag(
    ec2: &dyn Ec2,
    vpc_id: &str,
    key: &str,
    value: &str,
) -> Result<Vec<RouteTable>, AwsError> {
    ec2.describe_route_tables(&[Filter::new("vpc-id", [vpc_id]), Filter::tag(key, value)]).await
}

/// Route tables of a VPC with a route to one of `cidrs` (for import and audits).
/// One paginated describe of the VPC's tables, selected here: the multi-valued
/// `route.destination-cidr-block` filter is not an OR in every EC2 implementation.
pub async fn find_route_tables_routing(
    ec2: &dyn Ec2,
    vpc_id: &str,
    cidrs: &[String],
) -> Result<Vec<RouteTable>, AwsError> {
    if cidrs.is_empty() {
        return Ok(Vec::new());
    }
    let tables = find_vpc_route_tables(ec2, vpc_id).await?;
    Ok(tables.into_iter().filter(|t| t.routes.iter().any(|r| cidrs.contains(&r.destination_cidr))).collect())
}

/// Every route table of a VPC (one paginated, filtered describe): whose routes still
/// use a gateway, before its attachment is deleted.
pub async fn find_vpc_route_tables(ec2: &dyn Ec2, vpc_id: &str) -> Result<Vec<RouteTable>, AwsError> {
    ec2.describe_route_tables(&[Filter::new("vpc-id", [vpc_id])]).await
}

pub async fn create_route_table(ec2: &dyn Ec2, vpc_id: &str, tags: &Tags) -> Result<String, AwsError> {
    ec2.create_route_table(vpc_id, tags).await
}

/// Deletes a route table; one already gone counts as deleted.
pub async fn delete_route_table(ec2: &dyn Ec2, id: &str) -> Result<(), AwsError> {
    absent(ec2.delete_route_table(id).await).map(drop)
}

/// Deletes a route table after removing its subnet associations; a table already
/// gone counts as deleted.
pub async fn delete_route_table_and_associations(ec2: &dyn Ec2, id: &str) -> Result<(), AwsError> {
    if let Some(rt) = find_route_tables(ec2, &[id.to_string()]).await?.into_iter().next() {
        for (assoc, _) in &rt.associations {
            disassociate_route_table(ec2, assoc).await?;
        }
        delete_route_table(ec2, id).await?;
    }
    Ok(())
}

pub async fn associate_route_table(ec2: &dyn Ec2, rt: &str, subnet: &str) -> Result<String, AwsError> {
    ec2.associate_route_table(rt, subnet).await
}

pub async fn disassociate_route_table(ec2: &dyn Ec2, association_id: &str) -> Result<(), AwsError> {
    absent(ec2.disassociate_route_table(association_id).await).map(drop)
}

/// CreateRoute; an identical existing route is adopted, a different one replaced.
pub async fn ensure_route(ec2: &dyn Ec2, rt: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
    match ec2.create_route(rt, cidr, gateway).await {
        Err(e) if e.code() == Some("RouteAlreadyExists") => ec2.replace_route(rt, cidr, gateway).await,
        other => other,
    }
}

pub async fn replace_route(ec2: &dyn Ec2, rt: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
    ec2.replace_route(rt, cidr, gateway).await
}

/// DeleteRoute; a route already gone counts as deleted.
pub async fn delete_route(ec2: &dyn Ec2, rt: &str, cidr: &str) -> Result<(), AwsError> {
    absent(ec2.delete_route(rt, cidr).await).map(drop)
}

// ---- the SDK's side

fn route_table_of(rt: &aws_sdk_ec2::types::RouteTable) -> RouteTable {
    RouteTable {
        id: rt.route_table_id().unwrap_or_default().to_string(),
        vpc_id: rt.vpc_id().unwrap_or_default().to_string(),
        routes: rt
            .routes()
            .iter()
            .filter_map(|r| {
                let dest = r.destination_cidr_block()?;
                let target = r
                    .transit_gateway_id()
                    .or(r.gateway_id())
                    .or(r.nat_gateway_id())
                    .or(r.network_interface_id())
                    .or(r.vpc_peering_connection_id())
                    .or(r.instance_id())
                    .unwrap_or_default();
                Some(Route {
                    destination_cidr: dest.to_string(),
                    target_id: target.to_string(),
                    state: r.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    propagated: r.origin() == Some(&RouteOrigin::EnableVgwRoutePropagation),
                })
            })
            .collect(),
        associations: rt
            .associations()
            .iter()
            .filter_map(|a| Some((a.route_table_association_id()?.to_string(), a.subnet_id()?.to_string())))
            .collect(),
        tags: tags_of(rt.tags()),
    }
}

pub(super) async fn sdk_describe_route_tables(
    c: &aws_sdk_ec2::Client,
    filters: &[Filter],
) -> Result<Vec<RouteTable>, AwsError> {
    let mut out = Vec::new();
    let mut pages = c.describe_route_tables().set_filters(Some(Filter::sdk_all(filters))).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeRouteTables", e))?;
        out.extend(page.route_tables().iter().map(route_table_of));
    }
    Ok(out)
}

pub(super) async fn sdk_create_route_table(
    c: &aws_sdk_ec2::Client,
    vpc_id: &str,
    tags: &Tags,
) -> Result<String, AwsError> {
    let out = c
        .create_route_table()
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
        .send()
        .await
        .map_err(|e| sdk_error("ec2:CreateRouteTable", e))?;
    Ok(out.route_table().and_then(|r| r.route_table_id()).unwrap_or_default().to_string())
}

pub(super) async fn sdk_delete_route_table(c: &aws_sdk_ec2::Client, id: &str) -> Result<(), AwsError> {
    c.delete_route_table().route_table_id(id).send().await.map(drop).map_err(|e| sdk_error("ec2:DeleteRouteTable", e))
}

pub(super) async fn sdk_associate_route_table(
    c: &aws_sdk_ec2::Client,
    rt: &str,
    subnet: &str,
) -> Result<String, AwsError> {
    let out = c
        .associate_route_table()
        .route_table_id(rt)
        .subnet_id(subnet)
        .send()
        .await
        .map_err(|e| sdk_error("ec2:AssociateRouteTable", e))?;
    Ok(out.association_id().unwrap_or_default().to_string())
}

pub(super) async fn sdk_disassociate_route_table(
    c: &aws_sdk_ec2::Client,
    association_id: &str,
) -> Result<(), AwsError> {
    let sent = c.disassociate_route_table().association_id(association_id).send().await;
    sent.map(drop).map_err(|e| sdk_error("ec2:DisassociateRouteTable", e))
}

pub(super) async fn sdk_create_route(
    c: &aws_sdk_ec2::Client,
    rt: &str,
    cidr: &str,
    gateway: &str,
) -> Result<(), AwsError> {
    let req = c.create_route().route_table_id(rt).destination_cidr_block(cidr);
    let req = match GatewayKind::of(gateway) {
        GatewayKind::Transit => req.transit_gateway_id(gateway),
        GatewayKind::Vpn => req.gateway_id(gateway),
    };
    req.send().await.map(drop).map_err(|e| sdk_error("ec2:CreateRoute", e))
}

pub(super) async fn sdk_replace_route(
    c: &aws_sdk_ec2::Client,
    rt: &str,
    cidr: &str,
    gateway: &str,
) -> Result<(), AwsError> {
    let req = c.replace_route().route_table_id(rt).destination_cidr_block(cidr);
    let req = match GatewayKind::of(gateway) {
        GatewayKind::Transit => req.transit_gateway_id(gateway),
        GatewayKind::Vpn => req.gateway_id(gateway),
    };
    req.send().await.map(drop).map_err(|e| sdk_error("ec2:ReplaceRoute", e))
}

pub(super) async fn sdk_delete_route(c: &aws_sdk_ec2::Client, rt: &str, cidr: &str) -> Result<(), AwsError> {
    let sent = c.delete_route().route_table_id(rt).destination_cidr_block(cidr).send().await;
    sent.map(drop).map_err(|e| sdk_error("ec2:DeleteRoute", e))
}
