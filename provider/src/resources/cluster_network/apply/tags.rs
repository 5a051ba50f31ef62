//! Step 6, tags on what we own, when they changed.

use std::collections::BTreeSet;

use super::Converge;
use crate::aws::{ec2, AwsError};

impl Converge<'_> {
    /// 6. Tags on what we own, when they changed.
    pub(super) async fn retag(
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
}
