//! `hybridnet_cluster_network`: the VPC side of EKS Hybrid Nodes in one resource —
//! the gateway attachment, the routes to the remote node and pod CIDRs, and the
//! cluster security group rules — with drift detection and import. Its read-only
//! data source (the audit) is `crate::data_sources::cluster_network`.
//!
//! Laid out by step: `plan/` (mod.rs, then one file per family of checks: `context`, `surroundings`,
//! `gateway`, `private`, `attachment`, `quotas`), `apply/` (one file per named step),
//! `read`, `delete`, `import`, `upgrade`, `validate`; shared: `model`, `matching`
//! (the one rule matcher), `neighbours` (who else needs what we would delete).
//! Rules come from `hybridnet_rules`, AWS calls from [`crate::aws`].

pub mod apply;
pub mod delete;
pub mod import;
pub mod matching;
pub mod model;
pub mod neighbours;
pub mod plan;
pub mod read;
pub mod upgrade;
pub mod validate;

use std::sync::Arc;

use tfplugin5::typed::{
    ApplyRequest, ImportResource, PlanRequest, PlanResponse, ReadRequest, Resource, StateResponse, UpgradeState,
};
use tfplugin5::{Diagnostics, Value};

pub use crate::data_sources::cluster_network::ClusterNetworkAudit;
pub use hybridnet_schema::cluster_network::{self as schema, TYPE_NAME};
pub use model::ClusterNetworkModel;
pub(crate) use plan::private;
pub use plan::{attachment, context, gateway, quotas};

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
