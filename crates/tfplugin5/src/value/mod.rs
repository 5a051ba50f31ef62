//! Terraform values and the two encodings of the plugin protocol's `DynamicValue`.
//!
//! A [`Value`] is untyped on its own: decoding and encoding are driven by the
//! [`Type`] the schema declares. Any value at any depth may be null or unknown.
//!
//! **msgpack** (what Terraform sends and expects; [`decode_msgpack`],
//! [`encode_msgpack`]): null is `nil`, unknown is any extension value (Terraform
//! uses type 0, and 12 for refined unknowns), strings are `str`, numbers are
//! integers, floats or a `str` holding a decimal too large or too precise for
//! either, lists, sets and tuples are arrays, maps and objects are maps with string
//! keys. A known value of type `dynamic` is the array `[type JSON as bytes, value]`.
//!
//! **JSON** (stored state handed to `UpgradeResourceState`, and the optional JSON
//! form of a `DynamicValue`; [`decode_json`], [`decode_json_lenient`],
//! [`encode_json`]): plain JSON without unknowns; a value of type `dynamic` is
//! `{"value": ..., "type": ...}`; an attribute missing from an object is null.
//!
//! Decoders take bytes from the network: they never panic, bound nesting by
//! [`MAX_DEPTH`], and report failures with the path where they happened.
//!
//! The files: this one holds [`Value`], paths and errors; `number.rs` holds
//! [`Number`]; `msgpack.rs` and `json.rs` hold the codecs (`json.rs` on top of
//! serde_json).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::types::Type;

mod json;
mod msgpack;
mod number;
#[cfg(test)]
mod test_support;

pub use json::{decode_json, decode_json_lenient, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};
pub use number::Number;

/// The deepest value the codecs accept: the top-level value is depth 0, and each
/// element, attribute, map entry or the payload of a dynamic value adds one.
pub const MAX_DEPTH: usize = 64;

// ---------------------------------------------------------------------------
// Paths and errors
// ---------------------------------------------------------------------------

/// One step of a path into a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute.
    Attr(String),
    /// An element of a list, set or tuple.
    Index(i64),
    /// An element of a map.
    Key(String),
}

impl PathStep {
    fn index(i: usize) -> PathStep {
        PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX))
    }
}

/// Renders a path as `.remote_pod_cidrs[1]` or `.tags["Name"]`.
pub fn format_path(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Attr(a) => {
                out.push('.');
                out.push_str(a);
            }
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
            PathStep::Key(k) => out.push_str(&format!("[{k:?}]")),
        }
    }
    out
}

fn fmt_located(f: &mut fmt::Formatter<'_>, path: &[PathStep], message: &str) -> fmt::Result {
    if path.is_empty() {
        f.write_str(message)
    } else {
        write!(f, "{}: {message}", format_path(path))
    }
}

/// Bytes that do not hold a value of the expected type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    /// Where inside the value decoding failed; empty for the whole value.
    pub path: Vec<PathStep>,
    /// What was wrong, in words.
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_located(f, &self.path, &self.message)
    }
}

impl DecodeError {
    fn new(message: impl Into<String>) -> Self {
        DecodeError { path: Vec::new(), message: message.into() }
    }

    /// Prefixes the path with the step leading to where the error happened.
    fn under(mut self, step: PathStep) -> Self {
        self.path.insert(0, step);
        self
    }
}

/// A value that does not conform to the type it is encoded as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct EncodeError {
    /// Where inside the value encoding failed; empty for the whole value.
    pub path: Vec<PathStep>,
    /// What was wrong, in words.
    pub message: String,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_located(f, &self.path, &self.message)
    }
}

impl EncodeError {
    fn new(message: impl Into<String>) -> Self {
        EncodeError { path: Vec::new(), message: message.into() }
    }

    fn under(mut self, step: PathStep) -> Self {
        self.path.insert(0, step);
        self
    }
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A Terraform value of some [`Type`] known from context (the schema).
///
/// Lists, sets and tuples are all [`Value::List`]; maps and objects are
/// [`Value::Map`]. Sets keep the order they arrived in. A value in a position of
/// type `dynamic` that is neither null nor unknown carries its concrete type as
/// [`Value::Dynamic`]; the accessors look through that wrapper.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// Null: not set.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A bool.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// The elements of a list, set or tuple.
    List(Vec<Value>),
    /// The entries of a map, or the attributes of an object.
    Map(BTreeMap<String, Value>),
    /// A value together with its concrete type, in a position of type `dynamic`.
    Dynamic(Box<(Type, Value)>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A whole number.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    /// A floating-point number.
    pub fn float(f: f64) -> Value {
        Value::Number(Number::Float(f))
    }

    /// Any number.
    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    /// A bool.
    pub fn bool(b: bool) -> Value {
        Value::Bool(b)
    }

    /// A list (also fits a set or tuple type).
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    /// A set; the same representation as a list.
    pub fn set(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    /// A tuple; the same representation as a list.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    /// An object from `(name, value)` pairs. Attributes of the object type that are
    /// left out encode as null.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(attrs: I) -> Value {
        Value::Map(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map from `(key, value)` pairs; the same representation as an object.
    pub fn map<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(entries: I) -> Value {
        Value::object(entries)
    }

    /// A value of concrete type `ty` for a position of type `dynamic`.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(Box::new((ty, value)))
    }

    /// The value inside any [`Value::Dynamic`] wrappers.
    pub fn concrete(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(inner) = v {
            v = &inner.1;
        }
        v
    }

    fn concrete_mut(&mut self) -> &mut Value {
        let mut v = self;
        while let Value::Dynamic(inner) = v {
            v = &mut inner.1;
        }
        v
    }

    /// The concrete type carried by a [`Value::Dynamic`].
    pub fn dynamic_type(&self) -> Option<&Type> {
        match self {
            Value::Dynamic(inner) => Some(&inner.0),
            _ => None,
        }
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self.concrete(), Value::Null)
    }

    /// Whether the value as a whole is unknown (elements may be unknown even when
    /// this is false: see [`Value::is_fully_known`]).
    pub fn is_unknown(&self) -> bool {
        matches!(self.concrete(), Value::Unknown)
    }

    /// Whether the value as a whole is known.
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// Whether no part of the value, at any depth, is unknown.
    pub fn is_fully_known(&self) -> bool {
        match self.concrete() {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_fully_known),
            Value::Map(entries) => entries.values().all(Value::is_fully_known),
            _ => true,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.concrete() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.concrete() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.concrete() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is a known whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The number as an `f64`, if this is a known number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(Number::as_f64)
    }

    /// The elements, if this is a known list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.concrete() {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries or attributes, if this is a known map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.concrete() {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// One attribute of a known object (or entry of a map). `None` when this is not a
    /// known object or has no such attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(name))
    }

    /// One attribute, mutably.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self.concrete_mut() {
            Value::Map(m) => m.get_mut(name),
            _ => None,
        }
    }

    /// One element of a known list, set or tuple.
    pub fn get_index(&self, i: usize) -> Option<&Value> {
        self.as_list().and_then(|items| items.get(i))
    }

    /// The value at a path, as diagnostics name it.
    pub fn get_path(&self, path: &[PathStep]) -> Option<&Value> {
        path.iter().try_fold(self, |v, step| match step {
            PathStep::Attr(name) | PathStep::Key(name) => v.get_attr(name),
            PathStep::Index(i) => v.get_index(usize::try_from(*i).ok()?),
        })
    }

    /// Sets an attribute of an object (or entry of a map), returning the one it
    /// replaced. Setting an attribute on anything that is not a known object, such
    /// as null, first makes it an empty object.
    pub fn set_attr(&mut self, name: impl Into<String>, value: Value) -> Option<Value> {
        let target = self.concrete_mut();
        if !matches!(target, Value::Map(_)) {
            *target = Value::Map(BTreeMap::new());
        }
        match target {
            Value::Map(m) => m.insert(name.into(), value),
            _ => None,
        }
    }

    /// [`Value::set_attr`] in builder form.
    pub fn with_attr(mut self, name: impl Into<String>, value: Value) -> Value {
        self.set_attr(name, value);
        self
    }

    /// The type this value would have on its own, used when a plain value sits in a
    /// position of type `dynamic`: lists become tuples and maps become objects, and
    /// null or unknown parts become `dynamic`.
    pub fn infer_type(&self) -> Type {
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::Tuple(items.iter().map(Value::infer_type).collect()),
            Value::Map(entries) => Type::Object(entries.iter().map(|(k, v)| (k.clone(), v.infer_type())).collect()),
            Value::Dynamic(inner) => inner.0.clone(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "an unknown value",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a map or object",
            Value::Dynamic(_) => "a dynamic value",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::float(f)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::List(items)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is null.
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// An article and a name for a type, for messages: "a string", "an object".
fn expected(ty: &Type) -> String {
    let name = ty.to_string();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

fn depth_check(depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        Err(format!("the value nests deeper than {MAX_DEPTH} levels"))
    } else {
        Ok(())
    }
}

/// A decoded dynamic value. One whose concrete type is itself `dynamic` adds
/// nothing, so the payload stands alone (and encodes back the same way).
fn wrap_dynamic(concrete: Type, inner: Value) -> Value {
    match concrete {
        Type::Dynamic => inner,
        concrete => Value::dynamic(concrete, inner),
    }
}

/// The concrete type and payload of a value in a position of type `dynamic`:
/// a [`Value::Dynamic`] names its own (a `dynamic` one is looked through), and a
/// plain value gets its inferred type.
fn split_dynamic(value: &Value) -> (Cow<'_, Type>, &Value) {
    let mut v = value;
    loop {
        match v {
            Value::Dynamic(d) if d.0 == Type::Dynamic => v = &d.1,
            Value::Dynamic(d) => return (Cow::Borrowed(&d.0), &d.1),
            other => return (Cow::Owned(other.infer_type()), other),
        }
    }
}

/// A string quoted for messages, cut short when long.
fn quote(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", s.get(..cut).unwrap_or_default()),
        None => format!("{s:?}"),
    }
}

fn unexpected(ty: &Type, v: &Value) -> EncodeError {
    EncodeError::new(format!("expected {}, found {}", expected(ty), v.kind()))
}

fn check_no_extra_attrs(attrs: &BTreeMap<String, Type>, entries: &BTreeMap<String, Value>) -> Result<(), EncodeError> {
    match entries.keys().find(|k| !attrs.contains_key(*k)) {
        Some(extra) => Err(EncodeError::new(format!("the object type has no attribute {}", quote(extra)))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    // --- round trips through both codecs ----------------------------------------

    #[test]
    fn primitives_round_trip() {
        round_trip(&Value::string(""), &Type::String);
        round_trip(&Value::string("héllo \u{1F600}"), &Type::String);
        round_trip(&Value::Bool(false), &Type::Bool);
        for n in [0, 1, -1, 127, 128, -33, i64::MIN, i64::MAX] {
            round_trip(&Value::int(n), &Type::Number);
        }
        for f in [0.5, -1.25, 1e300, 5e-324, 0.1] {
            round_trip(&Value::float(f), &Type::Number);
        }
        for big in ["123456789012345678901234567890", "-0.1", "3.14159265358979323846264338327950288", "1e400"] {
            round_trip(&Value::number(Number::Big(big.into())), &Type::Number);
        }
        for ty in [Type::String, Type::Number, Type::Bool, Type::Dynamic, obj_type(), Type::list(Type::String)] {
            round_trip(&Value::Null, &ty);
            round_trip(&Value::Unknown, &ty);
        }
    }

    #[test]
    fn collections_round_trip_with_nulls_and_unknowns_at_every_depth() {
        let s = Type::list(Type::String);
        round_trip(&Value::list(vec![]), &s);
        round_trip(&Value::list(vec![Value::string("a"), Value::Null, Value::Unknown]), &s);
        round_trip(&Value::list(vec![Value::int(1), Value::Unknown]), &Type::set(Type::Number));
        round_trip(
            &Value::map([("k", Value::string("v")), ("n", Value::Null), ("u", Value::Unknown)]),
            &Type::map(Type::String),
        );
        round_trip(&Value::map::<&str, _>([]), &Type::map(Type::String));
        let tuple = Type::tuple(vec![Type::String, Type::Number, Type::Bool]);
        round_trip(&Value::tuple(vec![Value::string("a"), Value::Unknown, Value::Null]), &tuple);
        round_trip(&Value::tuple(vec![]), &Type::tuple(vec![]));
        let nested = Type::list(Type::map(Type::list(Type::Number)));
        round_trip(
            &Value::list(vec![
                Value::map([("a", Value::list(vec![Value::int(1), Value::Unknown])), ("b", Value::Null)]),
                Value::Unknown,
                Value::Null,
            ]),
            &nested,
        );
    }

    #[test]
    fn objects_round_trip() {
        let ty = obj_type();
        let full = Value::object([
            ("name", Value::string("n")),
            ("port", Value::int(443)),
            ("enabled", Value::Bool(true)),
            ("remote_pod_cidrs", Value::list(vec![Value::string("10.0.0.0/16"), Value::Null])),
            ("ports", Value::set(vec![Value::int(1), Value::int(2)])),
            ("tags", Value::map([("Name", Value::string("x"))])),
            ("pair", Value::tuple(vec![Value::string("a"), Value::float(2.5)])),
            ("extra", Value::dynamic(Type::map(Type::Number), Value::map([("x", Value::int(1))]))),
            (
                "nested",
                Value::list(vec![
                    Value::object([
                        ("a", Value::string("x")),
                        ("b", Value::list(vec![Value::Bool(true), Value::Null])),
                    ]),
                    Value::object([("a", Value::Null), ("b", Value::Null)]),
                ]),
            ),
        ]);
        round_trip(&full, &ty);

        // Unknowns inside: attributes, list elements, nested objects, the dynamic payload.
        let mut partial = full.clone();
        partial.set_attr("name", Value::Unknown);
        partial.set_attr("remote_pod_cidrs", Value::list(vec![Value::Unknown, Value::string("x")]));
        partial.set_attr("extra", Value::dynamic(Type::list(Type::String), Value::Unknown));
        partial.set_attr(
            "nested",
            Value::list(vec![Value::object([("a", Value::Unknown), ("b", Value::list(vec![Value::Unknown]))])]),
        );
        let back = round_trip(&partial, &ty);
        assert!(!back.is_fully_known());
        assert!(back.get_attr("extra").is_some_and(Value::is_unknown));

        // Every attribute null; the object as a whole null or unknown.
        let nulls = Value::object(ty.attributes().unwrap().keys().map(|k| (k.clone(), Value::Null)));
        round_trip(&nulls, &ty);
        round_trip(&Value::Null, &ty);
        round_trip(&Value::Unknown, &ty);
    }

    #[test]
    fn dynamic_values_round_trip() {
        round_trip(&Value::dynamic(Type::String, Value::string("a")), &Type::Dynamic);
        round_trip(&Value::dynamic(Type::Number, Value::Null), &Type::Dynamic);
        let obj = Type::object([("x", Type::Dynamic), ("y", Type::tuple(vec![Type::Bool]))]);
        round_trip(
            &Value::dynamic(
                obj,
                Value::object([
                    ("x", Value::dynamic(Type::set(Type::String), Value::set(vec![Value::string("s")]))),
                    ("y", Value::tuple(vec![Value::Unknown])),
                ]),
            ),
            &Type::Dynamic,
        );
        round_trip(
            &Value::list(vec![Value::Null, Value::dynamic(Type::Bool, Value::Bool(true))]),
            &Type::list(Type::Dynamic),
        );

        // A plain value encodes with its inferred type and decodes wrapped.
        let plain = Value::list(vec![Value::string("a"), Value::int(1)]);
        let back = decode_msgpack(&encode_msgpack(&plain, &Type::Dynamic).unwrap(), &Type::Dynamic).unwrap();
        assert_eq!(back.dynamic_type(), Some(&Type::tuple(vec![Type::String, Type::Number])));
        assert_eq!(back.concrete(), &plain);
        assert_eq!(back.get_index(0).and_then(Value::as_str), Some("a"));

        // Terraform may send the type as str rather than bin.
        let mut bytes = vec![0x92, 0xa6];
        bytes.extend_from_slice(b"\"bool\"");
        bytes.push(0xc2);
        assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), Value::dynamic(Type::Bool, Value::Bool(false)));
        // [\"dynamic\", x] adds nothing: x stands alone.
        let mut bytes = vec![0x92, 0xa9];
        bytes.extend_from_slice(b"\"dynamic\"");
        bytes.push(0xc0);
        assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), Value::Null);
    }

    #[test]
    fn dynamic_wrappers_in_concrete_positions_stand_for_their_payload() {
        let v = Value::dynamic(Type::String, Value::string("a"));
        assert_eq!(encode_msgpack(&v, &Type::String).unwrap(), [0xa1, b'a']);
        assert_eq!(encode_json(&v, &Type::String).unwrap(), b"\"a\"");
        let mut chain = Value::string("a");
        for _ in 0..1000 {
            chain = Value::dynamic(Type::Dynamic, chain);
        }
        assert_eq!(chain.as_str(), Some("a"));
        assert_eq!(encode_msgpack(&chain, &Type::String).unwrap(), [0xa1, b'a']);
        assert_eq!(encode_msgpack(&chain, &Type::Dynamic), encode_msgpack(&Value::string("a"), &Type::Dynamic));
        assert_eq!(
            encode_msgpack(&Value::dynamic(Type::Dynamic, Value::Unknown), &Type::Dynamic).unwrap(),
            [0xd4, 0, 0]
        );
        assert!(encode_msgpack(&Value::dynamic(Type::Number, Value::string("x")), &Type::Dynamic).is_err());
    }

    #[test]
    fn empty_bytes_are_null() {
        assert_eq!(decode_msgpack(&[], &obj_type()), Ok(Value::Null));
        assert_eq!(decode_json(&[], &obj_type()), Ok(Value::Null));
        assert_eq!(decode_json_lenient(&[], &Type::String), Ok(Value::Null));
    }

    // --- rejections -------------------------------------------------------------

    #[test]
    fn wrong_kinds_are_errors_naming_the_path() {
        let ty = obj_type();
        let mut v = Value::object(ty.attributes().unwrap().keys().map(|k| (k.clone(), Value::Null)));
        v.set_attr("remote_pod_cidrs", Value::list(vec![Value::string("ok"), Value::int(5)]));
        // Encoding refuses the value; write the same shape by hand to decode it.
        let e = encode_msgpack(&v, &ty).unwrap_err();
        assert_eq!(e.path, vec![PathStep::Attr("remote_pod_cidrs".into()), PathStep::Index(1)]);
        assert_eq!(e.to_string(), ".remote_pod_cidrs[1]: expected a string, found a number");
        let entries = ty
            .attributes()
            .unwrap()
            .keys()
            .map(|k| {
                let v = if k == "remote_pod_cidrs" {
                    rmpv::Value::Array(vec!["ok".into(), 5.into()])
                } else {
                    rmpv::Value::Nil
                };
                (rmpv::Value::from(k.as_str()), v)
            })
            .collect();
        let bytes = msgpack_of(&rmpv::Value::Map(entries));
        let e = decode_msgpack(&bytes, &ty).unwrap_err();
        assert_eq!(e.path, vec![PathStep::Attr("remote_pod_cidrs".into()), PathStep::Index(1)]);
        assert!(e.to_string().starts_with(".remote_pod_cidrs[1]: expected a string"), "{e}");

        let cases: Vec<(Vec<u8>, Type)> = vec![
            (vec![0xa1, b'a'], Type::Number),
            (vec![0x01], Type::String),
            (vec![0x01], Type::Bool),
            (vec![0xc3], Type::list(Type::String)),
            (vec![0x90], Type::map(Type::String)),
            (vec![0x80], Type::list(Type::String)),
            (vec![0x91, 0x01], Type::tuple(vec![Type::Number, Type::Number])),
            (vec![0xa1, b'a'], Type::Dynamic),
            (vec![0x91, 0xc0], Type::Dynamic),
            (vec![0x92, 0x01, 0xc0], Type::Dynamic),
            (vec![0x92, 0xa3, b'b', b'a', b'd', 0xc0], Type::Dynamic),
            (vec![0xa2, 0xff, 0xfe], Type::String),
            (vec![0xc0, 0xc0], Type::String),
        ];
        for (bytes, ty) in cases {
            let e = decode_msgpack(&bytes, &ty).expect_err(&format!("{bytes:02x?} as {ty}"));
            assert!(!e.message.is_empty());
        }

        for (v, ty) in [
            (Value::int(1), Type::String),
            (Value::string("1"), Type::Number),
            (Value::list(vec![]), Type::map(Type::String)),
            (Value::tuple(vec![Value::Null]), Type::tuple(vec![])),
            (Value::float(f64::NAN), Type::Number),
            (Value::number(Number::Big("1.2.3".into())), Type::Number),
        ] {
            assert!(encode_msgpack(&v, &ty).is_err(), "{v:?} as {ty}");
            assert!(encode_json(&v, &ty).is_err(), "{v:?} as {ty}");
        }
        assert!(encode_json(&Value::float(f64::INFINITY), &Type::Number).is_err());
        assert!(encode_json(&Value::list(vec![Value::Unknown]), &Type::list(Type::String)).is_err());
    }

    #[test]
    fn nesting_bombs_are_errors() {
        let bomb = vec![0x91; 1_000_000];
        for ty in [Type::Dynamic, Type::list(Type::String), Type::list(Type::Dynamic)] {
            assert!(decode_msgpack(&bomb, &ty).is_err());
        }
        // Within msgpack's limit but beyond ours, along a type that deep.
        let mut deep_ty = Type::String;
        for _ in 0..100 {
            deep_ty = Type::list(deep_ty);
        }
        let mut bytes = vec![0x91; 100];
        bytes.extend_from_slice(&[0xa1, b'a']);
        assert!(decode_msgpack(&bytes, &deep_ty).unwrap_err().message.contains("deeper"));
        let mut deep_v = Value::string("a");
        for _ in 0..100 {
            deep_v = Value::list(vec![deep_v]);
        }
        assert!(encode_msgpack(&deep_v, &deep_ty).is_err());
        assert!(encode_json(&deep_v, &deep_ty).is_err());

        // Exactly MAX_DEPTH levels of nesting are fine.
        let mut ok_ty = Type::String;
        let mut ok_v = Value::string("a");
        for _ in 0..MAX_DEPTH {
            ok_ty = Type::list(ok_ty);
            ok_v = Value::list(vec![ok_v]);
        }
        round_trip(&ok_v, &ok_ty);

        // Dynamic values nested in dynamic values.
        let mut dyn_bomb = Vec::new();
        for _ in 0..10_000 {
            dyn_bomb.extend_from_slice(&[0x92, 0xa9]);
            dyn_bomb.extend_from_slice(b"\"dynamic\"");
        }
        dyn_bomb.push(0xc0);
        assert!(decode_msgpack(&dyn_bomb, &Type::Dynamic).is_err());

        let json_bomb = "[".repeat(1_000_000);
        assert!(decode_json(json_bomb.as_bytes(), &Type::list(Type::String)).is_err());
        let json_dyn_bomb = "{\"type\":\"dynamic\",\"value\":".repeat(10_000);
        assert!(decode_json(json_dyn_bomb.as_bytes(), &Type::Dynamic).is_err());
    }

    // --- accessors --------------------------------------------------------------

    #[test]
    fn accessors() {
        let mut v = Value::Null;
        assert!(v.is_null() && v.is_known() && v.is_fully_known());
        v.set_attr("a", Value::string("x"));
        assert_eq!(v.get_attr("a").and_then(Value::as_str), Some("x"));
        assert_eq!(v.set_attr("a", Value::Unknown), Some(Value::string("x")));
        assert!(!v.is_fully_known() && !v.is_unknown());
        assert!(v.get_attr("a").is_some_and(Value::is_unknown));
        assert_eq!(v.get_attr("missing"), None);
        assert_eq!(Value::string("x").get_attr("a"), None);
        assert_eq!(Value::string("x").as_list(), None);
        assert_eq!(Value::int(5).as_str(), None);
        assert_eq!(Value::from("s"), Value::string("s"));
        assert_eq!(Value::from(Some(3i64)), Value::int(3));
        assert_eq!(Value::from(None::<bool>), Value::Null);
        assert_eq!(Value::Null.with_attr("k", Value::Bool(true)).get_attr("k").and_then(Value::as_bool), Some(true));
        if let Some(a) = v.get_attr_mut("a") {
            *a = Value::int(1);
        }
        assert_eq!(v.get_attr("a").and_then(Value::as_i64), Some(1));

        let d = Value::dynamic(Type::list(Type::String), Value::list(vec![Value::string("x")]));
        assert_eq!(d.as_list().map(<[Value]>::len), Some(1));
        assert!(Value::dynamic(Type::String, Value::Unknown).is_unknown());
        assert!(Value::dynamic(Type::String, Value::Null).is_null());
        assert_eq!(
            Value::object([("a", Value::list(vec![Value::Null, Value::int(1)]))]).infer_type(),
            Type::object([("a", Type::tuple(vec![Type::Dynamic, Type::Number]))])
        );
        assert_eq!(
            format_path(&[PathStep::Attr("tags".into()), PathStep::Key("Name".into()), PathStep::Index(2)]),
            ".tags[\"Name\"][2]"
        );
    }

    // --- properties -------------------------------------------------------------

    proptest! {
        // At least 512 cases; PROPTEST_CASES may ask for more.
        #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(512), ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..96)) {
            let _ = decode_msgpack(&bytes, &ty);
            let _ = decode_json(&bytes, &ty);
            let _ = decode_json_lenient(&bytes, &ty);
        }
    }
}
