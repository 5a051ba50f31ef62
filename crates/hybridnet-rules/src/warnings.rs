//! What an unroutable pod network gives up, as the reference lists it.

use crate::PodNetworkMode;

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

/// A warning: its summary and what to do (the caller puts it on an attribute).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The one-line summary.
    pub summary: &'static str,
    /// What is wrong and how to make the warning go away.
    pub detail: String,
}

/// `webhook_ports` given while the pods are unroutable: the EKS control plane cannot
/// reach webhooks on hybrid nodes, so no rules are made for the ports (the guide: run
/// webhooks on cloud nodes, or make the pod CIDRs routable). `None` for any other mode
/// or without ports. One text for every type that takes `webhook_ports`.
pub fn webhook_ports_warning(mode: PodNetworkMode, ports: &[u16]) -> Option<Warning> {
    if mode.pods_reachable() || ports.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    Some(Warning {
        summary: "Webhook ports given for an unroutable pod network",
        detail: format!(
            "The pod network is unroutable (pod_network_mode = \"unroutable\"), so the EKS control plane cannot \
             reach pods on hybrid nodes: webhooks there would never be called, and no security group rules are made \
             for webhook_ports ({}). Run the webhooks on cloud nodes in the same EKS cluster and remove \
             webhook_ports, or make the remote pod CIDRs routable on the on-premises network (BGP or static routes) \
             and set pod_network_mode = \"routable\".",
            ports.join(", ")
        ),
    })
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

    #[test]
    fn webhook_ports_warn_only_when_pods_are_unroutable() {
        let w = webhook_ports_warning(PodNetworkMode::Unroutable, &[443, 9443]).expect("a warning");
        assert_eq!(w.summary, "Webhook ports given for an unroutable pod network");
        assert!(w.detail.contains("for webhook_ports (443, 9443)"), "{}", w.detail);
        assert!(w.detail.contains("Run the webhooks on cloud nodes"), "{}", w.detail);
        assert!(w.detail.contains("set pod_network_mode = \"routable\""), "{}", w.detail);
        assert!(w.detail.is_ascii() && !w.detail.contains("  "), "{}", w.detail);
        assert_eq!(webhook_ports_warning(PodNetworkMode::Unroutable, &[]), None);
        assert_eq!(webhook_ports_warning(PodNetworkMode::Routable, &[443]), None);
        assert_eq!(webhook_ports_warning(PodNetworkMode::Gateway, &[443]), None);
    }
}
