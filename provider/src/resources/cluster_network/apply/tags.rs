//! Step 6, tags on what we own, when they changed.

use std::collections::BTreeSet;

use super::super::model::{strings, ClusterNetworkModel};
use super::Converge;
use crate::aws::{ec2, AwsError};

impl Converge<'_> {
    /// Step 6: tags on what we own, when they changed; never on what we found
    /// (adopted rules, an attachment we did not create), which would make it ours.
    pub(super) async fn retag(
        &self,
        state: &ClusterNetworkModel,
        attachment: &ec2::Attachment,
        route_table: Option<&str>,
        rule_ids: &[String],
    ) -> Result<(), AwsError> {
        let d = self.d;
        let Some(p) = &self.prior_d else { return Ok(()) };
        if p.tags == d.tags {
            return Ok(());
        }
        let adopted: BTreeSet<String> = strings(&state.adopted_security_group_rule_ids).into_iter().collect();
        let mut owned: Vec<String> = rule_ids.iter().filter(|id| !adopted.contains(*id)).cloned().collect();
        if d.gateway.starts_with("tgw-") && self.attachment_created(attachment) {
            owned.push(attachment.id.clone());
        }
        if let Some(rt) = route_table {
            owned.push(rt.to_string());
        }
        let new_keys: BTreeSet<&String> = d.tags.iter().map(|(k, _)| k).collect();
        let removed: Vec<String> = p.tags.iter().map(|(k, _)| k).filter(|k| !new_keys.contains(k)).cloned().collect();
        ec2::retag(self.ec2(), &owned, &d.object_tags(), &removed).await
    }
}
