//! ApplyResourceChange for a destroy: our rules, our routes (only while they point at
//! our gateway), the dedicated route table, the attachment.

use std::collections::BTreeSet;

use tfplugin5::typed::{ApplyRequest, StateResponse};
use tfplugin5::Diagnostics;

use super::apply::revoke_ours;
use super::context::aws_diag;
use super::model::{strings, ClusterNetworkModel, Desired, RouteEntry};
use crate::aws::handover::Phase;
use crate::aws::{ec2, unless_stopped, Aws, AwsError, Clients};
use crate::resources::shared::run_batch;

pub async fn delete(aws: &Aws, req: ApplyRequest<ClusterNetworkModel>) -> StateResponse<ClusterNetworkModel> {
    let Some(prior) = req.prior else { return StateResponse::new(None) };
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return StateResponse::new(Some(prior)).with_diagnostics(aws_diag(&e, None)),
    };
    let deadline = Desired::from_model(&prior, &mut Diagnostics::new()).timeouts.delete;
    let deleting = unless_stopped(req.stop.cancellation_token(), delete_all(clients, &prior));
    match crate::aws::with_deadline(deadline, deleting).await {
        Ok(()) => StateResponse::new(None),
        Err(e) => StateResponse::new(Some(prior)).with_diagnostics(aws_diag(&clients.explain(e), None)),
    }
}

async fn delete_all(clients: &Clients, prior: &ClusterNetworkModel) -> Result<(), AwsError> {
    let ec2 = &clients.ec2;
    let d = Desired::from_model(prior, &mut Diagnostics::new());
    let vpc_id = prior.vpc_id.known().cloned().unwrap_or_default();
    let ids = strings(&prior.security_group_rule_ids);
    if let (Some(sg), true, false) = (prior.security_group_id.known(), d.manage_rules, ids.is_empty()) {
        let existing = clients.handover.rules(ec2, sg, Phase::Apply).await?;
        revoke_ours(ec2, sg, &existing, &ids, &d.cluster_name, &[]).await?;
    }
    let routes = prior.route_entries();
    let rts: Vec<String> =
        routes.iter().map(|r| r.route_table_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let current = clients.handover.route_tables(ec2, &rts, Phase::Apply).await?;
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
    if let (true, Some(rt)) = (d.create_route_table, prior.route_table_id.known()) {
        ec2::delete_route_table_and_associations(ec2, rt).await?;
    }
    if d.manage_attachment && !d.gateway.is_empty() && !vpc_id.is_empty() {
        ec2::delete_attachment(ec2, &d.gateway, &vpc_id, d.timeouts.delete).await?;
    }
    Ok(())
}
