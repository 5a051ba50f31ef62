//! [`Registry`]: typed resources and data sources behind the untyped
//! [`ProviderLogic`] the gRPC server calls.
//!
//! ```ignore
//! // One list of types: the schemas, by name (what the docs render too).
//! let logic = Registry::declared(MyProvider::default(), my_schemas::provider_schemas())
//!     .resource(MyResource { .. })
//!     .data_source(MyDataSource);
//! ```
//!
//! Each implementation is registered against its declared name ([`Resource::type_name`]):
//! the schema served is the declared one, kept with the schema's value type behind an
//! object-safe adapter ([`DynResource`], [`DynDataSource`]) in one map from type name
//! to adapter. A declared type with no implementation, an implementation of an
//! undeclared name that brings no schema of its own, or an implementation whose own
//! schema differs from the declared one is reported by [`Registry::check_registrations`]
//! (a provider refuses to start on it, and its tests fail). Without a declared list
//! ([`Registry::new`]), each implementation brings its own schema. A request is decoded into the model (a value that
//! does not fit is an error diagnostic naming the attribute), the typed method runs
//! under a panic guard, and the answer is encoded against the schema.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::de::{describe, from_value};
use super::plan_rules::PlanRules;
use super::ser::{to_value, to_value_untyped};
use super::{
    Abilities, ApplyRequest, Checkpoint, DataSource, Function, PlanRequest, Provider, ReadRequest, Resource, StopToken,
    TypedError,
};
use crate::diag::{AttrPath, Diagnostics, PathStep};
use crate::function::{FunctionError, FunctionSignature};
use crate::panic_message;
use crate::provider::{self as raw, ImportedResource, ProviderLogic, ProviderSchemas};
use crate::schema::{Block, Nesting, Schema};
use crate::types::Type;
use crate::value::Value;

/// A provider, its resources and its data sources, served as a [`ProviderLogic`].
pub struct Registry<P: Provider> {
    provider: P,
    provider_schema: Schema,
    provider_type: Type,
    resources: BTreeMap<String, Box<dyn DynResource>>,
    data_sources: BTreeMap<String, Box<dyn DynDataSource>>,
    functions: BTreeMap<String, Box<dyn DynFunction>>,
    stop: StopToken,
    /// The declared schemas, when made with [`Registry::declared`].
    declared: Option<ProviderSchemas>,
    /// Registration mistakes (a type name used twice), reported by
    /// [`Registry::check_registrations`] and [`Registry::check_models`].
    problems: Vec<String>,
}

/// The schema a registration serves: the declared one, else the implementation's
/// own; `None` (and a problem) when there is neither.
fn pick<T: PartialEq>(
    what: &str,
    own: Option<T>,
    declared: Option<Option<T>>,
    problems: &mut Vec<String>,
) -> Option<T> {
    match (declared, own) {
        (Some(Some(d)), Some(o)) => {
            if o != d {
                problems.push(format!("{what}: its own schema differs from the declared one"));
            }
            Some(d)
        }
        (Some(Some(d)), None) => Some(d),
        (_, Some(o)) => Some(o),
        (Some(None), None) => {
            problems.push(format!("{what}: implemented but not declared (add its schema to the declared list)"));
            None
        }
        (None, None) => {
            problems.push(format!("{what}: no schema (none of its own, and the registry declares none)"));
            None
        }
    }
}

impl<P: Provider> Registry<P> {
    /// A registry serving `provider`'s block, with no resources or data sources yet;
    /// each implementation brings its own schema.
    pub fn new(provider: P) -> Self {
        let mut problems = Vec::new();
        let provider_schema = pick("provider", provider.schema(), None, &mut problems).unwrap_or_default();
        Self::with(provider, provider_schema, None, problems)
    }

    /// A registry serving exactly the declared `schemas`: the provider block's, and one
    /// implementation to register for each declared resource, data source and
    /// function (see [`Registry::check_registrations`]).
    pub fn declared(provider: P, schemas: ProviderSchemas) -> Self {
        let mut problems = Vec::new();
        let provider_schema = pick("provider", provider.schema(), Some(Some(schemas.provider.clone())), &mut problems)
            .unwrap_or_default();
        Self::with(provider, provider_schema, Some(schemas), problems)
    }

    fn with(provider: P, provider_schema: Schema, declared: Option<ProviderSchemas>, problems: Vec<String>) -> Self {
        let provider_type = provider_schema.value_type();
        Registry {
            provider,
            provider_schema,
            provider_type,
            resources: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            functions: BTreeMap::new(),
            stop: StopToken::new(),
            declared,
            problems,
        }
    }

    /// Adds a resource type that cannot be imported and whose stored state passes
    /// through as it is; see [`Registry::resource_with`].
    pub fn resource<R: Resource>(self, resource: R) -> Self {
        self.resource_with(resource, Abilities::new())
    }

    /// Adds a resource type with the abilities it opts into
    /// (`Abilities::new().import().upgrade()`). A name registered twice keeps the
    /// first registration and is reported by [`Registry::check_models`].
    pub fn resource_with<R: Resource>(mut self, resource: R, abilities: Abilities<R>) -> Self {
        let name = resource.type_name();
        if self.resources.contains_key(name) {
            tracing::error!(target: "protocol::typed", type_name = name, "resource type registered twice");
            self.problems.push(format!("resource {name}: registered more than once"));
            return self;
        }
        let declared = self.declared.as_ref().map(|s| s.resources.get(name).cloned());
        let Some(schema) = pick(&format!("resource {name}"), resource.schema(), declared, &mut self.problems) else {
            return self;
        };
        let ty = schema.value_type();
        let rules = PlanRules::new(&schema.block);
        self.resources
            .insert(name.to_string(), Box::new(TypedResource { inner: resource, name, schema, ty, rules, abilities }));
        self
    }

    /// Adds a data source type. A name registered twice keeps the first
    /// registration and is reported by [`Registry::check_models`].
    pub fn data_source<D: DataSource>(mut self, data_source: D) -> Self {
        let name = data_source.type_name();
        if self.data_sources.contains_key(name) {
            tracing::error!(target: "protocol::typed", type_name = name, "data source type registered twice");
            self.problems.push(format!("data source {name}: registered more than once"));
            return self;
        }
        let declared = self.declared.as_ref().map(|s| s.data_sources.get(name).cloned());
        let Some(schema) = pick(&format!("data source {name}"), data_source.schema(), declared, &mut self.problems)
        else {
            return self;
        };
        let ty = schema.value_type();
        self.data_sources.insert(name.to_string(), Box::new(TypedDataSource { inner: data_source, name, schema, ty }));
        self
    }

    /// Adds a provider-defined function. A name registered twice keeps the first
    /// registration and is reported by [`Registry::check_models`].
    pub fn function<F: Function>(mut self, function: F) -> Self {
        let name = function.name();
        if self.functions.contains_key(name) {
            tracing::error!(target: "protocol::typed", function = name, "function registered twice");
            self.problems.push(format!("function {name}: registered more than once"));
            return self;
        }
        let declared = self.declared.as_ref().map(|s| s.functions.get(name).cloned());
        let Some(signature) = pick(&format!("function {name}"), function.signature(), declared, &mut self.problems)
        else {
            return self;
        };
        self.functions.insert(name.to_string(), Box::new(TypedFunction { inner: function, name, signature }));
        self
    }

    /// The provider.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    /// The token every plan, apply and read receives; stopped when Terraform sends
    /// Stop.
    pub fn stop_token(&self) -> StopToken {
        self.stop.clone()
    }

    /// Checks the registrations against the declared list: every declared type has
    /// exactly one implementation, every implementation a schema (declared, or its
    /// own for a type the list does not name), and an implementation's own schema is
    /// the declared one. Cheap: a provider runs it at start. Each problem is one line
    /// naming the type.
    pub fn check_registrations(&self) -> Result<(), Vec<String>> {
        let mut problems = self.problems.clone();
        if let Some(d) = &self.declared {
            let missing = |kind: &str, declared: Vec<&String>, have: &dyn Fn(&str) -> bool| {
                declared
                    .into_iter()
                    .filter(|n| !have(n))
                    .map(|n| format!("{kind} {n}: declared but not implemented (register its implementation)"))
                    .collect::<Vec<_>>()
            };
            problems.extend(missing("resource", d.resources.keys().collect(), &|n| self.resources.contains_key(n)));
            problems.extend(missing("data source", d.data_sources.keys().collect(), &|n| {
                self.data_sources.contains_key(n)
            }));
            problems.extend(missing("function", d.functions.keys().collect(), &|n| self.functions.contains_key(n)));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// [`Registry::check_registrations`], then checks that every registered model
    /// fits its schema, for a provider's tests:
    ///
    /// - **Round trip**: a sample value of the schema's type with every attribute
    ///   known and non-null (strings `"x"`, numbers 1, bools true, one-element
    ///   lists, sets and maps, nested blocks filled) decodes into the model and
    ///   encodes back unchanged. Fails for a schema attribute the model lacks, a
    ///   model field the schema lacks, or a field of another type. A string or
    ///   number the model parses into its own type (an enum, an address) and
    ///   refuses as a sample is left unknown rather than reported.
    /// - **Null**: each attribute that is not required (and each optional single
    ///   nested block) may be null.
    /// - **Unknown**: each attribute that configuration sets may be unknown, down to
    ///   list elements and nested block attributes; for a resource, computed
    ///   attributes too (plans leave them unknown).
    ///
    /// Each problem is one line naming the type and the attribute.
    pub fn check_models(&self) -> Result<(), Vec<String>> {
        let mut problems = self.check_registrations().err().unwrap_or_default();
        problems.extend(check_model::<P::Model>("provider", &self.provider_schema, Kind::Config));
        for r in self.resources.values() {
            problems.extend(r.check());
        }
        for d in self.data_sources.values() {
            problems.extend(d.check());
        }
        for f in self.functions.values() {
            problems.extend(f.check());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn resource_or_err(&self, name: &str) -> Result<&dyn DynResource, Diagnostics> {
        self.resources.get(name).map(|r| &**r).ok_or_else(|| unknown_type("resource", name))
    }

    fn data_source_or_err(&self, name: &str) -> Result<&dyn DynDataSource, Diagnostics> {
        self.data_sources.get(name).map(|d| &**d).ok_or_else(|| unknown_type("data source", name))
    }
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostics::from_error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} named {name:?}. Check the spelling and the provider version."),
        None,
    )
}

#[tonic::async_trait]
impl<P: Provider> ProviderLogic for Registry<P> {
    fn name(&self) -> &str {
        self.provider.name()
    }

    fn schemas(&self) -> ProviderSchemas {
        ProviderSchemas {
            provider: self.provider_schema.clone(),
            resources: self.resources.iter().map(|(k, r)| (k.clone(), r.schema().clone())).collect(),
            data_sources: self.data_sources.iter().map(|(k, d)| (k.clone(), d.schema().clone())).collect(),
            functions: self.functions.iter().map(|(k, f)| (k.clone(), f.signature().clone())).collect(),
        }
    }

    async fn call_function(&self, name: &str, args: Vec<Value>) -> Result<Value, FunctionError> {
        match self.functions.get(name) {
            Some(f) => f.call(args),
            None => Err(FunctionError::new(format!(
                "The {} provider has no function named {name:?}. Check the spelling and the provider version.",
                self.provider.name()
            ))),
        }
    }

    async fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let config = or_empty_object(config, &self.provider_type);
        match decode_required::<P::Model>(&config, "provider configuration") {
            Ok(m) => {
                guard("validating the provider configuration", self.provider.validate(m)).await.unwrap_or_else(|d| d)
            }
            Err(d) => d,
        }
    }

    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics {
        let config = or_empty_object(config, &self.provider_type);
        match decode_required::<P::Model>(&config, "provider configuration") {
            Ok(m) => guard("configuring the provider", self.provider.configure(m, terraform_version))
                .await
                .unwrap_or_else(|d| d),
            Err(d) => d,
        }
    }

    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match self.resource_or_err(type_name) {
            Ok(r) => r.validate(config).await,
            Err(d) => d,
        }
    }

    async fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match self.data_source_or_err(type_name) {
            Ok(d) => d.validate(config).await,
            Err(d) => d,
        }
    }

    async fn read_data_source(&self, type_name: &str, config: &Value) -> (Value, Diagnostics) {
        match self.data_source_or_err(type_name) {
            Ok(d) => d.read(config, self.stop.clone()).await,
            Err(d) => (Value::Null, d),
        }
    }

    async fn upgrade_resource_state(&self, type_name: &str, version: i64, decoded: Value) -> (Value, Diagnostics) {
        match self.resource_or_err(type_name) {
            Ok(r) => r.upgrade(version, decoded).await,
            Err(d) => (decoded, d),
        }
    }

    async fn read_resource(&self, type_name: &str, current: &Value, private: &[u8]) -> raw::StateResponse {
        match self.resource_or_err(type_name) {
            Ok(r) => r.read(current, private, self.stop.clone()).await,
            Err(d) => raw::StateResponse { new_state: current.clone(), private: private.to_vec(), diagnostics: d },
        }
    }

    async fn plan_resource_change(&self, req: raw::PlanRequest<'_>) -> raw::PlanResponse {
        match self.resource_or_err(req.type_name) {
            Ok(r) => r.plan(req, self.stop.clone()).await,
            Err(d) => raw::PlanResponse {
                planned_state: Value::Null,
                requires_replace: Vec::new(),
                planned_private: req.prior_private.to_vec(),
                diagnostics: d,
            },
        }
    }

    async fn apply_resource_change(&self, req: raw::ApplyRequest<'_>) -> raw::StateResponse {
        match self.resource_or_err(req.type_name) {
            Ok(r) => r.apply(req, self.stop.clone()).await,
            Err(d) => raw::StateResponse {
                new_state: req.prior_state.clone(),
                private: req.planned_private.to_vec(),
                diagnostics: d,
            },
        }
    }

    async fn import_resource_state(&self, type_name: &str, id: &str) -> (Vec<ImportedResource>, Diagnostics) {
        match self.resource_or_err(type_name) {
            Ok(r) => r.import(id).await,
            Err(d) => (Vec::new(), d),
        }
    }

    fn stop(&self) {
        tracing::info!(target: "protocol::typed", "stop requested");
        self.stop.stop();
    }
}

// ---------------------------------------------------------------------------
// Decoding, encoding, panics
// ---------------------------------------------------------------------------

/// `None` for null, the model otherwise; a value that does not fit is an error
/// diagnostic pointing at the attribute.
fn decode<M: DeserializeOwned>(v: &Value, what: &str) -> Result<Option<M>, Diagnostics> {
    if v.is_null() {
        return Ok(None);
    }
    decode_required(v, what).map(Some)
}

fn decode_required<M: DeserializeOwned>(v: &Value, what: &str) -> Result<M, Diagnostics> {
    from_value(v).map_err(|e| e.to_diagnostic("Invalid value", &format!("In the {what}")).into())
}

fn encode<M: Serialize>(m: Option<&M>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    match m {
        None => Ok(Value::Null),
        Some(m) => to_value(m, ty).map_err(|e| encode_error(e, what)),
    }
}

fn encode_error(e: TypedError, what: &str) -> Diagnostics {
    e.to_diagnostic(
        "Internal error: the provider produced a value that does not fit its schema",
        &format!("Writing the {what} (a bug in the provider; please report it)"),
    )
    .into()
}

/// A null configuration (no block at all) read as an object of nulls.
fn or_empty_object(v: &Value, ty: &Type) -> Value {
    match (v, ty) {
        (Value::Null, Type::Object(attrs)) => Value::Map(attrs.keys().map(|k| (k.clone(), Value::Null)).collect()),
        _ => v.clone(),
    }
}

fn panic_diagnostics(doing: &str, msg: &str, after: &str) -> Diagnostics {
    tracing::error!(target: "protocol::typed", doing, panic = %msg, "provider code panicked");
    Diagnostics::from_error(
        "Internal error in the provider",
        format!(
            "The provider hit a bug while {doing}: {msg}. {after}Please report it with the output of TF_LOG=debug."
        ),
        None,
    )
}

/// Runs `fut`; a panic becomes an error diagnostic.
async fn guard<F: Future>(doing: &str, fut: F) -> Result<F::Output, Diagnostics> {
    AssertUnwindSafe(fut).catch_unwind().await.map_err(|p| panic_diagnostics(doing, &panic_message(&*p), ""))
}

// ---------------------------------------------------------------------------
// Adapters
// ---------------------------------------------------------------------------

/// A resource with its model erased: what the registry's map holds.
#[tonic::async_trait]
pub trait DynResource: Send + Sync {
    fn schema(&self) -> &Schema;
    async fn validate(&self, config: &Value) -> Diagnostics;
    async fn plan(&self, req: raw::PlanRequest<'_>, stop: StopToken) -> raw::PlanResponse;
    async fn apply(&self, req: raw::ApplyRequest<'_>, stop: StopToken) -> raw::StateResponse;
    async fn read(&self, current: &Value, private: &[u8], stop: StopToken) -> raw::StateResponse;
    async fn import(&self, id: &str) -> (Vec<ImportedResource>, Diagnostics);
    async fn upgrade(&self, version: i64, decoded: Value) -> (Value, Diagnostics);
    /// [`Registry::check_models`] for this type.
    fn check(&self) -> Vec<String>;
}

/// A data source with its model erased.
#[tonic::async_trait]
pub trait DynDataSource: Send + Sync {
    fn schema(&self) -> &Schema;
    async fn validate(&self, config: &Value) -> Diagnostics;
    async fn read(&self, config: &Value, stop: StopToken) -> (Value, Diagnostics);
    fn check(&self) -> Vec<String>;
}

struct TypedResource<R: Resource> {
    inner: R,
    name: &'static str,
    schema: Schema,
    ty: Type,
    rules: PlanRules,
    abilities: Abilities<R>,
}

#[tonic::async_trait]
impl<R: Resource> DynResource for TypedResource<R> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let name = self.name;
        match decode_required::<R::Model>(config, &format!("configuration of {name}")) {
            Ok(m) => guard(&format!("validating {name}"), self.inner.validate(m)).await.unwrap_or_else(|d| d),
            Err(d) => d,
        }
    }

    async fn plan(&self, req: raw::PlanRequest<'_>, stop: StopToken) -> raw::PlanResponse {
        let name = self.name;
        let fail = |diagnostics: Diagnostics| raw::PlanResponse {
            planned_state: Value::Null,
            requires_replace: Vec::new(),
            planned_private: req.prior_private.to_vec(),
            diagnostics,
        };
        let replace = self.rules.requires_replace(req.prior_state, req.proposed_new_state);
        let decoded = (|| {
            Ok::<_, Diagnostics>(PlanRequest {
                prior: decode(req.prior_state, &format!("prior state of {name}"))?,
                proposed: decode(req.proposed_new_state, &format!("proposed new state of {name}"))?,
                config: decode(req.config, &format!("configuration of {name}"))?,
                prior_private: req.prior_private.to_vec(),
                stop,
                requires_replace: replace.clone(),
            })
        })();
        let typed = match decoded {
            Ok(t) => t,
            Err(d) => return fail(d),
        };
        let out = match guard(&format!("planning {name}"), self.inner.plan(typed)).await {
            Ok(out) => out,
            Err(d) => return fail(d),
        };
        let mut diagnostics = out.diagnostics;
        let mut planned_state = match encode(out.planned.as_ref(), &self.ty, &format!("planned state of {name}")) {
            Ok(v) => v,
            Err(d) => {
                diagnostics.extend(d);
                Value::Null
            }
        };
        let mut requires_replace = replace;
        for p in out.requires_replace {
            if !requires_replace.contains(&p) {
                requires_replace.push(p);
            }
        }
        self.rules.mark_unknown(req.config, req.prior_state, !requires_replace.is_empty(), &mut planned_state);
        raw::PlanResponse {
            planned_state,
            requires_replace,
            planned_private: out.private.unwrap_or_else(|| req.prior_private.to_vec()),
            diagnostics,
        }
    }

    async fn apply(&self, req: raw::ApplyRequest<'_>, stop: StopToken) -> raw::StateResponse {
        let name = self.name;
        let fail = |diagnostics: Diagnostics| raw::StateResponse {
            new_state: req.prior_state.clone(),
            private: req.planned_private.to_vec(),
            diagnostics,
        };
        let checkpoint = Checkpoint::over(req.saved.clone(), self.ty.clone());
        let stop_watch = stop.clone();
        let decoded = (|| {
            Ok::<_, Diagnostics>(ApplyRequest {
                prior: decode(req.prior_state, &format!("prior state of {name}"))?,
                planned: decode(req.planned_state, &format!("planned state of {name}"))?,
                config: decode(req.config, &format!("configuration of {name}"))?,
                planned_private: req.planned_private.to_vec(),
                stop,
                checkpoint: checkpoint.clone(),
            })
        })();
        let typed = match decoded {
            Ok(t) => t,
            Err(d) => return fail(d),
        };
        // A stop drops the apply at its next await (a wait, a request in flight): no new
        // change starts, and the answer is what the checkpoint recorded. (A panic is
        // answered the same way by the server's guard, the one on this path.)
        let outcome = tokio::select! {
            biased;
            () = stop_watch.stopped() => None,
            out = self.inner.apply(typed) => Some(out),
        };
        match outcome {
            Some(out) => {
                let mut diagnostics = out.diagnostics;
                let new_state = match encode(out.new_state.as_ref(), &self.ty, &format!("new state of {name}")) {
                    Ok(v) => v,
                    Err(d) => {
                        // Keep track of what exists rather than losing it.
                        diagnostics.extend(d);
                        checkpoint.saved().unwrap_or_else(|| req.prior_state.clone())
                    }
                };
                raw::StateResponse {
                    new_state,
                    private: out.private.unwrap_or_else(|| req.planned_private.to_vec()),
                    diagnostics,
                }
            }
            None => {
                let (new_state, after) = match checkpoint.saved() {
                    Some(v) => (v, "what was done so far is recorded in the state; re-running apply resumes."),
                    None => (
                        req.prior_state.clone(),
                        "nothing was recorded, so the state is left as it was before this apply.",
                    ),
                };
                tracing::warn!(target: "protocol::typed", resource = name, "apply stopped part-way");
                raw::StateResponse {
                    new_state,
                    private: req.planned_private.to_vec(),
                    diagnostics: Diagnostics::from_error(
                        "Operation cancelled",
                        format!("Terraform asked the provider to stop while applying changes to {name}: {after}"),
                        None,
                    ),
                }
            }
        }
    }

    async fn read(&self, current: &Value, private: &[u8], stop: StopToken) -> raw::StateResponse {
        let name = self.name;
        let keep = |diagnostics: Diagnostics| raw::StateResponse {
            new_state: current.clone(),
            private: private.to_vec(),
            diagnostics,
        };
        let model = match decode::<R::Model>(current, &format!("current state of {name}")) {
            Ok(Some(m)) => m,
            Ok(None) => return keep(Diagnostics::new()),
            Err(d) => return keep(d),
        };
        let req = ReadRequest { current: model, private: private.to_vec(), stop };
        match guard(&format!("reading {name}"), self.inner.read(req)).await {
            Ok(out) => {
                let mut diagnostics = out.diagnostics;
                let new_state = match encode(out.new_state.as_ref(), &self.ty, &format!("new state of {name}")) {
                    Ok(v) => v,
                    Err(d) => {
                        diagnostics.extend(d);
                        current.clone()
                    }
                };
                raw::StateResponse { new_state, private: out.private.unwrap_or_else(|| private.to_vec()), diagnostics }
            }
            Err(d) => keep(d),
        }
    }

    async fn import(&self, id: &str) -> (Vec<ImportedResource>, Diagnostics) {
        let name = self.name;
        let Some(import) = self.abilities.run_import(&self.inner, id) else {
            return (
                Vec::new(),
                Diagnostics::from_error(
                    "Import not supported",
                    format!("The resource type {name} cannot be imported."),
                    None,
                ),
            );
        };
        let (models, mut diagnostics) = match guard(&format!("importing {name}"), import).await {
            Ok(out) => out,
            Err(d) => return (Vec::new(), d),
        };
        let mut imported = Vec::with_capacity(models.len());
        for m in &models {
            match encode(Some(m), &self.ty, &format!("imported state of {name}")) {
                Ok(state) => {
                    imported.push(ImportedResource { type_name: name.to_string(), state, private: Vec::new() })
                }
                Err(d) => diagnostics.extend(d),
            }
        }
        (imported, diagnostics)
    }

    async fn upgrade(&self, version: i64, decoded: Value) -> (Value, Diagnostics) {
        let name = self.name;
        let fallback = decoded.clone();
        let (upgraded, mut diagnostics) = match self.abilities.run_upgrade(&self.inner, version, decoded) {
            // Not opted in: the stored state as it is.
            None => (fallback, Diagnostics::new()),
            Some(upgrade) => match guard(&format!("upgrading the state of {name}"), upgrade).await {
                Ok(out) => out,
                Err(d) => return (fallback, d),
            },
        };
        if !diagnostics.has_errors() {
            if let Err(d) = decode::<R::Model>(&upgraded, &format!("upgraded state of {name} (version {version})")) {
                diagnostics.extend(d);
            }
        }
        (upgraded, diagnostics)
    }

    fn check(&self) -> Vec<String> {
        check_model::<R::Model>(&format!("resource {}", self.name), &self.schema, Kind::Resource)
    }
}

struct TypedDataSource<D> {
    inner: D,
    name: &'static str,
    schema: Schema,
    ty: Type,
}

#[tonic::async_trait]
impl<D: DataSource> DynDataSource for TypedDataSource<D> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let name = self.name;
        let config = or_empty_object(config, &self.ty);
        match decode_required::<D::Model>(&config, &format!("configuration of {name}")) {
            Ok(m) => guard(&format!("validating {name}"), self.inner.validate(m)).await.unwrap_or_else(|d| d),
            Err(d) => d,
        }
    }

    async fn read(&self, config: &Value, stop: StopToken) -> (Value, Diagnostics) {
        let name = self.name;
        let config = or_empty_object(config, &self.ty);
        let model = match decode_required::<D::Model>(&config, &format!("configuration of {name}")) {
            Ok(m) => m,
            Err(d) => return (Value::Null, d),
        };
        let (out, mut diagnostics) = match guard(&format!("reading {name}"), self.inner.read(model, stop)).await {
            Ok(out) => out,
            Err(d) => return (Value::Null, d),
        };
        match encode(out.as_ref(), &self.ty, &format!("state of {name}")) {
            Ok(v) => (v, diagnostics),
            Err(d) => {
                diagnostics.extend(d);
                (Value::Null, diagnostics)
            }
        }
    }

    fn check(&self) -> Vec<String> {
        check_model::<D::Model>(&format!("data source {}", self.name), &self.schema, Kind::Config)
    }
}

/// A function with its argument and result types erased.
pub trait DynFunction: Send + Sync {
    fn signature(&self) -> &FunctionSignature;
    /// `args` in call order, decoded against the parameter types.
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError>;
    fn check(&self) -> Vec<String>;
}

struct TypedFunction<F> {
    inner: F,
    name: &'static str,
    signature: FunctionSignature,
}

impl<F: Function> TypedFunction<F> {
    /// The arguments as one object: parameter name to argument, a variadic
    /// parameter's name to the list of its arguments.
    fn args_object(&self, args: Vec<Value>) -> Value {
        let mut rest = Vec::new();
        let mut object = BTreeMap::new();
        for (i, v) in args.into_iter().enumerate() {
            match self.signature.parameters.get(i) {
                Some(p) => {
                    object.insert(p.name.clone(), v);
                }
                None => rest.push(v),
            }
        }
        if let Some(p) = &self.signature.variadic {
            object.insert(p.name.clone(), Value::List(rest));
        }
        Value::Map(object)
    }

    /// The 0-based argument a decoding error is about, and the error without that
    /// first step, in words for whoever wrote the call.
    fn argument_error(&self, e: &TypedError) -> FunctionError {
        let (index, rest) = match e.path.0.split_first() {
            Some((PathStep::Attr(name), rest)) => {
                let fixed = &self.signature.parameters;
                match fixed.iter().position(|p| &p.name == name) {
                    Some(i) => (Some(i), rest),
                    None => match (&self.signature.variadic, rest.split_first()) {
                        (Some(v), Some((PathStep::Index(j), inner))) if &v.name == name => {
                            (usize::try_from(*j).ok().map(|j| fixed.len() + j), inner)
                        }
                        _ => (None, e.path.0.as_slice()),
                    },
                }
            }
            _ => (None, e.path.0.as_slice()),
        };
        let message = if e.message.starts_with("is not a field") {
            match e.message.split_once(super::de::FIELDS_ARE) {
                Some((_, fields)) if !fields.is_empty() => {
                    format!("is not an attribute this argument takes (it takes {fields})")
                }
                _ => "is not an attribute this argument takes".to_string(),
            }
        } else if e.message.starts_with("is missing") {
            "is required and missing".to_string()
        } else {
            e.message.clone()
        };
        let text =
            if rest.is_empty() { format!("{message}.") } else { format!("{}: {message}.", AttrPath(rest.to_vec())) };
        FunctionError { text, argument: index }
    }
}

impl<F: Function> DynFunction for TypedFunction<F> {
    fn signature(&self) -> &FunctionSignature {
        &self.signature
    }

    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let name = self.name;
        let typed: F::Args = from_value(&self.args_object(args)).map_err(|e| self.argument_error(&e))?;
        let out = std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(typed))).map_err(|p| {
            let msg = panic_message(&*p);
            tracing::error!(target: "protocol::typed", function = name, panic = %msg, "function panicked");
            FunctionError::new(format!(
                "Internal error in the provider while calling {name}: {msg}. Please report it with the output of \
                 TF_LOG=debug."
            ))
        })??;
        to_value(&out, &self.signature.return_type).map_err(|e| {
            FunctionError::new(format!(
                "Internal error: the provider's function {name} produced a result that does not fit its return \
                 type ({e}). This is a bug in the provider; please report it."
            ))
        })
    }

    fn check(&self) -> Vec<String> {
        let sig = &self.signature;
        let mut names: Vec<&str> = sig.parameters.iter().map(|p| p.name.as_str()).collect();
        names.extend(sig.variadic.iter().map(|p| p.name.as_str()));
        let mut problems = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() || names.iter().take(i).any(|m| m == n) {
                problems.push(format!("function {}: parameter name {n:?} is empty or used twice", self.name));
            }
        }
        if sig.summary.is_empty() {
            problems.push(format!("function {}: no summary", self.name));
        }
        problems
    }
}

// ---------------------------------------------------------------------------
// check_models
// ---------------------------------------------------------------------------

/// Which attributes may be unknown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A resource: any attribute (computed ones are unknown in plans).
    Resource,
    /// A data source or the provider block: the attributes configuration sets.
    Config,
}

/// A value of type `ty` with everything known and non-null.
fn sample(ty: &Type) -> Value {
    match ty {
        Type::String => Value::string("x"),
        Type::Number => Value::int(1),
        Type::Bool => Value::bool(true),
        Type::Dynamic => Value::dynamic(Type::String, Value::string("x")),
        Type::List(t) | Type::Set(t) => Value::list(vec![sample(t)]),
        Type::Map(t) => Value::map([("k", sample(t))]),
        Type::Object(attrs) => Value::Map(attrs.iter().map(|(k, t)| (k.clone(), sample(t))).collect()),
        Type::Tuple(ts) => Value::list(ts.iter().map(sample).collect()),
    }
}

fn at_mut<'v>(v: &'v mut Value, path: &[PathStep]) -> Option<&'v mut Value> {
    let Some((step, rest)) = path.split_first() else { return Some(v) };
    let next = match (v, step) {
        (Value::Map(m), PathStep::Attr(k) | PathStep::Key(k)) => m.get_mut(k)?,
        (Value::List(items), PathStep::Index(i)) => items.get_mut(usize::try_from(*i).ok()?)?,
        (Value::Dynamic(inner), _) => return at_mut(&mut inner.1, path),
        _ => return None,
    };
    at_mut(next, rest)
}

/// `v` with the value at `path` replaced; `None` when there is no such position.
fn replaced(v: &Value, path: &AttrPath, with: Value) -> Option<Value> {
    let mut out = v.clone();
    *at_mut(&mut out, &path.0)? = with;
    Some(out)
}

/// Positions that may be null and positions that may be unknown.
fn positions(block: &Block, base: &AttrPath, kind: Kind, nullable: &mut Vec<AttrPath>, unknowable: &mut Vec<AttrPath>) {
    for a in &block.attributes {
        let p = base.clone().then(a.name.clone());
        if !a.required {
            nullable.push(p.clone());
        }
        if kind == Kind::Resource || a.required || a.optional {
            unknowable.push(p.clone());
            element_positions(&a.ty, &p, unknowable);
        }
    }
    for b in &block.blocks {
        let p = base.clone().then(b.type_name.clone());
        if b.nesting == Nesting::Single && b.min_items == 0 {
            nullable.push(p.clone());
        }
        let inner = match b.nesting {
            Nesting::Single | Nesting::Group => p,
            Nesting::List | Nesting::Set => p.index(0),
            Nesting::Map => p.key("k"),
        };
        positions(&b.block, &inner, kind, nullable, unknowable);
    }
}

fn element_positions(ty: &Type, p: &AttrPath, out: &mut Vec<AttrPath>) {
    let mut push = |q: AttrPath, t: &Type| {
        out.push(q.clone());
        element_positions(t, &q, out);
    };
    match ty {
        Type::List(t) | Type::Set(t) => push(p.clone().index(0), t),
        Type::Map(t) => push(p.clone().key("k"), t),
        Type::Object(attrs) => attrs.iter().for_each(|(k, t)| push(p.clone().then(k.clone()), t)),
        Type::Tuple(ts) => ts.iter().enumerate().for_each(|(i, t)| push(p.clone().index(i), t)),
        Type::String | Type::Number | Type::Bool | Type::Dynamic => {}
    }
}

fn is_primitive(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// A type mismatch, as opposed to a type of the model refusing a sample it parses
/// (an enum refusing "x").
fn is_mismatch(e: &TypedError) -> bool {
    e.message.starts_with("expected ")
        || e.message.starts_with("invalid type")
        || e.message.starts_with("is missing")
        || e.message.starts_with("is not a field")
}

fn check_model<M: Serialize + DeserializeOwned>(label: &str, schema: &Schema, kind: Kind) -> Vec<String> {
    let ty = schema.value_type();
    let mut sample = sample(&ty);
    let mut problems = Vec::new();

    // Round trip. A primitive the model parses and refuses ("x" as an enum) is
    // made unknown and tried again; a position of the wrong type is reported and
    // made null, so that one run names every problem it can.
    let mut model = None;
    for _ in 0..1000 {
        match from_value::<M>(&sample) {
            Ok(m) => {
                model = Some(m);
                break;
            }
            Err(e) => {
                let target = if e.path.0.is_empty() { None } else { at_mut(&mut sample, &e.path.0) };
                match target {
                    Some(v) if !is_mismatch(&e) && is_primitive(v) => *v = Value::Unknown,
                    Some(v) if !v.is_null() => {
                        problems.push(format!("{label}: the schema's sample value does not fit the model: {e}"));
                        *v = Value::Null;
                    }
                    _ => {
                        problems.push(format!("{label}: the schema's sample value does not fit the model: {e}"));
                        break;
                    }
                }
            }
        }
    }
    let Some(model) = model else { return problems };
    let before = problems.len();
    match to_value_untyped(&model) {
        Err(e) => problems.push(format!("{label}: the model cannot be written as a value: {e}")),
        Ok(back) => diff(&sample, &back, &ty, &AttrPath::default(), label, &mut problems),
    }
    if problems.len() == before {
        if let Err(e) = to_value(&model, &ty) {
            problems.push(format!("{label}: the model does not fit the schema: {e}"));
        }
    }

    let (mut nullable, mut unknowable) = (Vec::new(), Vec::new());
    positions(&schema.block, &AttrPath::default(), kind, &mut nullable, &mut unknowable);
    for p in nullable {
        if let Some(Err(e)) = replaced(&sample, &p, Value::Null).map(|v| from_value::<M>(&v)) {
            problems.push(format!(
                "{label}: attribute `{p}` is not required, so it may be null, but the model cannot hold null: \
                 {e}; make the field an Option<...> or a Tf<...>"
            ));
        }
    }
    for p in unknowable {
        if let Some(Err(e)) = replaced(&sample, &p, Value::Unknown).map(|v| from_value::<M>(&v)) {
            problems.push(format!(
                "{label}: attribute `{p}` may be unknown while planning, but the model cannot hold an unknown \
                 value: {e}"
            ));
        }
    }
    problems
}

/// Reports where `back` (the sample after a round trip) differs from `sample`.
fn diff(sample: &Value, back: &Value, ty: &Type, path: &AttrPath, label: &str, out: &mut Vec<String>) {
    match (ty, sample.concrete(), back.concrete()) {
        (Type::Object(attrs), Value::Map(a), Value::Map(b)) => {
            for k in b.keys().filter(|k| !attrs.contains_key(*k)) {
                out.push(format!(
                    "{label}: field `{}` of the model is not an attribute in the schema",
                    path.clone().then(k.clone())
                ));
            }
            for (k, t) in attrs {
                let (x, y) = (a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null));
                diff(x, y, t, &path.clone().then(k.clone()), label, out);
            }
        }
        (Type::Map(t), Value::Map(a), Value::Map(b)) if a.len() == b.len() => {
            for (k, x) in a {
                diff(x, b.get(k).unwrap_or(&Value::Null), t, &path.clone().key(k.clone()), label, out);
            }
        }
        (Type::List(t) | Type::Set(t), Value::List(a), Value::List(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, t, &path.clone().index(i), label, out);
            }
        }
        (Type::Tuple(ts), Value::List(a), Value::List(b)) if a.len() == b.len() => {
            for (i, ((x, y), t)) in a.iter().zip(b).zip(ts).enumerate() {
                diff(x, y, t, &path.clone().index(i), label, out);
            }
        }
        (_, a, b) if a == b => {}
        (_, _, Value::Null) => out.push(format!(
            "{label}: attribute `{path}` is in the schema but not in the model (a sample value came back null)"
        )),
        (_, a, b) => out.push(format!(
            "{label}: attribute `{path}` does not round-trip: {} came back as {}; the model's field has another type",
            describe(a),
            describe(b)
        )),
    }
}
