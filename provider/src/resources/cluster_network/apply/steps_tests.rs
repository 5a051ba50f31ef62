//! The apply steps' AWS calls and the ownership rules, against the in-memory fake
//! (`crate::aws::fake`): each fails in seconds when the decision logic breaks.

use std::time::Duration;

use crate::aws::check_stop;
use crate::aws::ec2;
use crate::aws::ec2::{NewRule, Route, RouteTable, Tags};
use crate::aws::fake::Fake;
use crate::aws::{AwsError, Ec2 as _};
use crate::resources::cluster_network::apply::{revoke_ours, Progress};
use crate::resources::cluster_network::model::{RouteEntry, OWNER_TAG};
use crate::resources::shared::run_batch;
use tfplugin5::typed::StopToken;

fn world() -> Fake {
    let fake = Fake::new();
    {
        let mut w = fake.world();
        w.vpc_with_gateway("vpc-1", "10.0.0.0/16", "tgw-1");
        w.security_groups.push("sg-1".into());
        w.route_tables.insert(
            "rtb-main".into(),
            RouteTable {
                id: "rtb-main".into(),
                vpc_id: "vpc-1".into(),
                routes: Vec::new(),
                associations: Vec::new(),
                tags: Vec::new(),
            },
        );
    }
    fake
}

fn ours() -> Tags {
    vec![(OWNER_TAG.to_string(), "c1".to_string())]
}

fn new_rule(cidr: &str, port: i32) -> NewRule {
    NewRule { protocol: "tcp".into(), from_port: port, to_port: port, cidr: cidr.into(), description: "d".into() }
}

#[tokio::test]
async fn attachment_step_creates_once_and_adopts_a_duplicate_as_found() {
    let fake = world();
    let (a, created) =
        ec2::ensure_attachment(&fake, "tgw-1", "vpc-1", &["subnet-1".into()], &ours(), Duration::from_secs(5), false)
            .await
            .expect("attached");
    assert!(created, "made by this call");
    assert_eq!((a.state.as_str(), a.subnet_ids.clone()), ("available", vec!["subnet-1".to_string()]));
    assert_eq!(fake.count("ec2:DescribeTransitGatewayVpcAttachments"), 0, "a first apply makes no describe");
    // An interrupted run's attachment: DuplicateTransitGatewayAttachment, then found.
    let (again, created) =
        ec2::ensure_attachment(&fake, "tgw-1", "vpc-1", &["subnet-1".into()], &ours(), Duration::from_secs(5), false)
            .await
            .expect("adopted");
    assert_eq!(again.id, a.id);
    assert!(!created, "found, not made");
    assert_eq!(fake.world().attachments.len(), 1, "never two attachments");
}

#[tokio::test]
async fn route_table_step_deletes_associations_then_the_table() {
    let fake = world();
    let id = ec2::create_route_table(&fake, "vpc-1", &ours()).await.expect("created");
    ec2::associate_route_table(&fake, &id, "subnet-1").await.expect("associated");
    let found = ec2::find_route_tables_by_tag(&fake, "vpc-1", OWNER_TAG, "c1").await.expect("read");
    assert_eq!(found.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), vec![id.clone()]);
    assert_eq!(found[0].associations.len(), 1);
    ec2::delete_route_table_and_associations(&fake, &id).await.expect("deleted");
    assert_eq!(fake.count("ec2:DisassociateRouteTable"), 1);
    assert!(!fake.world().route_tables.contains_key(&id));
    // Already gone: done, no error, no delete sent.
    ec2::delete_route_table_and_associations(&fake, &id).await.expect("gone counts as deleted");
    assert_eq!(fake.count("ec2:DeleteRouteTable"), 1);
}

#[tokio::test]
async fn routes_step_creates_re_points_and_deletes_idempotently() {
    let fake = world();
    ec2::ensure_route(&fake, "rtb-main", "192.168.0.0/22", "tgw-1").await.expect("created");
    assert_eq!(fake.routes("rtb-main"), vec![("192.168.0.0/22".to_string(), "tgw-1".to_string())]);
    // Re-pointed elsewhere by an earlier run: RouteAlreadyExists, then replaced.
    ec2::ensure_route(&fake, "rtb-main", "192.168.0.0/22", "vgw-9").await.expect("replaced");
    assert_eq!(fake.routes("rtb-main"), vec![("192.168.0.0/22".to_string(), "vgw-9".to_string())]);
    assert_eq!((fake.count("ec2:CreateRoute"), fake.count("ec2:ReplaceRoute")), (2, 1));
    ec2::delete_route(&fake, "rtb-main", "192.168.0.0/22").await.expect("deleted");
    ec2::delete_route(&fake, "rtb-main", "192.168.0.0/22").await.expect("a route already gone is deleted");
    assert!(fake.routes("rtb-main").is_empty());
}

#[tokio::test]
async fn rules_step_never_creates_a_rule_twice_and_reports_every_id() {
    let fake = world();
    let existing = fake.authorize_rules("sg-1", false, &[new_rule("10.80.0.0/16", 443)], &ours()).await;
    let existing_id = existing.expect("made")[0].id.clone();
    let rules = [new_rule("10.80.0.0/16", 443), new_rule("10.90.0.0/16", 443)];
    let mut ids = Vec::new();
    ec2::authorize_rules(&fake, "sg-1", false, &rules, &ours(), |i, id| ids.push((i, id))).await.expect("authorized");
    ids.sort();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], (0, existing_id), "the duplicate is reported by its existing ID");
    assert_eq!(fake.world().rules.len(), 2, "nothing created twice");
    // The batch (refused), one read, then the missing rule alone.
    assert_eq!(fake.count("ec2:AuthorizeSecurityGroupIngress"), 3);
    assert_eq!(fake.count("ec2:DescribeSecurityGroupRules"), 1);
}

#[tokio::test]
async fn tags_step_sets_and_removes_keys_on_what_we_own() {
    let fake = world();
    let id = ec2::create_route_table(&fake, "vpc-1", &vec![("team".into(), "a".into())]).await.expect("made");
    ec2::retag(&fake, std::slice::from_ref(&id), &ours(), &["team".into()]).await.expect("retagged");
    assert_eq!(fake.world().route_tables[&id].tags, ours());
    ec2::retag(&fake, &[], &ours(), &["team".into()]).await.expect("nothing to tag");
    assert_eq!(fake.count("ec2:CreateTags"), 1, "no call without resources");
}

#[tokio::test]
async fn ownership_only_what_we_created_is_revoked() {
    let fake = world();
    let mine = fake.authorize_rules("sg-1", false, &[new_rule("10.80.0.0/16", 443)], &ours()).await.expect("ok");
    let foreign = fake.authorize_rules("sg-1", false, &[new_rule("10.81.0.0/16", 443)], &Vec::new()).await;
    let other = fake.authorize_rules("sg-1", true, &[new_rule("10.82.0.0/16", 443)], &ours()).await.expect("ok");
    let all = ec2::find_security_group_rules(&fake, "sg-1").await.expect("read");
    let ids: Vec<String> = [&mine[0], &foreign.expect("ok")[0], &other[0]].iter().map(|r| r.id.clone()).collect();
    // The state lists all three; the one to keep is `other`: only `mine` goes (the
    // foreign one carries no tag of ours: found, never deleted).
    revoke_ours(&fake, "sg-1", &all, &ids, "c1", std::slice::from_ref(&other[0].id)).await.expect("revoked");
    let left: Vec<String> = fake.world().rules.iter().map(|r| r.id.clone()).collect();
    assert_eq!(left, vec![ids[1].clone(), ids[2].clone()]);
    // Another cluster's rule (tagged for c2) is not ours either.
    assert_eq!(fake.count("ec2:RevokeSecurityGroupIngress"), 1);
    assert_eq!(fake.count("ec2:RevokeSecurityGroupEgress"), 0);
}

#[tokio::test]
async fn ownership_a_route_another_writer_re_pointed_is_not_ours() {
    // The state records a route's live target; `foreign_routes` names one that was
    // someone else's before us, so apply never replaces it.
    use crate::resources::cluster_network::context::foreign_routes;
    let fake = world();
    fake.world().route_tables.get_mut("rtb-main").expect("table").routes.push(Route {
        destination_cidr: "10.80.0.0/16".into(),
        target_id: "eni-appliance".into(),
        state: "active".into(),
        propagated: false,
    });
    let tables = ec2::find_route_tables(&fake, &["rtb-main".into()]).await.expect("read");
    use crate::resources::cluster_network::model::{ClusterNetworkModel, Desired};
    use tfplugin5::typed::Tf;
    let m = ClusterNetworkModel {
        cluster_name: Tf::Known("c1".into()),
        remote_node_cidrs: Tf::Known(vec![Tf::Known("10.80.0.0/16".into())]),
        remote_pod_cidrs: Tf::Known(vec![Tf::Known("172.16.0.0/16".into())]),
        transit_gateway_id: Tf::Known("tgw-1".into()),
        route_table_ids: Tf::Known(vec![Tf::Known("rtb-main".into())]),
        ..ClusterNetworkModel::default()
    };
    let mut diags = tfplugin5::Diagnostics::new();
    let d = Desired::from_model(&m, &mut diags);
    assert!(!diags.has_errors(), "{diags:?}");
    let found = foreign_routes(&d, &tables, &[]);
    assert_eq!(found, vec![("rtb-main".into(), "10.80.0.0/16".into(), "eni-appliance".into())]);
    // Recorded as ours in the prior state: ours, whatever it points at now.
    let recorded = RouteEntry {
        route_table_id: "rtb-main".into(),
        destination_cidr: "10.80.0.0/16".into(),
        target_id: "tgw-1".into(),
        network: "node".into(),
    };
    assert!(foreign_routes(&d, &tables, &[recorded]).is_empty());
}

#[tokio::test]
async fn a_stop_mid_apply_returns_what_exists() {
    use crate::resources::cluster_network::model::ClusterNetworkModel;
    use tfplugin5::typed::{from_value, Checkpoint, Tf};
    let fake = world();
    let stop = StopToken::new();
    let checkpoint = Checkpoint::new(hybridnet_schema::cluster_network::resource_schema().value_type());
    let planned =
        ClusterNetworkModel { routes: Tf::Unknown, route_table_id: Tf::Unknown, ..ClusterNetworkModel::default() };
    let mut progress = Progress::saving_to(checkpoint.clone(), &planned, None);
    let route = |cidr: &str| RouteEntry {
        route_table_id: "rtb-main".into(),
        destination_cidr: cidr.into(),
        target_id: "tgw-1".into(),
        network: "node".into(),
    };
    let fake2 = fake.clone();
    let work = async {
        progress.record(|p| p.route_table_id = Some("rtb-main".into()));
        // The first route is made; the second request never answers.
        let first = route("10.80.0.0/16");
        ec2::ensure_route(&fake2, "rtb-main", &first.destination_cidr, "tgw-1").await?;
        progress.record(|p| p.routes.push(first));
        fake2.hold("ec2:CreateRoute");
        let calls = [route("10.90.0.0/16")].into_iter().map(|r| {
            let f = fake2.clone();
            async move { ec2::ensure_route(&f, &r.route_table_id, &r.destination_cidr, "tgw-1").await.map(|_| r) }
        });
        run_batch(calls, |r| progress.record(|p| p.routes.push(r))).await
    };
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.stop();
    };
    // The registry's race (tfplugin5 `TypedResource::apply`): a stop drops the work at
    // its next await, and the answer is the checkpoint.
    let raced = async {
        tokio::select! {
            biased;
            () = stop.stopped() => None,
            r = work => Some(r),
        }
    };
    let (result, ()) = tokio::join!(raced, stopper);
    assert!(result.is_none(), "the held request ended with the stop: {result:?}");
    let answered: ClusterNetworkModel = from_value(&checkpoint.saved().expect("saved")).expect("fits");
    assert_eq!(answered.route_entries(), vec![route("10.80.0.0/16")], "what exists, and only that");
    assert_eq!(answered.route_table_id, Tf::Known("rtb-main".into()));
    assert_eq!(fake.routes("rtb-main").len(), 1);
    assert!(matches!(check_stop(&stop), Err(AwsError::Cancelled)), "no new step starts");
}
