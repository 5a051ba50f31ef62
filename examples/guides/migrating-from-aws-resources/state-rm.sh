# Terraform before 1.7: forget the hand-wired objects (AWS keeps them), then apply.
terraform state rm 'aws_route.onprem' \
  'aws_vpc_security_group_ingress_rule.api_from_onprem' \
  'aws_vpc_security_group_egress_rule.kubelet_to_nodes' \
  'aws_ec2_transit_gateway_vpc_attachment.edge'
terraform apply
