//! Who else still needs what this resource made, asked of AWS only when something is
//! about to be deleted: EKS is the source of truth for which remote networks each
//! cluster routes. A neighbour is another EKS cluster in the same VPC (ListClusters,
//! DescribeCluster each, and, where EKS names no VPC, one DescribeSubnets for all of
//! their subnets); whether it is in this configuration, another workspace or made by
//! hand makes no difference.
//!
//! - A route this resource made is kept while a neighbour's remote networks overlap its
//!   destination.
//! - The attachment is kept while a route in the VPC to the gateway carries a
//!   neighbour's remote network (its routes ride on it).
//!
//! Each kept object ends the operation with a warning naming the neighbour; the last
//! one out removes it.

use futures::stream::{self, StreamExt, TryStreamExt};
use hybridnet_rules::Ipv4Net;
use tfplugin5::{AttrPath, Diagnostics};

use super::model::{Desired, RouteEntry};
use crate::aws::{ec2, eks, AwsError, Clients};

/// How many DescribeCluster requests run at once.
const CONCURRENCY: usize = 8;

/// Another EKS cluster in the VPC with remote networks.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbour {
    pub name: String,
    /// Its remote node and pod networks.
    pub networks: Vec<Ipv4Net>,
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

impl Neighbour {
    /// Whether its remote networks overlap `cidr`.
    pub fn routes(&self, cidr: &str) -> bool {
        cidr.parse::<Ipv4Net>().is_ok_and(|c| self.networks.iter().any(|n| overlaps(n, &c)))
    }
}

/// The other clusters of `vpc_id` (not `own`) that have remote networks.
pub async fn find(clients: &Clients, own: &str, vpc_id: &str) -> Result<Vec<Neighbour>, AwsError> {
    let names: Vec<String> = eks::list_cluster_names(&clients.eks).await?.into_iter().filter(|n| n != own).collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let client = &clients.eks;
    let reads = names.into_iter().map(move |n| async move { eks::find_cluster(client, &n).await });
    let clusters: Vec<Option<eks::Cluster>> = stream::iter(reads).buffered(CONCURRENCY).try_collect().await?;
    let clusters: Vec<eks::Cluster> = clusters
        .into_iter()
        .flatten()
        .filter(|c| !c.remote_node_cidrs.is_empty() || !c.remote_pod_cidrs.is_empty())
        .collect();
    // Not every EKS implementation reports the VPC: their subnets tell, in one describe.
    let mut subnet_ids: Vec<String> =
        clusters.iter().filter(|c| c.vpc_id.is_none()).flat_map(|c| c.subnet_ids.iter().cloned()).collect();
    subnet_ids.sort();
    subnet_ids.dedup();
    let subnets = if subnet_ids.is_empty() { Vec::new() } else { ec2::find_subnets(&clients.ec2, &subnet_ids).await? };
    let in_vpc = |c: &eks::Cluster| match &c.vpc_id {
        Some(v) => v == vpc_id,
        None => c.subnet_ids.iter().any(|id| subnets.iter().any(|s| &s.id == id && s.vpc_id == vpc_id)),
    };
    Ok(clusters
        .iter()
        .filter(|c| in_vpc(c))
        .map(|c| Neighbour {
            name: c.name.clone(),
            networks: c.remote_node_cidrs.iter().chain(&c.remote_pod_cidrs).filter_map(|n| n.parse().ok()).collect(),
        })
        .collect())
}

/// Splits `routes` (made by this resource, about to be deleted) into those no
/// neighbour needs and those kept, with a warning per kept destination naming the
/// clusters.
pub fn keep_needed_routes(
    d: &Desired,
    vpc_id: &str,
    routes: Vec<RouteEntry>,
    neighbours: &[Neighbour],
    diags: &mut Diagnostics,
) -> Vec<RouteEntry> {
    let mut delete = Vec::new();
    let mut kept: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for r in routes {
        let users: Vec<String> =
            neighbours.iter().filter(|n| n.routes(&r.destination_cidr)).map(|n| n.name.clone()).collect();
        if users.is_empty() {
            delete.push(r);
            continue;
        }
        match kept.iter_mut().find(|(c, _, _)| c == &r.destination_cidr) {
            Some((_, tables, _)) => tables.push(r.route_table_id.clone()),
            None => kept.push((r.destination_cidr.clone(), vec![r.route_table_id.clone()], users)),
        }
    }
    for (cidr, tables, users) in kept {
        diags.warning(
            format!("Route to {cidr} kept: cluster {} still routes it", users.join(", ")),
            format!(
                "EKS cluster {} in VPC {vpc_id} lists a remote network overlapping {cidr}, so the route to {} in {} \
                 stays for it and leaves this resource's state. Routes carry no tags, so a resource that found it \
                 never deletes it: once no cluster needs it (remove {cidr} from that cluster's remote networks with \
                 aws eks update-cluster-config --remote-network-config), delete the route by hand.",
                users.join(", "),
                d.gateway,
                tables.join(", "),
            ),
            Some(AttrPath::attr("route_table_ids")),
        );
    }
    delete
}

/// The neighbours whose remote networks ride on `gateway`: a route in one of the VPC's
/// `tables` to the gateway whose destination overlaps their networks, not counting
/// `deleted` (routes this operation removed).
pub fn riding(
    gateway: &str,
    tables: &[ec2::RouteTable],
    deleted: &[RouteEntry],
    neighbours: &[Neighbour],
) -> Vec<String> {
    let live: Vec<&ec2::Route> = tables
        .iter()
        .flat_map(|t| {
            t.routes.iter().filter(move |r| {
                r.target_id == gateway
                    && !deleted.iter().any(|x| x.route_table_id == t.id && x.destination_cidr == r.destination_cidr)
            })
        })
        .collect();
    neighbours.iter().filter(|n| live.iter().any(|r| n.routes(&r.destination_cidr))).map(|n| n.name.clone()).collect()
}

/// The warning of an attachment kept for `users`.
pub fn attachment_kept(d: &Desired, vpc_id: &str, users: &[String], diags: &mut Diagnostics) {
    let attr = if d.gateway.starts_with("tgw-") { "transit_gateway_id" } else { "vpn_gateway_id" };
    diags.warning(
        format!("Attachment to {} kept: cluster {} still routes through it", d.gateway, users.join(", ")),
        format!(
            "Routes in VPC {vpc_id} to {} carry the remote networks of EKS cluster {}, so the attachment of the VPC \
             to {} stays (hybridnet made it; the last resource of the VPC to go removes it). To remove it now, \
             remove those routes first, or delete the attachment by hand.",
            d.gateway,
            users.join(", "),
            d.gateway,
        ),
        Some(AttrPath::attr(attr)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str, nets: &[&str]) -> Neighbour {
        Neighbour { name: name.into(), networks: nets.iter().map(|s| s.parse().expect("cidr")).collect() }
    }

    fn route(rt: &str, cidr: &str) -> RouteEntry {
        RouteEntry {
            route_table_id: rt.into(),
            destination_cidr: cidr.into(),
            target_id: "tgw-1".into(),
            network: "node".into(),
        }
    }

    #[test]
    fn a_neighbour_routes_what_overlaps_its_networks() {
        let c2 = n("c2", &["10.80.0.0/16"]);
        assert!(c2.routes("10.80.0.0/16"));
        assert!(c2.routes("10.80.4.0/24"), "inside");
        assert!(c2.routes("10.0.0.0/8"), "around");
        assert!(!c2.routes("10.81.0.0/16"));
        assert!(!c2.routes("not a cidr"));
    }

    #[test]
    fn routes_a_neighbour_needs_are_kept_with_one_warning_per_destination() {
        let d = Desired::from_model(
            &super::super::model::ClusterNetworkModel {
                cluster_name: tfplugin5::typed::Tf::Known("c1".into()),
                transit_gateway_id: tfplugin5::typed::Tf::Known("tgw-1".into()),
                ..Default::default()
            },
            &mut Diagnostics::new(),
        );
        let mut diags = Diagnostics::new();
        let routes =
            vec![route("rtb-a", "10.80.0.0/16"), route("rtb-b", "10.80.0.0/16"), route("rtb-a", "10.90.0.0/16")];
        let delete = keep_needed_routes(&d, "vpc-1", routes, &[n("c2", &["10.80.0.0/16"])], &mut diags);
        assert_eq!(delete, vec![route("rtb-a", "10.90.0.0/16")]);
        let [w] = diags.0.as_slice() else { panic!("one warning: {diags:?}") };
        assert_eq!(w.summary, "Route to 10.80.0.0/16 kept: cluster c2 still routes it");
        assert!(w.detail.contains("rtb-a, rtb-b") && w.detail.contains("vpc-1"), "{}", w.detail);
        assert_eq!(w.severity, tfplugin5::diag::Severity::Warning);
    }

    #[test]
    fn the_attachment_is_needed_while_a_neighbours_route_uses_the_gateway() {
        let table = ec2::RouteTable {
            id: "rtb-a".into(),
            vpc_id: "vpc-1".into(),
            routes: vec![ec2::Route {
                destination_cidr: "10.80.0.0/16".into(),
                target_id: "tgw-1".into(),
                state: "active".into(),
                propagated: false,
            }],
            associations: Vec::new(),
            tags: Vec::new(),
        };
        let c2 = n("c2", &["10.80.0.0/16"]);
        assert_eq!(riding("tgw-1", std::slice::from_ref(&table), &[], std::slice::from_ref(&c2)), vec!["c2"]);
        assert!(riding("tgw-2", std::slice::from_ref(&table), &[], std::slice::from_ref(&c2)).is_empty());
        let gone = [route("rtb-a", "10.80.0.0/16")];
        assert!(riding("tgw-1", &[table], &gone, &[c2]).is_empty(), "a route just deleted carries nothing");
    }
}
