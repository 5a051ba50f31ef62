//! The tfplugin5 gRPC service: decodes requests against the schemas, calls the
//! [`ProviderLogic`], encodes answers. Every handler runs under a panic guard, so a
//! bug becomes an error diagnostic instead of a dead plugin; undecodable input
//! becomes an error diagnostic naming the attribute path.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use tonic::{Request, Response, Status};

use super::convert::{
    decode_dynamic, diagnostics_to_proto, encode_dynamic, function_error_to_proto, function_to_proto, path_to_proto,
    schema_to_proto,
};
use super::diag::Diagnostics;
use super::function::FunctionError;
use super::pb;
use super::provider::{ApplyRequest, PlanRequest, ProviderLogic, ProviderSchemas, SavedState};
use super::types::Type;
use super::value::{self, Value};

/// Responses that carry diagnostics, so a panic or a decoding failure can be
/// reported in-band.
pub trait WithDiagnostics: Default {
    fn set_diagnostics(&mut self, d: Vec<pb::Diagnostic>);
    fn from_diagnostics(d: &Diagnostics) -> Self {
        let mut r = Self::default();
        r.set_diagnostics(diagnostics_to_proto(d));
        r
    }
}

macro_rules! with_diagnostics {
    ($($t:ty),* $(,)?) => {$(
        impl WithDiagnostics for $t {
            fn set_diagnostics(&mut self, d: Vec<pb::Diagnostic>) { self.diagnostics = d; }
        }
    )*};
}

with_diagnostics!(
    pb::get_metadata::Response,
    pb::get_provider_schema::Response,
    pb::prepare_provider_config::Response,
    pb::validate_resource_type_config::Response,
    pb::validate_data_source_config::Response,
    pb::upgrade_resource_state::Response,
    pb::configure::Response,
    pb::read_resource::Response,
    pb::plan_resource_change::Response,
    pb::apply_resource_change::Response,
    pb::import_resource_state::Response,
    pb::move_resource_state::Response,
    pb::read_data_source::Response,
    pb::get_functions::Response,
    pb::validate_ephemeral_resource_config::Response,
    pb::open_ephemeral_resource::Response,
    pb::renew_ephemeral_resource::Response,
    pb::close_ephemeral_resource::Response,
    pb::get_resource_identity_schemas::Response,
    pb::upgrade_resource_identity::Response,
    pb::validate_list_resource_config::Response,
    pb::generate_resource_config::Response,
    pb::plan_action::Response,
    pb::validate_action_config::Response,
);

/// Runs a handler; a panic inside it becomes an error diagnostic.
async fn guarded<T, F>(provider: &str, rpc: &'static str, fut: F) -> Result<Response<T>, Status>
where
    T: WithDiagnostics,
    F: Future<Output = T>,
{
    guarded_or(rpc, fut, |msg| {
        T::from_diagnostics(&Diagnostics::from_error(
            format!("Internal error in the {provider} provider"),
            format!(
                "The provider hit a bug while handling {rpc}: {msg}. Nothing was changed by this call's failure \
                 itself; please report it with the output of TF_LOG=debug."
            ),
            None,
        ))
    })
    .await
}

/// Runs a handler under the RPC's one panic guard; a panic's message goes to
/// `on_panic`, which makes the answer (ApplyResourceChange: the state saved so far).
async fn guarded_or<T, F>(rpc: &'static str, fut: F, on_panic: impl FnOnce(&str) -> T) -> Result<Response<T>, Status>
where
    F: Future<Output = T>,
{
    tracing::debug!(target: "tfplugin5::server", rpc, "request");
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(resp) => Ok(Response::new(resp)),
        Err(panic) => {
            let msg = crate::panic_message(&*panic);
            tracing::error!(target: "tfplugin5::server", rpc, panic = %msg, "handler panicked");
            Ok(Response::new(on_panic(&msg)))
        }
    }
}

fn unsupported_rpc(provider: &str, rpc: &str) -> Diagnostics {
    Diagnostics::from_error(
        format!("{rpc} is not supported by the {provider} provider"),
        format!(
            "The {provider} provider does not implement {rpc}. Remove the configuration that uses it, or \
             use a provider that offers it."
        ),
        None,
    )
}

/// The gRPC `tfplugin5.Provider` service over a [`ProviderLogic`].
pub struct ProviderServer<P: ProviderLogic> {
    logic: Arc<P>,
    /// The provider's name, for diagnostics ("the NAME provider ...").
    name: Arc<str>,
    schemas: Arc<ProviderSchemas>,
    types: Arc<Types>,
}

struct Types {
    provider: Type,
    resources: HashMap<String, Type>,
    data_sources: HashMap<String, Type>,
}

impl<P: ProviderLogic> ProviderServer<P> {
    pub fn new(logic: Arc<P>) -> Self {
        let schemas = logic.schemas();
        let types = Types {
            provider: schemas.provider.value_type(),
            resources: schemas.resources.iter().map(|(k, s)| (k.clone(), s.value_type())).collect(),
            data_sources: schemas.data_sources.iter().map(|(k, s)| (k.clone(), s.value_type())).collect(),
        };
        ProviderServer { name: Arc::from(logic.name()), logic, schemas: Arc::new(schemas), types: Arc::new(types) }
    }

    fn resource_type(&self, name: &str) -> Result<&Type, Diagnostics> {
        self.types.resources.get(name).ok_or_else(|| unknown_type(&self.name, "resource", name))
    }

    fn data_source_type(&self, name: &str) -> Result<&Type, Diagnostics> {
        self.types.data_sources.get(name).ok_or_else(|| unknown_type(&self.name, "data source", name))
    }
}

impl<P: ProviderLogic> ProviderServer<P> {
    fn functions_proto(&self) -> HashMap<String, pb::Function> {
        self.schemas.functions.iter().map(|(k, f)| (k.clone(), function_to_proto(f))).collect()
    }

    /// One CallFunction: the argument count, each argument decoded against its
    /// parameter's type (a failure names the argument), nulls and unknowns as the
    /// parameter allows, then the provider's function, its result encoded against the
    /// return type.
    async fn call(&self, req: &pb::call_function::Request) -> Result<pb::DynamicValue, FunctionError> {
        let name = req.name.as_str();
        let Some(sig) = self.schemas.functions.get(name) else {
            return Err(FunctionError::new(format!(
                "The {} provider has no function named {name:?}. Check the spelling and the provider version.",
                self.name
            )));
        };
        if !sig.accepts(req.arguments.len()) {
            let want = match &sig.variadic {
                Some(_) => format!("at least {}", sig.parameters.len()),
                None => sig.parameters.len().to_string(),
            };
            return Err(FunctionError::new(format!(
                "{name} takes {want} argument(s) but was called with {}; see the function's documentation.",
                req.arguments.len()
            )));
        }
        let mut args = Vec::with_capacity(req.arguments.len());
        let mut unknown = false;
        for (i, dv) in req.arguments.iter().enumerate() {
            let Some(param) = sig.parameter_for(i) else {
                return Err(FunctionError::argument(i, format!("{name} takes no argument at position {i}.")));
            };
            let v = decode_dynamic(Some(dv), &param.ty, &format!("argument {:?}", param.name)).map_err(|d| {
                let text = d.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect::<Vec<_>>().join("; ");
                FunctionError::argument(i, text)
            })?;
            if v.is_null() && !param.allow_null {
                return Err(FunctionError::argument(
                    i,
                    format!("{} must not be null; pass a value of type {}.", param.name, param.ty),
                ));
            }
            if !v.is_fully_known() && !param.allow_unknown {
                unknown = true;
            }
            args.push(v);
        }
        let result = if unknown {
            // As Terraform does for such parameters: the result waits for the values.
            Value::Unknown
        } else {
            self.logic.call_function(name, args).await?
        };
        encode_dynamic(&result, &sig.return_type).map_err(|d| {
            let text = d.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect::<Vec<_>>().join("; ");
            FunctionError::new(text)
        })
    }
}

fn unknown_type(provider: &str, kind: &str, name: &str) -> Diagnostics {
    Diagnostics::from_error(
        format!("Unknown {kind} type"),
        format!("The {provider} provider has no {kind} named {name:?}. Check the spelling and the provider version."),
        None,
    )
}

/// Shorthand: decode or return the diagnostics as the response.
macro_rules! decode_or_return {
    ($resp:ty, $dv:expr, $ty:expr, $what:expr) => {
        match decode_dynamic($dv, $ty, $what) {
            Ok(v) => v,
            Err(d) => return <$resp>::from_diagnostics(&d),
        }
    };
}

macro_rules! type_or_return {
    ($resp:ty, $e:expr) => {
        match $e {
            Ok(t) => t.clone(),
            Err(d) => return <$resp>::from_diagnostics(&d),
        }
    };
}

#[tonic::async_trait]
impl<P: ProviderLogic> pb::provider_server::Provider for ProviderServer<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        guarded(&self.name, "GetMetadata", async {
            pb::get_metadata::Response {
                server_capabilities: Some(server_capabilities()),
                data_sources: self
                    .schemas
                    .data_sources
                    .keys()
                    .map(|k| pb::get_metadata::DataSourceMetadata { type_name: k.clone() })
                    .collect(),
                resources: self
                    .schemas
                    .resources
                    .keys()
                    .map(|k| pb::get_metadata::ResourceMetadata { type_name: k.clone() })
                    .collect(),
                functions: self
                    .schemas
                    .functions
                    .keys()
                    .map(|k| pb::get_metadata::FunctionMetadata { name: k.clone() })
                    .collect(),
                ..Default::default()
            }
        })
        .await
    }

    async fn get_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        guarded(&self.name, "GetSchema", async {
            pb::get_provider_schema::Response {
                provider: Some(schema_to_proto(&self.schemas.provider)),
                resource_schemas: self.schemas.resources.iter().map(|(k, s)| (k.clone(), schema_to_proto(s))).collect(),
                data_source_schemas: self
                    .schemas
                    .data_sources
                    .iter()
                    .map(|(k, s)| (k.clone(), schema_to_proto(s)))
                    .collect(),
                functions: self.functions_proto(),
                server_capabilities: Some(server_capabilities()),
                ..Default::default()
            }
        })
        .await
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        // No resource identities: an empty answer, which clients accept.
        guarded(&self.name, "GetResourceIdentitySchemas", async {
            pb::get_resource_identity_schemas::Response::default()
        })
        .await
    }

    async fn upgrade_resource_identity(
        &self,
        _request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        guarded(&self.name, "UpgradeResourceIdentity", async {
            pb::upgrade_resource_identity::Response::from_diagnostics(&unsupported_rpc(
                &self.name,
                "UpgradeResourceIdentity",
            ))
        })
        .await
    }

    async fn prepare_provider_config(
        &self,
        request: Request<pb::prepare_provider_config::Request>,
    ) -> Result<Response<pb::prepare_provider_config::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "PrepareProviderConfig", async {
            type R = pb::prepare_provider_config::Response;
            let ty = self.types.provider.clone();
            let config = decode_or_return!(R, req.config.as_ref(), &ty, "provider configuration");
            let diags = self.logic.validate_provider_config(&config).await;
            let mut resp = R::from_diagnostics(&diags);
            resp.prepared_config = req.config.clone();
            resp
        })
        .await
    }

    async fn validate_resource_type_config(
        &self,
        request: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "ValidateResourceTypeConfig", async {
            type R = pb::validate_resource_type_config::Response;
            let ty = type_or_return!(R, self.resource_type(&req.type_name));
            let config = decode_or_return!(R, req.config.as_ref(), &ty, "configuration");
            R::from_diagnostics(&self.logic.validate_resource_config(&req.type_name, &config).await)
        })
        .await
    }

    async fn validate_data_source_config(
        &self,
        request: Request<pb::validate_data_source_config::Request>,
    ) -> Result<Response<pb::validate_data_source_config::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "ValidateDataSourceConfig", async {
            type R = pb::validate_data_source_config::Response;
            let ty = type_or_return!(R, self.data_source_type(&req.type_name));
            let config = decode_or_return!(R, req.config.as_ref(), &ty, "configuration");
            R::from_diagnostics(&self.logic.validate_data_source_config(&req.type_name, &config).await)
        })
        .await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "UpgradeResourceState", async {
            type R = pb::upgrade_resource_state::Response;
            let ty = type_or_return!(R, self.resource_type(&req.type_name));
            let raw = req.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                let detail = if raw.flatmap.is_empty() {
                    "The state holds no data for this resource.".to_string()
                } else {
                    "The state is in the flatmap format of Terraform 0.11 and older, which this provider never \
                     wrote. Remove the resource from state (terraform state rm) and import it."
                        .to_string()
                };
                if raw.flatmap.is_empty() {
                    // Nothing to upgrade: an empty object state is null.
                    return R { upgraded_state: encode_or_diag(&Value::Null, &ty).ok(), ..Default::default() };
                }
                return R::from_diagnostics(&Diagnostics::from_error("Unsupported state format", detail, None));
            }
            let decoded = match value::decode_json_lenient(&raw.json, &ty) {
                Ok(v) => v,
                Err(e) => {
                    return R::from_diagnostics(&Diagnostics::from_error(
                        "Invalid resource state",
                        format!(
                            "The stored state of this {} could not be read: {e}. The state file may be damaged; \
                             restore it from a backup, or remove the resource from state and import it.",
                            req.type_name
                        ),
                        None,
                    ))
                }
            };
            let (upgraded, mut diags) = self.logic.upgrade_resource_state(&req.type_name, req.version, decoded).await;
            let mut resp = R::default();
            match encode_or_diag(&upgraded, &ty) {
                Ok(dv) => resp.upgraded_state = Some(dv),
                Err(d) => diags.extend(d),
            }
            resp.diagnostics = diagnostics_to_proto(&diags);
            resp
        })
        .await
    }

    async fn configure(
        &self,
        request: Request<pb::configure::Request>,
    ) -> Result<Response<pb::configure::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "Configure", async {
            type R = pb::configure::Response;
            let ty = self.types.provider.clone();
            let config = decode_or_return!(R, req.config.as_ref(), &ty, "provider configuration");
            R::from_diagnostics(&self.logic.configure(&config, &req.terraform_version).await)
        })
        .await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "ReadResource", async {
            type R = pb::read_resource::Response;
            let ty = type_or_return!(R, self.resource_type(&req.type_name));
            let current = decode_or_return!(R, req.current_state.as_ref(), &ty, "current state");
            let out = self.logic.read_resource(&req.type_name, &current, &req.private).await;
            let mut diags = out.diagnostics;
            let new_state = encode_state_or(&out.new_state, &ty, &req.current_state, &mut diags);
            R { new_state, private: out.private, diagnostics: diagnostics_to_proto(&diags), ..Default::default() }
        })
        .await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "PlanResourceChange", async {
            type R = pb::plan_resource_change::Response;
            let ty = type_or_return!(R, self.resource_type(&req.type_name));
            let prior = decode_or_return!(R, req.prior_state.as_ref(), &ty, "prior state");
            let proposed = decode_or_return!(R, req.proposed_new_state.as_ref(), &ty, "proposed new state");
            let config = decode_or_return!(R, req.config.as_ref(), &ty, "configuration");
            let out = self
                .logic
                .plan_resource_change(PlanRequest {
                    type_name: &req.type_name,
                    prior_state: &prior,
                    proposed_new_state: &proposed,
                    config: &config,
                    prior_private: &req.prior_private,
                })
                .await;
            let mut diags = out.diagnostics;
            let mut resp = R::default();
            if !diags.has_errors() {
                match encode_or_diag(&out.planned_state, &ty) {
                    Ok(dv) => resp.planned_state = Some(dv),
                    Err(d) => diags.extend(d),
                }
            }
            resp.requires_replace = out.requires_replace.iter().map(path_to_proto).collect();
            resp.planned_private = out.planned_private;
            resp.diagnostics = diagnostics_to_proto(&diags);
            resp
        })
        .await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        type R = pb::apply_resource_change::Response;
        let saved = SavedState::new();
        // A panic part-way answers the state the apply saved (else the prior state, as
        // Terraform sent it), with an error.
        let on_panic = |msg: &str| {
            let saved = saved.get().and_then(|v| self.resource_type(&req.type_name).ok().map(|ty| (v, ty)));
            let (new_state, after) = match saved.map(|(v, ty)| encode_or_diag(&v, ty)) {
                Some(Ok(dv)) => (Some(dv), "The state records what had been done when it failed. "),
                _ => (req.prior_state.clone(), "The state is left as it was before this apply. "),
            };
            let diags = Diagnostics::from_error(
                format!("Internal error in the {} provider", self.name),
                format!(
                    "The provider hit a bug while applying changes to {}: {msg}. {after}Please report it with the \
                     output of TF_LOG=debug.",
                    req.type_name
                ),
                None,
            );
            R {
                new_state,
                private: req.planned_private.clone(),
                diagnostics: diagnostics_to_proto(&diags),
                ..R::default()
            }
        };
        guarded_or(
            "ApplyResourceChange",
            async {
                let ty = type_or_return!(R, self.resource_type(&req.type_name));
                let prior = decode_or_return!(R, req.prior_state.as_ref(), &ty, "prior state");
                let planned = decode_or_return!(R, req.planned_state.as_ref(), &ty, "planned state");
                let config = decode_or_return!(R, req.config.as_ref(), &ty, "configuration");
                let out = self
                    .logic
                    .apply_resource_change(ApplyRequest {
                        type_name: &req.type_name,
                        prior_state: &prior,
                        planned_state: &planned,
                        config: &config,
                        planned_private: &req.planned_private,
                        saved: &saved,
                    })
                    .await;
                let mut diags = out.diagnostics;
                let new_state = encode_state_or(&out.new_state, &ty, &req.prior_state, &mut diags);
                R { new_state, private: out.private, diagnostics: diagnostics_to_proto(&diags), ..Default::default() }
            },
            on_panic,
        )
        .await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "ImportResourceState", async {
            type R = pb::import_resource_state::Response;
            let (imported, mut diags) = self.logic.import_resource_state(&req.type_name, &req.id).await;
            let mut resp = R::default();
            for r in imported {
                let ty = match self.resource_type(&r.type_name) {
                    Ok(t) => t.clone(),
                    Err(d) => {
                        diags.extend(d);
                        continue;
                    }
                };
                match encode_or_diag(&r.state, &ty) {
                    Ok(dv) => resp.imported_resources.push(pb::import_resource_state::ImportedResource {
                        type_name: r.type_name,
                        state: Some(dv),
                        private: r.private,
                        ..Default::default()
                    }),
                    Err(d) => diags.extend(d),
                }
            }
            resp.diagnostics = diagnostics_to_proto(&diags);
            resp
        })
        .await
    }

    async fn move_resource_state(
        &self,
        _request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        guarded(&self.name, "MoveResourceState", async {
            pb::move_resource_state::Response::from_diagnostics(&unsupported_rpc(&self.name, "MoveResourceState"))
        })
        .await
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        guarded(&self.name, "ReadDataSource", async {
            type R = pb::read_data_source::Response;
            let ty = type_or_return!(R, self.data_source_type(&req.type_name));
            let config = decode_or_return!(R, req.config.as_ref(), &ty, "configuration");
            let (state, mut diags) = self.logic.read_data_source(&req.type_name, &config).await;
            let mut resp = R::default();
            if !diags.has_errors() {
                match encode_or_diag(&state, &ty) {
                    Ok(dv) => resp.state = Some(dv),
                    Err(d) => diags.extend(d),
                }
            }
            resp.diagnostics = diagnostics_to_proto(&diags);
            resp
        })
        .await
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        guarded(&self.name, "GetFunctions", async {
            pb::get_functions::Response { functions: self.functions_proto(), ..Default::default() }
        })
        .await
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(target: "tfplugin5::server", rpc = "CallFunction", function = %req.name, "request");
        let answer = match std::panic::AssertUnwindSafe(self.call(&req)).catch_unwind().await {
            Ok(answer) => answer,
            Err(panic) => {
                let msg = crate::panic_message(&*panic);
                tracing::error!(target: "tfplugin5::server", rpc = "CallFunction", panic = %msg, "handler panicked");
                Err(FunctionError::new(format!(
                    "Internal error in the {} provider while calling {}: {msg}. Please report it with the output \
                     of TF_LOG=debug.",
                    self.name, req.name
                )))
            }
        };
        Ok(Response::new(match answer {
            Ok(result) => pb::call_function::Response { result: Some(result), error: None },
            Err(e) => pb::call_function::Response { result: None, error: Some(function_error_to_proto(&e)) },
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        guarded(&self.name, "ValidateEphemeralResourceConfig", async {
            pb::validate_ephemeral_resource_config::Response::from_diagnostics(&unsupported_rpc(
                &self.name,
                "Ephemeral resources",
            ))
        })
        .await
    }

    async fn open_ephemeral_resource(
        &self,
        _request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        guarded(&self.name, "OpenEphemeralResource", async {
            pb::open_ephemeral_resource::Response::from_diagnostics(&unsupported_rpc(&self.name, "Ephemeral resources"))
        })
        .await
    }

    async fn renew_ephemeral_resource(
        &self,
        _request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        guarded(&self.name, "RenewEphemeralResource", async {
            pb::renew_ephemeral_resource::Response::from_diagnostics(&unsupported_rpc(
                &self.name,
                "Ephemeral resources",
            ))
        })
        .await
    }

    async fn close_ephemeral_resource(
        &self,
        _request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        guarded(&self.name, "CloseEphemeralResource", async {
            pb::close_ephemeral_resource::Response::from_diagnostics(&unsupported_rpc(
                &self.name,
                "Ephemeral resources",
            ))
        })
        .await
    }

    type ListResourceStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::list_resource::Event, Status>> + Send + 'static>>;

    async fn list_resource(
        &self,
        _request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let event = pb::list_resource::Event {
            diagnostic: diagnostics_to_proto(&unsupported_rpc(&self.name, "List resources")),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter(vec![Ok(event)]))))
    }

    async fn validate_list_resource_config(
        &self,
        _request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        guarded(&self.name, "ValidateListResourceConfig", async {
            pb::validate_list_resource_config::Response::from_diagnostics(&unsupported_rpc(
                &self.name,
                "List resources",
            ))
        })
        .await
    }

    async fn generate_resource_config(
        &self,
        _request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        guarded(&self.name, "GenerateResourceConfig", async {
            pb::generate_resource_config::Response::from_diagnostics(&unsupported_rpc(
                &self.name,
                "GenerateResourceConfig",
            ))
        })
        .await
    }

    async fn plan_action(
        &self,
        _request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        guarded(&self.name, "PlanAction", async {
            pb::plan_action::Response::from_diagnostics(&unsupported_rpc(&self.name, "Actions"))
        })
        .await
    }

    type InvokeActionStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::invoke_action::Event, Status>> + Send + 'static>>;

    async fn invoke_action(
        &self,
        _request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        let event = pb::invoke_action::Event {
            r#type: Some(pb::invoke_action::event::Type::Completed(pb::invoke_action::event::Completed {
                diagnostics: diagnostics_to_proto(&unsupported_rpc(&self.name, "Actions")),
            })),
        };
        Ok(Response::new(Box::pin(futures::stream::iter(vec![Ok(event)]))))
    }

    async fn validate_action_config(
        &self,
        _request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        guarded(&self.name, "ValidateActionConfig", async {
            pb::validate_action_config::Response::from_diagnostics(&unsupported_rpc(&self.name, "Actions"))
        })
        .await
    }

    async fn stop(&self, _request: Request<pb::stop::Request>) -> Result<Response<pb::stop::Response>, Status> {
        tracing::info!(target: "tfplugin5::server", "stop requested");
        self.logic.stop();
        Ok(Response::new(pb::stop::Response::default()))
    }
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities { plan_destroy: false, get_provider_schema_optional: true, ..Default::default() }
}

fn encode_or_diag(v: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    encode_dynamic(v, ty)
}

/// The new state of a read or an apply, encoded; when it cannot be, the state Terraform
/// already had (so no object is lost track of) and the diagnostic saying why.
fn encode_state_or(
    v: &Value,
    ty: &Type,
    earlier: &Option<pb::DynamicValue>,
    diags: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    match encode_or_diag(v, ty) {
        Ok(dv) => Some(dv),
        Err(d) => {
            diags.extend(d);
            earlier.clone()
        }
    }
}
