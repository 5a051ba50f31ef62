//! The contract between the protocol layer and the provider's logic.
//!
//! The gRPC server (`server.rs`) decodes every request against the schemas declared
//! here, calls one of these methods with plain [`Value`]s, and encodes the answer.
//! Nothing in the protocol layer knows what the resources do, or that AWS exists.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::diag::{AttrPath, Diagnostics};
use super::function::{FunctionError, FunctionSignature};
use super::schema::Schema;
use super::value::Value;

/// All schemas a provider serves.
#[derive(Clone, Debug, Default)]
pub struct ProviderSchemas {
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
    /// Provider-defined functions, by name (without the `provider::NAME::` prefix).
    pub functions: BTreeMap<String, FunctionSignature>,
}

/// The inputs of PlanResourceChange.
pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    /// Null when the resource is being created.
    pub prior_state: &'a Value,
    /// Null when the resource is being destroyed.
    pub proposed_new_state: &'a Value,
    pub config: &'a Value,
    pub prior_private: &'a [u8],
}

/// The answer to PlanResourceChange.
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttrPath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// The inputs of ApplyResourceChange.
pub struct ApplyRequest<'a> {
    pub type_name: &'a str,
    pub prior_state: &'a Value,
    /// Null when the resource is being destroyed.
    pub planned_state: &'a Value,
    pub config: &'a Value,
    pub planned_private: &'a [u8],
    /// Where the apply saves the state of what exists as it goes: what the server
    /// answers, with an error, should the apply panic.
    pub saved: &'a SavedState,
}

/// The state of what an apply has made so far (`None` until first saved;
/// `Some(Value::Null)` when the object is gone). Clones share one slot. The typed
/// layer writes it through [`Checkpoint`](crate::typed::Checkpoint).
#[derive(Clone, Debug, Default)]
pub struct SavedState(Arc<Mutex<Option<Value>>>);

impl SavedState {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `state` as what exists now.
    pub fn save(&self, state: Value) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(state);
    }

    /// The last saved state.
    pub fn get(&self) -> Option<Value> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// The answer to ApplyResourceChange and ReadResource: the new state (null when the
/// object is gone), private data and diagnostics. On a partial failure the state
/// holds what exists, alongside the errors.
pub struct StateResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// One object found by ImportResourceState.
pub struct ImportedResource {
    pub type_name: String,
    pub state: Value,
    pub private: Vec<u8>,
}

fn unsupported(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostics::from_error(
        format!("Unsupported {kind} type"),
        format!("This provider has no {kind} type named {type_name:?}. Check the spelling and the provider version."),
        None,
    )
}

/// What a provider implements. Every method has a conservative default so that a
/// provider with only data sources needs to implement only those.
#[tonic::async_trait]
pub trait ProviderLogic: Send + Sync + 'static {
    /// The provider's short name as users know it (`hybridnet`), for diagnostics.
    fn name(&self) -> &str;

    fn schemas(&self) -> ProviderSchemas;

    /// PrepareProviderConfig: check the provider block (no network).
    async fn validate_provider_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Configure: remember the provider settings. Must not need credentials.
    async fn configure(&self, _config: &Value, _terraform_version: &str) -> Diagnostics {
        Diagnostics::new()
    }

    async fn validate_resource_config(&self, _type_name: &str, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn validate_data_source_config(&self, _type_name: &str, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn read_data_source(&self, type_name: &str, _config: &Value) -> (Value, Diagnostics) {
        (Value::Null, unsupported("data source", type_name))
    }

    /// UpgradeResourceState from an older schema `version`. `decoded` is the raw
    /// state decoded against the current schema (leniently); providers with older
    /// schema versions override this to migrate.
    async fn upgrade_resource_state(&self, _type_name: &str, _version: i64, decoded: Value) -> (Value, Diagnostics) {
        (decoded, Diagnostics::new())
    }

    async fn read_resource(&self, type_name: &str, _current: &Value, _private: &[u8]) -> StateResponse {
        StateResponse { new_state: Value::Null, private: Vec::new(), diagnostics: unsupported("resource", type_name) }
    }

    async fn plan_resource_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        PlanResponse {
            planned_state: Value::Null,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics: unsupported("resource", req.type_name),
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> StateResponse {
        StateResponse {
            new_state: req.prior_state.clone(),
            private: Vec::new(),
            diagnostics: unsupported("resource", req.type_name),
        }
    }

    async fn import_resource_state(&self, type_name: &str, _id: &str) -> (Vec<ImportedResource>, Diagnostics) {
        (Vec::new(), unsupported("resource", type_name))
    }

    /// CallFunction: `args` are decoded against the signature's parameter types
    /// (the variadic ones too, in call order); the answer is encoded against its
    /// return type. The server has checked the argument count, nulls and unknowns.
    async fn call_function(&self, name: &str, _args: Vec<Value>) -> Result<Value, FunctionError> {
        Err(FunctionError::new(format!(
            "The {} provider has no function named {name:?}. Check the spelling and the provider version.",
            self.name()
        )))
    }

    /// Stop: Terraform asks in-flight operations to wind down (Ctrl-C).
    fn stop(&self) {}
}
