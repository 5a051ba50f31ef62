//! The provider-defined functions' signatures (`provider::hybridnet::NAME(...)`,
//! Terraform 1.8+, OpenTofu 1.7+): the offline rules of `hybridnet_cidr_plan` as pure
//! functions, for `variable` validation, `check` blocks and preconditions.

use std::fmt::Write as _;

use tfplugin5::{FunctionParameter, FunctionSignature, Type};

use crate::cidr_plan;

/// `provider::hybridnet::cidr_problems(networks)`.
pub const CIDR_PROBLEMS: &str = "cidr_problems";
/// `provider::hybridnet::onprem_firewall_rules(networks)`.
pub const ONPREM_FIREWALL_RULES: &str = "onprem_firewall_rules";

/// The `networks` argument's attributes: the arguments of `hybridnet_cidr_plan`
/// (without the deprecated `pod_network_routable`).
pub const NETWORKS_EXCLUDED: &[&str] = &["pod_network_routable"];

/// The attributes the `networks` object takes, with whether each is required: the
/// arguments of the `hybridnet_cidr_plan` schema, so that both read the same names.
pub fn networks_attributes() -> Vec<tfplugin5::Attribute> {
    cidr_plan::schema()
        .block
        .attributes
        .into_iter()
        .filter(|a| (a.required || a.optional) && !NETWORKS_EXCLUDED.contains(&a.name.as_str()))
        .collect()
}

fn networks_parameter() -> FunctionParameter {
    let mut text = String::from(
        "The networks, as an object with the arguments of the `hybridnet_cidr_plan` data source (any other \
         attribute is an error naming it; lists may be written as tuples `[...]`):\n",
    );
    for a in networks_attributes() {
        let kind = if a.required { "Required" } else { "Optional" };
        let ty = match &a.ty {
            Type::List(inner) if **inner == Type::String => "List of String".to_string(),
            Type::List(inner) if **inner == Type::Number => "List of Number".to_string(),
            Type::String => "String".to_string(),
            other => other.to_string(),
        };
        let _ = write!(text, "\n   - `{}` ({ty}, {kind}) {}", a.name, a.description);
    }
    FunctionParameter::new("networks", Type::Dynamic).description(&text)
}

/// An element of `cidr_problems`' result.
pub fn problem_type() -> Type {
    Type::object([
        ("path", Type::String),
        ("attribute", Type::String),
        ("index", Type::Number),
        ("cidr", Type::String),
        ("summary", Type::String),
        ("detail", Type::String),
    ])
}

pub fn cidr_problems() -> FunctionSignature {
    FunctionSignature::new(
        "The problems of a set of EKS Hybrid Nodes networks, as hybridnet_cidr_plan reports them; empty when all is well.",
        Type::list(problem_type()),
    )
    .description(
        "Checks the VPC, node, pod and service CIDRs and the pod network mode with the rules of the \
         `hybridnet_cidr_plan` data source (the same code, the same texts), offline, and returns every error it \
         would report, in order, as an object: `path` (the element, such as `remote_pod_cidrs[1]`), `attribute` \
         (`remote_pod_cidrs`), `index` (the 0-based list position, null for a problem of the whole attribute), \
         `cidr` (the CIDR at that position as given, null when there is none), `summary` and `detail` (what is \
         wrong and how to fix it). An empty list means the plan is valid. Warnings (an unroutable pod network) \
         are not problems. A `networks` value of the wrong shape (an unknown attribute, a string where a list \
         belongs) is an error naming the attribute, not a problem.",
    )
    .parameter(networks_parameter())
}

pub fn onprem_firewall_rules() -> FunctionSignature {
    FunctionSignature::new(
        "The on-premises firewall rules EKS Hybrid Nodes need for a set of networks.",
        Type::list(cidr_plan::firewall_rule_type()),
    )
    .description(
        "The table of `hybridnet_cidr_plan`'s `onprem_firewall_rules` (the same code): each rule's `direction` \
         (`inbound` or `outbound`), `protocol`, `port`, `source`, `destination` and `usage`. Destinations that \
         are EKS network interfaces read `EKS cluster IPs`; in `gateway` mode, the gateway's rules read `gateway \
         node IPs`. Networks with problems (see `cidr_problems`) are an error naming each problem.",
    )
    .parameter(networks_parameter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_take_the_data_sources_arguments() {
        let names: Vec<String> = networks_attributes().into_iter().map(|a| a.name).collect();
        assert!(names.contains(&"vpc_cidrs".to_string()));
        assert!(names.contains(&"pod_network_mode".to_string()));
        assert!(!names.contains(&"pod_network_routable".to_string()));
        assert!(!names.contains(&"id".to_string()), "computed attributes are not arguments");
        let d = networks_parameter().description;
        assert!(d.contains("- `remote_node_cidrs` (List of String, Required)"), "{d}");
    }
}
