//! Step 7, the EKS network interfaces, the gateway nodes' interfaces, and the
//! on-premises firewall table.

use hybridnet_rules::PodNetworkMode;

use super::super::model::{firewall_rules, list_known, strings, tf_strings, ClusterNetworkModel};
use super::{Converge, Progress};
use crate::aws::handover::Phase;
use crate::aws::{ec2, AwsError};

impl Converge<'_> {
    /// 7. The EKS network interfaces, the gateway nodes' interfaces, and the
    ///    firewall table.
    pub(super) async fn eks_interfaces(
        &self,
        state: &mut ClusterNetworkModel,
        progress: &mut Progress,
    ) -> Result<(), AwsError> {
        if !list_known(&state.gateway_node_ips) {
            let ips = match &self.d.gateway_security_group_id {
                Some(g) if self.d.mode == PodNetworkMode::Gateway => {
                    ec2::interface_ips(&self.clients.handover.interfaces(self.ec2(), g, Phase::Apply).await?)
                }
                _ => Vec::new(),
            };
            state.gateway_node_ips = tf_strings(&ips);
            progress.record(|p| p.gateway_ips = Some(ips));
        }
        if !list_known(&state.eks_network_interface_ips) {
            let ips = ec2::find_eks_interface_ips(self.ec2(), &self.vpc_id, &self.d.cluster_name).await?;
            progress.record(|p| p.eks_ips = Some(ips.clone()));
            state.eks_network_interface_ips = tf_strings(&ips);
        }
        if !list_known(&state.onprem_firewall_rules) {
            state.onprem_firewall_rules =
                firewall_rules(self.d, &strings(&state.eks_network_interface_ips), &strings(&state.gateway_node_ips));
        }
        Ok(())
    }
}
