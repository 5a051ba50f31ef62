//! `provider::hybridnet::onprem_firewall_rules(networks)`: the on-premises firewall
//! table of `hybridnet_cidr_plan` (its `read`, the same code) for these networks.

use tfplugin5::typed::{Function, Tf};
use tfplugin5::FunctionError;

use super::NetworksArgs;
use crate::data_sources::cidr_plan::{self, CidrPlanModel, FirewallRuleModel};

pub use hybridnet_schema::functions::ONPREM_FIREWALL_RULES as NAME;

pub struct OnpremFirewallRules;

impl Function for OnpremFirewallRules {
    type Args = NetworksArgs;
    type Return = Vec<FirewallRuleModel>;

    fn name(&self) -> &'static str {
        NAME
    }

    fn call(&self, args: NetworksArgs) -> Result<Vec<FirewallRuleModel>, FunctionError> {
        let (state, diags) = cidr_plan::read(CidrPlanModel::from(args.networks));
        if diags.has_errors() {
            let problems: Vec<String> = diags
                .iter()
                .filter(|d| d.severity == tfplugin5::Severity::Error)
                .map(|d| match &d.path {
                    Some(p) => format!("{p}: {}. {}", d.summary, d.detail),
                    None => format!("{}. {}", d.summary, d.detail),
                })
                .collect();
            return Err(FunctionError::argument(
                0,
                format!(
                    "the networks have problems (provider::hybridnet::cidr_problems lists them): {}",
                    problems.join(" ")
                ),
            ));
        }
        match state.map(|s| s.onprem_firewall_rules) {
            Some(Tf::Known(rules)) => Ok(rules),
            _ => Err(FunctionError::new(
                "Internal error: the firewall table could not be derived from known networks. Please report it.",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin5::provider::ProviderLogic;
    use tfplugin5::Value;

    fn strings(items: &[&str]) -> Value {
        Value::list(items.iter().map(|s| Value::string(*s)).collect())
    }

    fn networks(attrs: Vec<(&str, Value)>) -> Value {
        let v = Value::object(attrs);
        Value::dynamic(v.infer_type(), v)
    }

    #[tokio::test]
    async fn the_table_is_the_data_sources() {
        let n = networks(vec![
            ("vpc_cidrs", strings(&["10.0.0.0/16"])),
            ("remote_node_cidrs", strings(&["192.168.0.0/16"])),
            ("remote_pod_cidrs", strings(&["172.16.0.0/16"])),
            ("webhook_ports", Value::list(vec![Value::int(9443)])),
        ]);
        let out = crate::provider::registry().call_function(NAME, vec![n]).await.expect("a table");
        let m = CidrPlanModel {
            vpc_cidrs: Tf::Known(vec![Tf::Known("10.0.0.0/16".into())]),
            remote_node_cidrs: Tf::Known(vec![Tf::Known("192.168.0.0/16".into())]),
            remote_pod_cidrs: Tf::Known(vec![Tf::Known("172.16.0.0/16".into())]),
            webhook_ports: Tf::Known(vec![Tf::Known(tfplugin5::value::Number::from(9443i64))]),
            ..CidrPlanModel::default()
        };
        let want = cidr_plan::read(m).0.expect("a state").onprem_firewall_rules;
        let want = tfplugin5::typed::to_value(&want, &hybridnet_schema::functions::onprem_firewall_rules().return_type)
            .expect("fits");
        assert_eq!(out, want);
        let rules = out.as_list().expect("a list");
        assert!(rules.iter().any(|r| r.get_attr("port").and_then(Value::as_i64) == Some(10250)));
        assert!(rules.iter().any(|r| r.get_attr("port").and_then(Value::as_i64) == Some(9443)));
    }

    #[tokio::test]
    async fn networks_with_problems_are_an_error_on_argument_0() {
        let n =
            networks(vec![("vpc_cidrs", strings(&["10.0.0.0/16"])), ("remote_node_cidrs", strings(&["10.0.1.0/24"]))]);
        let e = crate::provider::registry().call_function(NAME, vec![n]).await.unwrap_err();
        assert_eq!(e.argument, Some(0));
        assert!(e.text.contains("remote_node_cidrs[0]"), "{e}");
    }
}
