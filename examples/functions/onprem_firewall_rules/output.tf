terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

output "onprem_firewall_rules" {
  value = provider::hybridnet::onprem_firewall_rules({
    vpc_cidrs         = ["10.0.0.0/16"]
    remote_node_cidrs = ["192.168.0.0/22"]
    remote_pod_cidrs  = ["172.16.0.0/16"]
    webhook_ports     = [9443]
  })
}
