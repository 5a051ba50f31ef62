//! `provider::hybridnet::cidr_problems(networks)`: the errors `hybridnet_cidr_plan`
//! would report for these networks (its `validate`, the same rules and texts), each
//! naming its attribute, list position and CIDR; empty when all is well.

use serde::Serialize;
use tfplugin5::diag::PathStep;
use tfplugin5::typed::{Function, Tf};
use tfplugin5::FunctionError;

use super::NetworksArgs;
use crate::data_sources::cidr_plan::{self, CidrPlanModel};

pub use hybridnet_schema::functions::CIDR_PROBLEMS as NAME;

/// An element of the result ([`hybridnet_schema::functions::problem_type`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub attribute: String,
    pub index: Tf<i64>,
    pub cidr: Tf<String>,
    pub summary: String,
    pub detail: String,
}

pub struct CidrProblems;

impl Function for CidrProblems {
    type Args = NetworksArgs;
    type Return = Vec<Problem>;

    fn name(&self) -> &'static str {
        NAME
    }

    fn call(&self, args: NetworksArgs) -> Result<Vec<Problem>, FunctionError> {
        Ok(problems(&CidrPlanModel::from(args.networks)))
    }
}

/// The data source's verdicts on `config`, as problems.
pub fn problems(config: &CidrPlanModel) -> Vec<Problem> {
    cidr_plan::validate(config)
        .iter()
        .map(|d| {
            let steps = d.path.as_ref().map(|p| p.0.as_slice()).unwrap_or_default();
            let attribute = match steps.first() {
                Some(PathStep::Attr(a)) => a.clone(),
                _ => String::new(),
            };
            let index = match steps.get(1) {
                Some(PathStep::Index(i)) => Some(*i),
                _ => None,
            };
            let cidr = index.and_then(|i| given(config, &attribute, i));
            Problem {
                path: d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                attribute,
                index: index.map_or(Tf::Null, Tf::Known),
                cidr: cidr.map_or(Tf::Null, Tf::Known),
                summary: d.summary.clone(),
                detail: d.detail.clone(),
            }
        })
        .collect()
}

/// The string at `list[index]` of a CIDR list argument, as given.
fn given(config: &CidrPlanModel, attribute: &str, index: i64) -> Option<String> {
    let list = match attribute {
        "vpc_cidrs" => &config.vpc_cidrs,
        "remote_node_cidrs" => &config.remote_node_cidrs,
        "remote_pod_cidrs" => &config.remote_pod_cidrs,
        "allowed_ranges" => &config.allowed_ranges,
        _ => return None,
    };
    list.known()?.get(usize::try_from(index).ok()?)?.known().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin5::provider::ProviderLogic;
    use tfplugin5::{Type, Value};

    fn strings(items: &[&str]) -> Value {
        Value::list(items.iter().map(|s| Value::string(*s)).collect())
    }

    /// A `networks` object as Terraform passes a literal: a dynamic value.
    fn networks(attrs: Vec<(&str, Value)>) -> Value {
        let v = Value::object(attrs);
        Value::dynamic(v.infer_type(), v)
    }

    async fn call(v: Value) -> Result<Value, FunctionError> {
        crate::provider::registry().call_function(NAME, vec![v]).await
    }

    #[tokio::test]
    async fn problems_name_the_cidr_and_its_position_with_the_data_sources_texts() {
        let n = networks(vec![
            ("vpc_cidrs", strings(&["10.0.0.0/16"])),
            ("remote_node_cidrs", strings(&["192.168.0.0/16"])),
            ("remote_pod_cidrs", strings(&["172.16.0.0/16", "10.0.4.0/24"])),
        ]);
        let out = call(n).await.expect("a result");
        let list = out.as_list().expect("a list");
        assert_eq!(list.len(), 1, "{out:?}");
        let p = &list[0];
        assert_eq!(p.get_attr("path").and_then(Value::as_str), Some("remote_pod_cidrs[1]"));
        assert_eq!(p.get_attr("attribute").and_then(Value::as_str), Some("remote_pod_cidrs"));
        assert_eq!(p.get_attr("index").and_then(Value::as_i64), Some(1));
        assert_eq!(p.get_attr("cidr").and_then(Value::as_str), Some("10.0.4.0/24"));
        // The very diagnostic the data source reports.
        let m = CidrPlanModel {
            vpc_cidrs: Tf::Known(vec![Tf::Known("10.0.0.0/16".into())]),
            remote_node_cidrs: Tf::Known(vec![Tf::Known("192.168.0.0/16".into())]),
            remote_pod_cidrs: Tf::Known(vec![Tf::Known("172.16.0.0/16".into()), Tf::Known("10.0.4.0/24".into())]),
            ..CidrPlanModel::default()
        };
        let d = cidr_plan::validate(&m);
        assert_eq!(p.get_attr("summary").and_then(Value::as_str), Some(d.0[0].summary.as_str()));
        assert_eq!(p.get_attr("detail").and_then(Value::as_str), Some(d.0[0].detail.as_str()));
    }

    #[tokio::test]
    async fn good_networks_have_no_problems_and_whole_attribute_problems_have_no_index() {
        let good = networks(vec![
            ("vpc_cidrs", strings(&["10.0.0.0/16"])),
            ("remote_node_cidrs", strings(&["192.168.0.0/16"])),
            ("pod_network_mode", Value::string("unroutable")),
        ]);
        assert_eq!(call(good).await, Ok(Value::list(vec![])));
        let empty = networks(vec![("vpc_cidrs", strings(&[])), ("remote_node_cidrs", strings(&["192.168.0.0/16"]))]);
        let out = call(empty).await.expect("a result");
        let p = &out.as_list().expect("a list")[0];
        assert_eq!(p.get_attr("path").and_then(Value::as_str), Some("vpc_cidrs"));
        assert_eq!(p.get_attr("index"), Some(&Value::Null));
        assert_eq!(p.get_attr("cidr"), Some(&Value::Null));
        assert_eq!(p.get_attr("summary").and_then(Value::as_str), Some("No VPC CIDRs"));
    }

    #[tokio::test]
    async fn a_networks_object_of_the_wrong_shape_is_an_error_on_argument_0() {
        let typo = networks(vec![("vpc_cidr", strings(&["10.0.0.0/16"])), ("remote_node_cidrs", strings(&[]))]);
        let e = call(typo).await.unwrap_err();
        assert_eq!(e.argument, Some(0));
        assert!(e.text.starts_with("vpc_cidr: is not an attribute this argument takes (it takes vpc_cidrs, "), "{e}");
        let missing = networks(vec![("vpc_cidrs", strings(&["10.0.0.0/16"]))]);
        let e = call(missing).await.unwrap_err();
        assert_eq!((e.argument, e.text.as_str()), (Some(0), "remote_node_cidrs: is required and missing."));
        let wrong = networks(vec![("vpc_cidrs", Value::string("10.0.0.0/16")), ("remote_node_cidrs", strings(&[]))]);
        let e = call(wrong).await.unwrap_err();
        assert_eq!(e.argument, Some(0));
        assert!(e.text.starts_with("vpc_cidrs: expected a list"), "{e}");
        // Not an object at all.
        let e = call(Value::dynamic(Type::String, Value::string("10.0.0.0/16"))).await.unwrap_err();
        assert_eq!(e.argument, Some(0));
    }
}
