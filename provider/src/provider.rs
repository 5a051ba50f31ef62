//! The hybridnet provider: its schemas, and the dispatch from protocol calls to the
//! resource and data source modules.

use std::collections::BTreeMap;

use crate::data_sources::cidr_plan;
use crate::protocol::provider::{ProviderLogic, ProviderSchemas};
use crate::protocol::{Block, Diagnostics, Schema, Value};

/// The provider's state between calls.
#[derive(Default)]
pub struct Hybridnet {}

impl Hybridnet {
    pub fn new() -> Self {
        Self::default()
    }
}

pub fn provider_schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "The hybridnet provider wires Amazon EKS Hybrid Nodes into AWS networking. `hybridnet_cidr_plan` \
             works offline and needs no configuration or credentials.",
        ),
    )
}

#[tonic::async_trait]
impl ProviderLogic for Hybridnet {
    fn schemas(&self) -> ProviderSchemas {
        let mut data_sources = BTreeMap::new();
        data_sources.insert(cidr_plan::TYPE_NAME.to_string(), cidr_plan::schema());
        ProviderSchemas { provider: provider_schema(), resources: BTreeMap::new(), data_sources }
    }

    async fn configure(&self, _config: &Value, terraform_version: &str) -> Diagnostics {
        tracing::debug!(target: "hybridnet::provider", terraform_version, "configured");
        Diagnostics::new()
    }

    async fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match type_name {
            cidr_plan::TYPE_NAME => cidr_plan::validate(config),
            _ => Diagnostics::new(),
        }
    }

    async fn read_data_source(&self, type_name: &str, config: &Value) -> (Value, Diagnostics) {
        match type_name {
            cidr_plan::TYPE_NAME => cidr_plan::read(config),
            other => (
                Value::Null,
                Diagnostics::from_error(
                    "Unknown data source type",
                    format!("The hybridnet provider has no data source named {other:?}."),
                    None,
                ),
            ),
        }
    }
}
