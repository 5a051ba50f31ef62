//! ReadResource: drift detection for a known state (`refresh`), and the whole state
//! rebuilt from AWS after an import (`reconstruct`).

use std::collections::BTreeMap;

use tfplugin5::typed::{ReadRequest, StateResponse, Tf};
use tfplugin5::value::Number;
use tfplugin5::Diagnostics;

use super::context::{aws_diag, find_context};
use super::matching::{found_rule_ids, is_ours, routed_gateway, satisfying_rule};
use super::model::{
    desired_routes, firewall_rules, managed_route_tables, tf_strings, ClusterNetworkModel, Desired, RouteEntry,
    OWNER_TAG,
};
use crate::aws::handover::Phase;
use crate::aws::{ec2, Aws, AwsError, Clients};
use hybridnet_rules::PodNetworkMode;

pub async fn read(aws: &Aws, req: ReadRequest<ClusterNetworkModel>) -> StateResponse<ClusterNetworkModel> {
    let current = req.current;
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return StateResponse::new(Some(current)).with_diagnostics(aws_diag(&e, None)),
    };
    let result = if current.remote_node_cidrs.is_null() {
        let name = current.cluster_name.known().or(current.id.known()).cloned().unwrap_or_default();
        reconstruct(clients, &name).await
    } else {
        refresh(clients, &current).await
    };
    match result {
        Ok(state) => StateResponse::new(state),
        Err(e) => StateResponse::new(Some(current)).with_diagnostics(aws_diag(&clients.explain(e), None)),
    }
}

/// Reads what exists for a known state: a fixed handful of describes. `None` when
/// everything the resource made is gone.
async fn refresh(clients: &Clients, current: &ClusterNetworkModel) -> Result<Option<ClusterNetworkModel>, AwsError> {
    let ec2 = &*clients.ec2;
    let mut state = current.clone();
    // A state without the cluster's surroundings (written by an earlier release):
    // read them once, as a plan would.
    if !state.vpc_id.is_known() || !state.vpc_cidrs.is_known() || !state.service_cidr.is_known() {
        let cluster_name = state.cluster_name.known().cloned().unwrap_or_default();
        let security_group_id = state.security_group_id.known().cloned();
        if let Some(ctx) = find_context(clients, &cluster_name, security_group_id.as_deref(), &[]).await? {
            ctx.set_attrs(&mut state);
        }
    }
    let d = Desired::from_model(&state, &mut Diagnostics::new());
    let vpc_id = state.vpc_id.known().cloned().unwrap_or_default();
    let created_rt = if d.create_route_table { state.route_table_id.known().cloned() } else { None };
    let mut rts = managed_route_tables(&d, created_rt.as_deref());
    for r in state.route_entries() {
        if !rts.contains(&r.route_table_id) {
            rts.push(r.route_table_id);
        }
    }
    let sg = state.security_group_id.known().cloned();
    let groups = d.rule_groups(sg.as_deref());
    let handover = &clients.handover;
    let gateway_group = d.gateway_security_group_id.as_deref().filter(|_| d.mode == PodNetworkMode::Gateway);
    let (tables, attachment, rules, ips, gateway_interfaces) = tokio::join!(
        handover.route_tables(ec2, &rts, Phase::Refresh),
        handover.attachment(ec2, &d.gateway, &vpc_id, Phase::Refresh),
        futures_rules(clients, &groups),
        ec2::find_eks_interface_ips(ec2, &vpc_id, &d.cluster_name),
        async {
            match gateway_group {
                Some(g) => handover.interfaces(ec2, g, Phase::Refresh).await,
                None => Ok(Vec::new()),
            }
        },
    );
    let (tables, attachment, rules, ips, gateway_interfaces) =
        (tables?, attachment?, rules?, ips?, gateway_interfaces?);

    let created_rt = created_rt.filter(|id| tables.iter().any(|t| &t.id == id));
    state.route_table_id = created_rt.clone().into();

    let want = desired_routes(&d, &managed_route_tables(&d, created_rt.as_deref()));
    let mut present = Vec::new();
    for r in &want {
        let found = tables
            .iter()
            .find(|t| t.id == r.route_table_id)
            .and_then(|t| t.routes.iter().find(|x| x.destination_cidr == r.destination_cidr));
        if let Some(x) = found {
            present.push(RouteEntry { target_id: x.target_id.clone(), ..r.clone() });
        }
    }
    state.set_routes(&present);
    // Found routes stay found while they exist (with their live target).
    let adopted: Vec<RouteEntry> = current
        .adopted_route_entries()
        .into_iter()
        .filter_map(|a| present.iter().find(|p| p.same_route(&a)).cloned())
        .collect();
    state.set_adopted_routes(&adopted);

    // A failed or rejected attachment is not recorded (the next apply replaces it, so the
    // plan leaves the ID unknown), but while it exists the resource stays: destroy deletes it.
    let recorded = attachment.as_ref().filter(|a| a.phase != ec2::AttachmentPhase::Failed);
    state.attachment_id = recorded.map(|a| a.id.clone()).into();

    let mut ids = Vec::new();
    let mut ours = 0usize;
    for ((_, wanted), existing) in groups.iter().zip(&rules) {
        for r in wanted {
            if let Some(x) = satisfying_rule(existing, r, &d.cluster_name) {
                if is_ours(x, &d.cluster_name) {
                    ours += 1;
                }
                ids.push(x.id.clone());
            }
        }
    }
    let all: Vec<ec2::SgRule> = rules.iter().flatten().cloned().collect();
    let found = found_rule_ids(&ids, &all, &d.cluster_name);
    state.security_group_rule_ids = tf_strings(&ids);
    state.adopted_security_group_rule_ids = tf_strings(&found);
    if state.attachment_created.is_null() {
        state.attachment_created = Tf::Known(d.manage_attachment && state.attachment_id.is_known());
    }
    state.eks_network_interface_ips = tf_strings(&ips);
    let gateway_ips = ec2::interface_ips(&gateway_interfaces);
    state.gateway_node_ips = tf_strings(&gateway_ips);
    state.onprem_firewall_rules = firewall_rules(&d, &ips, &gateway_ips);

    let attachment_gone = !d.manage_attachment || attachment.is_none();
    let routes_gone = present.iter().all(|r| r.target_id != d.gateway || adopted.iter().any(|a| a.same_route(r)));
    if attachment_gone && routes_gone && ours == 0 && created_rt.is_none() {
        tracing::info!(target: "hybridnet::cluster_network", cluster = %d.cluster_name, "everything is gone; removing from state");
        return Ok(None);
    }
    Ok(Some(state))
}

/// The rules of each group, in order (one describe per group, at once).
async fn futures_rules(
    clients: &Clients,
    groups: &[(String, Vec<hybridnet_rules::SecurityGroupRule>)],
) -> Result<Vec<Vec<ec2::SgRule>>, AwsError> {
    let reads = groups.iter().map(|(g, _)| clients.handover.rules(&*clients.ec2, g, Phase::Refresh));
    futures::future::try_join_all(reads).await
}

/// Rebuilds the full state from AWS for an imported cluster name.
async fn reconstruct(clients: &Clients, cluster_name: &str) -> Result<Option<ClusterNetworkModel>, AwsError> {
    let ec2 = &*clients.ec2;
    let Some(ctx) = find_context(clients, cluster_name, None, &[]).await? else { return Ok(None) };
    let nodes = ctx.cluster.remote_node_cidrs.clone();
    let pods = ctx.cluster.remote_pod_cidrs.clone();
    let mut cidrs = nodes.clone();
    cidrs.extend(pods.iter().cloned());
    let (routing, owned_rts, owned_rules) = tokio::join!(
        ec2::find_route_tables_routing(ec2, &ctx.vpc.id, &cidrs),
        ec2::find_route_tables_by_tag(ec2, &ctx.vpc.id, OWNER_TAG, cluster_name),
        ec2::find_rules_by_tag(ec2, OWNER_TAG, cluster_name),
    );
    let (routing, owned_rts, owned_rules) = (routing?, owned_rts?, owned_rules?);

    // The gateway: the one most routes for these CIDRs point at.
    let Some(gateway) = routed_gateway(&routing, &cidrs) else {
        return Ok(None);
    };
    let created_rt = owned_rts.first().cloned();
    let route_table_ids: Vec<String> = routing
        .iter()
        .filter(|t| Some(&t.id) != created_rt.as_ref().map(|r| &r.id))
        .filter(|t| t.routes.iter().any(|r| r.target_id == gateway && cidrs.contains(&r.destination_cidr)))
        .map(|t| t.id.clone())
        .collect();
    let (mode, vxlan_group) = imported_mode(&routing, &owned_rules, &pods, &gateway);
    let owned_rules: Vec<(String, ec2::SgRule)> =
        owned_rules.into_iter().filter(|(g, _)| Some(g) != vxlan_group.as_ref()).collect();
    let attachment = ec2::find_attachment(ec2, &gateway, &ctx.vpc.id).await?;
    let sg = ctx.security_group_id.clone().or_else(|| owned_rules.first().map(|(g, _)| g.clone()));
    let is_tgw = gateway.starts_with("tgw-");
    let non_empty = |l: Vec<String>| if l.is_empty() { Tf::Null } else { tf_strings(&l) };
    let stub = ClusterNetworkModel {
        id: Tf::Known(cluster_name.to_string()),
        cluster_name: Tf::Known(cluster_name.to_string()),
        remote_node_cidrs: tf_strings(&nodes),
        remote_pod_cidrs: non_empty(pods.clone()),
        pod_network_mode: Tf::Known(mode.as_str().to_string()),
        pod_network_routable: Tf::Known(mode.routable()),
        gateway_security_group_id: vxlan_group.into(),
        transit_gateway_id: if is_tgw { Tf::Known(gateway.clone()) } else { Tf::Null },
        vpn_gateway_id: if is_tgw { Tf::Null } else { Tf::Known(gateway.clone()) },
        attachment_subnet_ids: match &attachment {
            Some(a) if is_tgw && !a.subnet_ids.is_empty() => tf_strings(&a.subnet_ids),
            _ => Tf::Null,
        },
        manage_attachment: Tf::Known(true),
        route_table_ids: non_empty(route_table_ids),
        create_route_table: Tf::Known(created_rt.is_some()),
        route_table_subnet_ids: match &created_rt {
            Some(t) => non_empty(t.associations.iter().map(|(_, s)| s.clone()).collect()),
            None => Tf::Null,
        },
        manage_security_group_rules: Tf::Known(sg.is_some()),
        security_group_id: sg.into(),
        webhook_ports: imported_webhook_ports(&owned_rules, &pods),
        node_credential_provider: Tf::Null,
        tags: imported_tags(&owned_rules, created_rt.as_ref(), attachment.as_ref()),
        timeouts: Tf::Null,
        vpc_id: Tf::Known(ctx.vpc.id.clone()),
        vpc_cidrs: tf_strings(&ctx.vpc.cidrs),
        service_cidr: Tf::Known(ctx.service_cidr.clone()),
        route_table_id: created_rt.as_ref().map(|t| t.id.clone()).into(),
        attachment_id: Tf::Null,
        routes: Tf::Known(Vec::new()),
        security_group_rule_ids: Tf::Known(Vec::new()),
        gateway_node_ips: Tf::Known(Vec::new()),
        eks_network_interface_ips: Tf::Known(Vec::new()),
        onprem_firewall_rules: Tf::Known(Vec::new()),
        // Imported: the attachment is ours when it carries our tag for this cluster;
        // every route to the gateway counts as ours (nothing is recorded as found).
        attachment_created: Tf::Known(
            attachment
                .as_ref()
                .is_some_and(|a| !is_tgw || a.tags.iter().any(|(k, v)| k == OWNER_TAG && v == cluster_name)),
        ),
        adopted_routes: Tf::Known(Vec::new()),
        adopted_security_group_rule_ids: Tf::Known(Vec::new()),
    };
    refresh(clients, &stub).await
}

/// The pod network mode of an imported cluster, and the gateway nodes' security group
/// in gateway mode. Gateway mode: our VXLAN rules name the gateway nodes' group;
/// without them, pod routes to network interfaces (the gateway's) and none of ours.
fn imported_mode(
    routing: &[ec2::RouteTable],
    owned_rules: &[(String, ec2::SgRule)],
    pods: &[String],
    gateway: &str,
) -> (PodNetworkMode, Option<String>) {
    let pods_routed =
        routing.iter().any(|t| t.routes.iter().any(|r| r.target_id == gateway && pods.contains(&r.destination_cidr)));
    let vxlan_group = owned_rules
        .iter()
        .find(|(_, r)| r.protocol == "udp" && r.from_port == i32::from(hybridnet_rules::VXLAN_PORT))
        .map(|(g, _)| g.clone());
    let pods_to_interfaces = routing
        .iter()
        .any(|t| t.routes.iter().any(|r| r.target_id.starts_with("eni-") && pods.contains(&r.destination_cidr)));
    let mode = if vxlan_group.is_some() || (pods_to_interfaces && !pods_routed) {
        PodNetworkMode::Gateway
    } else {
        PodNetworkMode::from_routable(pods.is_empty() || pods_routed)
    };
    (mode, vxlan_group)
}

/// `webhook_ports` of an imported cluster: the ports of our egress rules to the pod
/// networks (the kubelet's 10250 aside), sorted; null when there are none.
fn imported_webhook_ports(owned_rules: &[(String, ec2::SgRule)], pods: &[String]) -> Tf<Vec<Tf<Number>>> {
    let mut ports: Vec<i64> = owned_rules
        .iter()
        .filter(|(_, r)| r.egress && r.from_port != 10250 && r.cidr.as_ref().is_some_and(|c| pods.contains(c)))
        .map(|(_, r)| i64::from(r.from_port))
        .collect();
    ports.sort();
    ports.dedup();
    if ports.is_empty() {
        Tf::Null
    } else {
        Tf::Known(ports.into_iter().map(|p| Tf::Known(Number::from(p))).collect())
    }
}

/// `tags` of an imported cluster: those of our first rule, else of our route table,
/// else of the attachment, without the owner tag; null when there are none.
fn imported_tags(
    owned_rules: &[(String, ec2::SgRule)],
    created_rt: Option<&ec2::RouteTable>,
    attachment: Option<&ec2::Attachment>,
) -> Tf<BTreeMap<String, Tf<String>>> {
    let tag_source = owned_rules
        .first()
        .map(|(_, r)| r.tags.clone())
        .or_else(|| created_rt.map(|t| t.tags.clone()))
        .or_else(|| attachment.map(|a| a.tags.clone()))
        .unwrap_or_default();
    let tags: BTreeMap<String, Tf<String>> =
        tag_source.into_iter().filter(|(k, _)| k != OWNER_TAG).map(|(k, v)| (k, Tf::Known(v))).collect();
    if tags.is_empty() {
        Tf::Null
    } else {
        Tf::Known(tags)
    }
}
