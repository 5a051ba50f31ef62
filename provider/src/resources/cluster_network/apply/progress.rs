//! What an apply has established so far: the one record a step writes the moment an
//! object exists, and from which a failure, a stop or a panic answers. Each record is
//! saved at once, as a state, to the protocol's [`Checkpoint`]: a panic or a stop ends
//! the apply in the registry, which answers that checkpoint with an error.

use std::collections::BTreeSet;

use tfplugin5::typed::{Checkpoint, Tf};
use tfplugin5::Diagnostics;

use super::super::model::{list_known, strings, tf_strings, ClusterNetworkModel, RouteEntry};
use crate::aws::ec2;

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
    /// Where every record is saved (with the planned and prior states it fills).
    saving: Option<Saving>,
}

struct Saving {
    checkpoint: Checkpoint<ClusterNetworkModel>,
    planned: ClusterNetworkModel,
    prior: Option<ClusterNetworkModel>,
}

impl Progress {
    /// A record saved to `checkpoint` as it grows, starting now (nothing done yet: the
    /// planned state filled from the prior one).
    pub fn saving_to(
        checkpoint: Checkpoint<ClusterNetworkModel>,
        planned: &ClusterNetworkModel,
        prior: Option<&ClusterNetworkModel>,
    ) -> Self {
        let saving = Saving { checkpoint, planned: planned.clone(), prior: prior.cloned() };
        let progress = Progress { saving: Some(saving), ..Progress::default() };
        progress.save();
        progress
    }

    /// Records what a step completed, and saves it at once.
    pub fn record(&mut self, what: impl FnOnce(&mut Self)) {
        what(self);
        self.save();
    }

    fn save(&self) {
        let Some(s) = &self.saving else { return };
        let mut state = s.planned.clone();
        self.fill(&mut state, s.prior.as_ref());
        if let Err(e) = s.checkpoint.save(&state) {
            tracing::error!(target: "hybridnet::cluster_network", error = %e, "the partial state does not fit the schema");
        }
    }

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
