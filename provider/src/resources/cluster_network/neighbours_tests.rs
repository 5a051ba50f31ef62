//! The ownership rule "never delete what a neighbour still needs", against the
//! in-memory fake (`crate::aws::fake`): neighbours found through EKS (by the VPC EKS
//! reports, or by their subnets' VPC), routes kept for them, the attachment kept while
//! their routes ride on it, and removed by the last one out.

use std::sync::Arc;
use std::time::Duration;

use tfplugin5::typed::Tf;
use tfplugin5::{AttrPath, Diagnostics, Severity};

use super::{keep_needed_routes, AttachmentFate, Neighbour};
use crate::aws::ec2::{self, AttachmentPhase, Route, RouteTable, Subnet, Tags};
use crate::aws::eks::Cluster;
use crate::aws::fake::Fake;
use crate::aws::handover::Handover;
use crate::aws::Clients;
use crate::resources::cluster_network::model::{ClusterNetworkModel, Desired, RouteEntry, OWNER_TAG};

const WAIT: Duration = Duration::from_secs(5);

fn clients(fake: &Fake) -> Clients {
    Clients {
        ec2: Arc::new(fake.clone()),
        eks: Arc::new(fake.clone()),
        region: "eu-west-1".into(),
        ec2_endpoint: "http://127.0.0.1:1".into(),
        eks_endpoint: "http://127.0.0.1:1".into(),
        max_attempts: 1,
        handover: Handover::default(),
    }
}

fn cluster(name: &str, vpc: Option<&str>, subnets: &[&str], nodes: &[&str]) -> Cluster {
    Cluster {
        name: name.into(),
        status: "ACTIVE".into(),
        subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
        vpc_id: vpc.map(str::to_string),
        remote_node_cidrs: nodes.iter().map(|s| s.to_string()).collect(),
        ..Cluster::default()
    }
}

fn route(cidr: &str) -> Route {
    Route { destination_cidr: cidr.into(), target_id: "tgw-1".into(), state: "active".into(), propagated: false }
}

fn entry(cidr: &str) -> RouteEntry {
    RouteEntry {
        route_table_id: "rtb-main".into(),
        destination_cidr: cidr.into(),
        target_id: "tgw-1".into(),
        network: "node".into(),
    }
}

fn ours() -> Tags {
    vec![(OWNER_TAG.to_string(), "c1".to_string())]
}

/// VPC vpc-1 with transit gateway tgw-1 attached (by hybridnet for c1 when `tags` are
/// ours), table rtb-main routing `routes` to tgw-1. EKS: c1 (ourselves, 10.80.0.0/16
/// and 10.70.0.0/16), c2 in vpc-1 known only by its subnet (10.80.0.0/17, which
/// overlaps c1's 10.80.0.0/16, and 10.90.0.0/16), c3 in vpc-2 (10.70.0.0/16), c4 in
/// vpc-1 without remote networks.
async fn world(routes: &[&str], tags: &Tags) -> Fake {
    let fake = Fake::new();
    {
        let mut w = fake.world();
        w.vpc_with_gateway("vpc-1", "10.0.0.0/16", "tgw-1");
        w.subnets.push(Subnet { id: "subnet-c2".into(), vpc_id: "vpc-1".into(), availability_zone: "a".into() });
        w.route_tables.insert(
            "rtb-main".into(),
            RouteTable {
                id: "rtb-main".into(),
                vpc_id: "vpc-1".into(),
                routes: routes.iter().map(|c| route(c)).collect(),
                associations: Vec::new(),
                tags: Vec::new(),
            },
        );
        w.clusters = vec![
            cluster("c1", Some("vpc-1"), &[], &["10.80.0.0/16", "10.70.0.0/16"]),
            cluster("c2", None, &["subnet-c2"], &["10.80.0.0/17", "10.90.0.0/16"]),
            cluster("c3", Some("vpc-2"), &[], &["10.70.0.0/16"]),
            cluster("c4", Some("vpc-1"), &[], &[]),
        ];
    }
    ec2::ensure_attachment(&fake, "tgw-1", "vpc-1", &["subnet-1".into()], tags, WAIT, false).await.expect("attached");
    fake.world().calls.clear();
    fake
}

fn desired() -> Desired {
    let m = ClusterNetworkModel {
        cluster_name: Tf::Known("c1".into()),
        remote_node_cidrs: Tf::Known(vec![Tf::Known("10.80.0.0/16".into()), Tf::Known("10.70.0.0/16".into())]),
        transit_gateway_id: Tf::Known("tgw-1".into()),
        route_table_ids: Tf::Known(vec![Tf::Known("rtb-main".into())]),
        ..ClusterNetworkModel::default()
    };
    let mut diags = Diagnostics::new();
    let d = Desired::from_model(&m, &mut diags);
    assert!(!diags.has_errors(), "{diags:?}");
    d
}

fn warnings(diags: &Diagnostics) -> Vec<(String, Option<AttrPath>)> {
    diags.iter().map(|d| (d.summary.clone(), d.path.clone())).collect()
}

fn attachment_live(fake: &Fake) -> bool {
    fake.world().attachments.iter().any(|(_, a)| a.phase != AttachmentPhase::Gone)
}

#[tokio::test]
async fn a_route_and_the_attachment_a_neighbour_still_needs_are_kept() {
    let fake = world(&["10.80.0.0/16", "10.70.0.0/16", "10.90.0.0/16"], &ours()).await;
    let clients = clients(&fake);
    let fate =
        AttachmentFate::read(&clients, "c1", "vpc-1", "tgw-1", true, Some(true), true).await.expect("read first");
    // Only c2 is a neighbour: c3 is in another VPC, c4 routes nothing, c1 is us.
    let c2 = Neighbour {
        name: "c2".into(),
        networks: vec!["10.80.0.0/17".parse().expect("cidr"), "10.90.0.0/16".parse().expect("cidr")],
    };
    assert_eq!(fate.neighbours(), std::slice::from_ref(&c2));
    assert_eq!((fake.count("eks:ListClusters"), fake.count("eks:DescribeCluster")), (1, 3));
    assert_eq!(fake.count("ec2:DescribeSubnets"), 1, "c2's VPC from its subnets, in one describe");

    let mut diags = Diagnostics::new();
    let routes = vec![entry("10.80.0.0/16"), entry("10.70.0.0/16")];
    let delete = keep_needed_routes(&desired(), "vpc-1", routes, fate.neighbours(), &mut diags);
    assert_eq!(delete, vec![entry("10.70.0.0/16")], "c3's 10.70.0.0/16 is in another VPC: ours to delete");
    for r in &delete {
        ec2::delete_route(&fake, &r.route_table_id, &r.destination_cidr).await.expect("deleted");
        clients.handover.route_written(&r.route_table_id, &r.destination_cidr, None);
    }
    fate.settle(&clients, WAIT, &mut diags).await.expect("settled");

    assert_eq!(
        warnings(&diags),
        vec![
            (
                "Route to 10.80.0.0/16 kept: cluster c2 still routes it".to_string(),
                Some(AttrPath::attr("route_table_ids"))
            ),
            (
                "Attachment to tgw-1 kept: cluster c2 still routes through it".to_string(),
                Some(AttrPath::attr("transit_gateway_id"))
            ),
        ]
    );
    assert!(diags.iter().all(|d| d.severity == Severity::Warning), "{diags:?}");
    assert!(diags.0[0].detail.contains("EKS cluster c2 in VPC vpc-1"), "{}", diags.0[0].detail);
    assert_eq!(
        fake.routes("rtb-main"),
        vec![("10.80.0.0/16".to_string(), "tgw-1".to_string()), ("10.90.0.0/16".to_string(), "tgw-1".to_string())]
    );
    assert!(attachment_live(&fake), "the attachment stays for c2");
    assert_eq!(fake.count("ec2:DeleteTransitGatewayVpcAttachment"), 0);
}

#[tokio::test]
async fn the_last_one_out_removes_the_attachment_even_behind_a_lagging_read() {
    // c2's only route rides on tgw-1 when the fate is read; this process (c2's resource
    // destroyed in parallel) then deletes it: nothing rides any more.
    let fake = world(&["10.90.0.0/16"], &ours()).await;
    let clients = clients(&fake);
    let fate = AttachmentFate::read(&clients, "c1", "vpc-1", "tgw-1", true, Some(true), false).await.expect("read");
    assert_eq!(fate.users(&clients.handover), Some(vec!["c2".to_string()]), "before the delete, c2 rides on it");
    ec2::delete_route(&fake, "rtb-main", "10.90.0.0/16").await.expect("deleted");
    clients.handover.route_written("rtb-main", "10.90.0.0/16", None);
    let mut diags = Diagnostics::new();
    fate.settle(&clients, WAIT, &mut diags).await.expect("settled");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(fake.count("ec2:DeleteTransitGatewayVpcAttachment"), 1);
    assert!(!attachment_live(&fake), "the last one out removes it");
}

#[tokio::test]
async fn an_attachment_found_without_our_tag_is_never_deleted_nor_are_neighbours_asked() {
    let fake = world(&[], &Vec::new()).await;
    let clients = clients(&fake);
    let fate = AttachmentFate::read(&clients, "c1", "vpc-1", "tgw-1", true, Some(false), false).await.expect("read");
    assert_eq!(fate.users(&clients.handover), None, "found, not ours");
    assert_eq!(fake.count("eks:ListClusters"), 0, "nothing of ours to delete: EKS is not asked");
    let mut diags = Diagnostics::new();
    fate.settle(&clients, WAIT, &mut diags).await.expect("settled");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(fake.count("ec2:DeleteTransitGatewayVpcAttachment"), 0);
    assert!(attachment_live(&fake));
}
