//! The typed layer: a provider's resources and data sources as Rust types instead
//! of hand-read [`Value`]s, in the spirit of terraform-plugin-framework.
//!
//! A type implements one trait ([`Resource`], [`DataSource`], [`Function`], or
//! [`Provider`] for the provider block) whose `Model` is a serde type mirroring the schema's object:
//! one field per attribute or nested block, [`Tf<T>`] wherever Terraform may leave a
//! value null or unknown. A [`Registry`] collects them — one line per type, each against the name a declared
//! list of schemas gives it ([`Registry::declared`]) — and is
//! the [`ProviderLogic`](super::provider::ProviderLogic) the gRPC server calls: it
//! decodes requests into models ([`from_value`]), calls the typed method, encodes
//! the answer against the schema ([`to_value`]) and merges diagnostics. A value that
//! does not fit the model is an error diagnostic pointing at the attribute, never a
//! panic.
//!
//! [`Registry::check_models`] builds sample values from every schema and runs them
//! through the models, so a test can assert that schema and Rust type agree.
//!
//! This module knows no provider, resource or attribute names: the provider passes
//! every type name in.

pub mod de;
pub mod plan_rules;
pub mod registry;
pub mod ser;
pub mod tf;

#[cfg(test)]
mod example;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

pub use de::{from_value, TypedError, ValueDeserializer};
pub use registry::Registry;
pub use ser::{conform, to_value, to_value_untyped, ValueSerializer};
pub use tf::Tf;

use super::diag::{AttrPath, Diagnostics};
use super::function::{FunctionError, FunctionSignature};
use super::provider::SavedState;
use super::schema::Schema;
use super::types::Type;
use super::value::Value;

// ---------------------------------------------------------------------------
// Stop and checkpoints
// ---------------------------------------------------------------------------

/// Terraform's request to wind down (Ctrl-C), as a cheap clonable handle. One per
/// [`Registry`] (never process-global), handed to every plan, apply and read;
/// long operations check [`StopToken::is_stopped`] between steps or race their work
/// against [`StopToken::stopped`], and then return what exists. An apply need not
/// race it: the registry does, and answers its [`Checkpoint`].
#[derive(Clone, Debug, Default)]
pub struct StopToken(CancellationToken);

impl StopToken {
    /// A token that is not stopped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Completes once a stop is requested (at once if it already was).
    pub async fn stopped(&self) {
        self.0.cancelled().await
    }

    /// Requests the stop. The registry calls this when Terraform sends Stop; tests
    /// may call it to simulate one.
    pub fn stop(&self) {
        self.0.cancel()
    }

    /// The underlying token, for APIs that take a [`CancellationToken`].
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.0
    }
}

/// Where an apply records how far it got, so that a panic or a stop halfway still
/// answers the state of what exists. Clonable; the clones share one slot.
///
/// This is the one way an apply ends without its own answer: the registry runs every
/// apply under the one panic guard of its path and races it against the
/// [`StopToken`]. A panicking apply, or one Terraform stopped (dropped at its next
/// await, so no new change starts), answers the last [`Checkpoint::save`]d state (or
/// null after [`Checkpoint::save_gone`]) with an error diagnostic, and the prior state
/// when nothing was saved. The same checkpoint is the fallback when the apply's answer
/// cannot be encoded. An apply that ends by itself (an error it can explain) answers
/// its own state.
pub struct Checkpoint<M> {
    slot: SavedState,
    ty: Arc<Type>,
    _model: PhantomData<fn(&M)>,
}

impl<M> Clone for Checkpoint<M> {
    fn clone(&self) -> Self {
        Checkpoint { slot: self.slot.clone(), ty: Arc::clone(&self.ty), _model: PhantomData }
    }
}

impl<M> fmt::Debug for Checkpoint<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint").field("saved", &self.saved()).finish()
    }
}

impl<M> Checkpoint<M> {
    /// An empty checkpoint for values of type `ty` (the schema's
    /// [`Schema::value_type`]). The registry makes one per apply; tests of a
    /// resource may make their own.
    pub fn new(ty: Type) -> Self {
        Self::over(SavedState::new(), ty)
    }

    /// A checkpoint writing into `slot` (the request's, which the server answers from).
    pub fn over(slot: SavedState, ty: Type) -> Self {
        Checkpoint { slot, ty: Arc::new(ty), _model: PhantomData }
    }

    /// Records that the object no longer exists (a delete got far enough).
    pub fn save_gone(&self) {
        self.put(Value::Null);
    }

    /// The last saved state as a value: `None` when nothing was saved,
    /// `Some(Value::Null)` after [`Checkpoint::save_gone`].
    pub fn saved(&self) -> Option<Value> {
        self.slot.get()
    }

    fn put(&self, v: Value) {
        self.slot.save(v);
    }
}

impl<M: Serialize> Checkpoint<M> {
    /// Records `state` as what exists now. It is encoded at once, so an error here
    /// means the model does not fit the schema (and nothing was recorded).
    pub fn save(&self, state: &M) -> Result<(), TypedError> {
        let v = to_value(state, &self.ty)?;
        self.put(v);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------

/// PlanResourceChange, typed.
#[derive(Clone, Debug)]
pub struct PlanRequest<M> {
    /// `None` when the object is being created.
    pub prior: Option<M>,
    /// Terraform's proposal (config merged over the prior state); `None` when the
    /// object is being destroyed.
    pub proposed: Option<M>,
    /// The configuration; `None` when the object is being destroyed. May hold
    /// unknowns.
    pub config: Option<M>,
    pub prior_private: Vec<u8>,
    pub stop: StopToken,
    /// The arguments declared [`requires_replace`](crate::Attribute::requires_replace)
    /// that this plan changes: when not empty, the object is replaced (the plan builds
    /// a new object). The registry lists them in the answer.
    pub requires_replace: Vec<AttrPath>,
}

/// The answer to PlanResourceChange.
#[derive(Clone, Debug)]
pub struct PlanResponse<M> {
    /// `None` when the object will be destroyed.
    pub planned: Option<M>,
    /// Attributes whose change forces replacing the object.
    pub requires_replace: Vec<AttrPath>,
    /// Private data for apply; `None` keeps the prior private data.
    pub private: Option<Vec<u8>>,
    pub diagnostics: Diagnostics,
}

impl<M> PlanResponse<M> {
    /// A plan with no replacement, private data or diagnostics.
    pub fn new(planned: Option<M>) -> Self {
        PlanResponse { planned, requires_replace: Vec::new(), private: None, diagnostics: Diagnostics::new() }
    }

    /// No plan, only diagnostics.
    pub fn error(diagnostics: Diagnostics) -> Self {
        PlanResponse { diagnostics, ..Self::new(None) }
    }

    /// Adds an attribute whose change forces replacement.
    pub fn replace(mut self, path: AttrPath) -> Self {
        self.requires_replace.push(path);
        self
    }

    pub fn with_private(mut self, private: Vec<u8>) -> Self {
        self.private = Some(private);
        self
    }

    pub fn with_diagnostics(mut self, diagnostics: Diagnostics) -> Self {
        self.diagnostics.extend(diagnostics);
        self
    }
}

/// ApplyResourceChange, typed.
#[derive(Clone, Debug)]
pub struct ApplyRequest<M> {
    /// `None` when the object is being created.
    pub prior: Option<M>,
    /// `None` when the object is being deleted. Computed attributes the plan left
    /// unknown are [`Tf::Unknown`] here.
    pub planned: Option<M>,
    /// The configuration; `None` when deleting.
    pub config: Option<M>,
    pub planned_private: Vec<u8>,
    pub stop: StopToken,
    /// Record progress here; see [`Checkpoint`].
    pub checkpoint: Checkpoint<M>,
}

/// ReadResource, typed.
#[derive(Clone, Debug)]
pub struct ReadRequest<M> {
    /// The state as Terraform knows it.
    pub current: M,
    pub private: Vec<u8>,
    pub stop: StopToken,
}

/// The answer to ApplyResourceChange and ReadResource. On a partial failure the
/// state holds what exists, alongside the errors.
#[derive(Clone, Debug)]
pub struct StateResponse<M> {
    /// `None` when the object does not exist (deleted, or gone outside Terraform).
    pub new_state: Option<M>,
    /// `None` keeps the private data that came in (planned private data for apply,
    /// the current private data for read).
    pub private: Option<Vec<u8>>,
    pub diagnostics: Diagnostics,
}

impl<M> StateResponse<M> {
    /// A state with no private data change and no diagnostics.
    pub fn new(new_state: Option<M>) -> Self {
        StateResponse { new_state, private: None, diagnostics: Diagnostics::new() }
    }

    pub fn with_private(mut self, private: Vec<u8>) -> Self {
        self.private = Some(private);
        self
    }

    pub fn with_diagnostics(mut self, diagnostics: Diagnostics) -> Self {
        self.diagnostics.extend(diagnostics);
        self
    }
}

// ---------------------------------------------------------------------------
// The traits
// ---------------------------------------------------------------------------

/// A data source: reads something and reports it, never changes anything.
#[tonic::async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// The whole object: arguments and computed attributes.
    type Model: Serialize + DeserializeOwned + Send + Sync;

    /// The full type name, such as `"example_thing"`.
    fn type_name(&self) -> &'static str;

    /// The schema, for a registry made without a declared list ([`Registry::new`])
    /// or a type the list does not name; `None` (the default): the declared one.
    fn schema(&self) -> Option<Schema> {
        None
    }

    /// Checks the configuration without network access. Arguments may be unknown;
    /// computed attributes are null.
    async fn validate(&self, _config: Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// Reads: the configuration in, the whole object out.
    async fn read(&self, config: Self::Model, stop: StopToken) -> (Option<Self::Model>, Diagnostics);
}

/// A managed resource.
#[tonic::async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The whole object: arguments and computed attributes.
    type Model: Serialize + DeserializeOwned + Send + Sync + Clone;

    /// The full type name, such as `"example_thing"`.
    fn type_name(&self) -> &'static str;

    /// The schema, for a registry made without a declared list ([`Registry::new`])
    /// or a type the list does not name; `None` (the default): the declared one.
    fn schema(&self) -> Option<Schema> {
        None
    }

    /// Checks the configuration without network access. Any argument may be
    /// unknown; computed attributes are null.
    async fn validate(&self, _config: Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// Plans a create (`prior` is `None`), update, or destroy (`proposed` is `None`).
    async fn plan(&self, req: PlanRequest<Self::Model>) -> PlanResponse<Self::Model>;

    /// Carries out the plan: create, update, or delete (`planned` is `None`).
    async fn apply(&self, req: ApplyRequest<Self::Model>) -> StateResponse<Self::Model>;

    /// Refreshes the state; `new_state: None` when the object is gone.
    async fn read(&self, req: ReadRequest<Self::Model>) -> StateResponse<Self::Model>;
}

/// The ability to be imported (`terraform import`, `import {}` blocks), which a
/// resource opts into at registration: `Registry::resource_with(r,
/// Abilities::new().import())`. Without it, import answers "Import not supported".
#[tonic::async_trait]
pub trait ImportResource: Resource {
    /// Finds the object(s) named by `id`. The states returned are read (with
    /// [`Resource::read`]) before Terraform stores them, so they need only what read
    /// needs.
    async fn import(&self, id: &str) -> (Vec<Self::Model>, Diagnostics);
}

/// The ability to migrate state stored under an older schema version, which a
/// resource opts into at registration: `Registry::resource_with(r,
/// Abilities::new().upgrade())`. Without it, stored state passes through as it is
/// (it must still fit the model).
#[tonic::async_trait]
pub trait UpgradeState: Resource {
    /// Migrates state stored under an older schema `version`.
    ///
    /// Raw on purpose: older schema versions do not fit today's model. `decoded` is
    /// the stored state read leniently against today's schema. The registry checks
    /// that the answer fits the model.
    async fn upgrade(&self, version: i64, decoded: Value) -> (Value, Diagnostics);
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
type ImportFn<R> = for<'a> fn(&'a R, &'a str) -> BoxFuture<'a, (Vec<<R as Resource>::Model>, Diagnostics)>;
type UpgradeFn<R> = for<'a> fn(&'a R, i64, Value) -> BoxFuture<'a, (Value, Diagnostics)>;

fn import_fn<'a, R: ImportResource>(r: &'a R, id: &'a str) -> BoxFuture<'a, (Vec<R::Model>, Diagnostics)> {
    r.import(id)
}

fn upgrade_fn<R: UpgradeState>(r: &R, version: i64, decoded: Value) -> BoxFuture<'_, (Value, Diagnostics)> {
    r.upgrade(version, decoded)
}

/// What a resource can do beyond plan, apply and read, chosen at registration
/// ([`Registry::resource_with`]): `Abilities::new().import().upgrade()`.
pub struct Abilities<R: Resource> {
    import: Option<ImportFn<R>>,
    upgrade: Option<UpgradeFn<R>>,
}

impl<R: Resource> Default for Abilities<R> {
    fn default() -> Self {
        Abilities { import: None, upgrade: None }
    }
}

impl<R: Resource> Abilities<R> {
    /// None: import not supported, stored state passed through.
    pub fn new() -> Self {
        Self::default()
    }

    /// The resource can be imported ([`ImportResource`]).
    pub fn import(mut self) -> Self
    where
        R: ImportResource,
    {
        self.import = Some(import_fn::<R>);
        self
    }

    /// The resource migrates older state ([`UpgradeState`]).
    pub fn upgrade(mut self) -> Self
    where
        R: UpgradeState,
    {
        self.upgrade = Some(upgrade_fn::<R>);
        self
    }

    pub(crate) fn run_import<'a>(&self, r: &'a R, id: &'a str) -> Option<BoxFuture<'a, (Vec<R::Model>, Diagnostics)>> {
        self.import.map(|f| f(r, id))
    }

    pub(crate) fn run_upgrade<'a>(
        &self,
        r: &'a R,
        version: i64,
        decoded: Value,
    ) -> Option<BoxFuture<'a, (Value, Diagnostics)>> {
        self.upgrade.map(|f| f(r, version, decoded))
    }
}

/// A provider-defined function (`provider::NAME::FUNCTION(...)`, Terraform 1.8+,
/// OpenTofu 1.7+): pure, offline, typed arguments in and a typed result out.
///
/// The registry decodes the arguments into [`Function::Args`] as one object whose
/// attributes are the parameters' names (a variadic parameter's name holds the list of
/// its arguments), so `Args` is a struct with one field per parameter. An argument that
/// does not fit is a [`FunctionError`] naming that argument, and `call` is not run; a
/// result that does not fit the return type is an internal error. A panic in `call`
/// becomes a [`FunctionError`] too.
pub trait Function: Send + Sync + 'static {
    /// One field per parameter, named as the parameter.
    type Args: DeserializeOwned;
    /// Encoded against the signature's return type.
    type Return: Serialize;

    /// The name configuration calls (without the `provider::NAME::` prefix).
    fn name(&self) -> &'static str;

    /// The signature, for a registry made without a declared list
    /// ([`Registry::new`]) or a function the list does not name; `None` (the
    /// default): the declared one.
    fn signature(&self) -> Option<FunctionSignature> {
        None
    }

    /// Runs the function. Errors about one argument should use
    /// [`FunctionError::argument`] with its 0-based position.
    fn call(&self, args: Self::Args) -> Result<Self::Return, FunctionError>;
}

/// The provider block itself.
#[tonic::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider block's attributes and nested blocks.
    type Model: Serialize + DeserializeOwned + Send;

    /// The provider's short name as users know it (e.g. `aws`), for diagnostics.
    fn name(&self) -> &str;

    /// The provider block's schema for a registry made without a declared list
    /// ([`Registry::new`]); `None` (the default): the declared one.
    fn schema(&self) -> Option<Schema> {
        None
    }

    /// Checks the provider block without network access. Any attribute may be
    /// unknown.
    async fn validate(&self, _config: Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// Remembers the settings. Attributes may still be unknown when they depend on
    /// resources not yet created.
    async fn configure(&self, config: Self::Model, terraform_version: &str) -> Diagnostics;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Type;

    #[derive(Serialize, serde::Deserialize)]
    struct M {
        a: Tf<String>,
    }

    #[tokio::test]
    async fn stop_token_is_shared_by_clones() {
        let t = StopToken::new();
        let c = t.clone();
        assert!(!c.is_stopped());
        t.stop();
        assert!(c.is_stopped());
        c.stopped().await;
    }

    #[test]
    fn checkpoint_encodes_on_save_and_is_shared() {
        let cp: Checkpoint<M> = Checkpoint::new(Type::object([("a", Type::String)]));
        assert_eq!(cp.saved(), None);
        let clone = cp.clone();
        clone.save(&M { a: Tf::Known("x".into()) }).unwrap();
        assert_eq!(cp.saved(), Some(Value::object([("a", Value::string("x"))])));
        cp.save_gone();
        assert_eq!(clone.saved(), Some(Value::Null));

        let wrong: Checkpoint<M> = Checkpoint::new(Type::object([("b", Type::String)]));
        let e = wrong.save(&M { a: Tf::Null }).unwrap_err();
        assert_eq!(e.path.to_string(), "a");
        assert_eq!(wrong.saved(), None);
    }
}
