//! Step 3, the routes: created or re-pointed where needed, removed only while they
//! point at our gateway and no neighbour needs them; found ones recorded as found;
//! none touched while the attachment awaits acceptance.

use std::collections::BTreeSet;

use super::super::model::{desired_routes, list_known, managed_route_tables, ClusterNetworkModel, RouteEntry};
use super::super::neighbours::{self};
use super::super::plan::context;
use super::{Converge, Progress};
use crate::aws::handover::Phase;
use crate::aws::{ec2, AwsError};
use crate::resources::shared::run_batch;

impl Converge<'_> {
    /// Of the routes `present` that point at our gateway already, the ones this
    /// resource found: recorded as found in the prior state (they stay found, with no
    /// request), or recorded neither way and routing a remote network of another cluster
    /// in the VPC (EKS says so; asked only when there is such a route). One recorded
    /// neither way that no other cluster needs was left by an interrupted run of this
    /// resource (routes carry no tags to say so): it counts as made.
    pub(super) async fn found_routes(&self, present: &[RouteEntry]) -> Result<Vec<RouteEntry>, AwsError> {
        let made = self.prior.map(ClusterNetworkModel::created_route_entries).unwrap_or_default();
        let adopted = self.prior.map(ClusterNetworkModel::adopted_route_entries).unwrap_or_default();
        let candidates: Vec<&RouteEntry> =
            present.iter().filter(|r| r.target_id == self.d.gateway && !made.iter().any(|m| m.same_route(r))).collect();
        let was_found = |r: &RouteEntry| adopted.iter().any(|a| a.same_route(r));
        let neighbours = if candidates.iter().all(|r| was_found(r)) {
            Vec::new()
        } else {
            neighbours::find(self.clients, &self.d.cluster_name, &self.vpc_id).await?
        };
        Ok(candidates
            .into_iter()
            .filter(|r| was_found(r) || neighbours.iter().any(|n| n.routes(&r.destination_cidr)))
            .cloned()
            .collect())
    }

    /// 3. Routes: create or re-point what is needed, remove what no longer is (only
    ///    while it points at our gateway).
    pub(super) async fn routes(
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
            return Err(AwsError::Conflict(crate::aws::Conflict::RouteOwnedByAnotherWriter {
                route_table: rt,
                cidr,
                target,
            }));
        }
        let todo: Vec<RouteEntry> = want
            .iter()
            .filter(|r| lookup(&r.route_table_id, &r.destination_cidr).as_deref() != Some(r.target_id.as_str()))
            .cloned()
            .collect();
        let present: Vec<RouteEntry> = want.iter().filter(|r| !todo.contains(r)).cloned().collect();
        progress.record(|p| p.routes.extend(present.iter().cloned()));
        let found = self.found_routes(&present).await?;
        progress.record(|p| p.adopted_routes.extend(found.iter().cloned()));
        // Each write recorded for the process: a later decision on an attachment (this
        // apply's old gateway, a neighbour's destroy) must not count what a read still
        // shows at the gateway the route left.
        let handover = &self.clients.handover;
        let calls = todo.into_iter().map(|r| async move {
            ec2::ensure_route(ec2, &r.route_table_id, &r.destination_cidr, &r.target_id).await?;
            handover.route_written(&r.route_table_id, &r.destination_cidr, Some(&r.target_id));
            Ok(r)
        });
        run_batch(calls, |r| progress.record(|p| p.routes.push(r))).await?;
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
            let neighbours = neighbours::find(self.clients, &d.cluster_name, &self.vpc_id).await?;
            let retired = neighbours::keep_needed_routes(d, &self.vpc_id, retired, &neighbours, &mut progress.warnings);
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
    pub(super) fn plan_held_routes(&self, state: &ClusterNetworkModel, route_table: Option<&str>) -> bool {
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
    pub(super) async fn routes_awaiting_acceptance(
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
        progress.record(|p| p.routes.extend(present.iter().cloned()));
        state.set_routes(&present);
        let found = self.found_routes(&present).await?;
        progress.record(|p| p.adopted_routes.extend(found.iter().cloned()));
        if !list_known(&state.adopted_routes) {
            state.set_adopted_routes(&found);
        }
        Ok(())
    }
}
