//! The hybridnet provider: its schemas, its configuration, and the dispatch from
//! protocol calls to the resource and data source modules.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::RwLock;

use crate::aws::{AssumeRole, Aws, AwsSettings, StopToken};
use crate::data_sources::cidr_plan;
use crate::resources::cluster_network;
use tfplugin5::provider::{
    ApplyRequest, ImportedResource, PlanRequest, PlanResponse, ProviderLogic, ProviderSchemas, StateResponse,
};
use tfplugin5::{AttrPath, Diagnostics, Value};

/// The provider's state between calls: AWS settings from Configure, and clients
/// made on first use (so configurations using only `hybridnet_cidr_plan` need no
/// credentials).
pub struct Hybridnet {
    aws: RwLock<Arc<Aws>>,
    /// Cancelled by Terraform's Stop; this instance's applies watch it.
    stop: StopToken,
}

impl Default for Hybridnet {
    fn default() -> Self {
        Hybridnet { aws: RwLock::new(Arc::new(Aws::new(AwsSettings::default()))), stop: StopToken::new() }
    }
}

impl Hybridnet {
    pub fn new() -> Self {
        Self::default()
    }

    async fn aws(&self) -> Arc<Aws> {
        self.aws.read().await.clone()
    }
}

pub use hybridnet_schema::provider_schema;

fn first_block(config: &Value, name: &str) -> Option<Value> {
    config.get_attr(name).and_then(Value::as_list).and_then(|l| l.first()).cloned()
}

fn settings_from(config: &Value, diags: &mut Diagnostics) -> AwsSettings {
    let s = |v: &Value, k: &str| v.get_attr(k).and_then(Value::as_str).map(str::to_string).filter(|s| !s.is_empty());
    let max_retries = match config.get_attr("max_retries").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match v.as_i64() {
            Some(n) if (0..=25).contains(&n) => Some(n as u32),
            _ => {
                diags.error(
                    "Invalid max_retries",
                    "max_retries must be a whole number from 0 to 25.",
                    Some(AttrPath::attr("max_retries")),
                );
                None
            }
        },
    };
    let assume_role = first_block(config, "assume_role").and_then(|b| {
        let role_arn = s(&b, "role_arn")?;
        if !role_arn.starts_with("arn:") {
            diags.error(
                "Invalid role ARN",
                format!("assume_role.role_arn is {role_arn:?}; use a role ARN such as arn:aws:iam::123456789012:role/terraform."),
                Some(AttrPath::attr("assume_role").index(0).then("role_arn")),
            );
        }
        Some(AssumeRole { role_arn, session_name: s(&b, "session_name"), external_id: s(&b, "external_id") })
    });
    let endpoints = first_block(config, "endpoints").unwrap_or(Value::Null);
    for k in ["ec2", "eks"] {
        if let Some(url) = s(&endpoints, k) {
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
        region: s(config, "region"),
        profile: s(config, "profile"),
        assume_role,
        endpoint_ec2: s(&endpoints, "ec2"),
        endpoint_eks: s(&endpoints, "eks"),
        max_retries,
    }
}

fn unknown(kind: &str, name: &str) -> Diagnostics {
    Diagnostics::from_error(
        format!("Unknown {kind} type"),
        format!("The hybridnet provider has no {kind} named {name:?}. Check the spelling and the provider version."),
        None,
    )
}

#[tonic::async_trait]
impl ProviderLogic for Hybridnet {
    fn name(&self) -> &str {
        "hybridnet"
    }

    fn schemas(&self) -> ProviderSchemas {
        let mut data_sources = BTreeMap::new();
        data_sources.insert(cidr_plan::TYPE_NAME.to_string(), cidr_plan::schema());
        data_sources.insert(cluster_network::TYPE_NAME.to_string(), cluster_network::schema::data_source_schema());
        let mut resources = BTreeMap::new();
        resources.insert(cluster_network::TYPE_NAME.to_string(), cluster_network::schema::resource_schema());
        ProviderSchemas { provider: provider_schema(), resources, data_sources }
    }

    async fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if config.is_fully_known() {
            settings_from(config, &mut diags);
        }
        diags
    }

    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let settings = settings_from(config, &mut diags);
        tracing::debug!(target: "hybridnet::provider", terraform_version, region = ?settings.region, profile = ?settings.profile, "configured");
        *self.aws.write().await = Arc::new(Aws::new(settings));
        diags
    }

    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match type_name {
            cluster_network::TYPE_NAME => cluster_network::validate(config),
            other => unknown("resource", other),
        }
    }

    async fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match type_name {
            cidr_plan::TYPE_NAME => cidr_plan::validate(config),
            cluster_network::TYPE_NAME => Diagnostics::new(),
            other => unknown("data source", other),
        }
    }

    async fn read_data_source(&self, type_name: &str, config: &Value) -> (Value, Diagnostics) {
        match type_name {
            cidr_plan::TYPE_NAME => cidr_plan::read(config),
            cluster_network::TYPE_NAME => cluster_network::data_source::read(&*self.aws().await, config).await,
            other => (Value::Null, unknown("data source", other)),
        }
    }

    async fn read_resource(&self, type_name: &str, current: &Value, _private: &[u8]) -> StateResponse {
        match type_name {
            cluster_network::TYPE_NAME => cluster_network::read(&*self.aws().await, current).await,
            other => StateResponse {
                new_state: current.clone(),
                private: Vec::new(),
                diagnostics: unknown("resource", other),
            },
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        match req.type_name {
            cluster_network::TYPE_NAME => cluster_network::plan(&*self.aws().await, req).await,
            other => PlanResponse {
                planned_state: Value::Null,
                requires_replace: Vec::new(),
                planned_private: Vec::new(),
                diagnostics: unknown("resource", other),
            },
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> StateResponse {
        match req.type_name {
            cluster_network::TYPE_NAME => cluster_network::apply(&*self.aws().await, req, &self.stop).await,
            other => StateResponse {
                new_state: req.prior_state.clone(),
                private: Vec::new(),
                diagnostics: unknown("resource", other),
            },
        }
    }

    fn stop(&self) {
        tracing::info!(target: "hybridnet::provider", "stop requested: in-flight applies return what exists");
        self.stop.cancel();
    }

    async fn upgrade_resource_state(&self, type_name: &str, _version: i64, decoded: Value) -> (Value, Diagnostics) {
        match type_name {
            cluster_network::TYPE_NAME => cluster_network::upgrade(decoded),
            _ => (decoded, Diagnostics::new()),
        }
    }

    async fn import_resource_state(&self, type_name: &str, id: &str) -> (Vec<ImportedResource>, Diagnostics) {
        match type_name {
            cluster_network::TYPE_NAME => cluster_network::import(id).await,
            other => (Vec::new(), unknown("resource", other)),
        }
    }
}
