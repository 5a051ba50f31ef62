//! The hybridnet provider: its block (AWS settings), and the registry of its types —
//! one line per resource, data source or function, against the schemas
//! `hybridnet_schema::provider_schemas()` declares.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tfplugin5::typed::{Abilities, Provider, Registry, Tf};
use tfplugin5::{AttrPath, Diagnostics};

use crate::aws::{AssumeRole, AwsSettings, ConfiguredAws};
use crate::data_sources::cidr_plan::CidrPlan;
use crate::functions::{cidr_problems::CidrProblems, onprem_firewall_rules::OnpremFirewallRules};
use crate::resources::cluster_network::{ClusterNetwork, ClusterNetworkAudit};

pub use hybridnet_schema::provider_schema;

/// Every type of the provider, served as one `ProviderLogic`: the schemas are
/// `hybridnet_schema::provider_schemas()` (the one list of types, which the docs
/// render too), each implementation registered here against its declared name.
/// `Registry::check_registrations` names a declared type without an implementation
/// (main refuses to start, and `every_model_fits_its_schema` fails).
pub fn registry() -> Registry<Hybridnet> {
    let shared = Arc::new(ConfiguredAws::default());
    Registry::declared(Hybridnet { shared: shared.clone() }, hybridnet_schema::provider_schemas())
        .data_source(CidrPlan)
        .data_source(ClusterNetworkAudit::new(shared.clone()))
        .resource_with(ClusterNetwork::new(shared), Abilities::new().import().upgrade())
        .function(CidrProblems)
        .function(OnpremFirewallRules)
}

/// The provider block.
pub struct Hybridnet {
    shared: Arc<ConfiguredAws>,
}

/// The provider block's model (see `hybridnet_schema::provider_schema`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProviderModel {
    pub region: Tf<String>,
    pub profile: Tf<String>,
    pub max_retries: Tf<f64>,
    pub assume_role: Tf<Vec<AssumeRoleModel>>,
    pub endpoints: Tf<Vec<EndpointsModel>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AssumeRoleModel {
    pub role_arn: Tf<String>,
    pub session_name: Tf<String>,
    pub external_id: Tf<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EndpointsModel {
    pub ec2: Tf<String>,
    pub eks: Tf<String>,
}

/// A known, non-empty string.
fn text(v: &Tf<String>) -> Option<String> {
    v.known().filter(|s| !s.is_empty()).cloned()
}

fn first<T: Clone>(v: &Tf<Vec<T>>) -> Option<T> {
    v.known().and_then(|l| l.first()).cloned()
}

fn settings_from(config: &ProviderModel, diags: &mut Diagnostics) -> AwsSettings {
    let max_retries = match config.max_retries {
        Tf::Known(n) if n.fract() == 0.0 && (0.0..=25.0).contains(&n) => Some(n as u32),
        Tf::Known(_) => {
            diags.error(
                "Invalid max_retries",
                "max_retries must be a whole number from 0 to 25.",
                Some(AttrPath::attr("max_retries")),
            );
            None
        }
        _ => None,
    };
    let assume_role = first(&config.assume_role).and_then(|b| {
        let role_arn = text(&b.role_arn)?;
        if !role_arn.starts_with("arn:") {
            diags.error(
                "Invalid role ARN",
                format!("assume_role.role_arn is {role_arn:?}; use a role ARN such as arn:aws:iam::123456789012:role/terraform."),
                Some(AttrPath::attr("assume_role").index(0).then("role_arn")),
            );
        }
        Some(AssumeRole { role_arn, session_name: text(&b.session_name), external_id: text(&b.external_id) })
    });
    let endpoints = first(&config.endpoints).unwrap_or_default();
    for (k, url) in [("ec2", text(&endpoints.ec2)), ("eks", text(&endpoints.eks))] {
        if let Some(url) = url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                diags.error(
                    "Invalid endpoint URL",
                    format!("endpoints.{k} is {url:?}; give a URL such as https://ec2.us-west-2.amazonaws.com."),
                    Some(AttrPath::attr("endpoints").index(0).then(k)),
                );
            }
        }
    }
    AwsSettings {
        region: text(&config.region),
        profile: text(&config.profile),
        assume_role,
        endpoint_ec2: text(&endpoints.ec2),
        endpoint_eks: text(&endpoints.eks),
        max_retries,
    }
}

#[tonic::async_trait]
impl Provider for Hybridnet {
    type Model = ProviderModel;

    fn name(&self) -> &str {
        "hybridnet"
    }

    async fn validate(&self, config: ProviderModel) -> Diagnostics {
        let mut diags = Diagnostics::new();
        settings_from(&config, &mut diags);
        diags
    }

    async fn configure(&self, config: ProviderModel, terraform_version: &str) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let settings = settings_from(&config, &mut diags);
        tracing::debug!(target: "hybridnet::provider", terraform_version, region = ?settings.region, profile = ?settings.profile, "configured");
        self.shared.configure(settings).await;
        diags
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_model_fits_its_schema() {
        if let Err(problems) = super::registry().check_models() {
            panic!("models and schemas disagree:\n{}", problems.join("\n"));
        }
    }
}
