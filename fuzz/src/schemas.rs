//! How the value targets turn fuzz input into a type and the bytes to decode.

use std::sync::OnceLock;

use crate::protocol::Type;

/// Fixed types worth decoding against: the provider's own shapes (as it serves them),
/// and small types that reach every branch of the codecs (every collection, nested
/// objects, sets of objects, tuples, `dynamic` at the top and deep inside).
pub fn fixed() -> Vec<Type> {
    use hybridnet_schema::{cidr_plan, cluster_network, provider_schema};
    // Everything at once, as in value.rs's own tests.
    let kitchen_sink = Type::object([
        ("name", Type::String),
        ("port", Type::Number),
        ("enabled", Type::Bool),
        ("ports", Type::set(Type::Number)),
        ("tags", Type::map(Type::String)),
        ("pair", Type::tuple(vec![Type::String, Type::Number])),
        ("extra", Type::Dynamic),
        ("nested", Type::list(Type::object([("a", Type::String), ("b", Type::list(Type::Bool))]))),
    ]);
    vec![
        cluster_network::resource_schema().value_type(),
        cluster_network::data_source_schema().value_type(),
        cidr_plan::schema().value_type(),
        provider_schema().value_type(),
        Type::Dynamic,
        kitchen_sink,
        Type::list(Type::String),
        Type::map(Type::Dynamic),
        Type::set(Type::object([("a", Type::String), ("b", Type::list(Type::Bool))])),
        Type::tuple(vec![Type::String, Type::Number, Type::Bool, Type::Dynamic]),
        Type::Number,
        Type::String,
        Type::Bool,
        Type::list(Type::list(Type::map(Type::Number))),
        Type::object([]),
        Type::tuple(vec![]),
        Type::object([
            ("inner", Type::object([("d", Type::Dynamic), ("s", Type::set(Type::set(Type::String)))])),
            ("t", Type::tuple(vec![Type::Dynamic, Type::list(Type::Dynamic)])),
        ]),
    ]
}

/// Splits fuzz input into a type and the bytes to decode as that type.
///
/// The first byte picks the type: most values pick one of [`fixed`]; the others
/// read a length byte `n` and take the next `n` bytes as a JSON type specification
/// (`Type::from_json_bytes`). `None` when the input is empty or the specification is
/// not a type.
pub fn split(data: &[u8]) -> Option<(Type, &[u8])> {
    static FIXED: OnceLock<Vec<Type>> = OnceLock::new();
    let types = FIXED.get_or_init(fixed);
    let (&selector, rest) = data.split_first()?;
    let pick = usize::from(selector) % (types.len() + 2);
    if let Some(ty) = types.get(pick) {
        return Some((ty.clone(), rest));
    }
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len).min(rest.len());
    let (spec, bytes) = rest.split_at(len);
    let ty = Type::from_json_bytes(spec).ok()?;
    Some((ty, bytes))
}
