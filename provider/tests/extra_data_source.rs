//! Adding a data source is one file and one registration line: this file defines
//! `hybridnet_test_echo` and registers it next to the provider's own types with
//! `.data_source(Echo)`, then drives it, and a real type beside it, through the same
//! protocol calls Terraform makes.

use serde::{Deserialize, Serialize};
use tfplugin5::provider::ProviderLogic;
use tfplugin5::typed::{DataSource, StopToken, Tf};
use tfplugin5::{AttrPath, Attribute, Block, Diagnostics, Schema, Type, Value};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct EchoModel {
    cidrs: Tf<Vec<Tf<String>>>,
    count: Tf<i64>,
}

struct Echo;

#[tonic::async_trait]
impl DataSource for Echo {
    type Model = EchoModel;

    fn type_name(&self) -> &'static str {
        "hybridnet_test_echo"
    }

    fn schema(&self) -> Option<Schema> {
        Some(Schema::new(
            0,
            Block::new("Echoes how many CIDRs it was given.")
                .attribute(Attribute::required("cidrs", Type::list(Type::String)))
                .attribute(Attribute::computed("count", Type::Number)),
        ))
    }

    async fn validate(&self, config: EchoModel) -> Diagnostics {
        let mut diags = Diagnostics::new();
        hybridnet::args::cidr_list(&config.cidrs, "cidrs", &mut diags);
        diags
    }

    async fn read(&self, mut config: EchoModel, _stop: StopToken) -> (Option<EchoModel>, Diagnostics) {
        config.count = Tf::Known(config.cidrs.known().map_or(0, |l| l.len() as i64));
        (Some(config), Diagnostics::new())
    }
}

fn config(cidrs: &[&str]) -> Value {
    Value::object([("cidrs", Value::list(cidrs.iter().map(|c| Value::string(*c)).collect())), ("count", Value::Null)])
}

#[tokio::test]
async fn one_file_and_one_line_add_a_data_source() {
    let provider = hybridnet::provider::registry().data_source(Echo);
    assert!(provider.check_models().is_ok(), "{:?}", provider.check_models());

    let schemas = provider.schemas();
    assert!(schemas.data_sources.contains_key("hybridnet_test_echo"));
    assert!(schemas.data_sources.contains_key("hybridnet_cidr_plan"), "the provider's own types are still there");

    let diags = provider.validate_data_source_config("hybridnet_test_echo", &config(&["10.80.0.0/16", "x"])).await;
    let err = diags.iter().next().expect("one error");
    assert_eq!(err.path, Some(AttrPath::attr("cidrs").index(1)));

    let (state, diags) =
        provider.read_data_source("hybridnet_test_echo", &config(&["10.80.0.0/16", "10.81.0.0/16"])).await;
    assert!(!diags.has_errors(), "{diags:?}");
    assert_eq!(state.get_attr("count").and_then(Value::as_i64), Some(2));

    // A real type through the same registry: the offline CIDR plan.
    let plan = Value::object([
        ("vpc_cidrs", Value::list(vec![Value::string("10.0.0.0/16")])),
        ("remote_node_cidrs", Value::list(vec![Value::string("192.168.0.0/22")])),
        ("remote_pod_cidrs", Value::list(vec![Value::string("10.0.1.0/24")])),
    ]);
    let diags = provider.validate_data_source_config("hybridnet_cidr_plan", &plan).await;
    let overlap = diags.iter().find(|d| d.path == Some(AttrPath::attr("remote_pod_cidrs").index(0)));
    assert!(overlap.is_some_and(|d| d.summary.contains("overlaps the VPC CIDR")), "{diags:?}");
}
