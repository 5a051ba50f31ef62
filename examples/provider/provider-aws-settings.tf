variable "external_id" {
  type      = string
  sensitive = true
}

provider "hybridnet" {
  region  = "us-west-2"
  profile = "network-admin"

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/hybrid-networking"
    session_name = "terraform"
    external_id  = var.external_id
  }

  endpoints {
    ec2 = "https://vpce-0123-ec2.us-west-2.vpce.amazonaws.com"
  }

  max_retries = 8
}
