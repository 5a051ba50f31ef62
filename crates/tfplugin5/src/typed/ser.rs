//! Writing a Rust value as a [`Value`] of a schema's [`Type`].
//!
//! [`to_value_untyped`] serializes with serde into a plain [`Value`]: structs and
//! maps become objects, sequences lists, numbers [`Number`]s, `None`, `()` and
//! [`Tf::Null`](super::Tf::Null) null, [`Tf::Unknown`](super::Tf::Unknown)
//! unknown, unit enum variants their name (so a `#[serde(rename_all)]` enum is a
//! string attribute).
//!
//! [`to_value`] then conforms that value to the type: every attribute of an object
//! type is present (absent or `None` is null), a field the object type does not have
//! is an error naming it, a set keeps one of equal elements, a tuple must have its
//! length, a `dynamic` position carries its concrete type, and any other mismatch
//! ("expected a number, found the string \"x\"") is an error with the path.

use std::collections::BTreeMap;

use serde::ser::{self, Serialize};

use super::de::{describe, TypedError};
use super::tf::{NUMBER_STRUCT, TF_ENUM, UNKNOWN_VARIANT};
use crate::diag::PathStep;
use crate::types::Type;
use crate::value::{Number, Value};

/// Writes `t` as a value of type `ty`.
pub fn to_value<T: Serialize + ?Sized>(t: &T, ty: &Type) -> Result<Value, TypedError> {
    conform(to_value_untyped(t)?, ty)
}

/// Writes `t` as a plain value, without a type: objects and maps are both
/// [`Value::Map`], lists, sets and tuples [`Value::List`].
pub fn to_value_untyped<T: Serialize + ?Sized>(t: &T) -> Result<Value, TypedError> {
    t.serialize(ValueSerializer)
}

fn index(i: usize) -> PathStep {
    PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX))
}

fn an(ty: &Type) -> String {
    let name = ty.to_string();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

/// Makes `v` a value of type `ty`, or says where and why it cannot be.
pub fn conform(v: Value, ty: &Type) -> Result<Value, TypedError> {
    let v = match v {
        Value::Dynamic(inner) => inner.1,
        other => other,
    };
    if matches!(v, Value::Null | Value::Unknown) {
        return Ok(v);
    }
    let mismatch = |v: &Value| TypedError::new(format!("expected {}, found {}", an(ty), describe(v)));
    match (ty, v) {
        (Type::String, v @ Value::String(_)) | (Type::Bool, v @ Value::Bool(_)) => Ok(v),
        (Type::Number, Value::Number(n)) => {
            if n.is_valid() {
                Ok(Value::Number(n))
            } else {
                Err(TypedError::new(format!("the number {n} cannot be stored in Terraform")))
            }
        }
        (Type::List(elem), Value::List(items)) => conform_items(items, elem).map(Value::List),
        (Type::Set(elem), Value::List(items)) => {
            let items = conform_items(items, elem)?;
            let mut distinct: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !distinct.contains(&item) {
                    distinct.push(item);
                }
            }
            Ok(Value::List(distinct))
        }
        (Type::Tuple(elems), Value::List(items)) => {
            if items.len() != elems.len() {
                return Err(TypedError::new(format!(
                    "expected a tuple of {} elements, found {} elements",
                    elems.len(),
                    items.len()
                )));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.into_iter().zip(elems).enumerate() {
                out.push(conform(item, t).map_err(|e| e.under(index(i)))?);
            }
            Ok(Value::List(out))
        }
        (Type::Map(elem), Value::Map(entries)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let v = conform(v, elem).map_err(|e| e.under(PathStep::Key(k.clone())))?;
                out.insert(k, v);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), Value::Map(mut fields)) => {
            if let Some(extra) = fields.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(TypedError::new(format!(
                    "is a field of the model but not an attribute of the schema (its attributes: {})",
                    attrs.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
                ))
                .under(PathStep::Attr(extra.clone())));
            }
            let mut out = BTreeMap::new();
            for (name, t) in attrs {
                let v = fields.remove(name).unwrap_or(Value::Null);
                let v = conform(v, t).map_err(|e| e.under(PathStep::Attr(name.clone())))?;
                out.insert(name.clone(), v);
            }
            Ok(Value::Map(out))
        }
        (Type::Dynamic, v) => {
            let concrete = v.infer_type();
            Ok(Value::dynamic(concrete, v))
        }
        (_, v) => Err(mismatch(&v)),
    }
}

fn conform_items(items: Vec<Value>, elem: &Type) -> Result<Vec<Value>, TypedError> {
    items.into_iter().enumerate().map(|(i, item)| conform(item, elem).map_err(|e| e.under(index(i)))).collect()
}

/// The serde `Serializer` behind [`to_value_untyped`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ValueSerializer;

fn float(f: f64) -> Result<Value, TypedError> {
    if f.is_finite() {
        Ok(Value::float(f))
    } else {
        Err(TypedError::new(format!("{f} is not a number Terraform can hold")))
    }
}

fn parsed(text: &str) -> Result<Value, TypedError> {
    Number::parse(text).map(Value::Number).ok_or_else(|| TypedError::new(format!("{text:?} is not a number")))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = TypedError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = Tagged<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = Tagged<MapBuilder>;

    fn serialize_bool(self, v: bool) -> Result<Value, TypedError> {
        Ok(Value::bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, TypedError> {
        Ok(Value::int(i64::from(v)))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, TypedError> {
        Ok(Value::int(i64::from(v)))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, TypedError> {
        Ok(Value::int(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, TypedError> {
        Ok(Value::int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, TypedError> {
        parsed(&v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<Value, TypedError> {
        Ok(Value::int(i64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, TypedError> {
        Ok(Value::int(i64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, TypedError> {
        Ok(Value::int(i64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, TypedError> {
        Ok(Value::number(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, TypedError> {
        parsed(&v.to_string())
    }
    /// Through the decimal text, so `0.1f32` is 0.1 and not 0.100000001490116.
    fn serialize_f32(self, v: f32) -> Result<Value, TypedError> {
        if v.is_finite() {
            parsed(&v.to_string())
        } else {
            float(f64::from(v))
        }
    }
    fn serialize_f64(self, v: f64) -> Result<Value, TypedError> {
        float(v)
    }
    fn serialize_char(self, v: char) -> Result<Value, TypedError> {
        Ok(Value::string(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, TypedError> {
        Ok(Value::string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, TypedError> {
        match std::str::from_utf8(v) {
            Ok(s) => Ok(Value::string(s)),
            Err(_) => Err(TypedError::new("bytes that are not UTF-8 text cannot be a Terraform string")),
        }
    }
    fn serialize_none(self) -> Result<Value, TypedError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, TypedError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, TypedError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, TypedError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, TypedError> {
        if name == TF_ENUM && variant == UNKNOWN_VARIANT {
            return Ok(Value::Unknown);
        }
        Ok(Value::string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, TypedError> {
        if name == NUMBER_STRUCT {
            return match value.serialize(self)? {
                Value::String(text) => parsed(&text),
                other => Err(TypedError::new(format!("expected a number as text, found {}", describe(&other)))),
            };
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, TypedError> {
        let v = value.serialize(self).map_err(|e| e.under(PathStep::Attr(variant.to_string())))?;
        Ok(Value::object([(variant, v)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, TypedError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, TypedError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder, TypedError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Tagged<SeqBuilder>, TypedError> {
        Ok(Tagged { variant, inner: SeqBuilder(Vec::with_capacity(len)) })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder, TypedError> {
        Ok(MapBuilder::default())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<MapBuilder, TypedError> {
        Ok(MapBuilder::default())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Tagged<MapBuilder>, TypedError> {
        Ok(Tagged { variant, inner: MapBuilder::default() })
    }
}

/// Elements of a list, set or tuple being written.
pub struct SeqBuilder(Vec<Value>);

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        let i = self.0.len();
        self.0.push(value.serialize(ValueSerializer).map_err(|e| e.under(index(i)))?);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(Value::List(self.0))
    }
}

/// Entries of a map, or attributes of an object, being written.
#[derive(Default)]
pub struct MapBuilder {
    entries: BTreeMap<String, Value>,
    key: Option<String>,
}

impl MapBuilder {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T, step: PathStep) -> Result<(), TypedError> {
        let v = value.serialize(ValueSerializer).map_err(|e| e.under(step))?;
        self.entries.insert(key, v);
        Ok(())
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), TypedError> {
        self.key = Some(match key.serialize(ValueSerializer)? {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(TypedError::new(format!("a map key must be a string, found {}", describe(&other)))),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        match self.key.take() {
            Some(k) => self.insert(k.clone(), value, PathStep::Key(k)),
            None => Err(TypedError::new("internal error: a map value was written before its key")),
        }
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(Value::Map(self.entries))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), TypedError> {
        self.insert(key.to_string(), value, PathStep::Attr(key.to_string()))
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(Value::Map(self.entries))
    }
}

/// A tuple or struct variant: `{"variant": content}`.
pub struct Tagged<B> {
    variant: &'static str,
    inner: B,
}

impl<B> Tagged<B> {
    fn wrap(variant: &'static str, v: Value) -> Value {
        Value::object([(variant, v)])
    }
}

impl ser::SerializeTupleVariant for Tagged<SeqBuilder> {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.inner.push(value).map_err(|e| e.under(PathStep::Attr(self.variant.to_string())))
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(Self::wrap(self.variant, Value::List(self.inner.0)))
    }
}

impl ser::SerializeStructVariant for Tagged<MapBuilder> {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), TypedError> {
        self.inner
            .insert(key.to_string(), value, PathStep::Attr(key.to_string()))
            .map_err(|e| e.under(PathStep::Attr(self.variant.to_string())))
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(Self::wrap(self.variant, Value::Map(self.inner.entries)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::typed::{from_value, Tf};
    use crate::AttrPath;

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Rule {
        name: Tf<String>,
        port: Tf<u16>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Model {
        id: Tf<String>,
        items: Tf<Vec<Tf<String>>>,
        tags: Tf<BTreeMap<String, Tf<String>>>,
        rule: Vec<Rule>,
        ratio: Tf<f64>,
        big: Tf<Number>,
        pair: Tf<(String, bool)>,
        maybe: Option<i64>,
    }

    fn ty() -> Type {
        Type::object([
            ("id", Type::String),
            ("items", Type::set(Type::String)),
            ("tags", Type::map(Type::String)),
            ("rule", Type::list(Type::object([("name", Type::String), ("port", Type::Number)]))),
            ("ratio", Type::Number),
            ("big", Type::Number),
            ("pair", Type::tuple(vec![Type::String, Type::Bool])),
            ("maybe", Type::Number),
            ("absent", Type::String),
        ])
    }

    fn model() -> Model {
        Model {
            id: Tf::Unknown,
            items: Tf::Known(vec![Tf::Known("a".into()), Tf::Unknown, Tf::Known("a".into())]),
            tags: Tf::Known(BTreeMap::from([("k".into(), Tf::Known("v".into())), ("n".into(), Tf::Null)])),
            rule: vec![Rule { name: Tf::Known("web".into()), port: Tf::Unknown }],
            ratio: Tf::Known(0.5),
            big: Tf::Known(Number::parse("123456789012345678901234567890").unwrap()),
            pair: Tf::Known(("x".into(), true)),
            maybe: None,
        }
    }

    #[test]
    fn writes_a_model_as_its_type() {
        let v = to_value(&model(), &ty()).unwrap();
        let expected = Value::object([
            ("id", Value::Unknown),
            // A set keeps one of equal elements.
            ("items", Value::list(vec![Value::string("a"), Value::Unknown])),
            ("tags", Value::map([("k", Value::string("v")), ("n", Value::Null)])),
            ("rule", Value::list(vec![Value::object([("name", Value::string("web")), ("port", Value::Unknown)])])),
            ("ratio", Value::float(0.5)),
            ("big", Value::Number(Number::parse("123456789012345678901234567890").unwrap())),
            ("pair", Value::list(vec![Value::string("x"), Value::bool(true)])),
            ("maybe", Value::Null),
            // Every attribute of the object type is present.
            ("absent", Value::Null),
        ]);
        assert_eq!(v, expected);
    }

    #[test]
    fn round_trips_with_unknowns_at_depth() {
        let mut m = model();
        m.items = Tf::Known(vec![Tf::Known("a".into()), Tf::Unknown]);
        let v = to_value(&m, &ty()).unwrap();
        let back: Model = from_value(&v).unwrap();
        assert_eq!(back, m);
        assert_eq!(to_value(&back, &ty()).unwrap(), v);

        let whole: Tf<Vec<Tf<String>>> = Tf::Unknown;
        assert_eq!(to_value(&whole, &Type::list(Type::String)).unwrap(), Value::Unknown);
        assert_eq!(to_value(&Tf::<Vec<String>>::Null, &Type::list(Type::String)).unwrap(), Value::Null);
    }

    #[test]
    fn a_field_the_type_lacks_is_an_error() {
        let narrow = Type::object([("id", Type::String)]);
        let e = to_value(&Rule { name: Tf::Null, port: Tf::Null }, &narrow).unwrap_err();
        assert_eq!(e.path, AttrPath::attr("name"));
        assert!(e.message.contains("not an attribute of the schema"), "{e}");
    }

    #[test]
    fn mismatches_carry_the_path() {
        let mut m = model();
        m.rule.push(Rule { name: Tf::Known("x".into()), port: Tf::Known(1) });
        let t = Type::object([
            ("id", Type::String),
            ("items", Type::set(Type::String)),
            ("tags", Type::map(Type::String)),
            ("rule", Type::list(Type::object([("name", Type::String), ("port", Type::String)]))),
            ("ratio", Type::Number),
            ("big", Type::Number),
            ("pair", Type::tuple(vec![Type::String, Type::Bool])),
            ("maybe", Type::Number),
        ]);
        let e = to_value(&m, &t).unwrap_err();
        assert_eq!(e.to_string(), "rule[1].port: expected a string, found the number 1");

        let e = to_value(&("a", true, 3), &Type::tuple(vec![Type::String, Type::Bool])).unwrap_err();
        assert_eq!(e.message, "expected a tuple of 2 elements, found 3 elements");
        assert!(to_value(&f64::NAN, &Type::Number).is_err());
    }

    #[test]
    fn enums_numbers_and_dynamic() {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Mode {
            SlowStart,
        }
        assert_eq!(to_value(&Mode::SlowStart, &Type::String).unwrap(), Value::string("slow_start"));
        assert_eq!(to_value(&u64::MAX, &Type::Number).unwrap(), Value::Number(Number::from(u64::MAX)));
        assert_eq!(to_value(&0.1f32, &Type::Number).unwrap(), Value::Number(Number::parse("0.1").unwrap()));
        assert_eq!(to_value(&7u16, &Type::Number).unwrap(), Value::int(7));
        assert_eq!(to_value(&"s", &Type::Dynamic).unwrap(), Value::dynamic(Type::String, Value::string("s")));
        assert_eq!(to_value_untyped(&Tf::<String>::Unknown).unwrap(), Value::Unknown);
        let m: BTreeMap<u16, bool> = BTreeMap::from([(1, true)]);
        assert_eq!(to_value(&m, &Type::map(Type::Bool)).unwrap(), Value::map([("1", Value::bool(true))]));
    }
}
