//! Conversions between our protocol-neutral types and the generated tfplugin5 messages.

use super::diag::{AttrPath, Diagnostics, PathStep, Severity};
use super::function::{FunctionError, FunctionParameter, FunctionSignature};
use super::pb;
use super::schema::{Block, Nesting, Schema};
use super::types::Type;
use super::value::{self, Value};

/// Decodes a DynamicValue (msgpack preferred, JSON accepted) against `ty`.
/// A malformed value becomes an error diagnostic naming where it failed.
pub fn decode_dynamic(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let result = if !dv.msgpack.is_empty() {
        value::decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        value::decode_json(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    result.map_err(|e| {
        let path = if e.path.is_empty() { None } else { Some(AttrPath(e.path.clone())) };
        Diagnostics::from_error(
            format!("Malformed {what} received from Terraform"),
            format!(
                "The provider could not decode the {what}: {e}. This points to a mismatch between Terraform and \
                 the provider version; run `terraform init -upgrade` or report it."
            ),
            path,
        )
    })
}

/// Encodes a value as a msgpack DynamicValue.
pub fn encode_dynamic(v: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    value::encode_msgpack(v, ty).map(|msgpack| pb::DynamicValue { msgpack, json: Vec::new() }).map_err(|e| {
        Diagnostics::from_error(
            "Internal error: the provider produced a value that does not match its schema",
            format!("{e}. This is a bug in the provider; please report it."),
            None,
        )
    })
}

pub fn path_to_proto(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                }),
            })
            .collect(),
    }
}

pub fn path_from_proto(p: &pb::AttributePath) -> AttrPath {
    use pb::attribute_path::step::Selector;
    AttrPath(
        p.steps
            .iter()
            .filter_map(|s| match &s.selector {
                Some(Selector::AttributeName(a)) => Some(PathStep::Attr(a.clone())),
                Some(Selector::ElementKeyInt(i)) => Some(PathStep::Index(*i)),
                Some(Selector::ElementKeyString(k)) => Some(PathStep::Key(k.clone())),
                None => None,
            })
            .collect(),
    )
}

pub fn diagnostics_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error as i32,
                Severity::Warning => pb::diagnostic::Severity::Warning as i32,
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.path.as_ref().map(path_to_proto),
        })
        .collect()
}

fn block_to_proto(b: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: b
            .attributes
            .iter()
            .map(|a| pb::schema::Attribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                description: a.description.clone(),
                required: a.required,
                optional: a.optional,
                computed: a.computed,
                sensitive: a.sensitive,
                deprecated: a.deprecated,
                description_kind: pb::StringKind::Markdown as i32,
                ..Default::default()
            })
            .collect(),
        block_types: b
            .blocks
            .iter()
            .map(|nb| pb::schema::NestedBlock {
                type_name: nb.type_name.clone(),
                block: Some(block_to_proto(&nb.block)),
                nesting: match nb.nesting {
                    Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                    Nesting::List => pb::schema::nested_block::NestingMode::List,
                    Nesting::Set => pb::schema::nested_block::NestingMode::Set,
                    Nesting::Map => pb::schema::nested_block::NestingMode::Map,
                    Nesting::Group => pb::schema::nested_block::NestingMode::Group,
                } as i32,
                min_items: nb.min_items,
                max_items: nb.max_items,
            })
            .collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
    }
}

pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema { version: s.version, block: Some(block_to_proto(&s.block)) }
}

fn parameter_to_proto(p: &FunctionParameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}

/// A function's signature as GetProviderSchema and GetFunctions serve it.
pub fn function_to_proto(f: &FunctionSignature) -> pb::Function {
    pb::Function {
        parameters: f.parameters.iter().map(parameter_to_proto).collect(),
        variadic_parameter: f.variadic.as_ref().map(parameter_to_proto),
        r#return: Some(pb::function::Return { r#type: f.return_type.to_json_bytes() }),
        summary: f.summary.clone(),
        description: f.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: f.deprecation_message.clone(),
    }
}

pub fn function_error_to_proto(e: &FunctionError) -> pb::FunctionError {
    pb::FunctionError { text: e.text.clone(), function_argument: e.argument.and_then(|i| i64::try_from(i).ok()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_round_trips() {
        let p = AttrPath::attr("remote_pod_cidrs").index(1);
        let pb = path_to_proto(&p);
        assert_eq!(pb.steps.len(), 2);
        assert_eq!(path_from_proto(&pb), p);
    }

    #[test]
    fn diagnostics_carry_severity_and_path() {
        let mut d = Diagnostics::new();
        d.error("bad", "fix it", Some(AttrPath::attr("a").index(3)));
        d.warning("hmm", "careful", None);
        let out = diagnostics_to_proto(&d);
        assert_eq!(out[0].severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(out[0].summary, "bad");
        assert_eq!(out[0].detail, "fix it");
        assert_eq!(out[0].attribute.as_ref().map(|a| a.steps.len()), Some(2));
        assert_eq!(out[1].severity, pb::diagnostic::Severity::Warning as i32);
        assert!(out[1].attribute.is_none());
    }

    #[test]
    fn function_signature_and_error_convert() {
        let f = FunctionSignature::new("Adds.", Type::Number)
            .description("Adds numbers.")
            .parameter(FunctionParameter::new("a", Type::Number).description("First."))
            .variadic(FunctionParameter::new("rest", Type::Number).allow_null().allow_unknown());
        let pb = function_to_proto(&f);
        assert_eq!(pb.summary, "Adds.");
        assert_eq!(pb.parameters.len(), 1);
        assert_eq!(pb.parameters[0].name, "a");
        assert_eq!(pb.parameters[0].r#type, b"\"number\"".to_vec());
        assert!(!pb.parameters[0].allow_null_value && !pb.parameters[0].allow_unknown_values);
        let v = pb.variadic_parameter.unwrap();
        assert!(v.allow_null_value && v.allow_unknown_values);
        assert_eq!(pb.r#return.unwrap().r#type, b"\"number\"".to_vec());
        let e = function_error_to_proto(&FunctionError::argument(2, "bad"));
        assert_eq!((e.text.as_str(), e.function_argument), ("bad", Some(2)));
        assert_eq!(function_error_to_proto(&FunctionError::new("x")).function_argument, None);
    }

    #[test]
    fn garbage_dynamic_value_is_a_diagnostic_not_a_panic() {
        let dv = pb::DynamicValue { msgpack: vec![0x92, 0xff, 0xc1], json: vec![] };
        let ty = Type::object([("a", Type::String)]);
        let err = decode_dynamic(Some(&dv), &ty, "configuration").unwrap_err();
        assert!(err.has_errors());
        assert!(err.0[0].summary.contains("Malformed configuration"));
    }
}
