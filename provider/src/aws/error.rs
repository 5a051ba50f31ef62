//! Our own conflicts: what the provider finds in AWS that stops it, though no AWS call
//! failed. They are not AWS errors and carry no made-up AWS codes; they become
//! diagnostics in one place, with AWS's errors (`AwsError::summary_and_detail`).

/// A state of AWS the resource will not work around.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// EKS reports no VPC for the cluster, and none of its subnets could be found.
    #[error("cluster {cluster} reports no VPC and none of its subnets could be found")]
    NoVpc { cluster: String },
    /// `manage_attachment = false`, yet the VPC is not attached to the gateway.
    #[error("manage_attachment is false but VPC {vpc_id} is not attached to {gateway}")]
    AttachmentNotFound { vpc_id: String, gateway: String },
    /// A route the resource needs exists, pointing elsewhere, and is not ours.
    #[error(
        "route table {route_table} routes {cidr} to {target}, which this resource did not create; remove that \
         route or leave {route_table} out of route_table_ids"
    )]
    RouteOwnedByAnotherWriter { route_table: String, cidr: String, target: String },
}

impl Conflict {
    /// The call that found it, and the name it is reported under.
    pub fn operation_and_name(&self) -> (&'static str, &'static str) {
        match self {
            Conflict::NoVpc { .. } => ("eks:DescribeCluster", "NoVpc"),
            Conflict::AttachmentNotFound { .. } => ("ec2:DescribeTransitGatewayVpcAttachments", "AttachmentNotFound"),
            Conflict::RouteOwnedByAnotherWriter { .. } => ("ec2:ReplaceRoute", "RouteOwnedByAnotherWriter"),
        }
    }

    /// Summary and detail (the text they always had).
    pub fn summary_and_detail(&self) -> (String, String) {
        let (operation, name) = self.operation_and_name();
        let advice = match self {
            Conflict::AttachmentNotFound { .. } => "Check the IDs in the configuration and the provider's region.",
            _ => "Check the IDs in the configuration and the caller's IAM permissions.",
        };
        (format!("AWS {operation} failed: {name}"), format!("{self} (error code {name}). {advice}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;

    #[test]
    fn conflicts_become_one_diagnostic_text_in_one_place() {
        let c = Conflict::RouteOwnedByAnotherWriter {
            route_table: "rtb-1".into(),
            cidr: "10.80.0.0/16".into(),
            target: "eni-1".into(),
        };
        let (summary, detail) = AwsError::Conflict(c).summary_and_detail();
        assert_eq!(summary, "AWS ec2:ReplaceRoute failed: RouteOwnedByAnotherWriter");
        assert_eq!(
            detail,
            "route table rtb-1 routes 10.80.0.0/16 to eni-1, which this resource did not create; remove that route \
             or leave rtb-1 out of route_table_ids (error code RouteOwnedByAnotherWriter). Check the IDs in the \
             configuration and the caller's IAM permissions."
        );
        let c = Conflict::AttachmentNotFound { vpc_id: "vpc-1".into(), gateway: "tgw-1".into() };
        let (summary, detail) = AwsError::Conflict(c).summary_and_detail();
        assert_eq!(summary, "AWS ec2:DescribeTransitGatewayVpcAttachments failed: AttachmentNotFound");
        assert!(
            detail.ends_with(
                "(error code AttachmentNotFound). Check the IDs in the configuration and the provider's region."
            ),
            "{detail}"
        );
        let (summary, _) = AwsError::Conflict(Conflict::NoVpc { cluster: "c1".into() }).summary_and_detail();
        assert_eq!(summary, "AWS eks:DescribeCluster failed: NoVpc");
    }
}
