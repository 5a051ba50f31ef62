//! EC2: VPCs, subnets, route tables and routes, transit gateway and virtual private
//! gateway attachments, security group rules, network interfaces.
//!
//! Describes take every ID at once (or a filter), and paginate; mutations are one
//! call per object, with the caller bounding concurrency.

use std::time::Duration;

use aws_sdk_ec2::types::{
    AttachmentStatus, AutoAcceptSharedAttachmentsValue, Filter, IpPermission, IpRange, ResourceType, RouteOrigin, Tag,
    TagSpecification, TransitGatewayAttachmentState, VpcAttributeName, VpcCidrBlockStateCode,
};

use super::{sdk_error, wait_until, AwsError};

pub type Tags = Vec<(String, String)>;

fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder().name(name).set_values(Some(values.into_iter().map(Into::into).collect())).build()
}

fn tag_spec(resource: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
        .build()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect()
}

// ---------------------------------------------------------------- VPC, subnets

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

/// DescribeVpcs plus the two DNS attributes; `None` when the VPC does not exist.
pub async fn find_vpc(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> Result<Option<Vpc>, AwsError> {
    let out = match ec2.describe_vpcs().filters(filter("vpc-id", [vpc_id])).send().await {
        Ok(o) => o,
        Err(e) => {
            let err = sdk_error("ec2:DescribeVpcs", e);
            return if err.is_not_found() { Ok(None) } else { Err(err) };
        }
    };
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
    let (hostnames, support) = tokio::join!(
        ec2.describe_vpc_attribute().vpc_id(vpc_id).attribute(VpcAttributeName::EnableDnsHostnames).send(),
        ec2.describe_vpc_attribute().vpc_id(vpc_id).attribute(VpcAttributeName::EnableDnsSupport).send(),
    );
    let hostnames = hostnames.map_err(|e| sdk_error("ec2:DescribeVpcAttribute", e))?;
    let support = support.map_err(|e| sdk_error("ec2:DescribeVpcAttribute", e))?;
    Ok(Some(Vpc {
        id: vpc_id.to_string(),
        owner_id: v.owner_id().unwrap_or_default().to_string(),
        cidrs,
        dns_hostnames: hostnames.enable_dns_hostnames().and_then(|a| a.value()).unwrap_or(false),
        dns_support: support.enable_dns_support().and_then(|a| a.value()).unwrap_or(true),
    }))
}

#[derive(Clone, Debug, PartialEq)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: String,
}

/// DescribeSubnets for all `ids` in one paginated call (missing IDs are simply absent).
pub async fn find_subnets(ec2: &aws_sdk_ec2::Client, ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut pages = ec2.describe_subnets().filters(filter("subnet-id", ids.iter().cloned())).into_paginator().send();
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

// ---------------------------------------------------------------- route tables

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

/// DescribeRouteTables for all `ids` at once.
pub async fn find_route_tables(ec2: &aws_sdk_ec2::Client, ids: &[String]) -> Result<Vec<RouteTable>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    collect_route_tables(ec2, vec![filter("route-table-id", ids.iter().cloned())]).await
}

/// Route tables of a VPC carrying tag `key` = `value` (our dedicated route table).
pub async fn find_route_tables_by_tag(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    key: &str,
    value: &str,
) -> Result<Vec<RouteTable>, AwsError> {
    collect_route_tables(ec2, vec![filter("vpc-id", [vpc_id]), filter(&format!("tag:{key}"), [value])]).await
}

/// Route tables of a VPC with a route to one of `cidrs` (for import and audits).
/// One paginated describe of the VPC's tables, selected here: the multi-valued
/// `route.destination-cidr-block` filter is not an OR in every EC2 implementation.
pub async fn find_route_tables_routing(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    cidrs: &[String],
) -> Result<Vec<RouteTable>, AwsError> {
    if cidrs.is_empty() {
        return Ok(Vec::new());
    }
    let tables = collect_route_tables(ec2, vec![filter("vpc-id", [vpc_id])]).await?;
    Ok(tables.into_iter().filter(|t| t.routes.iter().any(|r| cidrs.contains(&r.destination_cidr))).collect())
}

/// Every route table of a VPC (one paginated, filtered describe): whose routes still
/// use a gateway, before its attachment is deleted.
pub async fn find_vpc_route_tables(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> Result<Vec<RouteTable>, AwsError> {
    collect_route_tables(ec2, vec![filter("vpc-id", [vpc_id])]).await
}

async fn collect_route_tables(ec2: &aws_sdk_ec2::Client, filters: Vec<Filter>) -> Result<Vec<RouteTable>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ec2.describe_route_tables().set_filters(Some(filters)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeRouteTables", e))?;
        out.extend(page.route_tables().iter().map(route_table_of));
    }
    Ok(out)
}

pub async fn create_route_table(ec2: &aws_sdk_ec2::Client, vpc_id: &str, tags: &Tags) -> Result<String, AwsError> {
    let out = ec2
        .create_route_table()
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
        .send()
        .await
        .map_err(|e| sdk_error("ec2:CreateRouteTable", e))?;
    Ok(out.route_table().and_then(|r| r.route_table_id()).unwrap_or_default().to_string())
}

pub async fn delete_route_table(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), AwsError> {
    match ec2.delete_route_table().route_table_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) => ignore_not_found(sdk_error("ec2:DeleteRouteTable", e)),
    }
}

/// Deletes a route table after removing its subnet associations; a table already
/// gone counts as deleted.
pub async fn delete_route_table_and_associations(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), AwsError> {
    if let Some(rt) = find_route_tables(ec2, &[id.to_string()]).await?.into_iter().next() {
        for (assoc, _) in &rt.associations {
            disassociate_route_table(ec2, assoc).await?;
        }
        delete_route_table(ec2, id).await?;
    }
    Ok(())
}

pub async fn associate_route_table(ec2: &aws_sdk_ec2::Client, rt: &str, subnet: &str) -> Result<String, AwsError> {
    let out = ec2
        .associate_route_table()
        .route_table_id(rt)
        .subnet_id(subnet)
        .send()
        .await
        .map_err(|e| sdk_error("ec2:AssociateRouteTable", e))?;
    Ok(out.association_id().unwrap_or_default().to_string())
}

pub async fn disassociate_route_table(ec2: &aws_sdk_ec2::Client, association_id: &str) -> Result<(), AwsError> {
    match ec2.disassociate_route_table().association_id(association_id).send().await {
        Ok(_) => Ok(()),
        Err(e) => ignore_not_found(sdk_error("ec2:DisassociateRouteTable", e)),
    }
}

/// Which kind of gateway a route points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayKind {
    Transit,
    Vpn,
}

impl GatewayKind {
    pub fn of(id: &str) -> GatewayKind {
        if id.starts_with("tgw-") {
            GatewayKind::Transit
        } else {
            GatewayKind::Vpn
        }
    }
}

/// CreateRoute; an identical existing route is adopted, a different one replaced.
pub async fn ensure_route(ec2: &aws_sdk_ec2::Client, rt: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
    let mut req = ec2.create_route().route_table_id(rt).destination_cidr_block(cidr);
    req = match GatewayKind::of(gateway) {
        GatewayKind::Transit => req.transit_gateway_id(gateway),
        GatewayKind::Vpn => req.gateway_id(gateway),
    };
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = sdk_error("ec2:CreateRoute", e);
            if err.code() == Some("RouteAlreadyExists") {
                replace_route(ec2, rt, cidr, gateway).await
            } else {
                Err(err)
            }
        }
    }
}

pub async fn replace_route(ec2: &aws_sdk_ec2::Client, rt: &str, cidr: &str, gateway: &str) -> Result<(), AwsError> {
    let mut req = ec2.replace_route().route_table_id(rt).destination_cidr_block(cidr);
    req = match GatewayKind::of(gateway) {
        GatewayKind::Transit => req.transit_gateway_id(gateway),
        GatewayKind::Vpn => req.gateway_id(gateway),
    };
    req.send().await.map(|_| ()).map_err(|e| sdk_error("ec2:ReplaceRoute", e))
}

pub async fn delete_route(ec2: &aws_sdk_ec2::Client, rt: &str, cidr: &str) -> Result<(), AwsError> {
    match ec2.delete_route().route_table_id(rt).destination_cidr_block(cidr).send().await {
        Ok(_) => Ok(()),
        Err(e) => ignore_not_found(sdk_error("ec2:DeleteRoute", e)),
    }
}

fn not_found_is_false(err: AwsError) -> Result<bool, AwsError> {
    if err.is_not_found() {
        Ok(false)
    } else {
        Err(err)
    }
}

/// The error of a delete whose object is already gone.
fn counts_as_gone(err: &AwsError) -> bool {
    err.is_not_found() || err.code() == Some("Gateway.NotAttached")
}

fn ignore_not_found(err: AwsError) -> Result<(), AwsError> {
    if counts_as_gone(&err) {
        Ok(())
    } else {
        Err(err)
    }
}

// ---------------------------------------------------------------- gateways and attachments

/// A transit gateway or virtual private gateway, as far as the resource cares.
#[derive(Clone, Debug, PartialEq)]
pub struct Gateway {
    pub id: String,
    /// The account that owns it (a transit gateway may be shared from another account
    /// through AWS RAM); empty for a VGW.
    pub owner_id: String,
    /// A transit gateway that accepts attachments from other accounts by itself.
    pub auto_accept_shared: bool,
}

impl Gateway {
    /// Whether a new attachment of a VPC owned by `vpc_owner` waits in `pendingAcceptance`
    /// until the gateway's owner accepts it: a transit gateway of another account that
    /// does not auto-accept shared attachments.
    pub fn needs_acceptance(&self, vpc_owner: &str) -> bool {
        GatewayKind::of(&self.id) == GatewayKind::Transit
            && !self.owner_id.is_empty()
            && !vpc_owner.is_empty()
            && self.owner_id != vpc_owner
            && !self.auto_accept_shared
    }
}

fn not_found_is_none<T>(err: AwsError) -> Result<Option<T>, AwsError> {
    if err.is_not_found() {
        Ok(None)
    } else {
        Err(err)
    }
}

/// The transit gateway or VGW `gateway`; `None` when it does not exist (or is deleted).
pub async fn find_gateway(ec2: &aws_sdk_ec2::Client, gateway: &str) -> Result<Option<Gateway>, AwsError> {
    let live = |state: Option<&str>| !matches!(state, Some("deleted" | "deleting"));
    match GatewayKind::of(gateway) {
        GatewayKind::Transit => {
            match ec2.describe_transit_gateways().filters(filter("transit-gateway-id", [gateway])).send().await {
                Ok(o) => {
                    Ok(o.transit_gateways().iter().find(|g| live(g.state().map(|s| s.as_str()))).map(|g| Gateway {
                        id: gateway.to_string(),
                        owner_id: g.owner_id().unwrap_or_default().to_string(),
                        auto_accept_shared: g.options().and_then(|o| o.auto_accept_shared_attachments())
                            == Some(&AutoAcceptSharedAttachmentsValue::Enable),
                    }))
                }
                Err(e) => not_found_is_none(sdk_error("ec2:DescribeTransitGateways", e)),
            }
        }
        GatewayKind::Vpn => match ec2.describe_vpn_gateways().filters(filter("vpn-gateway-id", [gateway])).send().await
        {
            Ok(o) => Ok(o.vpn_gateways().iter().find(|g| live(g.state().map(|s| s.as_str()))).map(|_| Gateway {
                id: gateway.to_string(),
                owner_id: String::new(),
                auto_accept_shared: false,
            })),
            Err(e) => not_found_is_none(sdk_error("ec2:DescribeVpnGateways", e)),
        },
    }
}

/// What an attachment's state means to the resource. Every state AWS documents for a
/// transit gateway attachment or a VGW attachment has exactly one phase; the order is
/// the preference when a VPC has several attachments to one gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttachmentPhase {
    /// Routes can use it: `available`, `modifying` (TGW); `attached` (VGW).
    Usable,
    /// On its way by itself: `initiating`, `initiatingRequest`, `pending`, `rollingBack`
    /// (ends available or failed) (TGW); `attaching` (VGW).
    InProgress,
    /// `pendingAcceptance`: waits until the transit gateway's owner account accepts it.
    PendingAcceptance,
    /// Will never be usable: `failing`, `failed`, `rejecting`, `rejected` (TGW).
    Failed,
    /// Going or gone: `deleting`, `deleted` (TGW); `detaching`, `detached` (VGW).
    Gone,
}

impl AttachmentPhase {
    pub fn of_transit(state: &TransitGatewayAttachmentState) -> AttachmentPhase {
        use TransitGatewayAttachmentState as S;
        match state {
            S::Available | S::Modifying => AttachmentPhase::Usable,
            S::Initiating | S::InitiatingRequest | S::Pending | S::RollingBack => AttachmentPhase::InProgress,
            S::PendingAcceptance => AttachmentPhase::PendingAcceptance,
            S::Failing | S::Failed | S::Rejecting | S::Rejected => AttachmentPhase::Failed,
            S::Deleting | S::Deleted => AttachmentPhase::Gone,
            // A state added to the API after this release: keep waiting (bounded by the timeout).
            _ => AttachmentPhase::InProgress,
        }
    }

    pub fn of_vpn(state: &AttachmentStatus) -> AttachmentPhase {
        match state {
            AttachmentStatus::Attached => AttachmentPhase::Usable,
            AttachmentStatus::Attaching => AttachmentPhase::InProgress,
            AttachmentStatus::Detaching | AttachmentStatus::Detached => AttachmentPhase::Gone,
            // A state added to the API after this release: keep waiting (bounded by the timeout).
            _ => AttachmentPhase::InProgress,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub id: String,
    pub gateway_id: String,
    /// The state as AWS names it (`available`, `pendingAcceptance`, `attached`, ...).
    pub state: String,
    pub phase: AttachmentPhase,
    /// Subnets of a transit gateway attachment (empty for a VGW).
    pub subnet_ids: Vec<String>,
    pub tags: Tags,
}

impl Attachment {
    pub fn usable(&self) -> bool {
        self.phase == AttachmentPhase::Usable
    }

    /// The error that ends an apply finding this attachment in a state it cannot use.
    pub fn state_error(&self, vpc_id: &str) -> AwsError {
        AwsError::AttachmentState {
            id: self.id.clone(),
            gateway: self.gateway_id.clone(),
            vpc_id: vpc_id.to_string(),
            state: self.state.clone(),
        }
    }
}

/// Every attachment of `vpc_id` to `gateway` AWS reports (deleted ones included), best
/// first (see [`AttachmentPhase`]).
async fn list_attachments(ec2: &aws_sdk_ec2::Client, gateway: &str, vpc_id: &str) -> Result<Vec<Attachment>, AwsError> {
    let mut out: Vec<Attachment> = match GatewayKind::of(gateway) {
        GatewayKind::Transit => {
            let out = ec2
                .describe_transit_gateway_vpc_attachments()
                .filters(filter("transit-gateway-id", [gateway]))
                .filters(filter("vpc-id", [vpc_id]))
                .send()
                .await
                .map_err(|e| sdk_error("ec2:DescribeTransitGatewayVpcAttachments", e))?;
            out.transit_gateway_vpc_attachments().iter().map(|a| transit_attachment_of(a, gateway)).collect()
        }
        GatewayKind::Vpn => {
            let out = match ec2.describe_vpn_gateways().filters(filter("vpn-gateway-id", [gateway])).send().await {
                Ok(o) => o,
                Err(e) => {
                    let err = sdk_error("ec2:DescribeVpnGateways", e);
                    return if err.is_not_found() { Ok(Vec::new()) } else { Err(err) };
                }
            };
            out.vpn_gateways()
                .iter()
                .flat_map(|g| g.vpc_attachments())
                .filter(|a| a.vpc_id() == Some(vpc_id))
                .map(|a| Attachment {
                    id: format!("{gateway}:{vpc_id}"),
                    gateway_id: gateway.to_string(),
                    state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    phase: a.state().map_or(AttachmentPhase::InProgress, AttachmentPhase::of_vpn),
                    subnet_ids: Vec::new(),
                    tags: Vec::new(),
                })
                .collect()
        }
    };
    out.sort_by_key(|a| a.phase);
    Ok(out)
}

/// The attachment of `vpc_id` to the transit gateway or VGW `gateway` that counts:
/// usable first, then in progress, awaiting acceptance, failed; never a deleted one
/// (a failed or rejected attachment is found, so that it can be replaced or deleted).
pub async fn find_attachment(
    ec2: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
) -> Result<Option<Attachment>, AwsError> {
    Ok(list_attachments(ec2, gateway, vpc_id).await?.into_iter().find(|a| a.phase != AttachmentPhase::Gone))
}

/// Attaches the VPC to the gateway (adopting an existing attachment, replacing a failed
/// or rejected one) and waits until the attachment is usable or waits for the gateway
/// owner's acceptance (the caller decides what that means: see the phase). An
/// attachment that fails, is rejected or deleted ends the wait at the next poll with
/// [`AwsError::AttachmentState`]. The flag says whether this call created it (else it
/// found it: made earlier, by hand, or by another cluster's resource).
pub async fn ensure_attachment(
    ec2: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    tags: &Tags,
    timeout: Duration,
    recorded: bool,
) -> Result<(Attachment, bool), AwsError> {
    // No attachment recorded for this gateway: attach first. EC2 allows one live
    // attachment of a VPC to a transit gateway, so one left by an interrupted run (or
    // made by someone else) answers DuplicateTransitGatewayAttachment, and is adopted
    // below: a first apply costs no describe before its create.
    if !recorded && GatewayKind::of(gateway) == GatewayKind::Transit {
        if let Some(made) = create_transit_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await? {
            return match made.phase {
                AttachmentPhase::Usable | AttachmentPhase::PendingAcceptance => Ok((made, true)),
                _ => wait_for_attachment(ec2, gateway, vpc_id, Some(&made.id), timeout).await.map(|a| (a, true)),
            };
        }
    }
    let mut created = true;
    let watch = match find_attachment(ec2, gateway, vpc_id).await? {
        Some(a) => match a.phase {
            AttachmentPhase::Usable | AttachmentPhase::PendingAcceptance => return Ok((a, false)),
            AttachmentPhase::InProgress => {
                created = false;
                Some(a.id)
            }
            AttachmentPhase::Failed | AttachmentPhase::Gone => {
                // It never becomes usable: delete it, then attach again.
                tracing::info!(target: "hybridnet::aws", attachment = %a.id, state = %a.state,
                    "replacing an attachment that cannot become usable");
                remove_attachment(ec2, &a, vpc_id, timeout).await?;
                create_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await?
            }
        },
        None => create_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await?,
    };
    wait_for_attachment(ec2, gateway, vpc_id, watch.as_deref(), timeout).await.map(|a| (a, created))
}

/// CreateTransitGatewayVpcAttachment: the new attachment as the answer describes it,
/// `None` when one exists already (DuplicateTransitGatewayAttachment).
async fn create_transit_attachment(
    ec2: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    tags: &Tags,
) -> Result<Option<Attachment>, AwsError> {
    let r = ec2
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(gateway)
        .vpc_id(vpc_id)
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .tag_specifications(tag_spec(ResourceType::TransitGatewayAttachment, tags))
        .send()
        .await;
    match r {
        Ok(o) => Ok(o
            .transit_gateway_vpc_attachment()
            .filter(|a| a.transit_gateway_attachment_id().is_some_and(|id| !id.is_empty()))
            .map(|a| transit_attachment_of(a, gateway))),
        Err(e) => {
            let err = sdk_error("ec2:CreateTransitGatewayVpcAttachment", e);
            if err.code() == Some("DuplicateTransitGatewayAttachment") {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

fn transit_attachment_of(a: &aws_sdk_ec2::types::TransitGatewayVpcAttachment, gateway: &str) -> Attachment {
    Attachment {
        id: a.transit_gateway_attachment_id().unwrap_or_default().to_string(),
        gateway_id: gateway.to_string(),
        state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
        phase: a.state().map_or(AttachmentPhase::InProgress, AttachmentPhase::of_transit),
        subnet_ids: a.subnet_ids().to_vec(),
        tags: tags_of(a.tags()),
    }
}

/// Creates the attachment; the ID of a new transit gateway attachment (`None` for a VGW,
/// or when an attachment made by an earlier, interrupted run was there already).
async fn create_attachment(
    ec2: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    tags: &Tags,
) -> Result<Option<String>, AwsError> {
    match GatewayKind::of(gateway) {
        GatewayKind::Transit => {
            Ok(create_transit_attachment(ec2, gateway, vpc_id, subnet_ids, tags).await?.map(|a| a.id))
        }
        GatewayKind::Vpn => {
            let r = ec2.attach_vpn_gateway().vpn_gateway_id(gateway).vpc_id(vpc_id).send().await;
            if let Err(e) = r {
                // Only an attachment that exists counts as done (a retried attach whose
                // first attempt went through); anything else is the user's to see now.
                let err = sdk_error("ec2:AttachVpnGateway", e);
                if find_attachment(ec2, gateway, vpc_id).await?.is_none() {
                    return Err(err);
                }
            }
            Ok(None)
        }
    }
}

/// Polls the attachment (`id`, else the best one) until it is usable or awaits
/// acceptance; a state it cannot leave ends the wait at once.
async fn wait_for_attachment(
    ec2: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
    id: Option<&str>,
    timeout: Duration,
) -> Result<Attachment, AwsError> {
    let is_tgw = GatewayKind::of(gateway) == GatewayKind::Transit;
    wait_until(&format!("the attachment of {vpc_id} to {gateway}"), timeout, || async {
        let all = list_attachments(ec2, gateway, vpc_id).await?;
        let found = match id {
            Some(id) => all.into_iter().find(|a| a.id == id),
            None => all.into_iter().find(|a| a.phase != AttachmentPhase::Gone),
        };
        // Not visible yet (EC2 reads are eventually consistent): poll again.
        let Some(a) = found else { return Ok(None) };
        match a.phase {
            AttachmentPhase::Usable | AttachmentPhase::PendingAcceptance => Ok(Some(a)),
            AttachmentPhase::InProgress => Ok(None),
            AttachmentPhase::Failed => Err(a.state_error(vpc_id)),
            // Our transit gateway attachment was deleted while we waited. A VGW's
            // detached entry may be an older one's: the new attach has not shown yet.
            AttachmentPhase::Gone if is_tgw => Err(a.state_error(vpc_id)),
            AttachmentPhase::Gone => Ok(None),
        }
    })
    .await
}

/// Deletes the attachment (TGW) or detaches the VGW, and waits until it is gone; a
/// failed or rejected attachment is deleted too.
pub async fn delete_attachment(
    ec2: &aws_sdk_ec2::Client,
    gateway: &str,
    vpc_id: &str,
    timeout: Duration,
) -> Result<(), AwsError> {
    let Some(a) = find_attachment(ec2, gateway, vpc_id).await? else { return Ok(()) };
    remove_attachment(ec2, &a, vpc_id, timeout).await
}

/// Deletes one attachment and waits until AWS reports it deleting or gone.
async fn remove_attachment(
    ec2: &aws_sdk_ec2::Client,
    a: &Attachment,
    vpc_id: &str,
    timeout: Duration,
) -> Result<(), AwsError> {
    let gateway = a.gateway_id.as_str();
    let live = |all: &[Attachment]| all.iter().any(|x| x.id == a.id && x.phase != AttachmentPhase::Gone);
    if a.phase == AttachmentPhase::Gone {
        return Ok(());
    }
    let r = match GatewayKind::of(gateway) {
        GatewayKind::Transit => {
            let sent = ec2.delete_transit_gateway_vpc_attachment().transit_gateway_attachment_id(&a.id).send().await;
            match sent {
                // The answer says deleting (or deleted): what the wait below waits for.
                Ok(o)
                    if o.transit_gateway_vpc_attachment()
                        .and_then(|x| x.state())
                        .is_some_and(|st| AttachmentPhase::of_transit(st) == AttachmentPhase::Gone) =>
                {
                    return Ok(())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(sdk_error("ec2:DeleteTransitGatewayVpcAttachment", e)),
            }
        }
        GatewayKind::Vpn => ec2
            .detach_vpn_gateway()
            .vpn_gateway_id(gateway)
            .vpc_id(vpc_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("ec2:DetachVpnGateway", e)),
    };
    if let Err(e) = r {
        // A failed or rejected attachment AWS refuses to delete attaches nothing, and
        // AWS removes it by itself.
        if a.phase == AttachmentPhase::Failed && e.code() == Some("IncorrectState") {
            return Ok(());
        }
        // A retried delete whose first attempt went through can fail (moto answers it with
        // a bare HTTP 500): if the attachment is already going away, that is success.
        if !counts_as_gone(&e) && live(&list_attachments(ec2, gateway, vpc_id).await?) {
            return Err(e);
        }
    }
    wait_until(&format!("the detachment of {vpc_id} from {gateway}"), timeout, || async {
        Ok((!live(&list_attachments(ec2, gateway, vpc_id).await?)).then_some(()))
    })
    .await
}

// ---------------------------------------------------------------- security group rules

#[derive(Clone, Debug, PartialEq)]
pub struct SgRule {
    pub id: String,
    pub egress: bool,
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidr: Option<String>,
    /// An IPv6 rule (IPv4 and IPv6 rules have separate quotas).
    pub ipv6: bool,
    pub description: String,
    pub tags: Tags,
}

fn sg_rule_of(r: &aws_sdk_ec2::types::SecurityGroupRule) -> SgRule {
    SgRule {
        id: r.security_group_rule_id().unwrap_or_default().to_string(),
        egress: r.is_egress().unwrap_or(false),
        protocol: r.ip_protocol().unwrap_or_default().to_string(),
        from_port: r.from_port().unwrap_or(-1),
        to_port: r.to_port().unwrap_or(-1),
        cidr: r.cidr_ipv4().map(str::to_string),
        ipv6: r.cidr_ipv6().is_some(),
        description: r.description().unwrap_or_default().to_string(),
        tags: tags_of(r.tags()),
    }
}

/// All rules of a security group (one paginated, filtered call).
pub async fn find_security_group_rules(ec2: &aws_sdk_ec2::Client, group_id: &str) -> Result<Vec<SgRule>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ec2.describe_security_group_rules().filters(filter("group-id", [group_id])).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeSecurityGroupRules", e))?;
        out.extend(page.security_group_rules().iter().map(sg_rule_of));
    }
    Ok(out)
}

/// Whether the security group exists.
pub async fn security_group_exists(ec2: &aws_sdk_ec2::Client, group_id: &str) -> Result<bool, AwsError> {
    match ec2.describe_security_groups().filters(filter("group-id", [group_id])).send().await {
        Ok(o) => Ok(!o.security_groups().is_empty()),
        Err(e) => not_found_is_false(sdk_error("ec2:DescribeSecurityGroups", e)),
    }
}

/// A rule to authorize (its direction is the request's).
#[derive(Clone, Debug, PartialEq)]
pub struct NewRule {
    /// `tcp` or `udp`.
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidr: String,
    pub description: String,
}

/// Whether `r` is the rule `want` asks for (direction, protocol, ports, CIDR).
fn is_rule(r: &SgRule, egress: bool, want: &NewRule) -> bool {
    r.egress == egress
        && r.protocol == want.protocol
        && r.from_port == want.from_port
        && r.to_port == want.to_port
        && r.cidr.as_deref() == Some(want.cidr.as_str())
}

/// Authorizes `rules`, all inbound or all outbound (`egress`), in one request, and
/// reports each rule's ID through `done(index into rules, id)` as it is known.
///
/// Reads may lag behind writes (EC2 is eventually consistent), so nothing is concluded
/// from a read that may predate this call:
/// - a successful answer means every rule of the request exists; the IDs the answer
///   lacks are waited for ([`wait_for_rules`]), never sent again;
/// - `InvalidPermission.Duplicate` refuses the whole request because one of its rules
///   exists (it appeared meanwhile, or an interrupted attempt went through): the group
///   is read once, and what it does not show yet is sent rule by rule, where a
///   Duplicate names exactly one rule that exists, to be waited for.
///
/// So nothing is created twice, and every rule's ID is reported.
pub async fn authorize_rules(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
    egress: bool,
    rules: &[NewRule],
    tags: &Tags,
    mut done: impl FnMut(usize, String),
) -> Result<(), AwsError> {
    if rules.is_empty() {
        return Ok(());
    }
    let all: Vec<usize> = (0..rules.len()).collect();
    let mut exists: Vec<usize> = Vec::new();
    let mut pending = all.clone();
    match authorize_request(ec2, group_id, egress, rules, &all, tags).await {
        Ok(created) => {
            report_rules(rules, egress, &created, &mut pending, &mut done);
            exists.append(&mut pending);
        }
        Err(e) if e.code() == Some("InvalidPermission.Duplicate") => {
            if rules.len() == 1 {
                exists.append(&mut pending);
            } else {
                report_rules(rules, egress, &find_security_group_rules(ec2, group_id).await?, &mut pending, &mut done);
                for i in std::mem::take(&mut pending) {
                    match authorize_request(ec2, group_id, egress, rules, &[i], tags).await {
                        Ok(created) => {
                            let mut one = vec![i];
                            report_rules(rules, egress, &created, &mut one, &mut done);
                            exists.extend(one);
                        }
                        Err(e) if e.code() == Some("InvalidPermission.Duplicate") => exists.push(i),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Err(e) => return Err(e),
    }
    wait_for_rules(ec2, group_id, egress, rules, exists, &mut done).await
}

/// One Authorize request for `rules[which]`: the rules the answer names.
async fn authorize_request(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
    egress: bool,
    rules: &[NewRule],
    which: &[usize],
    tags: &Tags,
) -> Result<Vec<SgRule>, AwsError> {
    let operation = if egress { "ec2:AuthorizeSecurityGroupEgress" } else { "ec2:AuthorizeSecurityGroupIngress" };
    let perms: Vec<IpPermission> = which
        .iter()
        .filter_map(|&i| rules.get(i))
        .map(|r| {
            IpPermission::builder()
                .ip_protocol(&r.protocol)
                .from_port(r.from_port)
                .to_port(r.to_port)
                .ip_ranges(IpRange::builder().cidr_ip(&r.cidr).description(&r.description).build())
                .build()
        })
        .collect();
    let spec = tag_spec(ResourceType::SecurityGroupRule, tags);
    // Two operations with one shape: the SDK gives each its own builder type.
    if egress {
        let req = ec2.authorize_security_group_egress().group_id(group_id).set_ip_permissions(Some(perms));
        let sent = req.tag_specifications(spec).send().await;
        sent.map(|o| o.security_group_rules().iter().map(sg_rule_of).collect()).map_err(|e| sdk_error(operation, e))
    } else {
        let req = ec2.authorize_security_group_ingress().group_id(group_id).set_ip_permissions(Some(perms));
        let sent = req.tag_specifications(spec).send().await;
        sent.map(|o| o.security_group_rules().iter().map(sg_rule_of).collect()).map_err(|e| sdk_error(operation, e))
    }
}

/// Reports the rules of `pending` that `found` holds, and keeps the others pending.
fn report_rules(
    rules: &[NewRule],
    egress: bool,
    found: &[SgRule],
    pending: &mut Vec<usize>,
    done: &mut impl FnMut(usize, String),
) {
    pending.retain(|&i| {
        let Some(want) = rules.get(i) else { return false };
        match found.iter().find(|r| is_rule(r, egress, want)) {
            Some(r) => {
                done(i, r.id.clone());
                false
            }
            None => true,
        }
    });
}

/// Waits until the group shows the rules `pending` (AWS said they exist: created, or
/// duplicates), reading with backoff until the operation's deadline.
async fn wait_for_rules(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
    egress: bool,
    rules: &[NewRule],
    mut pending: Vec<usize>,
    done: &mut impl FnMut(usize, String),
) -> Result<(), AwsError> {
    if pending.is_empty() {
        return Ok(());
    }
    let what = match pending.first().and_then(|&i| rules.get(i)) {
        Some(r) => format!(
            "the {} rule for {} port {} in {group_id} (AWS reported it exists) to show in its rules",
            if egress { "outbound" } else { "inbound" },
            r.cidr,
            r.from_port
        ),
        None => format!("rules in {group_id}"),
    };
    // The first read comes at once (a consistent read shows them already), then with
    // backoff. Each read's rules are kept so that, on a timeout too, the rules already
    // shown are reported.
    let timeout = super::throttle::deadline().saturating_duration_since(tokio::time::Instant::now());
    let last = std::sync::Mutex::new(Vec::new());
    let waited = wait_until(&what, timeout, || async {
        let found = find_security_group_rules(ec2, group_id).await?;
        let all =
            pending.iter().all(|&i| rules.get(i).is_none_or(|want| found.iter().any(|r| is_rule(r, egress, want))));
        *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = found;
        Ok(all.then_some(()))
    })
    .await;
    let found = last.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    report_rules(rules, egress, &found, &mut pending, done);
    waited
}

/// Revokes rules by ID (ingress and egress separately); missing ones count as revoked.
pub async fn revoke_rules(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
    ingress: &[String],
    egress: &[String],
) -> Result<(), AwsError> {
    for (egress, ids) in [(false, ingress), (true, egress)] {
        if ids.is_empty() {
            continue;
        }
        let ids = Some(ids.to_vec());
        // Two operations with one shape: the SDK gives each its own builder type.
        let result = if egress {
            let req = ec2.revoke_security_group_egress().group_id(group_id).set_security_group_rule_ids(ids);
            req.send().await.map(drop).map_err(|e| sdk_error("ec2:RevokeSecurityGroupEgress", e))
        } else {
            let req = ec2.revoke_security_group_ingress().group_id(group_id).set_security_group_rule_ids(ids);
            req.send().await.map(drop).map_err(|e| sdk_error("ec2:RevokeSecurityGroupIngress", e))
        };
        if let Err(e) = result {
            ignore_not_found(e)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- network interfaces

/// Private IPv4 addresses of the ENIs EKS made for `cluster` in `vpc_id`
/// (description "Amazon EKS <cluster>"), sorted.
pub async fn find_eks_interface_ips(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    cluster: &str,
) -> Result<Vec<String>, AwsError> {
    let mut ips = Vec::new();
    let mut pages = ec2
        .describe_network_interfaces()
        .filters(filter("vpc-id", [vpc_id]))
        .filters(filter("description", [format!("Amazon EKS {cluster}")]))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeNetworkInterfaces", e))?;
        for ni in page.network_interfaces() {
            if ni.description() != Some(format!("Amazon EKS {cluster}").as_str()) {
                continue;
            }
            let mut any = false;
            for a in ni.private_ip_addresses() {
                if let Some(ip) = a.private_ip_address() {
                    ips.push(ip.to_string());
                    any = true;
                }
            }
            if !any {
                if let Some(ip) = ni.private_ip_address() {
                    ips.push(ip.to_string());
                }
            }
        }
    }
    ips.sort_by_key(|ip| ip.parse::<std::net::Ipv4Addr>().map(u32::from).unwrap_or(u32::MAX));
    ips.dedup();
    Ok(ips)
}

/// A network interface, as the gateway checks need it.
#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    pub id: String,
    pub private_ips: Vec<String>,
    /// EC2's source/destination check (the gateway needs it off).
    pub source_dest_check: bool,
}

/// The network interfaces in security group `group_id` (one paginated, filtered call),
/// by ID.
pub async fn find_interfaces_in_group(ec2: &aws_sdk_ec2::Client, group_id: &str) -> Result<Vec<Interface>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ec2.describe_network_interfaces().filters(filter("group-id", [group_id])).into_paginator().send();
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
                private_ips,
                source_dest_check: ni.source_dest_check().unwrap_or(true),
            });
        }
    }
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

/// Changes the subnets of a transit gateway attachment in place.
pub async fn modify_attachment_subnets(
    ec2: &aws_sdk_ec2::Client,
    attachment_id: &str,
    add: &[String],
    remove: &[String],
) -> Result<(), AwsError> {
    if add.is_empty() && remove.is_empty() {
        return Ok(());
    }
    ec2.modify_transit_gateway_vpc_attachment()
        .transit_gateway_attachment_id(attachment_id)
        .set_add_subnet_ids((!add.is_empty()).then(|| add.to_vec()))
        .set_remove_subnet_ids((!remove.is_empty()).then(|| remove.to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("ec2:ModifyTransitGatewayVpcAttachment", e))
}

/// Security group rules in any group carrying tag `key` = `value` (ours, for import).
pub async fn find_rules_by_tag(
    ec2: &aws_sdk_ec2::Client,
    key: &str,
    value: &str,
) -> Result<Vec<(String, SgRule)>, AwsError> {
    let mut out = Vec::new();
    let mut pages =
        ec2.describe_security_group_rules().filters(filter(&format!("tag:{key}"), [value])).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ec2:DescribeSecurityGroupRules", e))?;
        out.extend(
            page.security_group_rules().iter().map(|r| (r.group_id().unwrap_or_default().to_string(), sg_rule_of(r))),
        );
    }
    Ok(out)
}

/// Sets tags on resources (adds or overwrites `set`, removes `remove` keys).
pub async fn retag(
    ec2: &aws_sdk_ec2::Client,
    resources: &[String],
    set: &Tags,
    remove: &[String],
) -> Result<(), AwsError> {
    if resources.is_empty() {
        return Ok(());
    }
    if !set.is_empty() {
        ec2.create_tags()
            .set_resources(Some(resources.to_vec()))
            .set_tags(Some(set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
            .send()
            .await
            .map_err(|e| sdk_error("ec2:CreateTags", e))?;
    }
    if !remove.is_empty() {
        ec2.delete_tags()
            .set_resources(Some(resources.to_vec()))
            .set_tags(Some(remove.iter().map(|k| Tag::builder().key(k).build()).collect()))
            .send()
            .await
            .map_err(|e| sdk_error("ec2:DeleteTags", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_attachment_state_has_its_phase() {
        use AttachmentPhase::*;
        let transit = [
            ("initiating", InProgress),
            ("initiatingRequest", InProgress),
            ("pendingAcceptance", PendingAcceptance),
            ("rollingBack", InProgress),
            ("pending", InProgress),
            ("available", Usable),
            ("modifying", Usable),
            ("deleting", Gone),
            ("deleted", Gone),
            ("failing", Failed),
            ("failed", Failed),
            ("rejecting", Failed),
            ("rejected", Failed),
        ];
        for (name, phase) in transit {
            let state = TransitGatewayAttachmentState::from(name);
            assert!(TransitGatewayAttachmentState::values().contains(&name), "{name} is a documented state");
            assert_eq!(AttachmentPhase::of_transit(&state), phase, "{name}");
        }
        assert_eq!(TransitGatewayAttachmentState::values().len(), transit.len(), "a state AWS added is classified");
        let vpn = [("attaching", InProgress), ("attached", Usable), ("detaching", Gone), ("detached", Gone)];
        for (name, phase) in vpn {
            let state = AttachmentStatus::from(name);
            assert!(AttachmentStatus::values().contains(&name), "{name} is a documented state");
            assert_eq!(AttachmentPhase::of_vpn(&state), phase, "{name}");
        }
        assert_eq!(AttachmentStatus::values().len(), vpn.len());
        // A state this release does not know keeps the wait going (bounded by the timeout).
        assert_eq!(AttachmentPhase::of_transit(&TransitGatewayAttachmentState::from("suspended")), InProgress);
        // The preference among several attachments of one VPC to one gateway.
        assert!(Usable < InProgress && InProgress < PendingAcceptance && PendingAcceptance < Failed && Failed < Gone);
    }

    #[test]
    fn terminal_states_name_the_attachment_and_say_what_to_do() {
        let a = |state: &str| Attachment {
            id: "tgw-attach-1".into(),
            gateway_id: "tgw-1".into(),
            state: state.into(),
            phase: AttachmentPhase::of_transit(&TransitGatewayAttachmentState::from(state)),
            subnet_ids: Vec::new(),
            tags: Vec::new(),
        };
        for state in ["failed", "failing", "rejected", "rejecting"] {
            let (summary, detail) = a(state).state_error("vpc-1").summary_and_detail();
            assert_eq!(summary, format!("Transit gateway attachment tgw-attach-1 is {state}"));
            assert!(detail.contains("vpc-1") && detail.contains("tgw-1"), "{detail}");
            assert!(detail.contains("the next apply deletes it") && detail.contains("destroy deletes it"), "{detail}");
        }
        let (_, detail) = a("rejected").state_error("vpc-1").summary_and_detail();
        assert!(detail.contains("rejected the attachment") && detail.contains("auto-accept"), "{detail}");
        let (summary, detail) = a("deleted").state_error("vpc-1").summary_and_detail();
        assert_eq!(summary, "Transit gateway attachment tgw-attach-1 is deleted");
        assert!(!detail.contains("next apply deletes it"), "{detail}");
        let (summary, _) = a("pendingAcceptance").state_error("vpc-1").summary_and_detail();
        assert_eq!(summary, "Transit gateway attachment tgw-attach-1 awaits acceptance");
    }

    #[test]
    fn only_a_transit_gateway_of_another_account_without_auto_accept_needs_acceptance() {
        let gw =
            |id: &str, owner: &str, auto| Gateway { id: id.into(), owner_id: owner.into(), auto_accept_shared: auto };
        assert!(gw("tgw-1", "210987654321", false).needs_acceptance("123456789012"));
        assert!(!gw("tgw-1", "210987654321", true).needs_acceptance("123456789012"));
        assert!(!gw("tgw-1", "123456789012", false).needs_acceptance("123456789012"));
        assert!(!gw("tgw-1", "", false).needs_acceptance("123456789012"), "an owner AWS did not report");
        assert!(!gw("vgw-1", "210987654321", false).needs_acceptance("123456789012"));
    }
}
