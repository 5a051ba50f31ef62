//! ValidateResourceTypeConfig: shape checks that need no AWS, on known values only.

use tfplugin5::typed::Tf;
use tfplugin5::{AttrPath, Diagnostics};

use super::model::ClusterNetworkModel;

pub fn validate(config: &ClusterNetworkModel) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // CIDR syntax, element by element, where known.
    for (attr, list) in
        [("remote_node_cidrs", &config.remote_node_cidrs), ("remote_pod_cidrs", &config.remote_pod_cidrs)]
    {
        for (i, item) in list.known().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            if let Tf::Known(s) = item {
                if let Err(e) = hybridnet_rules::parse_ipv4_cidr(s) {
                    diags.error(e.summary(), e.detail(), Some(AttrPath::attr(attr).index(i)));
                }
            }
        }
    }
    crate::args::read_pod_network(
        &config.pod_network_mode,
        &config.pod_network_routable,
        &config.gateway_security_group_id,
        &mut diags,
    );
    crate::args::read_node_credential_provider(&config.node_credential_provider, &mut diags);
    let (tgw, vgw) = (&config.transit_gateway_id, &config.vpn_gateway_id);
    if !tgw.is_unknown() && !vgw.is_unknown() {
        match (tgw.is_known(), vgw.is_known()) {
            (true, true) => diags.error(
                "Conflicting gateways",
                "Set exactly one of transit_gateway_id and vpn_gateway_id: the routes can point at only one gateway.",
                Some(AttrPath::attr("vpn_gateway_id")),
            ),
            (false, false) => diags.error(
                "No gateway",
                "Set transit_gateway_id or vpn_gateway_id: the gateway that connects the VPC to the on-premises network.",
                Some(AttrPath::attr("transit_gateway_id")),
            ),
            _ => {}
        }
    }
    diags
}
