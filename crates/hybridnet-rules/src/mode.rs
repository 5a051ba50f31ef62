//! How pods on hybrid nodes reach the VPC: the pod network mode.

use std::fmt;

/// How the remote pod network is reached from the VPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PodNetworkMode {
    /// The pod CIDRs are routed on premises (BGP, static routes): the VPC routes them
    /// to the transit or virtual private gateway.
    #[default]
    Routable,
    /// The CNI masquerades pod traffic to node IPs; nothing in the VPC reaches pods.
    Unroutable,
    /// The EKS Hybrid Nodes gateway tunnels VXLAN to Cilium on the hybrid nodes and
    /// writes the pod-CIDR routes itself, to its own network interface.
    Gateway,
}

/// UDP port of the gateway's VXLAN tunnel (Cilium's default).
pub const VXLAN_PORT: u16 = 8472;

impl PodNetworkMode {
    /// Every mode, in documentation order.
    pub const ALL: [PodNetworkMode; 3] =
        [PodNetworkMode::Routable, PodNetworkMode::Unroutable, PodNetworkMode::Gateway];

    /// `routable`, `unroutable` or `gateway`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PodNetworkMode::Routable => "routable",
            PodNetworkMode::Unroutable => "unroutable",
            PodNetworkMode::Gateway => "gateway",
        }
    }

    /// The mode named `s`, if any.
    pub fn parse(s: &str) -> Option<PodNetworkMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The mode the older boolean `pod_network_routable` meant.
    pub fn from_routable(routable: bool) -> PodNetworkMode {
        if routable {
            PodNetworkMode::Routable
        } else {
            PodNetworkMode::Unroutable
        }
    }

    /// Whether the VPC routes the pod CIDRs to the on-premises gateway (routable only:
    /// in gateway mode the pod routes belong to the EKS Hybrid Nodes gateway).
    pub fn routes_pods(self) -> bool {
        self == PodNetworkMode::Routable
    }

    /// Whether pod traffic reaches the VPC with pod source addresses, and the VPC can
    /// reach pods (routable and gateway): the cluster security group rules for pod
    /// CIDRs and webhooks on hybrid nodes apply.
    pub fn pods_reachable(self) -> bool {
        self != PodNetworkMode::Unroutable
    }

    /// The value of the deprecated `pod_network_routable` for this mode.
    pub fn routable(self) -> bool {
        self == PodNetworkMode::Routable
    }
}

impl fmt::Display for PodNetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_boolean_maps_to_two_modes() {
        for m in PodNetworkMode::ALL {
            assert_eq!(PodNetworkMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(PodNetworkMode::parse("Gateway"), None);
        assert_eq!(PodNetworkMode::from_routable(true), PodNetworkMode::Routable);
        assert_eq!(PodNetworkMode::from_routable(false), PodNetworkMode::Unroutable);
        let table: Vec<(bool, bool, bool)> =
            PodNetworkMode::ALL.iter().map(|m| (m.routes_pods(), m.pods_reachable(), m.routable())).collect();
        assert_eq!(table, vec![(true, true, true), (false, false, false), (false, true, false)]);
    }
}
