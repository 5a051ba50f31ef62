//! ApplyResourceChange for a destroy: our rules (in the rules' group and, in gateway
//! mode, the VXLAN rules in the gateway nodes' group), the routes we made (only while
//! they point at our gateway, and only those no neighbour still needs), the dedicated
//! route table, the attachment (only when hybridnet made it and no neighbour's routes
//! still ride on it). What the resource found (`adopted_routes`, rules not tagged for
//! this cluster, an attachment made by hand) is never deleted. Kept objects end the
//! destroy with warnings naming the clusters that need them.

use std::collections::BTreeSet;

use tfplugin5::typed::{ApplyRequest, StateResponse};
use tfplugin5::Diagnostics;

use super::apply::revoke_ours;
use super::context::aws_diag;
use super::model::{strings, ClusterNetworkModel, Desired, RouteEntry};
use super::neighbours::{self, AttachmentFate};
use crate::aws::handover::Phase;
use crate::aws::{ec2, Aws, AwsError, Clients};
use crate::resources::shared::run_batch;

pub async fn delete(aws: &Aws, req: ApplyRequest<ClusterNetworkModel>) -> StateResponse<ClusterNetworkModel> {
    let Some(prior) = req.prior else { return StateResponse::new(None) };
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => return StateResponse::new(Some(prior)).with_diagnostics(aws_diag(&e, None)),
    };
    let deadline = Desired::from_model(&prior, &mut Diagnostics::new()).timeouts.delete;
    // A stop drops this at its next await; the registry answers the prior state.
    match crate::aws::with_deadline(deadline, delete_all(clients, &prior)).await {
        Ok(warnings) => StateResponse::new(None).with_diagnostics(warnings),
        Err(e) => StateResponse::new(Some(prior)).with_diagnostics(aws_diag(&clients.explain(e), None)),
    }
}

async fn delete_all(clients: &Clients, prior: &ClusterNetworkModel) -> Result<Diagnostics, AwsError> {
    let ec2 = &*clients.ec2;
    let mut warnings = Diagnostics::new();
    let d = Desired::from_model(prior, &mut Diagnostics::new());
    let vpc_id = prior.vpc_id.known().cloned().unwrap_or_default();

    // Every read first: a read that fails (a missing permission, say) leaves all that
    // the state lists in place, so the error returns the prior state truthfully.
    let routes = prior.route_entries();
    let made = prior.created_route_entries();
    let rts: Vec<String> =
        routes.iter().map(|r| r.route_table_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let current = clients.handover.route_tables(ec2, &rts, Phase::Apply).await?;
    let to_delete: Vec<RouteEntry> = made
        .into_iter()
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
    // The attachment and who else needs what is about to go (neighbours are asked only
    // when something is).
    let created = prior.attachment_created.known().copied();
    let fate = AttachmentFate::read(
        clients,
        &d.cluster_name,
        &vpc_id,
        &d.gateway,
        d.manage_attachment,
        created,
        !to_delete.is_empty(),
    )
    .await?;
    let to_delete = neighbours::keep_needed_routes(&d, &vpc_id, to_delete, fate.neighbours(), &mut warnings);

    let ids = strings(&prior.security_group_rule_ids);
    if !ids.is_empty() {
        // The rules' group and, in gateway mode, the gateway nodes' group (VXLAN).
        for (group, _) in d.rule_groups(prior.security_group_id.known().map(String::as_str)) {
            let existing = clients.handover.rules(ec2, &group, Phase::Apply).await?;
            revoke_ours(ec2, &group, &existing, &ids, &d.cluster_name, &[]).await?;
        }
    }
    let handover = &clients.handover;
    let calls = to_delete.into_iter().map(|r| async move {
        ec2::delete_route(ec2, &r.route_table_id, &r.destination_cidr).await?;
        handover.route_written(&r.route_table_id, &r.destination_cidr, None);
        Ok::<(), AwsError>(())
    });
    run_batch(calls, |()| {}).await?;
    if let (true, Some(rt)) = (d.create_route_table, prior.route_table_id.known()) {
        ec2::delete_route_table_and_associations(ec2, rt).await?;
    }
    fate.settle(clients, d.timeouts.delete, &mut warnings).await?;
    Ok(warnings)
}
