//! How hybrid nodes get their AWS credentials: nodeadm's two credential providers, and
//! the interface VPC endpoints each needs in a private cluster's VPC (the guide: `ssm`
//! and `ssmmessages` for SSM hybrid activations, `rolesanywhere` for IAM Roles
//! Anywhere).

use std::fmt;

/// nodeadm's credential provider (`spec.hybrid.ssm` or `spec.hybrid.iamRolesAnywhere`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeCredentialProvider {
    /// AWS Systems Manager hybrid activations.
    Ssm,
    /// IAM Roles Anywhere.
    IamRa,
}

impl NodeCredentialProvider {
    /// Both, in documentation order.
    pub const ALL: [NodeCredentialProvider; 2] = [NodeCredentialProvider::Ssm, NodeCredentialProvider::IamRa];

    /// nodeadm's name: `ssm` or `iam-ra`.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeCredentialProvider::Ssm => "ssm",
            NodeCredentialProvider::IamRa => "iam-ra",
        }
    }

    /// The provider named `s`, if any.
    pub fn parse(s: &str) -> Option<NodeCredentialProvider> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The service's name, for messages.
    pub fn title(&self) -> &'static str {
        match self {
            NodeCredentialProvider::Ssm => "SSM hybrid activations",
            NodeCredentialProvider::IamRa => "IAM Roles Anywhere",
        }
    }

    /// The interface VPC endpoint services (the last part of `com.amazonaws.<region>.x`)
    /// the nodes need with this provider when the cluster is private.
    pub fn endpoint_services(&self) -> &'static [&'static str] {
        match self {
            NodeCredentialProvider::Ssm => &["ssm", "ssmmessages"],
            NodeCredentialProvider::IamRa => &["rolesanywhere"],
        }
    }

    /// `"ssm" or "iam-ra"`, as messages list the allowed values.
    pub fn names() -> String {
        let names: Vec<String> = Self::ALL.iter().map(|p| format!("{:?}", p.as_str())).collect();
        names.join(" or ")
    }
}

impl fmt::Display for NodeCredentialProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_each_has_its_endpoints() {
        for p in NodeCredentialProvider::ALL {
            assert_eq!(NodeCredentialProvider::parse(p.as_str()), Some(p));
            assert_eq!(p.to_string(), p.as_str());
        }
        assert_eq!(NodeCredentialProvider::parse("iam_ra"), None);
        assert_eq!(NodeCredentialProvider::parse("SSM"), None);
        assert_eq!(NodeCredentialProvider::names(), r#""ssm" or "iam-ra""#);
        assert_eq!(NodeCredentialProvider::Ssm.endpoint_services(), ["ssm", "ssmmessages"]);
        assert_eq!(NodeCredentialProvider::IamRa.endpoint_services(), ["rolesanywhere"]);
        assert_eq!(NodeCredentialProvider::IamRa.title(), "IAM Roles Anywhere");
    }
}
