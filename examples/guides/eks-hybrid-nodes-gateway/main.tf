# Gateway mode: the EKS Hybrid Nodes gateway owns the pod-CIDR routes; this resource
# keeps the node routes to the transit gateway, the cluster security group rules and
# the VXLAN rules of the gateway nodes' security group. The output is the gateway's
# Helm values, fed from the resource (helm install ... -f values.yaml).
terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet", version = "~> 0.1" }
  }
}

provider "hybridnet" {}

resource "hybridnet_cluster_network" "edge" {
  cluster_name              = "edge"
  remote_node_cidrs         = ["192.168.0.0/22"]
  remote_pod_cidrs          = ["172.16.0.0/16"]
  pod_network_mode          = "gateway"
  gateway_security_group_id = "sg-0123456789abcdef0" # the gateway nodes' group
  transit_gateway_id        = "tgw-0123456789abcdef0"
  attachment_subnet_ids     = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  route_table_ids           = ["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"]
  webhook_ports             = [9443]
}

output "gateway_helm_values" {
  description = "Values for the eks-hybrid-nodes-gateway Helm chart."
  value = yamlencode({
    routeTableIDs = hybridnet_cluster_network.edge.route_table_ids
    podCIDRs      = hybridnet_cluster_network.edge.remote_pod_cidrs
    vpcCIDR       = hybridnet_cluster_network.edge.vpc_cidrs[0]
  })
}

output "onprem_vxlan_peers" {
  description = "Gateway node IPs the on-premises firewall must allow UDP 8472 to and from."
  value       = hybridnet_cluster_network.edge.gateway_node_ips
}
