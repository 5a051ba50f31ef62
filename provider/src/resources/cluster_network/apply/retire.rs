//! Step 4, what the change retired: the old gateway's attachment (as at destroy: only
//! ours, only once no neighbour rides on it) and a dedicated route table no longer wanted.

use tfplugin5::Diagnostics;

use super::super::neighbours::AttachmentFate;
use super::Converge;
use crate::aws::{ec2, AwsError};

impl Converge<'_> {
    /// 4. The old gateway's attachment (once the new one carries the routes), and a
    ///    dedicated route table no longer wanted.
    pub(super) async fn retire_old(
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
}
