# A valid plan for a cluster in a 10.0.0.0/16 VPC with hybrid nodes on 192.168.0.0/22
# and a routable Cilium pod network on 172.16.0.0/16. Runs offline: no AWS credentials.
terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

data "hybridnet_cidr_plan" "edge" {
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["192.168.0.0/22"]
  remote_pod_cidrs  = ["172.16.0.0/16"]
  cni               = "cilium"
  webhook_ports     = [9443]
}

output "service_cidr" {
  value = data.hybridnet_cidr_plan.edge.effective_service_cidr
}

output "vpc_routes" {
  value = data.hybridnet_cidr_plan.edge.vpc_routes
}

output "cluster_security_group_rules" {
  value = [for r in data.hybridnet_cidr_plan.edge.cluster_security_group_rules :
  "${r.direction} ${r.protocol}/${r.from_port} ${r.cidr}"]
}
