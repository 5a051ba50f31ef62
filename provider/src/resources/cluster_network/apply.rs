//! ApplyResourceChange for a create or an update: `converge` brings AWS to the plan in
//! named steps — attachment, route table, routes, retired objects, rules, tags, EKS
//! network interfaces — recording each object in `Progress` the moment it exists, so
//! a failure, a stop or a panic part-way still returns the state of what exists.

use std::collections::BTreeSet;

use hybridnet_rules::{Direction, PodNetworkMode};
use tfplugin5::typed::{ApplyRequest, StateResponse, Tf};
use tfplugin5::Diagnostics;

use super::attachment;
use super::context::{self, aws_diag};
use super::matching::{found_rule_ids, is_ours, satisfying_rule};
use super::model::{
    desired_routes, firewall_rules, list_known, managed_route_tables, strings, tf_strings, ClusterNetworkModel,
    Desired, RouteEntry, OWNER_TAG,
};
use super::neighbours::AttachmentFate;
use crate::aws::handover::Phase;
use crate::aws::{check_stop, ec2, Aws, AwsError, Clients, StopToken};
use crate::resources::shared::{run_batch, run_guarded};

pub async fn apply(aws: &Aws, req: ApplyRequest<ClusterNetworkModel>) -> StateResponse<ClusterNetworkModel> {
    let stop = req.stop.cancellation_token().clone();
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return StateResponse::new(req.prior).with_diagnostics(aws_diag(&e, None)),
    };
    // A destroy goes to `delete` (see `mod.rs`); without a plan there is nothing to do.
    let Some(planned) = req.planned else { return StateResponse::new(req.prior) };
    let d = Desired::from_model(&planned, &mut Diagnostics::new());
    let prior = req.prior.as_ref();
    let mut state = planned.clone();
    let mut progress = Progress::default();
    let step = Converge::new(clients, &d, prior, &stop, &state);
    // Every AWS call of the converge may be throttled until the operation's `timeouts`.
    let deadline = step.timeout;
    match crate::aws::with_deadline(deadline, run_guarded(&stop, step.run(&mut state, &mut progress))).await {
        Ok(()) => {
            let mut diags = std::mem::take(&mut progress.warnings);
            // Not an error: Terraform would taint the resource, and replacing it would
            // delete the attachment the gateway's owner is about to accept.
            if let Some(a) = &progress.awaiting_acceptance {
                let vpc_id = state.vpc_id.known().cloned().unwrap_or_default();
                let foreseen = progress.acceptance_foreseen;
                diags.extend(attachment::awaiting_acceptance_warning(clients, a, &vpc_id, foreseen).await);
            }
            StateResponse::new(Some(state)).with_diagnostics(diags)
        }
        Err(e) => {
            // Record what exists so nothing is orphaned; the next apply converges.
            progress.fill(&mut state, prior);
            tracing::warn!(target: "hybridnet::cluster_network", error = %e, "apply stopped part-way");
            let mut diags = std::mem::take(&mut progress.warnings);
            diags.extend(aws_diag(&clients.explain(e), None));
            StateResponse::new(Some(state)).with_diagnostics(diags)
        }
    }
}

/// What an apply has established so far, for partial-failure state.
#[derive(Default)]
pub struct Progress {
    pub attachment_id: Option<String>,
    pub route_table_id: Option<String>,
    pub routes: Vec<RouteEntry>,
    pub rule_ids: Vec<String>,
    pub eks_ips: Option<Vec<String>>,
    pub gateway_ips: Option<Vec<String>>,
    /// The attachment waits for the transit gateway owner's acceptance: the routes to
    /// the gateway wait too, and the apply ends with a warning.
    pub awaiting_acceptance: Option<ec2::Attachment>,
    /// Whether the plan foresaw the wait (else the warning says so).
    pub acceptance_foreseen: bool,
    /// Warnings the apply ends with (routes kept for a neighbour cluster).
    pub warnings: Diagnostics,
    /// Whether the attachment is ours (see `attachment_created`), once known.
    pub attachment_created: Option<bool>,
    /// Routes found pointing at the gateway (`adopted_routes`).
    pub adopted_routes: Vec<RouteEntry>,
    /// Rules found (`adopted_security_group_rule_ids`).
    pub adopted_rule_ids: Vec<String>,
}

impl Progress {
    /// Fills what the plan left unknown with what exists: the state of a partial apply.
    pub fn fill(&self, state: &mut ClusterNetworkModel, prior: Option<&ClusterNetworkModel>) {
        fn unknown_to<T: Clone>(field: &mut Tf<T>, value: Tf<T>) {
            if field.is_unknown() {
                *field = value;
            }
        }
        unknown_to(&mut state.attachment_id, self.attachment_id.clone().into());
        unknown_to(&mut state.route_table_id, self.route_table_id.clone().into());
        // Routes and rules: what we know exists, plus what the prior state had.
        let mut routes: BTreeSet<RouteEntry> =
            prior.map(ClusterNetworkModel::route_entries).unwrap_or_default().into_iter().collect();
        routes.extend(self.routes.iter().cloned());
        state.set_routes(&routes.into_iter().collect::<Vec<_>>());
        let mut ids: Vec<String> = prior.map(|p| strings(&p.security_group_rule_ids)).unwrap_or_default();
        for id in &self.rule_ids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        state.security_group_rule_ids = tf_strings(&ids);
        if state.attachment_created.is_unknown() {
            let prior_created = prior.and_then(|p| p.attachment_created.known().copied());
            state.attachment_created = Tf::Known(self.attachment_created.or(prior_created).unwrap_or(false));
        }
        if !list_known(&state.adopted_routes) {
            let mut adopted: BTreeSet<RouteEntry> =
                prior.map(ClusterNetworkModel::adopted_route_entries).unwrap_or_default().into_iter().collect();
            adopted.extend(self.adopted_routes.iter().cloned());
            state.set_adopted_routes(&adopted.into_iter().collect::<Vec<_>>());
        }
        if !list_known(&state.adopted_security_group_rule_ids) {
            let mut adopted: Vec<String> =
                prior.map(|p| strings(&p.adopted_security_group_rule_ids)).unwrap_or_default();
            adopted
                .extend(self.adopted_rule_ids.iter().filter(|id| !adopted.contains(id)).cloned().collect::<Vec<_>>());
            state.adopted_security_group_rule_ids = tf_strings(&adopted);
        }
        if !list_known(&state.eks_network_interface_ips) {
            state.eks_network_interface_ips = tf_strings(self.eks_ips.as_deref().unwrap_or(&[]));
        }
        if !list_known(&state.gateway_node_ips) {
            state.gateway_node_ips = tf_strings(self.gateway_ips.as_deref().unwrap_or(&[]));
        }
        if !list_known(&state.onprem_firewall_rules) {
            state.onprem_firewall_rules = Tf::Known(Vec::new());
        }
        unknown_to(&mut state.vpc_id, Tf::Null);
        unknown_to(&mut state.service_cidr, Tf::Null);
        unknown_to(&mut state.security_group_id, Tf::Null);
        if !list_known(&state.vpc_cidrs) {
            state.vpc_cidrs = Tf::Known(Vec::new());
        }
    }
}

/// One apply's converge, step by step.
struct Converge<'a> {
    clients: &'a Clients,
    d: &'a Desired,
    prior: Option<&'a ClusterNetworkModel>,
    prior_d: Option<Desired>,
    stop: &'a StopToken,
    vpc_id: String,
    timeout: std::time::Duration,
    tags: Vec<(String, String)>,
}

impl<'a> Converge<'a> {
    fn new(
        clients: &'a Clients,
        d: &'a Desired,
        prior: Option<&'a ClusterNetworkModel>,
        stop: &'a StopToken,
        planned: &ClusterNetworkModel,
    ) -> Self {
        Converge {
            clients,
            d,
            prior,
            prior_d: prior.map(|p| Desired::from_model(p, &mut Diagnostics::new())),
            stop,
            vpc_id: planned.vpc_id.known().cloned().unwrap_or_default(),
            timeout: if prior.is_none() { d.timeouts.create } else { d.timeouts.update },
            tags: d.object_tags(),
        }
    }

    fn ec2(&self) -> &'a aws_sdk_ec2::Client {
        &self.clients.ec2
    }

    /// The gateway before a gateway change whose attachment we managed.
    fn old_gateway(&self) -> Option<String> {
        self.prior_d.as_ref().filter(|p| p.gateway != self.d.gateway && p.manage_attachment).map(|p| p.gateway.clone())
    }

    /// The dedicated route table of the prior state.
    fn prior_route_table(&self) -> Option<String> {
        self.prior_d.as_ref().filter(|p| p.create_route_table)?;
        self.prior.and_then(|p| p.route_table_id.known().cloned())
    }

    async fn run(self, state: &mut ClusterNetworkModel, progress: &mut Progress) -> Result<(), AwsError> {
        let attachment = self.attachment(state, progress).await?;
        check_stop(self.stop)?;
        let route_table = self.route_table(state, progress).await?;
        check_stop(self.stop)?;
        let awaiting = attachment.phase == ec2::AttachmentPhase::PendingAcceptance
            || self.plan_held_routes(state, route_table.as_deref());
        if awaiting {
            self.routes_awaiting_acceptance(state, progress, route_table.as_deref()).await?;
        } else {
            self.routes(state, progress, route_table.as_deref()).await?;
        }
        check_stop(self.stop)?;
        // While the new gateway's attachment waits, the routes still use the old one.
        self.retire_old(route_table.as_deref(), !awaiting, &mut progress.warnings).await?;
        check_stop(self.stop)?;
        let rule_ids = self.rules(state, progress).await?;
        check_stop(self.stop)?;
        self.retag(&attachment, route_table.as_deref(), &rule_ids).await?;
        self.eks_interfaces(state, progress).await
    }

    /// 1. The attachment. Two VGWs cannot be attached to one VPC at once: detach the
    ///    old one first; a TGW is swapped make-before-break.
    async fn attachment(
        &self,
        state: &mut ClusterNetworkModel,
        progress: &mut Progress,
    ) -> Result<ec2::Attachment, AwsError> {
        let (ec2, d, vpc_id) = (self.ec2(), self.d, &self.vpc_id);
        if let Some(old) = &self.old_gateway() {
            if !old.starts_with("tgw-") && !d.gateway.starts_with("tgw-") {
                ec2::delete_attachment(ec2, old, vpc_id, self.timeout).await?;
            }
        }
        let mut made_now = false;
        let attachment = if d.manage_attachment {
            // The prior state records an attachment to this gateway: look before attaching.
            let recorded = self.prior_d.as_ref().is_some_and(|p| p.gateway == d.gateway)
                && self.prior.is_some_and(|p| p.attachment_id.is_known());
            let made = ec2::ensure_attachment(
                ec2,
                &d.gateway,
                vpc_id,
                &d.attachment_subnet_ids,
                &self.tags,
                self.timeout,
                recorded,
            );
            let (attachment, created) = made.await.inspect_err(|e| {
                // One AWS will not make usable is still ours: the state records it, so
                // that destroy or the next apply deletes it.
                if let AwsError::AttachmentState { id, .. } = e {
                    progress.attachment_id = Some(id.clone());
                    progress.attachment_created = Some(true);
                }
            })?;
            made_now = created;
            attachment
        } else {
            self.clients.handover.attachment(ec2, &d.gateway, vpc_id, Phase::Apply).await?.ok_or_else(|| {
                AwsError::Api {
                    operation: "ec2:DescribeTransitGatewayVpcAttachments",
                    code: "AttachmentNotFound".into(),
                    message: format!("manage_attachment is false but VPC {vpc_id} is not attached to {}", d.gateway),
                }
            })?
        };
        if !d.manage_attachment && attachment.phase == ec2::AttachmentPhase::Failed {
            // Not ours to replace: plan names it; this guards a change since the plan.
            return Err(attachment.state_error(vpc_id));
        }
        progress.attachment_id = Some(attachment.id.clone());
        state.attachment_id = Tf::Known(attachment.id.clone());
        let created = made_now || self.attachment_created(&attachment);
        progress.attachment_created = Some(created);
        if !state.attachment_created.is_known() {
            state.attachment_created = Tf::Known(created);
        }
        if attachment.phase == ec2::AttachmentPhase::PendingAcceptance {
            progress.acceptance_foreseen = attachment::plan_foresaw(state, self.prior);
            progress.awaiting_acceptance = Some(attachment.clone());
        }
        if d.manage_attachment && d.gateway.starts_with("tgw-") && attachment.usable() {
            let want: BTreeSet<&String> = d.attachment_subnet_ids.iter().collect();
            let have: BTreeSet<&String> = attachment.subnet_ids.iter().collect();
            let add: Vec<String> = want.difference(&have).map(|s| s.to_string()).collect();
            let remove: Vec<String> = have.difference(&want).map(|s| s.to_string()).collect();
            if !have.is_empty() {
                ec2::modify_attachment_subnets(ec2, &attachment.id, &add, &remove).await?;
            }
        }
        Ok(attachment)
    }

    /// Whether this resource created `attachment`, which it found (did not just make):
    /// what the prior state says of the same attachment; else, for a transit gateway
    /// attachment, whether it carries our tag with this cluster's name (one left by an
    /// interrupted run of ours); one made by hand, or by another cluster's resource
    /// (`DuplicateTransitGatewayAttachment`), was found. A VGW attachment carries no tags.
    fn attachment_created(&self, attachment: &ec2::Attachment) -> bool {
        if !self.d.manage_attachment {
            return false;
        }
        let prior = self.prior.filter(|p| p.attachment_id.known() == Some(&attachment.id));
        if let Some(&created) = prior.and_then(|p| p.attachment_created.known()) {
            return created;
        }
        attachment.tags.iter().any(|(k, v)| k == OWNER_TAG && v == &self.d.cluster_name)
    }

    /// Of the routes `present` that point at our gateway already, the ones this
    /// resource found: recorded as found in the prior state (they stay found, with no
    /// request), or recorded neither way and routing a remote network of another cluster
    /// in the VPC (EKS says so; asked only when there is such a route). One recorded
    /// neither way that no other cluster needs was left by an interrupted run of this
    /// resource (routes carry no tags to say so): it counts as made.
    async fn found_routes(&self, present: &[RouteEntry]) -> Result<Vec<RouteEntry>, AwsError> {
        let made = self.prior.map(ClusterNetworkModel::created_route_entries).unwrap_or_default();
        let adopted = self.prior.map(ClusterNetworkModel::adopted_route_entries).unwrap_or_default();
        let candidates: Vec<&RouteEntry> =
            present.iter().filter(|r| r.target_id == self.d.gateway && !made.iter().any(|m| m.same_route(r))).collect();
        let was_found = |r: &RouteEntry| adopted.iter().any(|a| a.same_route(r));
        let neighbours = if candidates.iter().all(|r| was_found(r)) {
            Vec::new()
        } else {
            super::neighbours::find(self.clients, &self.d.cluster_name, &self.vpc_id).await?
        };
        Ok(candidates
            .into_iter()
            .filter(|r| was_found(r) || neighbours.iter().any(|n| n.routes(&r.destination_cidr)))
            .cloned()
            .collect())
    }

    /// 2. The dedicated route table, and its subnet associations.
    async fn route_table(
        &self,
        state: &mut ClusterNetworkModel,
        progress: &mut Progress,
    ) -> Result<Option<String>, AwsError> {
        let (ec2, d, vpc_id) = (self.ec2(), self.d, &self.vpc_id);
        if !d.create_route_table {
            state.route_table_id = Tf::Null;
            return Ok(None);
        }
        let existing = match &self.prior_route_table() {
            Some(id) => ec2::find_route_tables(ec2, std::slice::from_ref(id)).await?.into_iter().next(),
            None => ec2::find_route_tables_by_tag(ec2, vpc_id, OWNER_TAG, &d.cluster_name).await?.into_iter().next(),
        };
        let rt = match existing {
            Some(rt) => rt,
            None => {
                let id = ec2::create_route_table(ec2, vpc_id, &self.tags).await?;
                progress.route_table_id = Some(id.clone());
                // A retried CreateRouteTable whose first answer was lost leaves a twin:
                // keep ours, delete tagged twins that are still empty.
                let tagged = ec2::find_route_tables_by_tag(ec2, vpc_id, OWNER_TAG, &d.cluster_name).await?;
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
        state.route_table_id = Tf::Known(rt.id.clone());
        Ok(Some(rt.id))
    }

    /// 3. Routes: create or re-point what is needed, remove what no longer is (only
    ///    while it points at our gateway).
    async fn routes(
        &self,
        state: &mut ClusterNetworkModel,
        progress: &mut Progress,
        route_table: Option<&str>,
    ) -> Result<(), AwsError> {
        let (ec2, d) = (self.ec2(), self.d);
        let rts = managed_route_tables(d, route_table);
        let want = desired_routes(d, &rts);
        let prior_routes = self.prior.map(ClusterNetworkModel::route_entries).unwrap_or_default();
        let prior_gateway = self.prior_d.as_ref().map(|p| p.gateway.as_str()).filter(|g| !g.is_empty());
        let mut all_rts: Vec<String> = rts.clone();
        for r in &prior_routes {
            if !all_rts.contains(&r.route_table_id) {
                all_rts.push(r.route_table_id.clone());
            }
        }
        let current = self.clients.handover.route_tables(ec2, &all_rts, Phase::Apply).await?;
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
                    "route table {rt} routes {cidr} to {target}, which this resource did not create; remove that \
                     route or leave {rt} out of route_table_ids"
                ),
            });
        }
        let todo: Vec<RouteEntry> = want
            .iter()
            .filter(|r| lookup(&r.route_table_id, &r.destination_cidr).as_deref() != Some(r.target_id.as_str()))
            .cloned()
            .collect();
        let present: Vec<RouteEntry> = want.iter().filter(|r| !todo.contains(r)).cloned().collect();
        progress.routes.extend(present.iter().cloned());
        let found = self.found_routes(&present).await?;
        progress.adopted_routes.extend(found.iter().cloned());
        // Each write recorded for the process: a later decision on an attachment (this
        // apply's old gateway, a neighbour's destroy) must not count what a read still
        // shows at the gateway the route left.
        let handover = &self.clients.handover;
        let calls = todo.into_iter().map(|r| async move {
            ec2::ensure_route(ec2, &r.route_table_id, &r.destination_cidr, &r.target_id).await?;
            handover.route_written(&r.route_table_id, &r.destination_cidr, Some(&r.target_id));
            Ok(r)
        });
        run_batch(calls, |r| progress.routes.push(r)).await?;
        let wanted: BTreeSet<(String, String)> =
            want.iter().map(|r| (r.route_table_id.clone(), r.destination_cidr.clone())).collect();
        let prior_adopted = self.prior.map(ClusterNetworkModel::adopted_route_entries).unwrap_or_default();
        let mut retired = Vec::new();
        for r in &prior_routes {
            if wanted.contains(&(r.route_table_id.clone(), r.destination_cidr.clone())) {
                continue;
            }
            // Found, not made: never deleted by this resource.
            if prior_adopted.iter().any(|a| a.same_route(r)) {
                continue;
            }
            // The state records a route's live target, so a route another writer
            // re-pointed (the hybrid nodes gateway, an appliance) is theirs now.
            let target = lookup(&r.route_table_id, &r.destination_cidr);
            if target.as_deref().is_some_and(|t| t == d.gateway || Some(t) == prior_gateway) {
                retired.push(r.clone());
            }
        }
        // Who else still needs them: asked only when there are some.
        if !retired.is_empty() {
            let neighbours = super::neighbours::find(self.clients, &d.cluster_name, &self.vpc_id).await?;
            let retired =
                super::neighbours::keep_needed_routes(d, &self.vpc_id, retired, &neighbours, &mut progress.warnings);
            for r in &retired {
                ec2::delete_route(ec2, &r.route_table_id, &r.destination_cidr).await?;
                self.clients.handover.route_written(&r.route_table_id, &r.destination_cidr, None);
            }
        }
        state.set_routes(&want);
        if !list_known(&state.adopted_routes) {
            state.set_adopted_routes(&found);
        }
        Ok(())
    }

    /// Whether the plan kept the routes as they were because the attachment awaited
    /// acceptance then (planned known, yet not the routes the configuration needs): an
    /// attachment accepted since gets its routes from the next plan, not from this apply.
    fn plan_held_routes(&self, state: &ClusterNetworkModel, route_table: Option<&str>) -> bool {
        if !list_known(&state.routes) {
            return false;
        }
        let mut planned = state.route_entries();
        let mut want = desired_routes(self.d, &managed_route_tables(self.d, route_table));
        planned.sort();
        want.sort();
        planned != want
    }

    /// 3'. Routes while the attachment awaits acceptance: none created, none removed; the
    ///    state records what exists (the plan planned them unknown or unchanged).
    async fn routes_awaiting_acceptance(
        &self,
        state: &mut ClusterNetworkModel,
        progress: &mut Progress,
        route_table: Option<&str>,
    ) -> Result<(), AwsError> {
        if list_known(&state.routes) {
            if !list_known(&state.adopted_routes) {
                let adopted = self.prior.map(ClusterNetworkModel::adopted_route_entries).unwrap_or_default();
                state.set_adopted_routes(&adopted);
            }
            return Ok(());
        }
        let rts = managed_route_tables(self.d, route_table);
        let current = ec2::find_route_tables(self.ec2(), &rts).await?;
        let present: Vec<RouteEntry> = desired_routes(self.d, &rts)
            .into_iter()
            .filter_map(|r| {
                let live = current
                    .iter()
                    .find(|t| t.id == r.route_table_id)
                    .and_then(|t| t.routes.iter().find(|x| x.destination_cidr == r.destination_cidr))?;
                Some(RouteEntry { target_id: live.target_id.clone(), ..r })
            })
            .collect();
        progress.routes.extend(present.iter().cloned());
        state.set_routes(&present);
        let found = self.found_routes(&present).await?;
        progress.adopted_routes.extend(found.iter().cloned());
        if !list_known(&state.adopted_routes) {
            state.set_adopted_routes(&found);
        }
        Ok(())
    }

    /// 4. The old gateway's attachment (once the new one carries the routes), and a
    ///    dedicated route table no longer wanted.
    async fn retire_old(
        &self,
        route_table: Option<&str>,
        old_gateway: bool,
        warnings: &mut Diagnostics,
    ) -> Result<(), AwsError> {
        let ec2 = self.ec2();
        if let (Some(old), true) = (&self.old_gateway(), old_gateway) {
            // As at destroy: only one hybridnet made, and only once no other cluster's
            // routes ride on it (the routes this apply re-pointed carry nothing).
            let created = self.prior.and_then(|p| p.attachment_created.known().copied());
            let fate =
                AttachmentFate::read(self.clients, &self.d.cluster_name, &self.vpc_id, old, true, created, false)
                    .await?;
            fate.settle(self.clients, self.timeout, warnings).await?;
        }
        if let (Some(old_rt), None) = (&self.prior_route_table(), route_table) {
            ec2::delete_route_table_and_associations(ec2, old_rt).await?;
        }
        Ok(())
    }

    /// 5. Security group rules: reuse what satisfies a requirement, create the rest,
    ///    revoke ours that are no longer needed. In the rules' group, and in gateway
    ///    mode in the gateway nodes' group too.
    async fn rules(&self, state: &mut ClusterNetworkModel, progress: &mut Progress) -> Result<Vec<String>, AwsError> {
        let (ec2, d) = (self.ec2(), self.d);
        let sg = state.security_group_id.known().cloned();
        let groups = d.rule_groups(sg.as_deref());
        let prior_sg = self.prior.and_then(|p| p.security_group_id.known().cloned());
        let prior_groups: Vec<String> = self
            .prior_d
            .as_ref()
            .map(|p| p.rule_groups(prior_sg.as_deref()))
            .unwrap_or_default()
            .into_iter()
            .map(|(g, _)| g)
            .collect();
        let prior_ids = self.prior.map(|p| strings(&p.security_group_rule_ids)).unwrap_or_default();
        // Groups that no longer get rules: revoke ours there.
        for old in prior_groups.iter().filter(|g| !groups.iter().any(|(x, _)| x == *g)) {
            if !prior_ids.is_empty() {
                let existing = self.clients.handover.rules(ec2, old, Phase::Apply).await?;
                revoke_ours(ec2, old, &existing, &prior_ids, &d.cluster_name, &[]).await?;
            }
        }
        let mut ids = Vec::new();
        let mut adopted = Vec::new();
        for (group, wanted) in &groups {
            let (keep, existing) = self.rules_in_group(group, wanted, progress).await?;
            for id in found_rule_ids(&keep, &existing, &d.cluster_name) {
                if !adopted.contains(&id) {
                    adopted.push(id);
                }
            }
            // Rules we made there for CIDRs, ports or modes no longer configured (the
            // ones just created are in `keep`).
            if prior_groups.contains(group) && !prior_ids.is_empty() {
                revoke_ours(ec2, group, &existing, &prior_ids, &d.cluster_name, &keep).await?;
            }
            ids.extend(keep);
        }
        if !list_known(&state.security_group_rule_ids) {
            // Planned known means unchanged: keep the plan's value.
            state.security_group_rule_ids = tf_strings(&ids);
        }
        if !list_known(&state.adopted_security_group_rule_ids) {
            state.adopted_security_group_rule_ids = tf_strings(&adopted);
        }
        progress.adopted_rule_ids.extend(adopted);
        Ok(ids)
    }

    /// The rules `wanted` in `group`: their IDs (existing or created), in the order of
    /// `wanted`, and the group's rules as read before. One authorize request per
    /// direction.
    async fn rules_in_group(
        &self,
        group: &str,
        wanted: &[hybridnet_rules::SecurityGroupRule],
        progress: &mut Progress,
    ) -> Result<(Vec<String>, Vec<ec2::SgRule>), AwsError> {
        let (ec2, d) = (self.ec2(), self.d);
        let existing = self.clients.handover.rules(ec2, group, Phase::Apply).await?;
        let mut rule_ids = Vec::new();
        let (mut ingress, mut egress) = (Vec::new(), Vec::new());
        for (i, r) in wanted.iter().enumerate() {
            match satisfying_rule(&existing, r, &d.cluster_name) {
                Some(x) => rule_ids.push((i, x.id.clone())),
                None => {
                    let new = ec2::NewRule {
                        protocol: r.protocol.to_string(),
                        from_port: i32::from(r.from_port),
                        to_port: i32::from(r.to_port),
                        cidr: r.cidr.to_string(),
                        description: r.description.clone(),
                    };
                    if r.direction == Direction::Egress { &mut egress } else { &mut ingress }.push((i, new));
                }
            }
        }
        progress.rule_ids.extend(rule_ids.iter().map(|(_, id)| id.clone()));
        // Both directions at once. Each ID is recorded the moment it is known: a stop
        // or a failure of the other request keeps it in the state.
        let tags = &self.tags;
        let found = std::sync::Mutex::new((&mut *progress, Vec::new()));
        let record = |i: usize, id: String| {
            let mut guard = found.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (progress, ids) = &mut *guard;
            progress.rule_ids.push(id.clone());
            ids.push((i, id));
        };
        let authorize = |egress: bool, wanted: Vec<(usize, ec2::NewRule)>| {
            let record = &record;
            async move {
                if wanted.is_empty() {
                    return Ok(());
                }
                let (index, new): (Vec<usize>, Vec<ec2::NewRule>) = wanted.into_iter().unzip();
                ec2::authorize_rules(ec2, group, egress, &new, tags, |k, id| {
                    if let Some(&i) = index.get(k) {
                        record(i, id);
                    }
                })
                .await
            }
        };
        let (in_result, out_result) = tokio::join!(authorize(false, ingress), authorize(true, egress));
        let (_, created) = found.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        rule_ids.extend(created);
        in_result?;
        out_result?;
        rule_ids.sort();
        Ok((rule_ids.into_iter().map(|(_, id)| id).collect(), existing))
    }

    /// 6. Tags on what we own, when they changed.
    async fn retag(
        &self,
        attachment: &ec2::Attachment,
        route_table: Option<&str>,
        rule_ids: &[String],
    ) -> Result<(), AwsError> {
        let d = self.d;
        let Some(p) = &self.prior_d else { return Ok(()) };
        if p.tags == d.tags {
            return Ok(());
        }
        let mut owned: Vec<String> = rule_ids.to_vec();
        if d.manage_attachment && d.gateway.starts_with("tgw-") {
            owned.push(attachment.id.clone());
        }
        if let Some(rt) = route_table {
            owned.push(rt.to_string());
        }
        let new_keys: BTreeSet<&String> = d.tags.iter().map(|(k, _)| k).collect();
        let removed: Vec<String> = p.tags.iter().map(|(k, _)| k).filter(|k| !new_keys.contains(k)).cloned().collect();
        ec2::retag(self.ec2(), &owned, &d.object_tags(), &removed).await
    }

    /// 7. The EKS network interfaces, the gateway nodes' interfaces, and the
    ///    firewall table.
    async fn eks_interfaces(&self, state: &mut ClusterNetworkModel, progress: &mut Progress) -> Result<(), AwsError> {
        if !list_known(&state.gateway_node_ips) {
            let ips = match &self.d.gateway_security_group_id {
                Some(g) if self.d.mode == PodNetworkMode::Gateway => {
                    ec2::interface_ips(&self.clients.handover.interfaces(self.ec2(), g, Phase::Apply).await?)
                }
                _ => Vec::new(),
            };
            state.gateway_node_ips = tf_strings(&ips);
            progress.gateway_ips = Some(ips);
        }
        if !list_known(&state.eks_network_interface_ips) {
            let ips = ec2::find_eks_interface_ips(self.ec2(), &self.vpc_id, &self.d.cluster_name).await?;
            progress.eks_ips = Some(ips.clone());
            state.eks_network_interface_ips = tf_strings(&ips);
        }
        if !list_known(&state.onprem_firewall_rules) {
            state.onprem_firewall_rules =
                firewall_rules(self.d, &strings(&state.eks_network_interface_ips), &strings(&state.gateway_node_ips));
        }
        Ok(())
    }
}

/// Revokes, among `ids`, the rules we created (tagged for this cluster) that are not
/// in `keep`, as `existing` (the group's rules, read by the caller) shows them.
pub async fn revoke_ours(
    ec2: &aws_sdk_ec2::Client,
    sg: &str,
    existing: &[ec2::SgRule],
    ids: &[String],
    cluster: &str,
    keep: &[String],
) -> Result<(), AwsError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = run_guarded(&StopToken::new(), fut).await.expect_err("the panic is an error");
        assert!(matches!(&err, AwsError::Bug { message } if message == "a bug after the first route"), "{err:?}");
        let (summary, detail) = err.summary_and_detail();
        assert_eq!(summary, "Internal error in the hybridnet provider");
        assert!(detail.contains("recorded in the state"), "{detail}");

        let mut state =
            ClusterNetworkModel { attachment_id: Tf::Unknown, routes: Tf::Unknown, ..ClusterNetworkModel::default() };
        progress.fill(&mut state, None);
        assert_eq!(state.attachment_id, Tf::Known("tgw-attach-1".into()));
        assert_eq!(state.route_entries(), vec![route]);
    }
}
