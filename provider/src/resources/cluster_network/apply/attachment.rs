//! Step 1, the attachment: created, adopted, replaced or waited for; its subnets kept
//! as configured; whether it is ours recorded.

use std::collections::BTreeSet;

use tfplugin5::typed::Tf;

use super::super::model::{ClusterNetworkModel, OWNER_TAG};
use super::super::plan::attachment as acceptance;
use super::{Converge, Progress};
use crate::aws::handover::Phase;
use crate::aws::{ec2, AwsError};

impl Converge<'_> {
    /// 1. The attachment. Two VGWs cannot be attached to one VPC at once: detach the
    ///    old one first; a TGW is swapped make-before-break.
    pub(super) async fn attachment(
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
                    progress.record(|p| {
                        p.attachment_id = Some(id.clone());
                        p.attachment_created = Some(true);
                    });
                }
            })?;
            made_now = created;
            attachment
        } else {
            self.clients.handover.attachment(ec2, &d.gateway, vpc_id, Phase::Apply).await?.ok_or_else(|| {
                AwsError::Conflict(crate::aws::Conflict::AttachmentNotFound {
                    vpc_id: vpc_id.clone(),
                    gateway: d.gateway.clone(),
                })
            })?
        };
        if !d.manage_attachment && attachment.phase == ec2::AttachmentPhase::Failed {
            // Not ours to replace: plan names it; this guards a change since the plan.
            return Err(attachment.state_error(vpc_id));
        }
        state.attachment_id = Tf::Known(attachment.id.clone());
        let created = made_now || self.attachment_created(&attachment);
        progress.record(|p| {
            p.attachment_id = Some(attachment.id.clone());
            p.attachment_created = Some(created);
        });
        if !state.attachment_created.is_known() {
            state.attachment_created = Tf::Known(created);
        }
        if attachment.phase == ec2::AttachmentPhase::PendingAcceptance {
            progress.acceptance_foreseen = acceptance::plan_foresaw(state, self.prior);
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
    pub(super) fn attachment_created(&self, attachment: &ec2::Attachment) -> bool {
        if !self.d.manage_attachment {
            return false;
        }
        let prior = self.prior.filter(|p| p.attachment_id.known() == Some(&attachment.id));
        if let Some(&created) = prior.and_then(|p| p.attachment_created.known()) {
            return created;
        }
        attachment.tags.iter().any(|(k, v)| k == OWNER_TAG && v == &self.d.cluster_name)
    }
}
