//! PlanResourceChange: defaults, plan-time checks against AWS, and the computed values
//! that are known now (planned known) or only after apply (unknown). Replacement and
//! what is unknown while an argument is are declared in the schema
//! (`hybridnet_schema::cluster_network`) and applied by the protocol crate.

use hybridnet_schema::cluster_network::defaults;
use tfplugin5::typed::{PlanRequest, PlanResponse, Tf};
use tfplugin5::value::Number;
use tfplugin5::{AttrPath, Diagnostics};

pub mod attachment;
pub mod context;
pub mod gateway;
pub(crate) mod private;
pub mod quotas;
pub mod surroundings;

// The modules the checks share with apply and read, for `super::` paths below.
use super::{matching, model};

use self::context::ClusterContext;
use self::context::{self as ctx_checks, aws_diag, check_cidrs, check_cluster, find_context};
use self::surroundings::check_surroundings;
use super::model::{
    desired_routes, firewall_rules, list_known, managed_route_tables, mode_of, strings, ClusterNetworkModel, Desired,
};
use crate::aws::handover::Phase;
use crate::aws::{ec2, Aws, Clients};
use hybridnet_rules::PodNetworkMode;

/// Arguments with a default, filled in when null (as plan and upgrade both do). The
/// pod network mode and its deprecated boolean are filled from each other.
pub fn fill_defaults(m: &mut ClusterNetworkModel) {
    for (field, default) in [
        (&mut m.manage_attachment, defaults::MANAGE_ATTACHMENT),
        (&mut m.create_route_table, defaults::CREATE_ROUTE_TABLE),
        (&mut m.manage_security_group_rules, defaults::MANAGE_SECURITY_GROUP_RULES),
    ] {
        if field.is_null() {
            *field = Tf::Known(default);
        }
    }
    if m.pod_network_mode.is_null() && !m.pod_network_routable.is_unknown() {
        m.pod_network_mode = Tf::Known(mode_of(m).as_str().to_string());
    }
    if m.pod_network_routable.is_null() && !m.pod_network_mode.is_unknown() {
        m.pod_network_routable = Tf::Known(mode_of(m).routable());
    }
}

/// Whether the inputs of the security group rules differ.
fn rule_inputs_differ(a: &ClusterNetworkModel, b: &ClusterNetworkModel) -> bool {
    a.remote_node_cidrs != b.remote_node_cidrs
        || a.remote_pod_cidrs != b.remote_pod_cidrs
        || a.pod_network_mode != b.pod_network_mode
        || a.gateway_security_group_id != b.gateway_security_group_id
        || a.webhook_ports != b.webhook_ports
        || a.security_group_id != b.security_group_id
        || a.manage_security_group_rules != b.manage_security_group_rules
}

pub async fn plan(aws: &Aws, req: PlanRequest<ClusterNetworkModel>) -> PlanResponse<ClusterNetworkModel> {
    let Some(mut planned) = req.proposed else { return PlanResponse::new(None) };
    let prior = req.prior;
    // The mode and its deprecated boolean are computed from whichever the
    // configuration sets: a value Terraform carried over from the prior state for
    // the one not set must not win.
    if let Some(config) = &req.config {
        if config.pod_network_mode.is_null() {
            planned.pod_network_mode = Tf::Null;
        }
        if config.pod_network_routable.is_null() {
            planned.pod_network_routable = Tf::Null;
        }
    }
    fill_defaults(&mut planned);
    // The state the plan builds on: none when creating or replacing (a change of
    // `cluster_name`, declared `requires_replace` in the schema).
    let base = if req.requires_replace.is_empty() { prior.clone() } else { None };
    planned.id = planned.cluster_name.clone().or(Tf::Unknown);
    let respond = |planned: ClusterNetworkModel, diagnostics: Diagnostics| {
        PlanResponse::new(Some(planned)).with_diagnostics(diagnostics)
    };

    let mut diags = Diagnostics::new();
    // Warned here, once per plan (Terraform validates a configuration twice per plan).
    if !planned.pod_network_mode.is_unknown() && !planned.pod_network_routable.is_unknown() {
        webhook_ports_warning(mode_of(&planned), &planned.webhook_ports, &mut diags);
    }
    if !planned.is_fully_known() {
        // Something comes from a resource not created yet: check what we can at
        // apply. What apply learns is planned unknown by the schema's plan rules
        // (`unknown_until_apply`, `unknown_until_created`).
        return respond(planned, diags);
    }

    let d = Desired::from_model(&planned, &mut diags);
    if diags.has_errors() {
        return PlanResponse::error(diags);
    }
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return PlanResponse::error(aws_diag(&e, None)),
    };
    let (ctx, gateway, mut diags) = match check_against_aws(clients, &d, prior.as_ref(), diags).await {
        Ok(checked) => checked,
        Err(diags) => return PlanResponse::error(diags),
    };

    ctx.set_attrs(&mut planned);
    plan_attachment_id(clients, &d, &ctx, base.as_ref(), &mut planned).await;
    plan_routes(&d, base.as_ref(), &mut planned);
    // A transit gateway of another account: the attachment may wait for acceptance.
    if let Err(e) =
        attachment::plan_acceptance(clients, &d, &ctx, gateway.as_ref(), base.as_ref(), &mut planned, &mut diags).await
    {
        diags.extend(aws_diag(&clients.explain(e), None));
        return PlanResponse::error(diags);
    }

    plan_ownership(&d, base.as_ref(), &mut planned);
    plan_rule_ids(&d, base.as_ref(), &mut planned);
    plan_read_once(&d, base.as_ref(), &mut planned);
    respond(planned, diags)
}

/// The plan-time checks against AWS, each a diagnostic on its attribute: the cluster
/// and its VPC, the CIDRs, the gateway mode's prerequisites, the surroundings, a
/// private cluster's endpoints. Returns the cluster's context and the gateway (when it
/// exists) with the diagnostics so far, or the diagnostics to answer with when there
/// are errors.
async fn check_against_aws(
    clients: &Clients,
    d: &Desired,
    prior: Option<&ClusterNetworkModel>,
    mut diags: Diagnostics,
) -> Result<(ClusterContext, Option<ec2::Gateway>, Diagnostics), Diagnostics> {
    let mut subnet_ids = d.attachment_subnet_ids.clone();
    subnet_ids.extend(d.route_table_subnet_ids.iter().cloned());
    let ctx = match find_context(clients, &d.cluster_name, d.security_group_id.as_deref(), &subnet_ids).await {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return Err(ctx_checks::cluster_not_found(&d.cluster_name, &clients.region)),
        Err(e) => return Err(aws_diag(&clients.explain(e), None)),
    };
    check_cidrs(d, &ctx, &mut diags);
    check_cluster(d, &ctx, &mut diags);
    let ours = prior.map(ClusterNetworkModel::route_entries).unwrap_or_default();
    if let Err(e) = gateway::check(clients, d, &mut diags).await {
        diags.extend(aws_diag(&clients.explain(e), None));
    }
    let gateway = match check_surroundings(clients, d, &ctx, &ours, &mut diags).await {
        Ok(gateway) => gateway,
        Err(e) => {
            diags.extend(aws_diag(&clients.explain(e), None));
            None
        }
    };
    private::check(clients, &ctx, &d.nodes, &d.pods, d.credential_provider, &mut diags).await;
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((ctx, gateway, diags))
}

/// `attachment_id`: the prior one while the gateway is unchanged, else the existing
/// attachment when it is not ours to manage, else unknown (apply creates or finds it).
async fn plan_attachment_id(
    clients: &Clients,
    d: &Desired,
    ctx: &ClusterContext,
    base: Option<&ClusterNetworkModel>,
    planned: &mut ClusterNetworkModel,
) {
    let same_gateway = base.is_some_and(|b| b.gateway().as_deref() == Some(d.gateway.as_str()));
    let prior_attachment = base.and_then(|b| b.attachment_id.known().cloned());
    planned.attachment_id = match (same_gateway, prior_attachment, d.manage_attachment) {
        (true, Some(a), _) => Tf::Known(a),
        (_, _, false) => match clients.handover.attachment(&*clients.ec2, &d.gateway, &ctx.vpc.id, Phase::Plan).await {
            Ok(Some(a)) => Tf::Known(a.id),
            _ => Tf::Unknown,
        },
        _ => Tf::Unknown,
    };
}

/// `route_table_id` (the dedicated table: the prior one, else unknown) and `routes`
/// (known unless they go in a table not made yet).
fn plan_routes(d: &Desired, base: Option<&ClusterNetworkModel>, planned: &mut ClusterNetworkModel) {
    planned.route_table_id = if d.create_route_table {
        match base.filter(|b| b.create_route_table == Tf::Known(true)).and_then(|b| b.route_table_id.known()) {
            Some(id) => Tf::Known(id.clone()),
            None => Tf::Unknown,
        }
    } else {
        Tf::Null
    };
    match &planned.route_table_id {
        Tf::Unknown => planned.routes = Tf::Unknown,
        rt => {
            let routes = desired_routes(d, &managed_route_tables(d, rt.known().map(String::as_str)));
            planned.set_routes(&routes);
        }
    }
}

/// `security_group_rule_ids` and `adopted_security_group_rule_ids`: the prior ones
/// while the rules are unchanged, none without rules, else unknown.
fn plan_rule_ids(d: &Desired, base: Option<&ClusterNetworkModel>, planned: &mut ClusterNetworkModel) {
    let rule_count: usize =
        d.rule_groups(planned.security_group_id.known().map(String::as_str)).iter().map(|(_, r)| r.len()).sum();
    planned.security_group_rule_ids = if !d.manage_rules {
        Tf::Known(Vec::new())
    } else {
        match base {
            Some(b)
                if b.security_group_rule_ids.known().map(Vec::len) == Some(rule_count)
                    && !rule_inputs_differ(b, planned) =>
            {
                b.security_group_rule_ids.clone()
            }
            _ => Tf::Unknown,
        }
    };

    // The rules found rather than made: none when there are no rules, the prior ones
    // while the rules are unchanged, else unknown (apply finds them).
    planned.adopted_security_group_rule_ids = match (&planned.security_group_rule_ids, base) {
        (Tf::Known(ids), _) if ids.is_empty() => Tf::Known(Vec::new()),
        (Tf::Known(_), Some(b)) if list_known(&b.adopted_security_group_rule_ids) => {
            b.adopted_security_group_rule_ids.clone()
        }
        _ => Tf::Unknown,
    };
}

/// What apply reads once (the EKS and gateway interfaces), and the on-premises
/// firewall table made from it: unchanged, else unknown.
fn plan_read_once(d: &Desired, base: Option<&ClusterNetworkModel>, planned: &mut ClusterNetworkModel) {
    planned.eks_network_interface_ips = match base.map(|b| &b.eks_network_interface_ips) {
        Some(ips) if list_known(ips) => ips.clone(),
        _ => Tf::Unknown,
    };
    planned.gateway_node_ips = match (&d.gateway_security_group_id, d.mode, base) {
        (Some(g), PodNetworkMode::Gateway, Some(b))
            if b.gateway_security_group_id.known() == Some(g) && list_known(&b.gateway_node_ips) =>
        {
            b.gateway_node_ips.clone()
        }
        (Some(_), PodNetworkMode::Gateway, _) => Tf::Unknown,
        _ => Tf::Known(Vec::new()),
    };
    planned.onprem_firewall_rules =
        if list_known(&planned.eks_network_interface_ips) && list_known(&planned.gateway_node_ips) {
            firewall_rules(d, &strings(&planned.eks_network_interface_ips), &strings(&planned.gateway_node_ips))
        } else {
            Tf::Unknown
        };
}

/// `webhook_ports` with unroutable pods: the warning `hybridnet_cidr_plan` and the data
/// source give too, on `webhook_ports`. Invalid ports are errors of their own; only the
/// valid ones are named here.
fn webhook_ports_warning(mode: PodNetworkMode, ports: &Tf<Vec<Tf<Number>>>, diags: &mut Diagnostics) {
    let ports = crate::args::read_port_list(ports, &mut Diagnostics::new()).values();
    if let Some(w) = hybridnet_rules::webhook_ports_warning(mode, &ports) {
        diags.warning(w.summary, w.detail, Some(AttrPath::attr("webhook_ports")));
    }
}

/// What the resource created and what it found, as far as the plan knows: unchanged
/// while the attachment and the routes are, else learnt at apply.
fn plan_ownership(d: &Desired, base: Option<&ClusterNetworkModel>, planned: &mut ClusterNetworkModel) {
    planned.attachment_created = match (&planned.attachment_id, base) {
        (_, _) if !d.manage_attachment => Tf::Known(false),
        (Tf::Known(id), Some(b)) if b.attachment_id.known() == Some(id) && b.attachment_created.is_known() => {
            b.attachment_created.clone()
        }
        _ => Tf::Unknown,
    };
    planned.adopted_routes = match base {
        Some(b) if list_known(&planned.routes) && list_known(&b.adopted_routes) => {
            let mut want = planned.route_entries();
            let mut have = b.route_entries();
            want.sort();
            have.sort();
            if want == have {
                b.adopted_routes.clone()
            } else {
                Tf::Unknown
            }
        }
        _ => Tf::Unknown,
    };
}
