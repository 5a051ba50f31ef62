//! A tiny provider written with the typed layer, driven through the untyped
//! [`ProviderLogic`] methods the gRPC server calls.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::*;
use crate::provider::{self as raw, ProviderLogic};
use crate::{Attribute, Block, Nesting, Severity, Type};

// ---------------------------------------------------------------------------
// The provider block
// ---------------------------------------------------------------------------

#[derive(Default)]
struct ExampleProvider {
    configured: Mutex<Option<(Tf<String>, String)>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
struct ProviderModel {
    prefix: Tf<String>,
}

#[tonic::async_trait]
impl Provider for ExampleProvider {
    type Model = ProviderModel;

    fn name(&self) -> &str {
        "example"
    }

    fn schema(&self) -> Option<Schema> {
        Some(Schema::new(0, Block::new("Example.").attribute(Attribute::optional("prefix", Type::String))))
    }

    async fn validate(&self, config: ProviderModel) -> Diagnostics {
        let mut d = Diagnostics::new();
        if config.prefix.known().is_some_and(String::is_empty) {
            d.error("Empty prefix", "Leave prefix unset instead.", Some(AttrPath::attr("prefix")));
        }
        d
    }

    async fn configure(&self, config: ProviderModel, terraform_version: &str) -> Diagnostics {
        *self.configured.lock().unwrap() = Some((config.prefix, terraform_version.to_string()));
        Diagnostics::new()
    }
}

// ---------------------------------------------------------------------------
// A data source: example_echo
// ---------------------------------------------------------------------------

struct Echo;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
struct EchoModel {
    items: Tf<Vec<Tf<String>>>,
    count: Tf<i64>,
    upper: Tf<Vec<Tf<String>>>,
}

#[tonic::async_trait]
impl DataSource for Echo {
    type Model = EchoModel;

    fn type_name(&self) -> &'static str {
        "example_echo"
    }

    fn schema(&self) -> Option<Schema> {
        Some(Schema::new(
            0,
            Block::new("Echoes its items.")
                .attribute(Attribute::required("items", Type::list(Type::String)))
                .attribute(Attribute::computed("count", Type::Number))
                .attribute(Attribute::computed("upper", Type::list(Type::String))),
        ))
    }

    async fn validate(&self, config: EchoModel) -> Diagnostics {
        let mut d = Diagnostics::new();
        for (i, item) in config.items.known().into_iter().flatten().enumerate() {
            if item.known().is_some_and(String::is_empty) {
                d.error("Empty item", "Items must not be empty.", Some(AttrPath::attr("items").index(i)));
            }
        }
        d
    }

    async fn read(&self, config: EchoModel, _stop: StopToken) -> (Option<EchoModel>, Diagnostics) {
        let items: Vec<String> =
            config.items.known().into_iter().flatten().filter_map(|i| i.known().cloned()).collect();
        let out = EchoModel {
            count: Tf::Known(items.len() as i64),
            upper: Tf::Known(items.iter().map(|s| Tf::Known(s.to_uppercase())).collect()),
            ..config
        };
        (Some(out), Diagnostics::new())
    }
}

// ---------------------------------------------------------------------------
// A resource: example_file, in memory
// ---------------------------------------------------------------------------

type Store = Arc<Mutex<BTreeMap<String, String>>>;

struct File {
    store: Store,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
struct FileModel {
    id: Tf<String>,
    path: Tf<String>,
    content: Tf<String>,
    size: Tf<i64>,
    #[serde(default)]
    rule: Vec<Rule>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
struct Rule {
    name: Tf<String>,
    port: Tf<u16>,
}

fn file_schema() -> Schema {
    Schema::new(
        1,
        Block::new("A file in memory.")
            .attribute(Attribute::computed("id", Type::String))
            .attribute(Attribute::required("path", Type::String))
            .attribute(Attribute::optional("content", Type::String))
            .attribute(Attribute::computed("size", Type::Number))
            .block(
                "rule",
                Nesting::List,
                0,
                0,
                Block::new("")
                    .attribute(Attribute::required("name", Type::String))
                    .attribute(Attribute::optional("port", Type::Number)),
            ),
    )
}

#[tonic::async_trait]
impl Resource for File {
    type Model = FileModel;

    fn type_name(&self) -> &'static str {
        "example_file"
    }

    fn schema(&self) -> Option<Schema> {
        Some(file_schema())
    }

    async fn plan(&self, req: PlanRequest<FileModel>) -> PlanResponse<FileModel> {
        let Some(mut planned) = req.proposed else { return PlanResponse::new(None) };
        let mut resp = PlanResponse::new(None);
        match &req.prior {
            None => planned.id = Tf::Unknown,
            Some(prior) if prior.path != planned.path => {
                planned.id = Tf::Unknown;
                resp = resp.replace(AttrPath::attr("path"));
            }
            Some(_) => {}
        }
        planned.size = match &planned.content {
            Tf::Known(c) => Tf::Known(c.len() as i64),
            Tf::Null => Tf::Known(0),
            Tf::Unknown => Tf::Unknown,
        };
        resp.planned = Some(planned);
        resp
    }

    async fn apply(&self, req: ApplyRequest<FileModel>) -> StateResponse<FileModel> {
        let Some(mut state) = req.planned else {
            if let Some(path) = req.prior.as_ref().and_then(|p| p.path.known()) {
                self.store.lock().unwrap().remove(path);
            }
            return StateResponse::new(None);
        };
        let content = state.content.clone().unwrap_or_default();
        if content == "panic early" {
            panic!("boom before anything happened");
        }
        let path = state.path.clone().unwrap_or_default();
        self.store.lock().unwrap().insert(path.clone(), content.clone());
        state.id = Tf::Known(path);
        state.size = Tf::Known(content.len() as i64);
        req.checkpoint.save(&state).unwrap();
        if content == "panic late" {
            panic!("boom after the file was written");
        }
        if content == "hold late" {
            // A request that never answers (until Terraform's Stop).
            std::future::pending::<()>().await;
        }
        StateResponse::new(Some(state)).with_private(b"applied".to_vec())
    }

    async fn read(&self, req: ReadRequest<FileModel>) -> StateResponse<FileModel> {
        let mut d = Diagnostics::new();
        if req.stop.is_stopped() {
            d.warning("Stopped", "Terraform asked to stop.", None);
        }
        let path = req.current.path.clone().unwrap_or_default();
        let Some(content) = self.store.lock().unwrap().get(&path).cloned() else {
            return StateResponse::new(None).with_diagnostics(d);
        };
        let state = FileModel {
            id: Tf::Known(path),
            size: Tf::Known(content.len() as i64),
            content: Tf::Known(content),
            ..req.current
        };
        StateResponse::new(Some(state)).with_diagnostics(d)
    }
}

#[tonic::async_trait]
impl ImportResource for File {
    async fn import(&self, id: &str) -> (Vec<FileModel>, Diagnostics) {
        if !self.store.lock().unwrap().contains_key(id) {
            return (Vec::new(), Diagnostics::from_error("Not found", format!("No file {id:?}."), None));
        }
        (
            vec![FileModel { id: id.to_string().into(), path: id.to_string().into(), ..Default::default() }],
            Diagnostics::new(),
        )
    }
}

#[tonic::async_trait]
impl UpgradeState for File {
    async fn upgrade(&self, version: i64, mut decoded: Value) -> (Value, Diagnostics) {
        // Version 0 had no size; it is filled in on the next read.
        if version == 0 {
            decoded.set_attr("size", Value::Null);
        }
        (decoded, Diagnostics::new())
    }
}

// ---------------------------------------------------------------------------
// A model that drifted from its schema
// ---------------------------------------------------------------------------

struct Drifted;

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
struct DriftedModel {
    /// Required in the schema, but cannot hold an unknown value.
    path: String,
    /// A number in the schema.
    count: Tf<String>,
    /// Not in the schema; and the schema's `content` is not in the model.
    extra: Tf<String>,
}

#[tonic::async_trait]
impl Resource for Drifted {
    type Model = DriftedModel;

    fn type_name(&self) -> &'static str {
        "example_drifted"
    }

    fn schema(&self) -> Option<Schema> {
        Some(Schema::new(
            0,
            Block::new("")
                .attribute(Attribute::required("path", Type::String))
                .attribute(Attribute::optional("content", Type::String))
                .attribute(Attribute::computed("count", Type::Number)),
        ))
    }

    async fn plan(&self, req: PlanRequest<DriftedModel>) -> PlanResponse<DriftedModel> {
        PlanResponse::new(req.proposed)
    }

    async fn apply(&self, req: ApplyRequest<DriftedModel>) -> StateResponse<DriftedModel> {
        StateResponse::new(req.planned)
    }

    async fn read(&self, req: ReadRequest<DriftedModel>) -> StateResponse<DriftedModel> {
        StateResponse::new(Some(req.current))
    }
}

// ---------------------------------------------------------------------------
// A function: provider::example::join(items, options, extra...)
// ---------------------------------------------------------------------------

struct Join;

/// One field per parameter; `options` is an object argument with optional
/// attributes (a dynamic parameter), `extra` the variadic arguments.
#[derive(Deserialize)]
struct JoinArgs {
    items: Vec<String>,
    options: JoinOptions,
    extra: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinOptions {
    separator: Tf<String>,
    upper: Tf<bool>,
}

impl Function for Join {
    type Args = JoinArgs;
    type Return = String;

    fn name(&self) -> &'static str {
        "join"
    }

    fn signature(&self) -> Option<crate::FunctionSignature> {
        Some(
            crate::FunctionSignature::new("Joins strings.", Type::String)
                .parameter(crate::FunctionParameter::new("items", Type::list(Type::String)))
                .parameter(crate::FunctionParameter::new("options", Type::Dynamic))
                .variadic(crate::FunctionParameter::new("extra", Type::String)),
        )
    }

    fn call(&self, args: JoinArgs) -> Result<String, crate::FunctionError> {
        let sep = args.options.separator.known().cloned().unwrap_or_else(|| ",".to_string());
        if sep.is_empty() {
            return Err(crate::FunctionError::argument(1, "separator must not be empty; omit it for \",\"."));
        }
        if args.items.iter().any(|i| i == "panic") {
            panic!("the item was panic");
        }
        let all: Vec<String> = args.items.into_iter().chain(args.extra).collect();
        let out = all.join(&sep);
        Ok(if args.options.upper.known() == Some(&true) { out.to_uppercase() } else { out })
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

fn registry() -> (Registry<ExampleProvider>, Store) {
    let store: Store = Arc::default();
    let reg = Registry::new(ExampleProvider::default())
        .resource_with(File { store: store.clone() }, Abilities::new().import().upgrade())
        .data_source(Echo)
        .function(Join);
    (reg, store)
}

fn file_type() -> Type {
    file_schema().value_type()
}

fn file(path: &str, content: Value) -> Value {
    Value::object([
        ("id", Value::Null),
        ("path", Value::string(path)),
        ("content", content),
        ("size", Value::Null),
        ("rule", Value::list(vec![])),
    ])
}

fn errors(d: &Diagnostics) -> Vec<String> {
    d.iter().filter(|d| d.severity == Severity::Error).map(|d| format!("{}: {}", d.summary, d.detail)).collect()
}

async fn plan(reg: &Registry<ExampleProvider>, prior: &Value, config: &Value) -> raw::PlanResponse {
    reg.plan_resource_change(raw::PlanRequest {
        type_name: "example_file",
        prior_state: prior,
        proposed_new_state: config,
        config,
        prior_private: b"prior",
    })
    .await
}

async fn apply(reg: &Registry<ExampleProvider>, prior: &Value, planned: &Value) -> raw::StateResponse {
    reg.apply_resource_change(raw::ApplyRequest {
        type_name: "example_file",
        prior_state: prior,
        planned_state: planned,
        config: planned,
        planned_private: b"planned",
        saved: &raw::SavedState::new(),
    })
    .await
}

#[test]
fn good_models_pass_the_check() {
    let (reg, _) = registry();
    assert_eq!(reg.check_models(), Ok(()));
}

#[test]
fn a_drifted_model_fails_the_check_naming_each_attribute() {
    let (reg, _) = registry();
    let problems = reg.resource(Drifted).check_models().unwrap_err();
    let all = problems.join("\n");
    assert!(problems.iter().all(|p| p.starts_with("resource example_drifted: ")), "{all}");
    assert!(all.contains("`count` does not") || all.contains("count: expected a string, found the number 1"), "{all}");
    assert!(all.contains("attribute `content` is in the schema but not in the model"), "{all}");
    assert!(all.contains("field `extra` of the model is not an attribute in the schema"), "{all}");
    assert!(all.contains("attribute `path` may be unknown while planning"), "{all}");
}

#[test]
fn registering_a_name_twice_is_reported() {
    let (reg, store) = registry();
    let problems = reg.resource(File { store }).check_models().unwrap_err();
    assert_eq!(problems, vec!["resource example_file: registered more than once".to_string()]);
}

/// A type with no schema of its own, served under the declared one.
struct Bare;

#[tonic::async_trait]
impl DataSource for Bare {
    type Model = EchoModel;

    fn type_name(&self) -> &'static str {
        "example_bare"
    }

    async fn read(&self, config: EchoModel, _stop: StopToken) -> (Option<EchoModel>, Diagnostics) {
        (Some(config), Diagnostics::new())
    }
}

fn declared() -> crate::provider::ProviderSchemas {
    let echo = Echo.schema().unwrap();
    crate::provider::ProviderSchemas {
        provider: ExampleProvider::default().schema().unwrap(),
        resources: BTreeMap::from([("example_file".to_string(), file_schema())]),
        data_sources: BTreeMap::from([("example_bare".to_string(), echo.clone()), ("example_echo".to_string(), echo)]),
        functions: BTreeMap::new(),
    }
}

#[test]
fn a_declared_registry_serves_the_declared_schemas() {
    let reg = Registry::declared(ExampleProvider::default(), declared())
        .resource(File { store: Arc::default() })
        .data_source(Echo)
        .data_source(Bare);
    assert_eq!(reg.check_registrations(), Ok(()));
    assert_eq!(reg.check_models(), Ok(()));
    let s = reg.schemas();
    assert_eq!(s.data_sources.keys().collect::<Vec<_>>(), vec!["example_bare", "example_echo"]);
    assert_eq!(s.data_sources["example_bare"], declared().data_sources["example_bare"]);
}

#[test]
fn a_declared_type_without_implementation_or_an_undeclared_one_is_reported() {
    // example_file and example_echo are declared but not registered; Bare is
    // registered under a name with no declared schema and has none of its own.
    let mut schemas = declared();
    schemas.data_sources.remove("example_bare");
    let mut other = file_schema();
    other.version = 7;
    schemas.resources.insert("example_drifted".to_string(), other);
    let reg = Registry::declared(ExampleProvider::default(), schemas).data_source(Bare).resource(Drifted);
    assert_eq!(
        reg.check_registrations().unwrap_err(),
        vec![
            "data source example_bare: implemented but not declared (add its schema to the declared list)".to_string(),
            "resource example_drifted: its own schema differs from the declared one".to_string(),
            "resource example_file: declared but not implemented (register its implementation)".to_string(),
            "data source example_echo: declared but not implemented (register its implementation)".to_string(),
        ]
    );
    assert!(!reg.schemas().data_sources.contains_key("example_bare"));

    let undeclared = Registry::new(ExampleProvider::default()).data_source(Bare);
    assert_eq!(
        undeclared.check_registrations().unwrap_err(),
        vec!["data source example_bare: no schema (none of its own, and the registry declares none)".to_string()]
    );
}

#[test]
fn schemas_are_collected() {
    let (reg, _) = registry();
    let s = reg.schemas();
    assert_eq!(s.provider.block.attributes.len(), 1);
    assert_eq!(s.resources.keys().collect::<Vec<_>>(), vec!["example_file"]);
    assert_eq!(s.data_sources.keys().collect::<Vec<_>>(), vec!["example_echo"]);
    assert_eq!(s.resources["example_file"].version, 1);
    // The registry is what the gRPC server serves.
    let _server = crate::server::ProviderServer::new(Arc::new(reg));
}

#[tokio::test]
async fn provider_validate_and_configure() {
    let (reg, _) = registry();
    let bad = Value::object([("prefix", Value::string(""))]);
    let d = reg.validate_provider_config(&bad).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d.0[0].path, Some(AttrPath::attr("prefix")));

    // Unknown is fine for a Tf field; no block at all reads as nulls.
    assert!(reg.validate_provider_config(&Value::object([("prefix", Value::Unknown)])).await.is_empty());
    assert!(reg.configure(&Value::Null, "1.9.0").await.is_empty());
    assert_eq!(*reg.provider().configured.lock().unwrap(), Some((Tf::Null, "1.9.0".to_string())));

    let wrong = Value::object([("prefix", Value::int(3))]);
    let d = reg.configure(&wrong, "1.9.0").await;
    assert_eq!(d.0[0].path, Some(AttrPath::attr("prefix")));
    assert!(d.0[0].detail.contains("expected a string, found the number 3"), "{:?}", d);
}

#[tokio::test]
async fn data_source_validate_and_read() {
    let (reg, _) = registry();
    let config = Value::object([
        ("items", Value::list(vec![Value::string("a"), Value::string(""), Value::Unknown])),
        ("count", Value::Null),
        ("upper", Value::Null),
    ]);
    let d = reg.validate_data_source_config("example_echo", &config).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d.0[0].summary, "Empty item");
    assert_eq!(d.0[0].path.as_ref().map(ToString::to_string).as_deref(), Some("items[1]"));

    let config = Value::object([
        ("items", Value::list(vec![Value::string("a"), Value::string("b")])),
        ("count", Value::Null),
        ("upper", Value::Null),
    ]);
    let (state, d) = reg.read_data_source("example_echo", &config).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        state,
        Value::object([
            ("items", Value::list(vec![Value::string("a"), Value::string("b")])),
            ("count", Value::int(2)),
            ("upper", Value::list(vec![Value::string("A"), Value::string("B")])),
        ])
    );
}

#[tokio::test]
async fn a_value_that_does_not_fit_is_a_diagnostic_with_its_path() {
    let (reg, _) = registry();
    let config = Value::object([
        ("items", Value::list(vec![Value::string("a"), Value::int(5)])),
        ("count", Value::Null),
        ("upper", Value::Null),
    ]);
    let (state, d) = reg.read_data_source("example_echo", &config).await;
    assert_eq!(state, Value::Null);
    assert_eq!(d.len(), 1);
    assert_eq!(d.0[0].summary, "Invalid value");
    assert_eq!(d.0[0].path.as_ref().map(ToString::to_string).as_deref(), Some("items[1]"));
    assert!(d.0[0].detail.contains("configuration of example_echo"), "{}", d.0[0].detail);
    assert!(d.0[0].detail.contains("expected a string, found the number 5"), "{}", d.0[0].detail);

    let mut config = file("/a", Value::Null);
    config.set_attr(
        "rule",
        Value::list(vec![Value::object([("name", Value::string("web")), ("port", Value::int(70000))])]),
    );
    let d = reg.validate_resource_config("example_file", &config).await;
    assert_eq!(d.0[0].path.as_ref().map(ToString::to_string).as_deref(), Some("rule[0].port"));
    assert!(d.0[0].detail.contains("expected a whole number from 0 to 65535, found 70000"), "{}", d.0[0].detail);
}

#[tokio::test]
async fn unknown_type_names_are_errors() {
    let (reg, _) = registry();
    let d = reg.validate_resource_config("example_nope", &Value::Null).await;
    assert_eq!(d.0[0].summary, "Unknown resource type");
    assert!(d.0[0].detail.contains("no resource named \"example_nope\""));
    let (_, d) = reg.read_data_source("example_nope", &Value::Null).await;
    assert_eq!(d.0[0].summary, "Unknown data source type");
    let out = plan(&reg, &Value::Null, &Value::Null).await;
    assert!(!out.diagnostics.has_errors());
    let out = reg
        .plan_resource_change(raw::PlanRequest {
            type_name: "example_nope",
            prior_state: &Value::Null,
            proposed_new_state: &Value::Null,
            config: &Value::Null,
            prior_private: &[],
        })
        .await;
    assert_eq!(out.diagnostics.0[0].summary, "Unknown resource type");
    let (imported, d) = reg.import_resource_state("example_nope", "x").await;
    assert!(imported.is_empty() && d.has_errors());
}

#[tokio::test]
async fn create_update_replace_delete() {
    let (reg, store) = registry();
    let ty = file_type();

    // Create: id unknown, size known from the content.
    let config = file("/a", Value::string("hello"));
    let out = plan(&reg, &Value::Null, &config).await;
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(out.planned_state.get_attr("id"), Some(&Value::Unknown));
    assert_eq!(out.planned_state.get_attr("size"), Some(&Value::int(5)));
    assert_eq!(out.planned_private, b"prior".to_vec(), "private data is kept when the plan does not set it");
    let planned = out.planned_state;

    let out = apply(&reg, &Value::Null, &planned).await;
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(out.new_state.get_attr("id"), Some(&Value::string("/a")));
    assert_eq!(out.private, b"applied".to_vec());
    assert_eq!(store.lock().unwrap().get("/a").map(String::as_str), Some("hello"));
    let state = out.new_state;
    assert!(super::from_value::<FileModel>(&state).is_ok());
    assert!(super::to_value(&super::from_value::<FileModel>(&state).unwrap(), &ty).unwrap() == state);

    // Update with content unknown until apply.
    let config = file("/a", Value::Unknown).with_attr("id", Value::string("/a"));
    let out = plan(&reg, &state, &config).await;
    assert!(out.requires_replace.is_empty());
    assert_eq!(out.planned_state.get_attr("size"), Some(&Value::Unknown));

    // A new path forces replacement.
    let config = file("/b", Value::string("x")).with_attr("id", Value::string("/a"));
    let out = plan(&reg, &state, &config).await;
    assert_eq!(out.requires_replace, vec![AttrPath::attr("path")]);
    assert_eq!(out.planned_state.get_attr("id"), Some(&Value::Unknown));

    // Destroy.
    let out = plan(&reg, &state, &Value::Null).await;
    assert_eq!(out.planned_state, Value::Null);
    let out = apply(&reg, &state, &Value::Null).await;
    assert!(out.diagnostics.is_empty());
    assert_eq!(out.new_state, Value::Null);
    assert!(store.lock().unwrap().is_empty());
}

#[tokio::test]
async fn read_refreshes_and_notices_a_deleted_object() {
    let (reg, store) = registry();
    store.lock().unwrap().insert("/a".into(), "changed".into());
    let current = file("/a", Value::string("old")).with_attr("id", Value::string("/a"));
    let out = reg.read_resource("example_file", &current, b"p").await;
    assert!(out.diagnostics.is_empty());
    assert_eq!(out.new_state.get_attr("content"), Some(&Value::string("changed")));
    assert_eq!(out.new_state.get_attr("size"), Some(&Value::int(7)));
    assert_eq!(out.private, b"p".to_vec());

    store.lock().unwrap().clear();
    let out = reg.read_resource("example_file", &current, b"p").await;
    assert_eq!(out.new_state, Value::Null);
}

#[tokio::test]
async fn import_then_read() {
    let (reg, store) = registry();
    store.lock().unwrap().insert("/etc/x".into(), "abc".into());
    let (imported, d) = reg.import_resource_state("example_file", "/etc/x").await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].type_name, "example_file");
    assert_eq!(imported[0].state.get_attr("content"), Some(&Value::Null));
    let out = reg.read_resource("example_file", &imported[0].state, &imported[0].private).await;
    assert_eq!(out.new_state.get_attr("content"), Some(&Value::string("abc")));

    let (imported, d) = reg.import_resource_state("example_file", "/missing").await;
    assert!(imported.is_empty());
    assert_eq!(d.0[0].summary, "Not found");
}

#[tokio::test]
async fn without_abilities_import_is_refused_and_state_passes_through() {
    // The same resource registered without opting into import or upgrade.
    let store: Store = Arc::default();
    store.lock().unwrap().insert("/etc/x".into(), "abc".into());
    let reg = Registry::new(ExampleProvider::default()).resource(File { store });
    let (imported, d) = reg.import_resource_state("example_file", "/etc/x").await;
    assert!(imported.is_empty());
    assert_eq!(d.0[0].summary, "Import not supported");
    assert_eq!(d.0[0].detail, "The resource type example_file cannot be imported.");

    // Version 0 state keeps its size (File's upgrade would null it).
    let stored = file("/a", Value::string("abc")).with_attr("id", Value::string("/a")).with_attr("size", Value::int(3));
    let (upgraded, d) = reg.upgrade_resource_state("example_file", 0, stored.clone()).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(upgraded, stored);

    let (reg, _) = registry();
    let (upgraded, _) = reg.upgrade_resource_state("example_file", 0, stored).await;
    assert_eq!(upgraded.get_attr("size"), Some(&Value::Null), "opted in: File's own upgrade runs");
}

#[tokio::test]
async fn a_stop_mid_apply_answers_the_checkpoint_with_an_error() {
    let (reg, store) = registry();
    let planned = file("/a", Value::string("hold late")).with_attr("id", Value::Unknown);
    let stopper = async {
        // The file is written and checkpointed; the apply then waits forever.
        while !store.lock().unwrap().contains_key("/a") {
            tokio::task::yield_now().await;
        }
        reg.stop();
    };
    let (out, ()) = tokio::join!(apply(&reg, &Value::Null, &planned), stopper);
    assert_eq!(out.new_state.get_attr("id"), Some(&Value::string("/a")));
    assert_eq!(out.new_state.get_attr("size"), Some(&Value::int(9)));
    assert_eq!(out.private, b"planned");
    let errs = errors(&out.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("Operation cancelled"), "{errs:?}");
    assert!(errs[0].contains("recorded in the state"), "{errs:?}");

    // Stopped before anything was recorded: the prior state.
    let prior = file("/b", Value::string("old")).with_attr("id", Value::string("/b"));
    let planned = file("/b", Value::string("hold late")).with_attr("id", Value::string("/b"));
    let out = apply(&reg, &prior, &planned).await;
    assert_eq!(out.new_state, prior, "a token already stopped: nothing more starts");
    assert!(errors(&out.diagnostics)[0].contains("left as it was"));
}

#[tokio::test]
async fn stop_reaches_the_resource() {
    let (reg, store) = registry();
    let token = reg.stop_token();
    assert!(!token.is_stopped());
    store.lock().unwrap().insert("/a".into(), "x".into());
    let current = file("/a", Value::string("x"));
    let out = reg.read_resource("example_file", &current, &[]).await;
    assert!(out.diagnostics.is_empty());

    reg.stop();
    assert!(token.is_stopped());
    token.stopped().await;
    let out = reg.read_resource("example_file", &current, &[]).await;
    assert_eq!(out.diagnostics.0[0].summary, "Stopped");

    // Another registry has its own token.
    let (other, _) = registry();
    assert!(!other.stop_token().is_stopped());
}

#[tokio::test]
async fn upgrade_output_is_checked_against_the_model() {
    let (reg, _) = registry();
    let stored = file("/a", Value::string("x")).with_attr("size", Value::string("not a number"));
    let (up, d) = reg.upgrade_resource_state("example_file", 0, stored).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(up.get_attr("size"), Some(&Value::Null));

    let stored = file("/a", Value::string("x")).with_attr("size", Value::string("not a number"));
    let (_, d) = reg.upgrade_resource_state("example_file", 1, stored).await;
    assert_eq!(d.0[0].path, Some(AttrPath::attr("size")));
}

#[tokio::test]
async fn a_decode_error_in_apply_keeps_the_prior_state() {
    let (reg, store) = registry();
    let prior = file("/a", Value::string("x")).with_attr("id", Value::string("/a"));
    let planned = file("/a", Value::string("y")).with_attr("size", Value::bool(true));
    let out = apply(&reg, &prior, &planned).await;
    assert_eq!(out.new_state, prior);
    assert_eq!(out.diagnostics.0[0].path, Some(AttrPath::attr("size")));
    assert!(out.diagnostics.0[0].detail.contains("planned state of example_file"));
    assert!(store.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// Functions, through the registry and through the gRPC service
// ---------------------------------------------------------------------------

fn strings(items: &[&str]) -> Value {
    Value::list(items.iter().map(|s| Value::string(*s)).collect())
}

fn options(attrs: Vec<(&str, Value)>) -> Value {
    let v = Value::object(attrs);
    Value::dynamic(v.infer_type(), v)
}

#[tokio::test]
async fn a_function_decodes_its_arguments_and_encodes_its_result() {
    let (reg, _) = registry();
    let sig = reg.schemas().functions.remove("join").expect("join is served");
    assert_eq!(sig.parameters.len(), 2);
    assert_eq!(sig.variadic.as_ref().map(|p| p.name.as_str()), Some("extra"));
    let out = reg
        .call_function(
            "join",
            vec![strings(&["a", "b"]), options(vec![("separator", Value::string("-"))]), Value::string("c")],
        )
        .await;
    assert_eq!(out, Ok(Value::string("a-b-c")));
    let out = reg.call_function("join", vec![strings(&["a"]), options(vec![("upper", Value::bool(true))])]).await;
    assert_eq!(out, Ok(Value::string("A")));
}

#[tokio::test]
async fn a_bad_argument_is_a_function_error_naming_it() {
    let (reg, _) = registry();
    // A typo in the object argument: argument 1, the attribute named.
    let e = reg.call_function("join", vec![strings(&["a"]), options(vec![("separater", Value::string("-"))])]).await;
    let e = e.unwrap_err();
    assert_eq!(e.argument, Some(1));
    assert_eq!(e.text, "separater: is not an attribute this argument takes (it takes separator, upper).");
    // A wrong type inside an argument.
    let e = reg.call_function("join", vec![strings(&["a"]), options(vec![("upper", Value::string("yes"))])]).await;
    let e = e.unwrap_err();
    assert_eq!(e.argument, Some(1));
    assert!(e.text.starts_with("upper: expected a bool"), "{e}");
    // A bad variadic argument is named by its own position.
    let e = reg
        .call_function("join", vec![strings(&["a"]), options(vec![]), Value::string("b"), Value::int(3)])
        .await
        .unwrap_err();
    assert_eq!(e.argument, Some(3), "{e}");
    // The function's own verdict on an argument.
    let e = reg.call_function("join", vec![strings(&["a"]), options(vec![("separator", Value::string(""))])]).await;
    assert_eq!(e.unwrap_err(), crate::FunctionError::argument(1, "separator must not be empty; omit it for \",\"."));
    // A panic is an error, not a dead plugin.
    let e = reg.call_function("join", vec![strings(&["panic"]), options(vec![])]).await.unwrap_err();
    assert_eq!(e.argument, None);
    assert!(e.text.contains("the item was panic"), "{e}");
    // No such function.
    let e = reg.call_function("nope", vec![]).await.unwrap_err();
    assert!(e.text.contains("has no function named \"nope\""), "{e}");
}

mod over_grpc {
    use super::*;
    use crate::pb;
    use crate::pb::provider_server::Provider as _;
    use crate::server::ProviderServer;
    use crate::value::{decode_msgpack, encode_msgpack};

    fn server() -> ProviderServer<Registry<ExampleProvider>> {
        ProviderServer::new(Arc::new(registry().0))
    }

    fn dv(v: &Value, ty: &Type) -> pb::DynamicValue {
        pb::DynamicValue { msgpack: encode_msgpack(v, ty).unwrap(), json: Vec::new() }
    }

    async fn call(args: Vec<pb::DynamicValue>) -> pb::call_function::Response {
        let req = pb::call_function::Request { name: "join".into(), arguments: args };
        server().call_function(tonic::Request::new(req)).await.unwrap().into_inner()
    }

    fn list() -> Type {
        Type::list(Type::String)
    }

    async fn apply_over_grpc(
        s: &ProviderServer<Registry<ExampleProvider>>,
        prior: &Value,
        planned: &Value,
    ) -> (Value, Vec<u8>, Vec<String>) {
        let ty = file_schema().value_type();
        let req = pb::apply_resource_change::Request {
            type_name: "example_file".into(),
            prior_state: Some(dv(prior, &ty)),
            planned_state: Some(dv(planned, &ty)),
            config: Some(dv(planned, &ty)),
            planned_private: b"planned".to_vec(),
            ..Default::default()
        };
        let out = s.apply_resource_change(tonic::Request::new(req)).await.unwrap().into_inner();
        let state = decode_msgpack(&out.new_state.unwrap().msgpack, &ty).unwrap();
        let errors = out
            .diagnostics
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect();
        (state, out.private, errors)
    }

    /// The one panic guard of the apply path (the server's) answers what the apply
    /// saved to its checkpoint.
    #[tokio::test]
    async fn a_panic_in_apply_answers_the_checkpoint_or_the_prior_state() {
        let (reg, store) = registry();
        let s = ProviderServer::new(Arc::new(reg));

        // After a checkpoint: the checkpointed state, and an error.
        let planned = file("/a", Value::string("panic late")).with_attr("id", Value::Unknown);
        let (state, private, errs) = apply_over_grpc(&s, &Value::Null, &planned).await;
        assert_eq!(state.get_attr("id"), Some(&Value::string("/a")));
        assert_eq!(state.get_attr("size"), Some(&Value::int(10)));
        assert_eq!(private, b"planned");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("boom after the file was written"), "{errs:?}");
        assert!(errs[0].contains("applying changes to example_file"), "{errs:?}");
        assert!(errs[0].contains("records what had been done"), "{errs:?}");
        assert!(store.lock().unwrap().contains_key("/a"));

        // Before any checkpoint: the prior state.
        let prior = file("/b", Value::string("old")).with_attr("id", Value::string("/b"));
        let planned = file("/b", Value::string("panic early")).with_attr("id", Value::string("/b"));
        let (state, _, errs) = apply_over_grpc(&s, &prior, &planned).await;
        assert_eq!(state, prior);
        assert!(errs[0].contains("boom before anything happened"), "{errs:?}");
        assert!(errs[0].contains("left as it was"), "{errs:?}");
    }

    #[tokio::test]
    async fn functions_are_served_by_get_functions_get_schema_and_get_metadata() {
        let s = server();
        let f = s.get_functions(tonic::Request::new(Default::default())).await.unwrap().into_inner();
        let join = &f.functions["join"];
        assert_eq!(join.summary, "Joins strings.");
        assert_eq!(join.parameters.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["items", "options"]);
        assert_eq!(join.r#return.as_ref().unwrap().r#type, b"\"string\"".to_vec());
        let schema = s.get_schema(tonic::Request::new(Default::default())).await.unwrap().into_inner();
        assert!(schema.functions.contains_key("join"));
        let meta = s.get_metadata(tonic::Request::new(Default::default())).await.unwrap().into_inner();
        assert_eq!(meta.functions.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["join"]);
    }

    #[tokio::test]
    async fn call_function_runs_and_checks_arguments() {
        let opts = options(vec![("separator", Value::string("+"))]);
        let r = call(vec![dv(&strings(&["a", "b"]), &list()), dv(&opts, &Type::Dynamic)]).await;
        assert!(r.error.is_none(), "{:?}", r.error);
        assert_eq!(decode_msgpack(&r.result.unwrap().msgpack, &Type::String).unwrap(), Value::string("a+b"));

        // Too few arguments.
        let r = call(vec![dv(&strings(&["a"]), &list())]).await;
        let e = r.error.unwrap();
        assert_eq!(e.function_argument, None);
        assert!(e.text.contains("takes at least 2 argument(s) but was called with 1"), "{}", e.text);

        // An argument that is not of its parameter's type: named by its position.
        let r = call(vec![dv(&Value::string("a"), &Type::String), dv(&opts, &Type::Dynamic)]).await;
        assert_eq!(r.error.unwrap().function_argument, Some(0));
        let garbage = pb::DynamicValue { msgpack: vec![0xc1], json: Vec::new() };
        let r = call(vec![dv(&strings(&["a"]), &list()), garbage]).await;
        assert_eq!(r.error.unwrap().function_argument, Some(1));

        // Null where the parameter allows none.
        let r = call(vec![dv(&Value::Null, &list()), dv(&opts, &Type::Dynamic)]).await;
        let e = r.error.unwrap();
        assert_eq!(e.function_argument, Some(0));
        assert!(e.text.starts_with("items must not be null"), "{}", e.text);

        // An unknown inside an argument: the result is unknown, the function not run.
        let r = call(vec![dv(&Value::list(vec![Value::Unknown]), &list()), dv(&opts, &Type::Dynamic)]).await;
        assert!(r.error.is_none(), "{:?}", r.error);
        assert_eq!(decode_msgpack(&r.result.unwrap().msgpack, &Type::String).unwrap(), Value::Unknown);

        // A panic: an error, and the server still answers.
        let r = call(vec![dv(&strings(&["panic"]), &list()), dv(&opts, &Type::Dynamic)]).await;
        assert!(r.error.unwrap().text.contains("the item was panic"));
    }

    #[tokio::test]
    async fn an_unknown_function_is_an_error() {
        let req = pb::call_function::Request { name: "nope".into(), arguments: vec![] };
        let r = server().call_function(tonic::Request::new(req)).await.unwrap().into_inner();
        assert!(r.error.unwrap().text.contains("no function named \"nope\""));
    }
}
