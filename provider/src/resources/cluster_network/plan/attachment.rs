//! A transit gateway shared from another account (AWS RAM) without auto-accept: every
//! new VPC attachment waits in `pendingAcceptance` until the gateway's owner accepts it.
//! Plan warns before creating one and, while one waits, plans no routes to the gateway;
//! apply records it with everything else and ends with a warning, never an error (a
//! failed create would taint the resource, and its replacement would delete the
//! attachment the owner is about to accept). The next apply after acceptance adds the
//! routes, keeping the attachment.

use tfplugin5::typed::Tf;
use tfplugin5::{AttrPath, Diagnostics};

use super::context::ClusterContext;
use super::model::{ClusterNetworkModel, Desired};
use crate::aws::ec2::{self, AttachmentPhase};
use crate::aws::{AwsError, Clients};

/// How to accept an attachment in the gateway's account.
fn how_to_accept(owner: &str, id: Option<&str>) -> String {
    let id = id.map_or_else(|| "<attachment ID>".to_string(), str::to_string);
    format!(
        "Accept it in account {owner} (VPC console, `aws ec2 accept-transit-gateway-vpc-attachment \
         --transit-gateway-attachment-id {id}`, or an aws_ec2_transit_gateway_vpc_attachment_accepter resource in a \
         provider configured for that account), or enable \"Auto accept shared attachments\" on the gateway there"
    )
}

/// Plan-time: warns on `transit_gateway_id` when the attachment this plan creates will
/// wait for acceptance, and plans the routes to the gateway unknown (apply adds them only
/// if the attachment is accepted by then); when the recorded attachment still waits,
/// plans the routes unchanged, with a warning. Reads the attachment only when the
/// gateway needs acceptance and the plan would change routes.
pub async fn plan_acceptance(
    clients: &Clients,
    d: &Desired,
    ctx: &ClusterContext,
    gateway: Option<&ec2::Gateway>,
    base: Option<&ClusterNetworkModel>,
    planned: &mut ClusterNetworkModel,
    diags: &mut Diagnostics,
) -> Result<(), AwsError> {
    let Some(gw) = gateway.filter(|g| g.needs_acceptance(&ctx.vpc.owner_id)) else { return Ok(()) };
    let path = Some(AttrPath::attr("transit_gateway_id"));
    match &planned.attachment_id {
        Tf::Unknown if d.manage_attachment => {
            diags.warning(
                "The transit gateway's account must accept the attachment",
                format!(
                    "Transit gateway {} belongs to account {}, not to account {} of VPC {}, and does not accept \
                     shared attachments automatically. The attachment this apply creates will wait in \
                     pendingAcceptance: the apply records it and everything else and ends with a warning, without \
                     the routes to the gateway; the next apply after acceptance adds them. {}.",
                    gw.id,
                    gw.owner_id,
                    ctx.vpc.owner_id,
                    ctx.vpc.id,
                    how_to_accept(&gw.owner_id, None)
                ),
                path,
            );
            planned.routes = Tf::Unknown;
        }
        Tf::Known(id) => {
            let mut want = planned.route_entries();
            let mut have = base.map(ClusterNetworkModel::route_entries).unwrap_or_default();
            want.sort();
            have.sort();
            if !planned.routes.is_known() || want == have {
                return Ok(());
            }
            let a = ec2::find_attachment(&*clients.ec2, &d.gateway, &ctx.vpc.id).await?;
            let Some(a) = a.filter(|a| &a.id == id && a.phase == AttachmentPhase::PendingAcceptance) else {
                return Ok(());
            };
            diags.warning(
                format!("Attachment {} awaits acceptance", a.id),
                format!(
                    "Transit gateway attachment {} of VPC {} is pendingAcceptance: account {}, which owns {}, has not \
                     accepted it yet, so no routes to the gateway are planned. {}, then plan and apply again: the \
                     routes are added in place, keeping this attachment.",
                    a.id,
                    ctx.vpc.id,
                    gw.owner_id,
                    gw.id,
                    how_to_accept(&gw.owner_id, Some(&a.id))
                ),
                path,
            );
            planned.routes = base.map_or(Tf::Unknown, |b| b.routes.clone());
        }
        _ => {}
    }
    Ok(())
}

/// Apply-time: whether the plan foresaw that the routes may wait (planned unknown, or
/// planned unchanged). When it did not (the gateway's owner or its auto-accept setting
/// changed since the plan), the apply still ends with a warning, never an error: the
/// state keeps the routes the plan promised (Terraform requires planned values back),
/// the next refresh finds them missing, and the first apply after acceptance adds them.
pub fn plan_foresaw(planned: &ClusterNetworkModel, prior: Option<&ClusterNetworkModel>) -> bool {
    if !planned.routes.is_known() {
        return true;
    }
    let mut want = planned.route_entries();
    let mut have = prior.map(ClusterNetworkModel::route_entries).unwrap_or_default();
    want.sort();
    have.sort();
    want == have
}

/// The warning an apply ends with when the attachment awaits acceptance: names the
/// attachment, the gateway's owner account (one DescribeTransitGateways, made only
/// here) and what to do.
pub async fn awaiting_acceptance_warning(
    clients: &Clients,
    a: &ec2::Attachment,
    vpc_id: &str,
    foreseen: bool,
) -> Diagnostics {
    let owner = match ec2::find_gateway(&*clients.ec2, &a.gateway_id).await {
        Ok(Some(g)) if !g.owner_id.is_empty() => g.owner_id,
        _ => "the gateway's owner account".to_string(),
    };
    let unforeseen = if foreseen {
        String::new()
    } else {
        " The plan did not foresee this (the gateway's owner or its auto-accept setting changed since): the state \
         lists the routes the plan promised until the next refresh finds them missing."
            .to_string()
    };
    let mut diags = Diagnostics::new();
    diags.warning(
        format!("Attachment {} awaits acceptance: routes not created yet", a.id),
        format!(
            "Transit gateway attachment {} of VPC {vpc_id} to {} is pendingAcceptance: account {owner}, which owns the \
             gateway, must accept it. This apply recorded the attachment and everything else; the routes to {} are \
             added by the first apply after acceptance (the next plan shows them as an in-place update). {}, then \
             run terraform apply again.{unforeseen}",
            a.id,
            a.gateway_id,
            a.gateway_id,
            how_to_accept(&owner, Some(&a.id))
        ),
        Some(AttrPath::attr("transit_gateway_id")),
    );
    diags
}
