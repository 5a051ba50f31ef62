//! What an unroutable pod network gives up, as the reference lists it.

/// The CNI running on the hybrid nodes, which changes how pod egress NAT is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cni {
    /// Cilium: masquerades pod egress by default.
    Cilium,
    /// Calico: masquerades pod egress only with `natOutgoing: true` on the IP pool.
    Calico,
}

impl Cni {
    /// `cilium` or `calico`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Cni::Cilium => "cilium",
            Cni::Calico => "calico",
        }
    }
}

/// Warnings for a pod network that is not routable on the on-premises network; empty
/// when it is. One per consequence, in the reference's order: webhooks must run on cloud
/// nodes; cloud workloads (VPC CNI) cannot reach hybrid pods directly; pod egress must be
/// masqueraded (tailored to `cni`: Calico needs `natOutgoing` set to true); other AWS
/// services (Application Load Balancers, Amazon Managed Service for Prometheus) cannot
/// reach hybrid pods.
pub fn unroutable_pod_warnings(pod_network_routable: bool, cni: Option<Cni>) -> Vec<String> {
    if pod_network_routable {
        return Vec::new();
    }
    let nat = match cni {
        Some(Cni::Cilium) => {
            "The remote pod network is not routable, so pod traffic must be masqueraded (NAT) to the node IP as it \
             leaves the on-premises hosts. Cilium does this by default: keep IPv4 masquerading enabled \
             (Helm value enableIPv4Masquerade)."
        }
        Some(Cni::Calico) => {
            "The remote pod network is not routable, so pod traffic must be masqueraded (NAT) to the node IP as it \
             leaves the on-premises hosts. Calico requires natOutgoing to be set to true: set natOutgoing: true on \
             the IP pool of each remote pod CIDR."
        }
        None => {
            "The remote pod network is not routable, so configure your CNI to masquerade (NAT) pod traffic to the \
             node IP as it leaves the on-premises hosts. This is enabled by default in Cilium; Calico requires \
             natOutgoing to be set to true."
        }
    };
    vec![
        "The remote pod network is not routable, so webhooks cannot run on hybrid nodes: the EKS control plane \
         cannot reach the pod IPs of the webhooks. Run webhooks on cloud nodes in the same EKS cluster."
            .to_string(),
        "The remote pod network is not routable, so workloads on cloud nodes (VPC CNI) cannot communicate directly \
         with workloads on hybrid nodes. Use Service Traffic Distribution to keep traffic local to the zone it \
         originates from."
            .to_string(),
        nat.to_string(),
        "The remote pod network is not routable, so other AWS services, such as Application Load Balancers and \
         Amazon Managed Service for Prometheus, cannot communicate with workloads on hybrid nodes (no load \
         balancing to their pods, no scraping of their metrics)."
            .to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routable_pods_give_no_warnings() {
        assert!(unroutable_pod_warnings(true, None).is_empty());
        assert!(unroutable_pod_warnings(true, Some(Cni::Calico)).is_empty());
    }

    #[test]
    fn unroutable_pods_warn_about_each_consequence() {
        let w = unroutable_pod_warnings(false, None);
        assert_eq!(w.len(), 4);
        assert!(w[0].contains("webhooks cannot run on hybrid nodes") && w[0].contains("cloud nodes"), "{}", w[0]);
        assert!(w[1].contains("cloud nodes (VPC CNI) cannot communicate directly"), "{}", w[1]);
        assert!(w[2].contains("masquerade") && w[2].contains("Cilium") && w[2].contains("natOutgoing"), "{}", w[2]);
        assert!(w[3].contains("Application Load Balancers") && w[3].contains("Managed Service for Prometheus"));
    }

    #[test]
    fn calico_warning_names_nat_outgoing() {
        let w = unroutable_pod_warnings(false, Some(Cni::Calico));
        assert_eq!(w.len(), 4);
        assert!(w[2].contains("natOutgoing: true"), "{}", w[2]);
        assert!(!w[2].contains("Cilium"), "{}", w[2]);
    }

    #[test]
    fn cilium_warning_says_it_is_the_default() {
        let w = unroutable_pod_warnings(false, Some(Cni::Cilium));
        assert!(w[2].contains("Cilium does this by default"), "{}", w[2]);
        assert!(!w[2].contains("natOutgoing"), "{}", w[2]);
        assert_eq!(Cni::Cilium.as_str(), "cilium");
        assert_eq!(Cni::Calico.as_str(), "calico");
    }

    #[test]
    fn warnings_are_plain_ascii() {
        for cni in [None, Some(Cni::Cilium), Some(Cni::Calico)] {
            for w in unroutable_pod_warnings(false, cni) {
                assert!(w.is_ascii() && !w.contains("  "), "{w}");
            }
        }
    }
}
