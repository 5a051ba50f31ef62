//! `hybridnet_cluster_network`: the VPC side of EKS Hybrid Nodes in one resource —
//! the gateway attachment, the routes to the remote node and pod CIDRs, and the
//! cluster security group rules — with drift detection and import.
//!
//! Composition only: rules come from [`hybridnet_rules`], AWS calls from [`crate::aws`].

pub mod context;
pub mod data_source;
pub mod matching;
pub mod model;

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};

use crate::aws::{ec2, Aws, AwsError, Clients, StopToken};
use hybridnet_rules::Direction;
use tfplugin5::provider::{ApplyRequest, ImportedResource, PlanRequest, PlanResponse, StateResponse};
use tfplugin5::{AttrPath, Diagnostics, Value};

use context::{aws_diag, check_cidrs, check_cluster, check_surroundings, find_context};
use matching::{is_ours, routed_gateway, satisfying_rule};
use model::{
    desired_routes, differs, firewall_value, managed_route_tables, routes_attr, routes_value, str_attr, strings_attr,
    strings_value, Desired, RouteEntry, OWNER_TAG,
};

pub use hybridnet_schema::cluster_network::{self as schema, TYPE_NAME};

/// How many AWS mutations run at once.
const CONCURRENCY: usize = 4;

const COMPUTED: &[&str] = &[
    "vpc_id",
    "vpc_cidrs",
    "service_cidr",
    "attachment_id",
    "route_table_id",
    "routes",
    "security_group_rule_ids",
    "eks_network_interface_ips",
    "onprem_firewall_rules",
];

const DEFAULTS: &[(&str, bool)] = &[
    ("pod_network_routable", true),
    ("manage_attachment", true),
    ("create_route_table", false),
    ("manage_security_group_rules", true),
];

const RULE_INPUTS: &[&str] = &[
    "remote_node_cidrs",
    "remote_pod_cidrs",
    "pod_network_routable",
    "webhook_ports",
    "security_group_id",
    "manage_security_group_rules",
];

fn gateway_of(v: &Value) -> Option<String> {
    str_attr(v, "transit_gateway_id").or_else(|| str_attr(v, "vpn_gateway_id")).filter(|s| !s.is_empty())
}

fn plan_error(diags: Diagnostics) -> PlanResponse {
    PlanResponse {
        planned_state: Value::Null,
        requires_replace: Vec::new(),
        planned_private: Vec::new(),
        diagnostics: diags,
    }
}

// ------------------------------------------------------------------ plan

pub async fn plan(aws: &Aws, req: PlanRequest<'_>) -> PlanResponse {
    if req.proposed_new_state.is_null() {
        return PlanResponse {
            planned_state: Value::Null,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics: Diagnostics::new(),
        };
    }
    let prior = req.prior_state;
    let creating = prior.is_null();
    let mut planned = req.proposed_new_state.clone();
    for (k, default) in DEFAULTS {
        if planned.get_attr(k).is_none_or(Value::is_null) {
            planned.set_attr(*k, Value::Bool(*default));
        }
    }
    let mut requires_replace = Vec::new();
    if !creating && prior.get_attr("cluster_name") != planned.get_attr("cluster_name") {
        requires_replace.push(AttrPath::attr("cluster_name"));
    }
    let replacing = !requires_replace.is_empty();
    let base = if replacing { &Value::Null } else { prior };
    planned.set_attr("id", planned.get_attr("cluster_name").cloned().unwrap_or(Value::Unknown));

    let mut diags = Diagnostics::new();
    if !planned.is_fully_known() {
        // Something comes from a resource not created yet: check what we can at
        // apply, and plan every result as unknown.
        for k in COMPUTED {
            let keep = !base.is_null() && matches!(*k, "vpc_id" | "vpc_cidrs" | "service_cidr");
            planned
                .set_attr(*k, if keep { base.get_attr(k).cloned().unwrap_or(Value::Unknown) } else { Value::Unknown });
        }
        if planned.get_attr("security_group_id").is_some_and(Value::is_null) {
            planned.set_attr("security_group_id", Value::Unknown);
        }
        return PlanResponse {
            planned_state: planned,
            requires_replace,
            planned_private: Vec::new(),
            diagnostics: diags,
        };
    }

    let d = Desired::from_value(&planned, &mut diags);
    if diags.has_errors() {
        return plan_error(diags);
    }
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return plan_error(aws_diag(&e, None)),
    };
    let ctx = match find_context(clients, &d.cluster_name, d.security_group_id.as_deref()).await {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return plan_error(context::cluster_not_found(&d.cluster_name, &clients.region)),
        Err(e) => return plan_error(aws_diag(&clients.explain(e), None)),
    };
    check_cidrs(&d, &ctx, &mut diags);
    check_cluster(&d, &ctx, &mut diags);
    if let Err(e) = check_surroundings(clients, &d, &ctx, &routes_attr(prior), &mut diags).await {
        diags.extend(aws_diag(&clients.explain(e), None));
    }
    if diags.has_errors() {
        return plan_error(diags);
    }

    ctx.set_attrs(&mut planned);

    let same_gateway = !base.is_null() && gateway_of(base).as_deref() == Some(d.gateway.as_str());
    let prior_attachment = base.get_attr("attachment_id").filter(|v| v.as_str().is_some()).cloned();
    let attachment = match (same_gateway, prior_attachment, d.manage_attachment) {
        (true, Some(a), _) => a,
        (_, _, false) => match ec2::find_attachment(&clients.ec2, &d.gateway, &ctx.vpc.id).await {
            Ok(Some(a)) => Value::string(a.id),
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    };
    planned.set_attr("attachment_id", attachment);

    let route_table = if d.create_route_table {
        match base.get_attr("route_table_id").and_then(Value::as_str) {
            Some(id) if model::bool_attr(base, "create_route_table", false) => Value::string(id),
            _ => Value::Unknown,
        }
    } else {
        Value::Null
    };
    let routes = match &route_table {
        Value::Unknown => Value::Unknown,
        rt => routes_value(&desired_routes(&d, &managed_route_tables(&d, rt.as_str()))),
    };
    planned.set_attr("route_table_id", route_table);
    planned.set_attr("routes", routes);

    let rule_ids = if !d.manage_rules {
        Value::list(Vec::new())
    } else {
        let prior_ids = base.get_attr("security_group_rule_ids").and_then(Value::as_list).map(<[Value]>::len);
        if !base.is_null() && prior_ids == Some(d.rules().len()) && !differs(base, &planned, RULE_INPUTS) {
            base.get_attr("security_group_rule_ids").cloned().unwrap_or(Value::Unknown)
        } else {
            Value::Unknown
        }
    };
    planned.set_attr("security_group_rule_ids", rule_ids);

    let ips = base.get_attr("eks_network_interface_ips").filter(|v| v.as_list().is_some()).cloned();
    match ips {
        Some(ips) => {
            let list = strings_attr(&Value::object([("x", ips.clone())]), "x");
            planned.set_attr("onprem_firewall_rules", firewall_value(&d, &list));
            planned.set_attr("eks_network_interface_ips", ips);
        }
        None => {
            planned.set_attr("eks_network_interface_ips", Value::Unknown);
            planned.set_attr("onprem_firewall_rules", Value::Unknown);
        }
    }
    PlanResponse { planned_state: planned, requires_replace, planned_private: Vec::new(), diagnostics: diags }
}

// ------------------------------------------------------------------ apply

pub async fn apply(aws: &Aws, req: ApplyRequest<'_>, stop: &StopToken) -> StateResponse {
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => {
            return StateResponse {
                new_state: req.prior_state.clone(),
                private: Vec::new(),
                diagnostics: aws_diag(&e, None),
            }
        }
    };
    if req.planned_state.is_null() {
        return delete(clients, req.prior_state, stop).await;
    }
    let mut ignored = Diagnostics::new();
    let d = Desired::from_value(req.planned_state, &mut ignored);
    let mut state = req.planned_state.clone();
    let mut progress = Progress::default();
    let result = run_converge(stop, converge(clients, &d, req.prior_state, &mut state, &mut progress, stop)).await;
    match result {
        Ok(()) => StateResponse { new_state: state, private: Vec::new(), diagnostics: Diagnostics::new() },
        Err(e) => {
            // Record what exists so nothing is orphaned; the next apply converges.
            progress.fill(&mut state, req.prior_state);
            tracing::warn!(target: "hybridnet::cluster_network", error = %e, "apply stopped part-way");
            StateResponse { new_state: state, private: Vec::new(), diagnostics: aws_diag(&clients.explain(e), None) }
        }
    }
}

/// Runs an apply's converge so that whatever ends it (success, an AWS error, a stop, a
/// panic) the caller still holds the `Progress` it recorded, and returns it with the
/// error: the future borrows `Progress` and is dropped before this returns.
async fn run_converge(
    stop: &StopToken,
    fut: impl std::future::Future<Output = Result<(), AwsError>>,
) -> Result<(), AwsError> {
    crate::aws::unless_stopped(stop, crate::aws::catch_panic(fut)).await
}

/// What an apply has established so far, for partial-failure state.
#[derive(Default)]
struct Progress {
    attachment_id: Option<String>,
    route_table_id: Option<String>,
    routes: Vec<RouteEntry>,
    rule_ids: Vec<String>,
    eks_ips: Option<Vec<String>>,
}

impl Progress {
    fn fill(&self, state: &mut Value, prior: &Value) {
        let set_if_unknown = |state: &mut Value, k: &str, v: Value| {
            if state.get_attr(k).is_none_or(|x| !x.is_fully_known()) {
                state.set_attr(k, v);
            }
        };
        set_if_unknown(state, "attachment_id", self.attachment_id.clone().map(Value::string).unwrap_or(Value::Null));
        set_if_unknown(state, "route_table_id", self.route_table_id.clone().map(Value::string).unwrap_or(Value::Null));
        // Routes and rules: what we know exists, plus what the prior state had.
        let mut routes: BTreeSet<RouteEntry> = routes_attr(prior).into_iter().collect();
        routes.extend(self.routes.iter().cloned());
        state.set_attr("routes", routes_value(&routes.into_iter().collect::<Vec<_>>()));
        let mut ids: Vec<String> = strings_attr(prior, "security_group_rule_ids");
        for id in &self.rule_ids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        state.set_attr("security_group_rule_ids", strings_value(&ids));
        set_if_unknown(state, "eks_network_interface_ips", strings_value(self.eks_ips.as_deref().unwrap_or(&[])));
        set_if_unknown(state, "onprem_firewall_rules", Value::list(Vec::new()));
        for k in ["vpc_id", "service_cidr", "security_group_id"] {
            set_if_unknown(state, k, Value::Null);
        }
        set_if_unknown(state, "vpc_cidrs", Value::list(Vec::new()));
    }
}

/// Runs `calls` at most `CONCURRENCY` at a time and hands each success to `done` as
/// soon as it arrives, so an apply stopped part-way still records every call that
/// completed. Waits for the whole batch, then returns the first error.
async fn run_batch<T, F>(calls: impl IntoIterator<Item = F>, mut done: impl FnMut(T)) -> Result<(), AwsError>
where
    F: std::future::Future<Output = Result<T, AwsError>>,
{
    let mut results = stream::iter(calls).buffer_unordered(CONCURRENCY);
    let mut first_err = None;
    while let Some(result) = results.next().await {
        match result {
            Ok(v) => done(v),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

async fn converge(
    clients: &Clients,
    d: &Desired,
    prior: &Value,
    state: &mut Value,
    progress: &mut Progress,
    stop: &StopToken,
) -> Result<(), AwsError> {
    let ec2 = &clients.ec2;
    let creating = prior.is_null();
    let vpc_id = str_attr(state, "vpc_id").unwrap_or_default();
    let timeout = if creating { d.timeouts.create } else { d.timeouts.update };
    let tags = d.object_tags();
    let prior_d = (!creating).then(|| Desired::from_value(prior, &mut Diagnostics::new()));

    // 1. The attachment. Two VGWs cannot be attached to one VPC at once: detach
    //    the old one first; a TGW is swapped make-before-break.
    let old_gateway =
        prior_d.as_ref().filter(|p| p.gateway != d.gateway && p.manage_attachment).map(|p| p.gateway.clone());
    if let Some(old) = &old_gateway {
        if !old.starts_with("tgw-") && !d.gateway.starts_with("tgw-") {
            ec2::delete_attachment(ec2, old, &vpc_id, timeout).await?;
        }
    }
    let attachment = if d.manage_attachment {
        ec2::ensure_attachment(ec2, &d.gateway, &vpc_id, &d.attachment_subnet_ids, &tags, timeout).await?
    } else {
        ec2::find_attachment(ec2, &d.gateway, &vpc_id).await?.ok_or_else(|| AwsError::Api {
            operation: "ec2:DescribeTransitGatewayVpcAttachments",
            code: "AttachmentNotFound".into(),
            message: format!("manage_attachment is false but VPC {vpc_id} is not attached to {}", d.gateway),
        })?
    };
    progress.attachment_id = Some(attachment.id.clone());
    if d.manage_attachment && d.gateway.starts_with("tgw-") {
        let want: BTreeSet<&String> = d.attachment_subnet_ids.iter().collect();
        let have: BTreeSet<&String> = attachment.subnet_ids.iter().collect();
        let add: Vec<String> = want.difference(&have).map(|s| s.to_string()).collect();
        let remove: Vec<String> = have.difference(&want).map(|s| s.to_string()).collect();
        if !have.is_empty() {
            ec2::modify_attachment_subnets(ec2, &attachment.id, &add, &remove).await?;
        }
    }
    state.set_attr("attachment_id", Value::string(attachment.id.clone()));

    crate::aws::check_stop(stop)?;
    // 2. The dedicated route table.
    let prior_rt = prior_d.as_ref().filter(|p| p.create_route_table).and_then(|_| str_attr(prior, "route_table_id"));
    let route_table = if d.create_route_table {
        let existing = match &prior_rt {
            Some(id) => ec2::find_route_tables(ec2, std::slice::from_ref(id)).await?.into_iter().next(),
            None => ec2::find_route_tables_by_tag(ec2, &vpc_id, OWNER_TAG, &d.cluster_name).await?.into_iter().next(),
        };
        let rt = match existing {
            Some(rt) => rt,
            None => {
                let id = ec2::create_route_table(ec2, &vpc_id, &tags).await?;
                progress.route_table_id = Some(id.clone());
                // A retried CreateRouteTable whose first answer was lost leaves a twin:
                // keep ours, delete tagged twins that are still empty.
                let tagged = ec2::find_route_tables_by_tag(ec2, &vpc_id, OWNER_TAG, &d.cluster_name).await?;
                for twin in tagged.iter().filter(|t| t.id != id) {
                    let empty = twin.associations.is_empty() && twin.routes.iter().all(|r| r.target_id == "local");
                    if empty {
                        ec2::delete_route_table(ec2, &twin.id).await?;
                    }
                }
                tagged.into_iter().find(|t| t.id == id).unwrap_or(ec2::RouteTable {
                    id,
                    vpc_id: vpc_id.clone(),
                    routes: Vec::new(),
                    associations: Vec::new(),
                    tags: Vec::new(),
                })
            }
        };
        progress.route_table_id = Some(rt.id.clone());
        for subnet in &d.route_table_subnet_ids {
            if !rt.associations.iter().any(|(_, s)| s == subnet) {
                ec2::associate_route_table(ec2, &rt.id, subnet).await?;
            }
        }
        for (assoc, subnet) in &rt.associations {
            if !d.route_table_subnet_ids.contains(subnet) {
                ec2::disassociate_route_table(ec2, assoc).await?;
            }
        }
        Some(rt.id)
    } else {
        None
    };
    state.set_attr("route_table_id", route_table.clone().map(Value::string).unwrap_or(Value::Null));

    crate::aws::check_stop(stop)?;
    // 3. Routes: create or re-point what is needed, remove what no longer is.
    let rts = managed_route_tables(d, route_table.as_deref());
    let want = desired_routes(d, &rts);
    let prior_routes = routes_attr(prior);
    let prior_gateway = prior_d.as_ref().map(|p| p.gateway.as_str()).filter(|g| !g.is_empty());
    let mut all_rts: Vec<String> = rts.clone();
    for r in &prior_routes {
        if !all_rts.contains(&r.route_table_id) {
            all_rts.push(r.route_table_id.clone());
        }
    }
    let current = ec2::find_route_tables(ec2, &all_rts).await?;
    let lookup = |rt: &str, cidr: &str| -> Option<String> {
        current
            .iter()
            .find(|t| t.id == rt)
            .and_then(|t| t.routes.iter().find(|r| r.destination_cidr == cidr))
            .map(|r| r.target_id.clone())
    };
    // Never take over a route someone else wrote before us (plan names it; this
    // guards an apply whose surroundings changed since the plan).
    if let Some((rt, cidr, target)) = context::foreign_routes(d, &current, &prior_routes).into_iter().next() {
        return Err(AwsError::Api {
            operation: "ec2:ReplaceRoute",
            code: "RouteOwnedByAnotherWriter".into(),
            message: format!(
                "route table {rt} routes {cidr} to {target}, which this resource did not create; remove that route \
                 or leave {rt} out of route_table_ids"
            ),
        });
    }
    let todo: Vec<RouteEntry> = want
        .iter()
        .filter(|r| lookup(&r.route_table_id, &r.destination_cidr).as_deref() != Some(r.target_id.as_str()))
        .cloned()
        .collect();
    progress.routes.extend(want.iter().filter(|r| !todo.contains(r)).cloned());
    let calls = todo.into_iter().map(|r| async move {
        ec2::ensure_route(ec2, &r.route_table_id, &r.destination_cidr, &r.target_id).await.map(|()| r)
    });
    run_batch(calls, |r| progress.routes.push(r)).await?;
    let wanted: BTreeSet<(String, String)> =
        want.iter().map(|r| (r.route_table_id.clone(), r.destination_cidr.clone())).collect();
    for r in &prior_routes {
        if wanted.contains(&(r.route_table_id.clone(), r.destination_cidr.clone())) {
            continue;
        }
        // Only remove a route that still points at our gateway (the configured one, or
        // the one before a gateway change). The state records a route's live target, so
        // a route another writer re-pointed (the hybrid nodes gateway, an appliance) is
        // theirs now, whatever the state says.
        let target = lookup(&r.route_table_id, &r.destination_cidr);
        if target.as_deref().is_some_and(|t| t == d.gateway || Some(t) == prior_gateway) {
            ec2::delete_route(ec2, &r.route_table_id, &r.destination_cidr).await?;
        }
    }
    state.set_attr("routes", routes_value(&want));

    crate::aws::check_stop(stop)?;
    // 4. The old gateway, and a dedicated route table no longer wanted.
    if let Some(old) = &old_gateway {
        ec2::delete_attachment(ec2, old, &vpc_id, timeout).await?;
    }
    if let (Some(old_rt), None) = (&prior_rt, &route_table) {
        ec2::delete_route_table_and_associations(ec2, old_rt).await?;
    }

    crate::aws::check_stop(stop)?;
    // 5. Security group rules.
    let sg = str_attr(state, "security_group_id");
    let prior_sg = str_attr(prior, "security_group_id");
    let prior_ids = strings_attr(prior, "security_group_rule_ids");
    if let (Some(old_sg), true) = (&prior_sg, prior_d.as_ref().is_some_and(|p| p.manage_rules)) {
        if !d.manage_rules || sg.as_ref() != Some(old_sg) {
            revoke_ours(ec2, old_sg, &prior_ids, &d.cluster_name, &[]).await?;
        }
    }
    let mut rule_ids = Vec::new();
    if let (true, Some(sg)) = (d.manage_rules, &sg) {
        let existing = ec2::find_security_group_rules(ec2, sg).await?;
        let rules = d.rules();
        let mut missing = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let found = satisfying_rule(&existing, r, &d.cluster_name);
            match found {
                Some(x) => rule_ids.push((i, x.id.clone())),
                None => missing.push((i, r.clone())),
            }
        }
        progress.rule_ids.extend(rule_ids.iter().map(|(_, id)| id.clone()));
        let calls = missing.into_iter().map(|(i, r)| {
            let tags = &tags;
            async move {
                let rule = ec2::NewRule {
                    egress: r.direction == Direction::Egress,
                    from_port: i32::from(r.from_port),
                    to_port: i32::from(r.to_port),
                    cidr: r.cidr.to_string(),
                    description: r.description.clone(),
                };
                ec2::authorize_rule(ec2, sg, &rule, tags).await.map(|id| (i, id))
            }
        });
        run_batch(calls, |(i, id)| {
            progress.rule_ids.push(id.clone());
            rule_ids.push((i, id));
        })
        .await?;
        rule_ids.sort();
        let keep: Vec<String> = rule_ids.iter().map(|(_, id)| id.clone()).collect();
        // Rules we made for CIDRs or ports no longer configured.
        if prior_sg.as_ref() == Some(sg) {
            revoke_ours(ec2, sg, &prior_ids, &d.cluster_name, &keep).await?;
        }
    }
    let ids: Vec<String> = rule_ids.into_iter().map(|(_, id)| id).collect();
    if state.get_attr("security_group_rule_ids").is_some_and(Value::is_fully_known) {
        // Planned known (unchanged): keep the plan's value.
    } else {
        state.set_attr("security_group_rule_ids", strings_value(&ids));
    }

    crate::aws::check_stop(stop)?;
    // 6. Tags on what we own, when they changed.
    if let Some(p) = &prior_d {
        if p.tags != d.tags {
            let mut owned: Vec<String> = ids.clone();
            if d.manage_attachment && d.gateway.starts_with("tgw-") {
                owned.push(attachment.id.clone());
            }
            if let Some(rt) = &route_table {
                owned.push(rt.clone());
            }
            let new_keys: BTreeSet<&String> = d.tags.iter().map(|(k, _)| k).collect();
            let removed: Vec<String> =
                p.tags.iter().map(|(k, _)| k).filter(|k| !new_keys.contains(k)).cloned().collect();
            ec2::retag(ec2, &owned, &d.object_tags(), &removed).await?;
        }
    }

    // 7. The EKS network interfaces and the firewall table.
    if !state.get_attr("eks_network_interface_ips").is_some_and(Value::is_fully_known) {
        let ips = ec2::find_eks_interface_ips(ec2, &vpc_id, &d.cluster_name).await?;
        progress.eks_ips = Some(ips.clone());
        state.set_attr("onprem_firewall_rules", firewall_value(d, &ips));
        state.set_attr("eks_network_interface_ips", strings_value(&ips));
    }
    Ok(())
}

/// Revokes, among `ids`, the rules we created (tagged for this cluster) that are not in `keep`.
async fn revoke_ours(
    ec2: &aws_sdk_ec2::Client,
    sg: &str,
    ids: &[String],
    cluster: &str,
    keep: &[String],
) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    let existing = ec2::find_security_group_rules(ec2, sg).await?;
    let (mut ingress, mut egress) = (Vec::new(), Vec::new());
    for r in existing.iter().filter(|r| ids.contains(&r.id) && !keep.contains(&r.id) && is_ours(r, cluster)) {
        if r.egress {
            egress.push(r.id.clone());
        } else {
            ingress.push(r.id.clone());
        }
    }
    ec2::revoke_rules(ec2, sg, &ingress, &egress).await
}

// ------------------------------------------------------------------ delete

async fn delete(clients: &Clients, prior: &Value, stop: &StopToken) -> StateResponse {
    match crate::aws::unless_stopped(stop, delete_all(clients, prior)).await {
        Ok(()) => StateResponse { new_state: Value::Null, private: Vec::new(), diagnostics: Diagnostics::new() },
        Err(e) => StateResponse {
            new_state: prior.clone(),
            private: Vec::new(),
            diagnostics: aws_diag(&clients.explain(e), None),
        },
    }
}

async fn delete_all(clients: &Clients, prior: &Value) -> Result<(), AwsError> {
    let ec2 = &clients.ec2;
    let d = Desired::from_value(prior, &mut Diagnostics::new());
    let vpc_id = str_attr(prior, "vpc_id").unwrap_or_default();
    if let Some(sg) = str_attr(prior, "security_group_id") {
        if d.manage_rules {
            revoke_ours(ec2, &sg, &strings_attr(prior, "security_group_rule_ids"), &d.cluster_name, &[]).await?;
        }
    }
    let routes = routes_attr(prior);
    let rts: Vec<String> =
        routes.iter().map(|r| r.route_table_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let current = ec2::find_route_tables(ec2, &rts).await?;
    let to_delete: Vec<&RouteEntry> = routes
        .iter()
        .filter(|r| {
            current
                .iter()
                .find(|t| t.id == r.route_table_id)
                .and_then(|t| t.routes.iter().find(|x| x.destination_cidr == r.destination_cidr))
                // Ours only while it points at our gateway: the state holds the live
                // target, which another writer may have changed.
                .is_some_and(|x| !d.gateway.is_empty() && x.target_id == d.gateway)
        })
        .collect();
    let to_delete: Vec<(String, String)> =
        to_delete.into_iter().map(|r| (r.route_table_id.clone(), r.destination_cidr.clone())).collect();
    let calls = to_delete.into_iter().map(|(rt, cidr)| async move { ec2::delete_route(ec2, &rt, &cidr).await });
    run_batch(calls, |()| {}).await?;
    if d.create_route_table {
        if let Some(rt) = str_attr(prior, "route_table_id") {
            ec2::delete_route_table_and_associations(ec2, &rt).await?;
        }
    }
    if d.manage_attachment && !d.gateway.is_empty() && !vpc_id.is_empty() {
        ec2::delete_attachment(ec2, &d.gateway, &vpc_id, d.timeouts.delete).await?;
    }
    Ok(())
}

// ------------------------------------------------------------------ read

pub async fn read(aws: &Aws, current: &Value) -> StateResponse {
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => {
            return StateResponse { new_state: current.clone(), private: Vec::new(), diagnostics: aws_diag(&e, None) }
        }
    };
    let result = if current.get_attr("remote_node_cidrs").is_none_or(Value::is_null) {
        let name = str_attr(current, "cluster_name").or_else(|| str_attr(current, "id")).unwrap_or_default();
        reconstruct(clients, &name).await
    } else {
        refresh(clients, current).await
    };
    match result {
        Ok(state) => StateResponse { new_state: state, private: Vec::new(), diagnostics: Diagnostics::new() },
        Err(e) => StateResponse {
            new_state: current.clone(),
            private: Vec::new(),
            diagnostics: aws_diag(&clients.explain(e), None),
        },
    }
}

/// UpgradeResourceState: `decoded` is the stored state read leniently against today's
/// schema (attributes removed since are dropped, attributes added since are null).
/// Arguments added with a default get that default, as a plan would give them, so an
/// upgraded state plans empty; computed attributes added since are filled by the next
/// refresh.
pub fn upgrade(decoded: Value) -> (Value, Diagnostics) {
    let mut state = decoded;
    if !state.is_null() {
        for (k, default) in DEFAULTS {
            if state.get_attr(k).is_none_or(Value::is_null) {
                state.set_attr(*k, Value::Bool(*default));
            }
        }
    }
    (state, Diagnostics::new())
}

/// Reads what exists for a known state: a fixed handful of describes. Returns Null
/// when everything the resource made is gone.
async fn refresh(clients: &Clients, current: &Value) -> Result<Value, AwsError> {
    let ec2 = &clients.ec2;
    // A state without the cluster's surroundings (written by an earlier release):
    // read them once, as a plan would.
    let mut upgraded = None;
    if ["vpc_id", "vpc_cidrs", "service_cidr"].iter().any(|k| current.get_attr(k).is_none_or(Value::is_null)) {
        let cluster_name = str_attr(current, "cluster_name").unwrap_or_default();
        let security_group_id = str_attr(current, "security_group_id");
        if let Some(ctx) = find_context(clients, &cluster_name, security_group_id.as_deref()).await? {
            let mut v = current.clone();
            ctx.set_attrs(&mut v);
            upgraded = Some(v);
        }
    }
    let current = upgraded.as_ref().unwrap_or(current);
    let d = Desired::from_value(current, &mut Diagnostics::new());
    let vpc_id = str_attr(current, "vpc_id").unwrap_or_default();
    let created_rt = if d.create_route_table { str_attr(current, "route_table_id") } else { None };
    let mut rts = managed_route_tables(&d, created_rt.as_deref());
    for r in routes_attr(current) {
        if !rts.contains(&r.route_table_id) {
            rts.push(r.route_table_id);
        }
    }
    let sg = str_attr(current, "security_group_id");
    let (tables, attachment, rules, ips) = tokio::join!(
        ec2::find_route_tables(ec2, &rts),
        ec2::find_attachment(ec2, &d.gateway, &vpc_id),
        async {
            match (&sg, d.manage_rules) {
                (Some(sg), true) => ec2::find_security_group_rules(ec2, sg).await,
                _ => Ok(Vec::new()),
            }
        },
        ec2::find_eks_interface_ips(ec2, &vpc_id, &d.cluster_name),
    );
    let (tables, attachment, rules, ips) = (tables?, attachment?, rules?, ips?);

    let mut state = current.clone();
    let created_rt = created_rt.filter(|id| tables.iter().any(|t| &t.id == id));
    state.set_attr("route_table_id", created_rt.clone().map(Value::string).unwrap_or(Value::Null));

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
    state.set_attr("routes", routes_value(&present));

    let attachment = attachment.filter(ec2::Attachment::usable);
    state.set_attr("attachment_id", attachment.as_ref().map(|a| Value::string(a.id.clone())).unwrap_or(Value::Null));

    let mut ids = Vec::new();
    let mut ours = 0usize;
    if d.manage_rules {
        for r in d.rules() {
            let found = satisfying_rule(&rules, &r, &d.cluster_name);
            if let Some(x) = found {
                ours += usize::from(is_ours(x, &d.cluster_name));
                ids.push(x.id.clone());
            }
        }
    }
    state.set_attr("security_group_rule_ids", strings_value(&ids));
    state.set_attr("eks_network_interface_ips", strings_value(&ips));
    state.set_attr("onprem_firewall_rules", firewall_value(&d, &ips));

    let attachment_gone = !d.manage_attachment || attachment.is_none();
    let routes_gone = present.iter().all(|r| r.target_id != d.gateway);
    if attachment_gone && routes_gone && ours == 0 && created_rt.is_none() {
        tracing::info!(target: "hybridnet::cluster_network", cluster = %d.cluster_name, "everything is gone; removing from state");
        return Ok(Value::Null);
    }
    Ok(state)
}

/// Rebuilds the full state from AWS for an imported cluster name.
async fn reconstruct(clients: &Clients, cluster_name: &str) -> Result<Value, AwsError> {
    let ec2 = &clients.ec2;
    let Some(ctx) = find_context(clients, cluster_name, None).await? else { return Ok(Value::Null) };
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
        return Ok(Value::Null);
    };
    let created_rt = owned_rts.first().cloned();
    let route_table_ids: Vec<String> = routing
        .iter()
        .filter(|t| Some(&t.id) != created_rt.as_ref().map(|r| &r.id))
        .filter(|t| t.routes.iter().any(|r| r.target_id == gateway && cidrs.contains(&r.destination_cidr)))
        .map(|t| t.id.clone())
        .collect();
    let pods_routed =
        routing.iter().any(|t| t.routes.iter().any(|r| r.target_id == gateway && pods.contains(&r.destination_cidr)));
    let attachment = ec2::find_attachment(ec2, &gateway, &ctx.vpc.id).await?;
    let sg = ctx.security_group_id.clone().or_else(|| owned_rules.first().map(|(g, _)| g.clone()));
    let mut ports: Vec<i64> = owned_rules
        .iter()
        .filter(|(_, r)| r.egress && r.from_port != 10250 && r.cidr.as_ref().is_some_and(|c| pods.contains(c)))
        .map(|(_, r)| i64::from(r.from_port))
        .collect();
    ports.sort();
    ports.dedup();
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    let tag_source = owned_rules
        .first()
        .map(|(_, r)| r.tags.clone())
        .or_else(|| created_rt.as_ref().map(|t| t.tags.clone()))
        .or_else(|| attachment.as_ref().map(|a| a.tags.clone()))
        .unwrap_or_default();
    for (k, v) in tag_source {
        if k != OWNER_TAG {
            tags.insert(k, v);
        }
    }
    let is_tgw = gateway.starts_with("tgw-");
    let stub = Value::object([
        ("id", Value::string(cluster_name)),
        ("cluster_name", Value::string(cluster_name)),
        ("remote_node_cidrs", strings_value(&nodes)),
        ("remote_pod_cidrs", if pods.is_empty() { Value::Null } else { strings_value(&pods) }),
        ("pod_network_routable", Value::Bool(pods.is_empty() || pods_routed)),
        ("transit_gateway_id", if is_tgw { Value::string(gateway.clone()) } else { Value::Null }),
        ("vpn_gateway_id", if is_tgw { Value::Null } else { Value::string(gateway.clone()) }),
        (
            "attachment_subnet_ids",
            match &attachment {
                Some(a) if is_tgw && !a.subnet_ids.is_empty() => strings_value(&a.subnet_ids),
                _ => Value::Null,
            },
        ),
        ("manage_attachment", Value::Bool(true)),
        ("route_table_ids", if route_table_ids.is_empty() { Value::Null } else { strings_value(&route_table_ids) }),
        ("create_route_table", Value::Bool(created_rt.is_some())),
        (
            "route_table_subnet_ids",
            match &created_rt {
                Some(t) if !t.associations.is_empty() => {
                    strings_value(&t.associations.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>())
                }
                _ => Value::Null,
            },
        ),
        ("manage_security_group_rules", Value::Bool(sg.is_some())),
        ("security_group_id", sg.clone().map(Value::string).unwrap_or(Value::Null)),
        (
            "webhook_ports",
            if ports.is_empty() { Value::Null } else { Value::list(ports.into_iter().map(Value::int).collect()) },
        ),
        (
            "tags",
            if tags.is_empty() {
                Value::Null
            } else {
                Value::map(tags.into_iter().map(|(k, v)| (k, Value::string(v))))
            },
        ),
        ("timeouts", Value::Null),
        ("vpc_id", Value::string(ctx.vpc.id.clone())),
        ("vpc_cidrs", strings_value(&ctx.vpc.cidrs)),
        ("service_cidr", Value::string(ctx.service_cidr.clone())),
        ("route_table_id", created_rt.as_ref().map(|t| Value::string(t.id.clone())).unwrap_or(Value::Null)),
        ("attachment_id", Value::Null),
        ("routes", Value::list(Vec::new())),
        ("security_group_rule_ids", Value::list(Vec::new())),
        ("eks_network_interface_ips", Value::list(Vec::new())),
        ("onprem_firewall_rules", Value::list(Vec::new())),
    ]);
    refresh(clients, &stub).await
}

// ------------------------------------------------------------------ import

pub async fn import(id: &str) -> (Vec<ImportedResource>, Diagnostics) {
    let name = id.trim();
    if name.is_empty() {
        return (
            Vec::new(),
            Diagnostics::from_error(
                "Missing cluster name",
                "Import hybridnet_cluster_network with the EKS cluster name: terraform import hybridnet_cluster_network.NAME <cluster_name>",
                None,
            ),
        );
    }
    let stub = Value::object([("id", Value::string(name)), ("cluster_name", Value::string(name))]);
    (vec![ImportedResource { type_name: TYPE_NAME.to_string(), state: stub, private: Vec::new() }], Diagnostics::new())
}

// ------------------------------------------------------------------ validate

/// ValidateResourceTypeConfig: shape checks that need no AWS, on known values only.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let known = |k: &str| config.get_attr(k).is_none_or(Value::is_known);
    // CIDR syntax, element by element, where known.
    for attr in ["remote_node_cidrs", "remote_pod_cidrs"] {
        if let Some(items) = config.get_attr(attr).and_then(Value::as_list) {
            for (i, item) in items.iter().enumerate() {
                if let Some(s) = item.as_str() {
                    if let Err(e) = hybridnet_rules::parse_ipv4_cidr(s) {
                        diags.error(e.summary(), e.detail(), Some(AttrPath::attr(attr).index(i)));
                    }
                }
            }
        }
    }
    if known("transit_gateway_id") && known("vpn_gateway_id") {
        let tgw = str_attr(config, "transit_gateway_id");
        let vgw = str_attr(config, "vpn_gateway_id");
        match (tgw, vgw) {
            (Some(_), Some(_)) => diags.error(
                "Conflicting gateways",
                "Set exactly one of transit_gateway_id and vpn_gateway_id: the routes can point at only one gateway.",
                Some(AttrPath::attr("vpn_gateway_id")),
            ),
            (None, None) => diags.error(
                "No gateway",
                "Set transit_gateway_id or vpn_gateway_id: the gateway that connects the VPC to the on-premises network.",
                Some(AttrPath::attr("transit_gateway_id")),
            ),
            _ => {}
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_dropped_part_way_has_recorded_every_completed_call() {
        // Call 1 completes, call 2 never does (a held request), call 3 fails.
        let calls = (1..=3).map(|n| async move {
            match n {
                2 => std::future::pending().await,
                3 => Err(AwsError::Cancelled),
                _ => Ok(n),
            }
        });
        let mut done = Vec::new();
        let batch = run_batch(calls, |n| done.push(n));
        // Stop: the batch is dropped while call 2 is in flight.
        let outcome = tokio::time::timeout(std::time::Duration::from_millis(50), batch).await;
        assert!(outcome.is_err(), "the batch cannot finish while call 2 is in flight");
        assert_eq!(done, [1]);
    }

    #[tokio::test]
    async fn a_panic_part_way_through_apply_keeps_what_progress_recorded() {
        let mut progress = Progress::default();
        let route = RouteEntry {
            route_table_id: "rtb-1".into(),
            destination_cidr: "192.168.0.0/22".into(),
            target_id: "tgw-1".into(),
            network: "node".into(),
        };
        let fut = async {
            progress.attachment_id = Some("tgw-attach-1".into());
            progress.routes.push(route.clone());
            if progress.routes.len() == 1 {
                panic!("a bug after the first route");
            }
            Ok(())
        };
        let err = run_converge(&StopToken::new(), fut).await.expect_err("the panic is an error");
        assert!(matches!(&err, AwsError::Bug { message } if message == "a bug after the first route"), "{err:?}");
        let (summary, detail) = err.summary_and_detail();
        assert_eq!(summary, "Internal error in the hybridnet provider");
        assert!(detail.contains("recorded in the state"), "{detail}");

        let mut state = Value::object([("attachment_id", Value::Unknown), ("routes", Value::Unknown)]);
        progress.fill(&mut state, &Value::Null);
        assert_eq!(state.get_attr("attachment_id"), Some(&Value::string("tgw-attach-1")));
        assert_eq!(routes_attr(&state), vec![route]);
    }

    #[tokio::test]
    async fn a_batch_finishes_every_call_then_returns_the_first_error() {
        let calls = (1..=6).map(|n| async move {
            if n % 3 == 0 {
                Err(AwsError::Timeout { what: format!("call {n}") })
            } else {
                Ok(n)
            }
        });
        let mut done = Vec::new();
        let err = run_batch(calls, |n| done.push(n)).await.expect_err("two calls fail");
        done.sort();
        assert_eq!(done, [1, 2, 4, 5]);
        assert_eq!(err.to_string(), "timed out waiting for call 3");
    }
}
