//! ApplyResourceChange for a create or an update: `Converge` brings AWS to the plan in
//! named steps, one file each — `attachment`, `route_table`, `routes`, `retire`, `rules`,
//! `tags`, `interfaces` — recording each object in [`Progress`] the moment it exists,
//! so a failure, a stop or a panic part-way still returns the state of what exists.

mod attachment;
mod interfaces;
mod progress;
mod retire;
mod route_table;
mod routes;
mod rules;
#[cfg(test)]
mod steps_tests;
mod tags;

pub use progress::Progress;
pub use rules::revoke_ours;

use tfplugin5::typed::{ApplyRequest, StateResponse};
use tfplugin5::Diagnostics;

use super::model::{ClusterNetworkModel, Desired};
use super::plan::attachment as acceptance;
use super::plan::context::aws_diag;
use crate::aws::{check_stop, ec2, Aws, AwsError, Clients, StopToken};
use crate::resources::shared::run_guarded;

pub async fn apply(aws: &Aws, req: ApplyRequest<ClusterNetworkModel>) -> StateResponse<ClusterNetworkModel> {
    let stop = req.stop.cancellation_token().clone();
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return StateResponse::new(req.prior).with_diagnostics(aws_diag(&e, None)),
    };
    // A destroy goes to `delete` (see `mod.rs`); without a plan there is nothing to do.
    let Some(planned) = req.planned else { return StateResponse::new(req.prior) };
    // Plan refused what does not pass; a planned value that fails now is answered, not dropped.
    let mut shape = Diagnostics::new();
    let d = Desired::from_model(&planned, &mut shape);
    if shape.has_errors() {
        return StateResponse::new(req.prior).with_diagnostics(shape);
    }
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
                diags.extend(acceptance::awaiting_acceptance_warning(clients, a, &vpc_id, foreseen).await);
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

    fn ec2(&self) -> &'a dyn crate::aws::Ec2 {
        &*self.clients.ec2
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
        self.retag(state, &attachment, route_table.as_deref(), &rule_ids).await?;
        self.eks_interfaces(state, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::RouteEntry;
    use super::*;
    use tfplugin5::typed::Tf;

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
