//! `hybridnet_cluster_network`: the VPC side of EKS Hybrid Nodes in one resource —
//! the gateway attachment, the routes to the remote node and pod CIDRs, and the
//! cluster security group rules — with drift detection and import; and its
//! read-only data source (`data_source.rs`, the audit).
//!
//! One file per lifecycle step: `plan`, `apply` (converge in named steps), `read`
//! (refresh, reconstruct after import), `delete`, `import`, `upgrade`, `validate`.
//! Rules come from `hybridnet_rules`, AWS calls from [`crate::aws`].

pub mod apply;
pub mod attachment;
pub mod context;
pub mod data_source;
pub mod delete;
pub mod gateway;
pub mod import;
pub mod matching;
pub mod model;
pub mod neighbours;
pub mod plan;
mod private;
pub mod quotas;
pub mod read;
pub mod upgrade;
pub mod validate;

use std::sync::Arc;

use tfplugin5::typed::{
    ApplyRequest, ImportResource, PlanRequest, PlanResponse, ReadRequest, Resource, StateResponse, UpgradeState,
};
use tfplugin5::{Diagnostics, Value};

pub use data_source::ClusterNetworkAudit;
pub use hybridnet_schema::cluster_network::{self as schema, TYPE_NAME};
pub use model::ClusterNetworkModel;

use crate::aws::ConfiguredAws;

/// The resource type.
pub struct ClusterNetwork {
    shared: Arc<ConfiguredAws>,
}

impl ClusterNetwork {
    pub fn new(shared: Arc<ConfiguredAws>) -> Self {
        ClusterNetwork { shared }
    }
}

#[tonic::async_trait]
impl Resource for ClusterNetwork {
    type Model = ClusterNetworkModel;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    async fn validate(&self, config: ClusterNetworkModel) -> Diagnostics {
        validate::validate(&config)
    }

    async fn plan(&self, req: PlanRequest<ClusterNetworkModel>) -> PlanResponse<ClusterNetworkModel> {
        plan::plan(&*self.shared.aws().await, req).await
    }

    async fn apply(&self, req: ApplyRequest<ClusterNetworkModel>) -> StateResponse<ClusterNetworkModel> {
        let aws = self.shared.aws().await;
        match req.planned {
            None => delete::delete(&aws, req).await,
            Some(_) => apply::apply(&aws, req).await,
        }
    }

    async fn read(&self, req: ReadRequest<ClusterNetworkModel>) -> StateResponse<ClusterNetworkModel> {
        read::read(&*self.shared.aws().await, req).await
    }
}

/// Opted into at registration (`provider.rs`).
#[tonic::async_trait]
impl ImportResource for ClusterNetwork {
    async fn import(&self, id: &str) -> (Vec<ClusterNetworkModel>, Diagnostics) {
        import::import(id)
    }
}

/// Opted into at registration (`provider.rs`).
#[tonic::async_trait]
impl UpgradeState for ClusterNetwork {
    async fn upgrade(&self, _version: i64, decoded: Value) -> (Value, Diagnostics) {
        upgrade::upgrade(decoded)
    }
}
