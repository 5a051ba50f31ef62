//! Helpers shared by the codecs' tests: a schema with every kind of attribute,
//! round trips through both codecs, and proptest strategies for types and values.

use proptest::prelude::*;

use super::{decode_json, decode_msgpack, encode_json, encode_msgpack, Number, Type, Value};

pub(super) fn obj_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("port", Type::Number),
        ("enabled", Type::Bool),
        ("remote_pod_cidrs", Type::list(Type::String)),
        ("ports", Type::set(Type::Number)),
        ("tags", Type::map(Type::String)),
        ("pair", Type::tuple(vec![Type::String, Type::Number])),
        ("extra", Type::Dynamic),
        ("nested", Type::list(Type::object([("a", Type::String), ("b", Type::list(Type::Bool))]))),
    ])
}

pub(super) fn round_trip(v: &Value, ty: &Type) -> Value {
    let bytes = encode_msgpack(v, ty).unwrap_or_else(|e| panic!("encode {v:?} as {ty}: {e}"));
    let back = decode_msgpack(&bytes, ty).unwrap_or_else(|e| panic!("decode {v:?} as {ty}: {e}"));
    assert_eq!(&back, v, "msgpack round trip of {v:?} as {ty}");
    if v.is_fully_known() {
        let json = encode_json(v, ty).unwrap_or_else(|e| panic!("json encode {v:?}: {e}"));
        let back =
            decode_json(&json, ty).unwrap_or_else(|e| panic!("json decode {}: {e}", String::from_utf8_lossy(&json)));
        assert_eq!(&back, v, "JSON round trip of {}", String::from_utf8_lossy(&json));
    } else {
        assert!(encode_json(v, ty).is_err(), "unknowns cannot be JSON");
    }
    back
}

pub(super) fn msgpack_of(v: &rmpv::Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}

pub(super) fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool), Just(Type::Dynamic)];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

pub(super) fn arb_number() -> impl Strategy<Value = Number> {
    use prop::num::f64 as f;
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        (-1000i64..1000).prop_map(Number::Int),
        (f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO).prop_map(Number::Float),
        "-?[1-9][0-9]{19,30}".prop_map(Number::Big),
        "[+-]?[0-9]{0,4}\\.[0-9]{0,20}[1-9](e[+-]?[0-9]{1,2})?".prop_map(Number::Big),
    ]
}

/// Values conforming to `ty`, with nulls and unknowns at every level; values in
/// dynamic positions carry a random concrete type (`dyn_budget` bounds how
/// often that recurses).
pub(super) fn arb_value(ty: &Type, dyn_budget: u32) -> BoxedStrategy<Value> {
    let b = dyn_budget;
    let known: BoxedStrategy<Value> = match ty {
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(t) | Type::Set(t) => prop::collection::vec(arb_value(t, b), 0..4).prop_map(Value::List).boxed(),
        Type::Map(t) => prop::collection::btree_map(".{0,6}", arb_value(t, b), 0..4).prop_map(Value::Map).boxed(),
        Type::Object(attrs) => attrs
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                arb_value(t, b).prop_map(move |v| (k.clone(), v)).boxed()
            })
            .collect::<Vec<_>>()
            .prop_map(|kv| Value::Map(kv.into_iter().collect()))
            .boxed(),
        Type::Tuple(ts) => ts.iter().map(|t| arb_value(t, b)).collect::<Vec<_>>().prop_map(Value::List).boxed(),
        Type::Dynamic if b == 0 => return prop_oneof![Just(Value::Null), Just(Value::Unknown)].boxed(),
        Type::Dynamic => arb_type()
            .prop_filter("a concrete type", |t| *t != Type::Dynamic)
            .prop_flat_map(move |t| arb_value(&t, b - 1).prop_map(move |v| Value::dynamic(t.clone(), v)))
            .boxed(),
    };
    prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
}

pub(super) fn arb_typed_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(|t| {
        let v = arb_value(&t, 2);
        (Just(t), v)
    })
}
