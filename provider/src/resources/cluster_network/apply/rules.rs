//! Step 5, security group rules: an identical existing rule is reused, the missing ones
//! authorized in one request per direction (each ID recorded as it is known), ours no
//! longer wanted revoked.

use hybridnet_rules::Direction;

use super::super::matching::{found_rule_ids, is_ours, satisfying_rule};
use super::super::model::{list_known, strings, tf_strings, ClusterNetworkModel};
use super::{Converge, Progress};
use crate::aws::handover::Phase;
use crate::aws::{ec2, AwsError};

impl Converge<'_> {
    /// 5. Security group rules: reuse what satisfies a requirement, create the rest,
    ///    revoke ours that are no longer needed. In the rules' group, and in gateway
    ///    mode in the gateway nodes' group too.
    pub(super) async fn rules(
        &self,
        state: &mut ClusterNetworkModel,
        progress: &mut Progress,
    ) -> Result<Vec<String>, AwsError> {
        let (ec2, d) = (self.ec2(), self.d);
        let sg = state.security_group_id.known().cloned();
        let groups = d.rule_groups(sg.as_deref());
        let prior_sg = self.prior.and_then(|p| p.security_group_id.known().cloned());
        let prior_groups: Vec<String> = self
            .prior_d
            .as_ref()
            .map(|p| p.rule_groups(prior_sg.as_deref()))
            .unwrap_or_default()
            .into_iter()
            .map(|(g, _)| g)
            .collect();
        let prior_ids = self.prior.map(|p| strings(&p.security_group_rule_ids)).unwrap_or_default();
        // Groups that no longer get rules: revoke ours there.
        for old in prior_groups.iter().filter(|g| !groups.iter().any(|(x, _)| x == *g)) {
            if !prior_ids.is_empty() {
                let existing = self.clients.handover.rules(ec2, old, Phase::Apply).await?;
                revoke_ours(ec2, old, &existing, &prior_ids, &d.cluster_name, &[]).await?;
            }
        }
        let mut ids = Vec::new();
        let mut adopted = Vec::new();
        for (group, wanted) in &groups {
            let (keep, existing) = self.rules_in_group(group, wanted, progress).await?;
            for id in found_rule_ids(&keep, &existing, &d.cluster_name) {
                if !adopted.contains(&id) {
                    adopted.push(id);
                }
            }
            // Rules we made there for CIDRs, ports or modes no longer configured (the
            // ones just created are in `keep`).
            if prior_groups.contains(group) && !prior_ids.is_empty() {
                revoke_ours(ec2, group, &existing, &prior_ids, &d.cluster_name, &keep).await?;
            }
            ids.extend(keep);
        }
        if !list_known(&state.security_group_rule_ids) {
            // Planned known means unchanged: keep the plan's value.
            state.security_group_rule_ids = tf_strings(&ids);
        }
        if !list_known(&state.adopted_security_group_rule_ids) {
            state.adopted_security_group_rule_ids = tf_strings(&adopted);
        }
        progress.record(|p| p.adopted_rule_ids.extend(adopted));
        Ok(ids)
    }

    /// The rules `wanted` in `group`: their IDs (existing or created), in the order of
    /// `wanted`, and the group's rules as read before. One authorize request per
    /// direction.
    pub(super) async fn rules_in_group(
        &self,
        group: &str,
        wanted: &[hybridnet_rules::SecurityGroupRule],
        progress: &mut Progress,
    ) -> Result<(Vec<String>, Vec<ec2::SgRule>), AwsError> {
        let (ec2, d) = (self.ec2(), self.d);
        let existing = self.clients.handover.rules(ec2, group, Phase::Apply).await?;
        let mut rule_ids = Vec::new();
        let (mut ingress, mut egress) = (Vec::new(), Vec::new());
        for (i, r) in wanted.iter().enumerate() {
            match satisfying_rule(&existing, r, &d.cluster_name) {
                Some(x) => rule_ids.push((i, x.id.clone())),
                None => {
                    let new = ec2::NewRule {
                        protocol: r.protocol.to_string(),
                        from_port: i32::from(r.from_port),
                        to_port: i32::from(r.to_port),
                        cidr: r.cidr.to_string(),
                        description: r.description.clone(),
                    };
                    if r.direction == Direction::Egress { &mut egress } else { &mut ingress }.push((i, new));
                }
            }
        }
        progress.record(|p| p.rule_ids.extend(rule_ids.iter().map(|(_, id)| id.clone())));
        // Both directions at once. Each ID is recorded the moment it is known: a stop
        // or a failure of the other request keeps it in the state.
        let tags = &self.tags;
        let found = std::sync::Mutex::new((&mut *progress, Vec::new()));
        let record = |i: usize, id: String| {
            let mut guard = found.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (progress, ids) = &mut *guard;
            progress.record(|p| p.rule_ids.push(id.clone()));
            ids.push((i, id));
        };
        let authorize = |egress: bool, wanted: Vec<(usize, ec2::NewRule)>| {
            let record = &record;
            async move {
                if wanted.is_empty() {
                    return Ok(());
                }
                let (index, new): (Vec<usize>, Vec<ec2::NewRule>) = wanted.into_iter().unzip();
                ec2::authorize_rules(ec2, group, egress, &new, tags, |k, id| {
                    if let Some(&i) = index.get(k) {
                        record(i, id);
                    }
                })
                .await
            }
        };
        let (in_result, out_result) = tokio::join!(authorize(false, ingress), authorize(true, egress));
        let (_, created) = found.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        rule_ids.extend(created);
        in_result?;
        out_result?;
        rule_ids.sort();
        Ok((rule_ids.into_iter().map(|(_, id)| id).collect(), existing))
    }
}

/// Revokes, among `ids`, the rules we created (tagged for this cluster) that are not
/// in `keep`, as `existing` (the group's rules, read by the caller) shows them.
pub async fn revoke_ours(
    ec2: &dyn crate::aws::Ec2,
    sg: &str,
    existing: &[ec2::SgRule],
    ids: &[String],
    cluster: &str,
    keep: &[String],
) -> Result<(), AwsError> {
    let (mut ingress, mut egress) = (Vec::new(), Vec::new());
    for r in existing.iter().filter(|r| ids.contains(&r.id) && !keep.contains(&r.id) && is_ours(r, cluster)) {
        if r.egress {
            egress.push(r.id.clone());
        } else {
            ingress.push(r.id.clone());
        }
    }
    ec2::revoke_rules(ec2, sg, &ingress, &egress).await
}
