//! Terraform's type system (cty) as it travels in the plugin protocol.
//!
//! Schemas send every attribute's type as a JSON type specification, and a value of
//! type `dynamic` carries its concrete type the same way. The forms are:
//!
//! | type | JSON |
//! |---|---|
//! | primitive | `"string"`, `"number"`, `"bool"` |
//! | any type, decided per value | `"dynamic"` |
//! | collections | `["list", T]`, `["set", T]`, `["map", T]` |
//! | structural | `["object", {"name": T, ...}]`, `["tuple", [T, ...]]` |
//!
//! An object type may carry a third element listing its optional attributes
//! (`["object", {...}, ["name"]]`); it only matters to Terraform's type
//! conversion, so it is accepted and ignored here.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

/// The deepest type accepted from JSON. A type is one level deep; each list, set,
/// map, object or tuple around it adds one. Real schemas stay far below this, and
/// the bound keeps hostile input from exhausting the stack.
pub const MAX_TYPE_DEPTH: usize = 64;

/// A Terraform (cty) type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// A Unicode string.
    String,
    /// An arbitrary-precision decimal number.
    Number,
    /// `true` or `false`.
    Bool,
    /// Any type, decided per value (cty's `DynamicPseudoType`). A known value in a
    /// dynamic position travels together with its concrete type.
    Dynamic,
    /// An ordered sequence of elements of one type.
    List(Box<Type>),
    /// An unordered collection of distinct elements of one type.
    Set(Box<Type>),
    /// String keys to elements of one type.
    Map(Box<Type>),
    /// A fixed set of named attributes, each with its own type.
    Object(BTreeMap<String, Type>),
    /// A fixed sequence of elements, each with its own type.
    Tuple(Vec<Type>),
}

/// A type specification that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid type specification: {message}")]
pub struct TypeError {
    /// What was wrong, in words.
    pub message: String,
}

impl TypeError {
    fn new(message: impl Into<String>) -> Self {
        TypeError { message: message.into() }
    }
}

impl Type {
    /// `list(t)`.
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `set(t)`.
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    /// `map(t)`.
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// An object type from `(name, type)` pairs; a repeated name keeps the last type.
    pub fn object<I: IntoIterator<Item = (&'static str, Type)>>(attrs: I) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }

    /// A tuple type.
    pub fn tuple(elements: Vec<Type>) -> Type {
        Type::Tuple(elements)
    }

    /// Whether this is `string`, `number` or `bool`.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The attributes of an object type.
    pub fn attributes(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    /// The type of one attribute of an object type.
    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        self.attributes().and_then(|attrs| attrs.get(name))
    }

    /// How deeply this type nests: 1 for a primitive or `dynamic`, one more for
    /// each collection or structural type around the deepest part.
    pub fn depth(&self) -> usize {
        1 + match self {
            Type::String | Type::Number | Type::Bool | Type::Dynamic => 0,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.depth(),
            Type::Object(attrs) => attrs.values().map(Type::depth).max().unwrap_or(0),
            Type::Tuple(elems) => elems.iter().map(Type::depth).max().unwrap_or(0),
        }
    }

    /// The JSON type specification, as sent in schemas. Object attributes come out
    /// in sorted order.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => Json::Array(vec![Json::from("list"), t.to_json()]),
            Type::Set(t) => Json::Array(vec![Json::from("set"), t.to_json()]),
            Type::Map(t) => Json::Array(vec![Json::from("map"), t.to_json()]),
            Type::Object(attrs) => {
                let attrs: serde_json::Map<String, Json> =
                    attrs.iter().map(|(k, t)| (k.clone(), t.to_json())).collect();
                Json::Array(vec![Json::from("object"), Json::Object(attrs)])
            }
            Type::Tuple(elems) => {
                Json::Array(vec![Json::from("tuple"), Json::Array(elems.iter().map(Type::to_json).collect())])
            }
        }
    }

    /// The JSON type specification as compact bytes (`["list","string"]`).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Reads a JSON type specification.
    pub fn from_json(v: &Json) -> Result<Type, TypeError> {
        parse(v, 1)
    }

    /// Reads a JSON type specification from bytes.
    pub fn from_json_bytes(b: &[u8]) -> Result<Type, TypeError> {
        // serde_json bounds its own recursion (128 levels), so a nesting bomb is an
        // error here rather than a stack overflow.
        let v: Json = serde_json::from_slice(b).map_err(|e| TypeError::new(format!("not valid JSON: {e}")))?;
        Type::from_json(&v)
    }
}

fn parse(v: &Json, depth: usize) -> Result<Type, TypeError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(TypeError::new(format!("the type nests deeper than {MAX_TYPE_DEPTH} levels")));
    }
    match v {
        Json::String(s) => match s.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(TypeError::new(format!("unknown primitive type {other:?}"))),
        },
        Json::Array(items) => {
            let Some((Json::String(kind), rest)) = items.split_first() else {
                return Err(TypeError::new(
                    "a complex type must be an array starting with its kind, such as [\"list\", \"string\"]",
                ));
            };
            match (kind.as_str(), rest) {
                ("list", [t]) => Ok(Type::list(parse(t, depth + 1)?)),
                ("set", [t]) => Ok(Type::set(parse(t, depth + 1)?)),
                ("map", [t]) => Ok(Type::map(parse(t, depth + 1)?)),
                ("object", [Json::Object(attrs)]) | ("object", [Json::Object(attrs), _]) => {
                    let mut out = BTreeMap::new();
                    for (name, t) in attrs {
                        let t = parse(t, depth + 1).map_err(|e| TypeError::new(format!("attribute {name:?}: {}", e.message)))?;
                        out.insert(name.clone(), t);
                    }
                    Ok(Type::Object(out))
                }
                ("tuple", [Json::Array(elems)]) => {
                    let mut out = Vec::with_capacity(elems.len());
                    for (i, t) in elems.iter().enumerate() {
                        out.push(parse(t, depth + 1).map_err(|e| TypeError::new(format!("element {i}: {}", e.message)))?);
                    }
                    Ok(Type::Tuple(out))
                }
                ("list" | "set" | "map", _) => {
                    Err(TypeError::new(format!("a {kind} type must be [\"{kind}\", ELEMENT_TYPE]")))
                }
                ("object", _) => Err(TypeError::new(
                    "an object type must be [\"object\", {\"name\": TYPE, ...}] with an optional list of optional attributes",
                )),
                ("tuple", _) => Err(TypeError::new("a tuple type must be [\"tuple\", [TYPE, ...]]")),
                (other, _) => Err(TypeError::new(format!("unknown type kind {other:?}"))),
            }
        }
        other => Err(TypeError::new(format!("expected a type name or array, found {}", json_kind(other)))),
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Terraform's friendly names: `string`, `list of string`, `map of number`,
/// `object`, `tuple`, `dynamic`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Set(t) => write!(f, "set of {t}"),
            Type::Map(t) => write!(f, "map of {t}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn primitives_round_trip() {
        for (t, s) in
            [(Type::String, "string"), (Type::Number, "number"), (Type::Bool, "bool"), (Type::Dynamic, "dynamic")]
        {
            assert_eq!(t.to_json(), json!(s));
            assert_eq!(Type::from_json(&json!(s)), Ok(t));
        }
    }

    #[test]
    fn complex_types_serialise_as_terraform_does() {
        let t = Type::object([
            ("b", Type::list(Type::String)),
            ("a", Type::map(Type::Number)),
            ("c", Type::set(Type::Bool)),
            ("d", Type::tuple(vec![Type::String, Type::Dynamic])),
        ]);
        assert_eq!(
            String::from_utf8(t.to_json_bytes()).unwrap(),
            r#"["object",{"a":["map","number"],"b":["list","string"],"c":["set","bool"],"d":["tuple",["string","dynamic"]]}]"#
        );
        assert_eq!(Type::from_json_bytes(&t.to_json_bytes()), Ok(t));
    }

    #[test]
    fn optional_attribute_list_is_accepted_and_ignored() {
        let t = Type::from_json(&json!(["object", {"a": "string", "b": "number"}, ["b"]])).unwrap();
        assert_eq!(t, Type::object([("a", Type::String), ("b", Type::Number)]));
    }

    #[test]
    fn empty_object_and_tuple() {
        assert_eq!(Type::from_json(&json!(["object", {}])), Ok(Type::Object(BTreeMap::new())));
        assert_eq!(Type::from_json(&json!(["tuple", []])), Ok(Type::Tuple(vec![])));
    }

    #[test]
    fn malformed_specifications_are_errors() {
        for bad in [
            json!("str"),
            json!(null),
            json!(1),
            json!({}),
            json!([]),
            json!(["list"]),
            json!(["list", "string", "string"]),
            json!(["map", 1]),
            json!(["object", []]),
            json!(["object", {"a": "nope"}]),
            json!(["tuple", {}]),
            json!(["tuple", ["string", "what"]]),
            json!(["capsule", "x"]),
            json!([1, "string"]),
        ] {
            let e = Type::from_json(&bad).expect_err(&bad.to_string());
            assert!(!e.message.is_empty());
        }
        assert!(Type::from_json_bytes(b"").is_err());
        assert!(Type::from_json_bytes(b"[\"list\",").is_err());
        assert!(Type::from_json_bytes(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let mut v = json!("string");
        for _ in 0..(MAX_TYPE_DEPTH - 1) {
            v = json!(["list", v]);
        }
        let t = Type::from_json(&v).expect("64 levels are fine");
        assert_eq!(t.depth(), MAX_TYPE_DEPTH);
        let deeper = json!(["list", v]);
        assert!(Type::from_json(&deeper).unwrap_err().message.contains("deeper"));

        // A bomb far beyond any limit is an error, not a stack overflow.
        let bomb = "[\"list\",".repeat(100_000);
        assert!(Type::from_json_bytes(bomb.as_bytes()).is_err());
    }

    #[test]
    fn friendly_names() {
        assert_eq!(Type::list(Type::map(Type::String)).to_string(), "list of map of string");
        assert_eq!(Type::object([]).to_string(), "object");
    }

    fn arb_type() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool), Just(Type::Dynamic)];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
                prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_type_round_trips_through_json(t in arb_type()) {
            prop_assert_eq!(Type::from_json_bytes(&t.to_json_bytes()), Ok(t.clone()));
            prop_assert_eq!(Type::from_json(&t.to_json()), Ok(t));
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = Type::from_json_bytes(&b);
        }
    }
}
