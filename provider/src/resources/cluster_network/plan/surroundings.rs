//! Plan-time checks of the cluster's surroundings: the subnets and route tables named,
//! the routes others wrote there, the gateway and its attachment, the security group
//! (one describe each, quotas included).

use crate::aws::handover::Phase;
use crate::aws::{ec2, AwsError, Clients};
use hybridnet_rules as cidr;
use tfplugin5::{AttrPath, Diagnostics};

use super::context::ClusterContext;
use super::model::{desired_routes, Desired, RouteEntry};

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
    let route_tables = clients.handover.route_tables(&*clients.ec2, &d.route_table_ids, Phase::Plan).await?;
    let is_tgw = d.gateway.starts_with("tgw-");
    if is_tgw && d.manage_attachment {
        check_attachment_subnets(d, ctx, diags);
    }
    check_subnets("route_table_subnet_ids", &d.route_table_subnet_ids, d, ctx, diags);
    check_route_tables(d, ctx, &route_tables, ours, diags);
    let Some(gateway) = check_gateway(clients, d, ctx, is_tgw, diags).await? else {
        return Ok(None);
    };
    if d.manage_rules {
        check_security_group(clients, d, ctx, diags).await?;
    }
    Ok(Some(gateway))
}

/// Each subnet of `list` (the set `attr`) must exist and be in the cluster's VPC.
/// These are sets: Terraform hands them over sorted, so an element index would not
/// match the configuration; the diagnostic names the ID and points at the set.
fn check_subnets(attr: &str, list: &[String], d: &Desired, ctx: &ClusterContext, diags: &mut Diagnostics) {
    for id in list.iter() {
        match ctx.subnets.iter().find(|s| &s.id == id) {
            None => diags.error(
                "Subnet not found",
                format!("Subnet {id} does not exist in this account and region. Use a subnet of VPC {}.", ctx.vpc.id),
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
}

/// A transit gateway attachment we manage: its subnets exist in the VPC, in at least
/// two Availability Zones, at most one per zone.
fn check_attachment_subnets(d: &Desired, ctx: &ClusterContext, diags: &mut Diagnostics) {
    let subnets = &ctx.subnets;
    check_subnets("attachment_subnet_ids", &d.attachment_subnet_ids, d, ctx, diags);
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

/// The configured route tables exist in the cluster's VPC, have room for the routes
/// (quotas) and hold no route of another writer for a CIDR we route.
fn check_route_tables(
    d: &Desired,
    ctx: &ClusterContext,
    route_tables: &[ec2::RouteTable],
    ours: &[RouteEntry],
    diags: &mut Diagnostics,
) {
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
    super::quotas::check_route_tables(d, route_tables, ours, diags);
    for (rt, cidr, target) in foreign_routes(d, route_tables, ours) {
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
}

/// The gateway exists (`None`, with an error, if not); when the attachment is not ours
/// to manage, it must exist and not have failed.
async fn check_gateway(
    clients: &Clients,
    d: &Desired,
    ctx: &ClusterContext,
    is_tgw: bool,
    diags: &mut Diagnostics,
) -> Result<Option<ec2::Gateway>, AwsError> {
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
        diags.error(
            "No attachment to the gateway",
            format!(
                "manage_attachment is false, so an existing attachment of VPC {} to {} is required, but there is \
                     none. Attach the VPC, or set manage_attachment = true.",
                ctx.vpc.id, d.gateway
            ),
            Some(AttrPath::attr(gateway_attr)),
        );
    }
    Ok(Some(gateway))
}

/// The security group the rules go in exists, with room for them (quotas).
async fn check_security_group(
    clients: &Clients,
    d: &Desired,
    ctx: &ClusterContext,
    diags: &mut Diagnostics,
) -> Result<(), AwsError> {
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
                    format!("Security group {sg} does not exist. Set security_group_id to the cluster security group."),
                    Some(AttrPath::attr("security_group_id")),
                );
            } else {
                super::quotas::check_security_group(sg, &rules, &d.rules(), diags);
            }
        }
    }
    Ok(())
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
