//! Plan-time checks of the EKS Hybrid Nodes gateway's prerequisites (gateway mode):
//! its security group exists, and its nodes' interfaces have the source/destination
//! check off (the gateway forwards traffic that is neither from nor to itself).

use hybridnet_rules::PodNetworkMode;
use tfplugin5::{AttrPath, Diagnostics};

use super::model::Desired;
use crate::aws::handover::Phase;
use crate::aws::{ec2, AwsError, Clients};

pub async fn check(clients: &Clients, d: &Desired, diags: &mut Diagnostics) -> Result<(), AwsError> {
    let (PodNetworkMode::Gateway, Some(group)) = (d.mode, &d.gateway_security_group_id) else { return Ok(()) };
    let attr = || Some(AttrPath::attr("gateway_security_group_id"));
    let ec2 = &*clients.ec2;
    let (rules, interfaces) = tokio::join!(
        clients.handover.rules(ec2, group, Phase::Plan),
        clients.handover.interfaces(ec2, group, Phase::Plan),
    );
    let (rules, interfaces) = (rules?, interfaces?);
    if rules.is_empty() && interfaces.is_empty() && !ec2::security_group_exists(ec2, group).await? {
        diags.error(
            "Gateway security group not found",
            format!(
                "Security group {group} does not exist. Set gateway_security_group_id to the security group of the \
                 EC2 nodes that run the EKS Hybrid Nodes gateway."
            ),
            attr(),
        );
        return Ok(());
    }
    let checked: Vec<&str> = interfaces.iter().filter(|i| i.source_dest_check).map(|i| i.id.as_str()).collect();
    if !checked.is_empty() {
        diags.warning(
            "Source/destination check is on for gateway nodes",
            format!(
                "The EKS Hybrid Nodes gateway forwards traffic for hybrid pods, which EC2 drops while the source/\
                 destination check is on. Network interfaces in {group} with the check on: {}. Turn it off (aws ec2 \
                 modify-network-interface-attribute --network-interface-id <id> --no-source-dest-check; EKS Auto \
                 Mode: NodeClass advancedNetworking.sourceDestCheck: DisabledPrimaryENI).",
                checked.join(", ")
            ),
            attr(),
        );
    }
    Ok(())
}
