# Import by EKS cluster name.
terraform import hybridnet_cluster_network.edge edge
