# infra/network-plan/main.tf: the cluster's networks, checked offline. No backend, no
# AWS-backed resource: `plan` needs no credentials.
terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

data "hybridnet_cidr_plan" "cluster" {
  vpc_cidrs = ["10.0.0.0/16"]
  remote_node_cidrs = [
    "192.168.0.0/22",
    "192.168.8.0/22",
  ]
  remote_pod_cidrs = [
    "172.16.0.0/16",
  ]
  webhook_ports = [9443]
}

output "onprem_firewall_rules" {
  value = data.hybridnet_cidr_plan.cluster.onprem_firewall_rules
}
