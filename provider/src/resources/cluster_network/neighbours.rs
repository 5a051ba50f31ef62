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

use std::time::Duration;

use super::model::{Desired, RouteEntry, OWNER_TAG};
use crate::aws::handover::Handover;
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
    let names: Vec<String> = eks::list_cluster_names(&*clients.eks).await?.into_iter().filter(|n| n != own).collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let client = &*clients.eks;
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
    let subnets =
        if subnet_ids.is_empty() { Vec::new() } else { ec2::find_subnets(&*clients.ec2, &subnet_ids).await? };
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
/// `tables` to the gateway whose destination overlaps their networks, not counting a
/// route `gone` says this process already deleted or moved elsewhere.
pub fn riding(
    gateway: &str,
    tables: &[ec2::RouteTable],
    gone: impl Fn(&str, &str) -> bool,
    neighbours: &[Neighbour],
) -> Vec<String> {
    let live: Vec<&ec2::Route> = tables
        .iter()
        .flat_map(|t| t.routes.iter().map(move |r| (t, r)))
        .filter(|(t, r)| r.target_id == gateway && !gone(&t.id, &r.destination_cidr))
        .map(|(_, r)| r)
        .collect();
    neighbours.iter().filter(|n| live.iter().any(|r| n.routes(&r.destination_cidr))).map(|n| n.name.clone()).collect()
}

/// Keep or delete the attachment of a VPC to a gateway: the one decision of a destroy
/// and of a gateway change. Everything it needs is read by [`AttachmentFate::read`]
/// before the operation deletes anything (so a failed read leaves all that the state
/// lists in place); [`AttachmentFate::settle`] decides after the routes are gone.
#[derive(Debug)]
pub struct AttachmentFate {
    gateway: String,
    vpc_id: String,
    /// hybridnet made it: only then may it go.
    owned: bool,
    neighbours: Vec<Neighbour>,
    /// The VPC's route tables, read only when it is ours and there are neighbours.
    tables: Vec<ec2::RouteTable>,
}

impl AttachmentFate {
    /// `managed`: the resource manages the attachment; `created`: the state's
    /// `attachment_created` (`Some(false)`: found, so ours only when another hybridnet
    /// resource tagged it; the last one out removes it). Neighbours are asked when the
    /// attachment is ours or `routes_to_delete` (they decide those routes too).
    pub async fn read(
        clients: &Clients,
        own: &str,
        vpc_id: &str,
        gateway: &str,
        managed: bool,
        created: Option<bool>,
        routes_to_delete: bool,
    ) -> Result<AttachmentFate, AwsError> {
        let owned = managed
            && !gateway.is_empty()
            && !vpc_id.is_empty()
            && match created {
                Some(false) => ec2::find_attachment(&*clients.ec2, gateway, vpc_id)
                    .await?
                    .is_some_and(|a| a.tags.iter().any(|(k, _)| k == OWNER_TAG)),
                _ => true,
            };
        let neighbours = if owned || routes_to_delete { find(clients, own, vpc_id).await? } else { Vec::new() };
        let tables = if owned && !neighbours.is_empty() {
            ec2::find_vpc_route_tables(&*clients.ec2, vpc_id).await?
        } else {
            Vec::new()
        };
        Ok(AttachmentFate { gateway: gateway.to_string(), vpc_id: vpc_id.to_string(), owned, neighbours, tables })
    }

    pub fn neighbours(&self) -> &[Neighbour] {
        &self.neighbours
    }

    /// `None`: not ours, it stays; `Some(users)`: ours, it goes when `users` (the
    /// neighbours riding on it) is empty. A route this process deleted or re-pointed
    /// (this resource, or another destroyed or changed in parallel) carries nothing,
    /// whatever the read before (or a lagging read) showed.
    pub fn users(&self, handover: &Handover) -> Option<Vec<String>> {
        self.owned.then(|| {
            riding(&self.gateway, &self.tables, |t, c| handover.moved_away(t, c, &self.gateway), &self.neighbours)
        })
    }

    /// Deletes the attachment when ours and nobody rides on it; warns when kept for
    /// neighbours. Call once this operation's routes are deleted or re-pointed.
    pub async fn settle(&self, clients: &Clients, timeout: Duration, diags: &mut Diagnostics) -> Result<(), AwsError> {
        match self.users(&clients.handover) {
            None => Ok(()),
            Some(users) if users.is_empty() => {
                ec2::delete_attachment(&*clients.ec2, &self.gateway, &self.vpc_id, timeout).await
            }
            Some(users) => {
                attachment_kept(&self.gateway, &self.vpc_id, &users, diags);
                Ok(())
            }
        }
    }
}

/// The warning of an attachment to `gateway` kept for `users`.
pub fn attachment_kept(gateway: &str, vpc_id: &str, users: &[String], diags: &mut Diagnostics) {
    let attr = if gateway.starts_with("tgw-") { "transit_gateway_id" } else { "vpn_gateway_id" };
    diags.warning(
        format!("Attachment to {gateway} kept: cluster {} still routes through it", users.join(", ")),
        format!(
            "Routes in VPC {vpc_id} to {gateway} carry the remote networks of EKS cluster {}, so the attachment of \
             the VPC to {gateway} stays (hybridnet made it; the last resource of the VPC to go removes it). To \
             remove it now, remove those routes first, or delete the attachment by hand.",
            users.join(", "),
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

    fn table(gateway: &str) -> ec2::RouteTable {
        ec2::RouteTable {
            id: "rtb-a".into(),
            vpc_id: "vpc-1".into(),
            routes: vec![ec2::Route {
                destination_cidr: "10.80.0.0/16".into(),
                target_id: gateway.into(),
                state: "active".into(),
                propagated: false,
            }],
            associations: Vec::new(),
            tags: Vec::new(),
        }
    }

    fn fate(owned: bool, neighbours: &[Neighbour], tables: Vec<ec2::RouteTable>) -> AttachmentFate {
        AttachmentFate {
            gateway: "tgw-1".into(),
            vpc_id: "vpc-1".into(),
            owned,
            neighbours: neighbours.to_vec(),
            tables,
        }
    }

    #[test]
    fn the_attachment_is_needed_while_a_neighbours_route_uses_the_gateway() {
        let table = table("tgw-1");
        let c2 = n("c2", &["10.80.0.0/16"]);
        let none = |_: &str, _: &str| false;
        assert_eq!(riding("tgw-1", std::slice::from_ref(&table), none, std::slice::from_ref(&c2)), vec!["c2"]);
        assert!(riding("tgw-2", std::slice::from_ref(&table), none, std::slice::from_ref(&c2)).is_empty());
        let gone = |t: &str, c: &str| t == "rtb-a" && c == "10.80.0.0/16";
        assert!(riding("tgw-1", &[table], gone, &[c2]).is_empty(), "a route just deleted carries nothing");
    }

    #[test]
    fn an_attachment_not_made_by_hybridnet_is_never_deleted() {
        let h = Handover::default();
        assert_eq!(fate(false, &[], Vec::new()).users(&h), None);
        assert_eq!(fate(false, &[n("c2", &["10.80.0.0/16"])], vec![table("tgw-1")]).users(&h), None);
    }

    #[test]
    fn ours_goes_when_no_neighbour_rides_on_it() {
        let h = Handover::default();
        assert_eq!(fate(true, &[], Vec::new()).users(&h), Some(Vec::new()), "no neighbours");
        let c2 = n("c2", &["10.80.0.0/16"]);
        assert_eq!(fate(true, std::slice::from_ref(&c2), vec![table("tgw-1")]).users(&h), Some(vec!["c2".into()]));
        assert_eq!(
            fate(true, std::slice::from_ref(&c2), vec![table("tgw-9")]).users(&h),
            Some(Vec::new()),
            "its route goes to another gateway"
        );
        assert_eq!(
            fate(true, &[n("c3", &["10.99.0.0/16"])], vec![table("tgw-1")]).users(&h),
            Some(Vec::new()),
            "the route carries no neighbour's network"
        );
    }

    /// Finding 1: two resources of one VPC destroyed in parallel by one process. Each
    /// read the tables before the other deleted its routes (or the read lags); the
    /// last to decide sees both deletions in the process-wide registry and deletes.
    #[test]
    fn routes_deleted_by_a_resource_destroyed_in_parallel_carry_nothing() {
        let h = Handover::default();
        let c1 = n("c1", &["10.70.0.0/16"]);
        let c2 = n("c2", &["10.80.0.0/16"]);
        let mut both = table("tgw-1");
        both.routes.push(ec2::Route {
            destination_cidr: "10.70.0.0/16".into(),
            target_id: "tgw-1".into(),
            state: "active".into(),
            propagated: false,
        });
        // c1's resource: its neighbour is c2; c2's resource: its neighbour is c1.
        let of_c1 = fate(true, std::slice::from_ref(&c2), vec![both.clone()]);
        let of_c2 = fate(true, std::slice::from_ref(&c1), vec![both]);
        h.route_written("rtb-a", "10.70.0.0/16", None);
        assert_eq!(of_c1.users(&h), Some(vec!["c2".into()]), "c2's route not deleted yet: kept");
        h.route_written("rtb-a", "10.80.0.0/16", None);
        assert_eq!(of_c2.users(&h), Some(Vec::new()), "both deleted: the last one out deletes it");
        assert_eq!(of_c1.users(&h), Some(Vec::new()));
    }

    /// Finding 2: a gateway change re-pointed the route; a lagging read still shows it
    /// at the old gateway, carrying a neighbour's (overlapping) network.
    #[test]
    fn a_route_re_pointed_elsewhere_no_longer_rides_on_the_old_gateway() {
        let h = Handover::default();
        let old = fate(true, &[n("c2", &["10.80.0.0/16"])], vec![table("tgw-1")]);
        assert_eq!(old.users(&h), Some(vec!["c2".into()]));
        h.route_written("rtb-a", "10.80.0.0/16", Some("tgw-2"));
        assert_eq!(old.users(&h), Some(Vec::new()));
        h.route_written("rtb-a", "10.80.0.0/16", Some("tgw-1"));
        assert_eq!(old.users(&h), Some(vec!["c2".into()]), "pointed back at tgw-1 by this process");
    }

    #[test]
    fn a_kept_attachment_warns_on_its_gateway_attribute() {
        let mut diags = Diagnostics::new();
        attachment_kept("vgw-1", "vpc-1", &["c2".into()], &mut diags);
        let [w] = diags.0.as_slice() else { panic!("one warning: {diags:?}") };
        assert_eq!(w.summary, "Attachment to vgw-1 kept: cluster c2 still routes through it");
        assert!(w.detail.contains("VPC vpc-1"), "{}", w.detail);
        assert_eq!(w.path, Some(AttrPath::attr("vpn_gateway_id")));
    }
}

#[cfg(test)]
#[path = "neighbours_tests.rs"]
mod fake_tests;
