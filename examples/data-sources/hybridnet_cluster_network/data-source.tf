data "hybridnet_cluster_network" "audit" {
  cluster_name = "edge"
}

output "missing" {
  value = data.hybridnet_cluster_network.audit.missing
}
