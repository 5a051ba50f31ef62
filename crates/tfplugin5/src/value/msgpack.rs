//! The msgpack encoding of values: what Terraform sends and expects.

use std::collections::BTreeMap;

use super::number::{f64_to_i64_exact, Decimal};
use super::{
    check_no_extra_attrs, depth_check, expected, quote, split_dynamic, unexpected, wrap_dynamic, DecodeError,
    EncodeError, Number, PathStep, Type, Value, MAX_DEPTH,
};

/// The msgpack extension written for an unknown value (Terraform's own choice).
const UNKNOWN_EXT: i8 = 0;

type Mp = rmpv::Value;

/// Decodes a msgpack `DynamicValue` of type `ty`. No bytes decode as null.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut rd = bytes;
    // rmpv counts about two levels per container; this admits every value within
    // MAX_DEPTH (dynamic values add a level each) and stops nesting bombs early.
    let mp = rmpv::decode::read_value_with_max_depth(&mut rd, 4 * MAX_DEPTH + 16)
        .map_err(|e| DecodeError::new(format!("malformed msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(DecodeError::new(format!("{} unexpected bytes after the value", rd.len())));
    }
    from_msgpack(mp, ty, 0)
}

fn mp_kind(v: &Mp) -> &'static str {
    match v {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "a bool",
        Mp::Integer(_) => "an integer",
        Mp::F32(_) | Mp::F64(_) => "a float",
        Mp::String(_) => "a string",
        Mp::Binary(_) => "binary data",
        Mp::Array(_) => "an array",
        Mp::Map(_) => "a map",
        Mp::Ext(..) => "an extension value",
    }
}

/// Why a msgpack value is not a string.
enum NotAString {
    /// A `str` or `bin` that is not UTF-8.
    BadUtf8,
    /// Some other kind of value, handed back.
    Other(Mp),
}

/// A msgpack `str` (or `bin`) holding UTF-8.
fn mp_string(v: Mp) -> Result<String, NotAString> {
    match v {
        Mp::String(s) => s.into_str().ok_or(NotAString::BadUtf8),
        Mp::Binary(b) => String::from_utf8(b).map_err(|_| NotAString::BadUtf8),
        other => Err(NotAString::Other(other)),
    }
}

fn mismatch(ty: &Type, found: &Mp) -> DecodeError {
    DecodeError::new(format!("expected {}, found {}", expected(ty), mp_kind(found)))
}

fn from_msgpack(mp: Mp, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
    depth_check(depth).map_err(DecodeError::new)?;
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(..) => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        Type::Dynamic => {
            let Mp::Array(items) = mp else {
                return Err(DecodeError::new(format!(
                    "expected a dynamic value ([type, value]), found {}",
                    mp_kind(&mp)
                )));
            };
            let mut items = items.into_iter();
            let (Some(type_json), Some(inner), None) = (items.next(), items.next(), items.next()) else {
                return Err(DecodeError::new("a dynamic value must be an array of its type and its value"));
            };
            let type_json = match type_json {
                Mp::Binary(b) => b,
                Mp::String(s) => s.into_bytes(),
                other => {
                    return Err(DecodeError::new(format!(
                        "the type of a dynamic value must be JSON bytes, found {}",
                        mp_kind(&other)
                    )))
                }
            };
            let concrete = Type::from_json_bytes(&type_json).map_err(|e| DecodeError::new(e.to_string()))?;
            let inner = from_msgpack(inner, &concrete, depth + 1)?;
            Ok(wrap_dynamic(concrete, inner))
        }
        Type::String => match mp_string(mp) {
            Ok(s) => Ok(Value::String(s)),
            Err(NotAString::BadUtf8) => Err(DecodeError::new("a string is not valid UTF-8")),
            Err(NotAString::Other(other)) => Err(mismatch(ty, &other)),
        },
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(mismatch(ty, &other)),
        },
        Type::Number => match mp {
            Mp::Integer(i) => match (i.as_i64(), i.as_u64()) {
                (Some(i), _) => Ok(Value::int(i)),
                (None, Some(u)) => Ok(Value::number(u)),
                (None, None) => Err(DecodeError::new("an integer is out of range")),
            },
            Mp::F32(f) => float_value(f64::from(f)),
            Mp::F64(f) => float_value(f),
            other => match mp_string(other) {
                Ok(s) => Number::parse(&s)
                    .map(Value::Number)
                    .ok_or_else(|| DecodeError::new(format!("{} is not a valid number", quote(&s)))),
                Err(NotAString::BadUtf8) => Err(DecodeError::new("a number's text is not valid UTF-8")),
                Err(NotAString::Other(other)) => Err(mismatch(ty, &other)),
            },
        },
        Type::List(elem) | Type::Set(elem) => match mp {
            Mp::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| from_msgpack(item, elem, depth + 1).map_err(|e| e.under(PathStep::index(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            other => Err(mismatch(ty, &other)),
        },
        Type::Tuple(elems) => match mp {
            Mp::Array(items) if items.len() == elems.len() => items
                .into_iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| from_msgpack(item, t, depth + 1).map_err(|e| e.under(PathStep::index(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            Mp::Array(items) => {
                Err(DecodeError::new(format!("expected a tuple of {} elements, found {}", elems.len(), items.len())))
            }
            other => Err(mismatch(ty, &other)),
        },
        Type::Map(elem) => {
            let Mp::Map(entries) = mp else { return Err(mismatch(ty, &mp)) };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = mp_string(k).map_err(|_| DecodeError::new("a map key is not a UTF-8 string"))?;
                let v = from_msgpack(v, elem, depth + 1).map_err(|e| e.under(PathStep::Key(key.clone())))?;
                if let Some(_previous) = out.insert(key.clone(), v) {
                    return Err(DecodeError::new(format!("duplicate map key {}", quote(&key))));
                }
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Mp::Map(entries) = mp else { return Err(mismatch(ty, &mp)) };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let name = mp_string(k).map_err(|_| DecodeError::new("an attribute name is not a UTF-8 string"))?;
                let Some(attr_ty) = attrs.get(&name) else {
                    return Err(DecodeError::new(format!("unsupported attribute {}", quote(&name))));
                };
                let v = from_msgpack(v, attr_ty, depth + 1).map_err(|e| e.under(PathStep::Attr(name.clone())))?;
                if out.insert(name.clone(), v).is_some() {
                    return Err(DecodeError::new(format!("duplicate attribute {}", quote(&name))));
                }
            }
            if let Some(missing) = attrs.keys().find(|k| !out.contains_key(*k)) {
                return Err(DecodeError::new(format!("missing attribute {}", quote(missing))));
            }
            Ok(Value::Map(out))
        }
    }
}

fn float_value(f: f64) -> Result<Value, DecodeError> {
    if f.is_nan() {
        Err(DecodeError::new("NaN is not a number Terraform can hold"))
    } else {
        Ok(Value::float(f))
    }
}

/// Encodes `value` as a msgpack `DynamicValue` of type `ty`, checking that it
/// conforms: object attributes left out of the value are encoded as null, and any
/// attribute the type lacks is an error. In a position of type `dynamic`, a
/// [`Value::Dynamic`] is written with its own type and any other known value with
/// its [inferred type](Value::infer_type); elsewhere a [`Value::Dynamic`] stands
/// for its payload.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mp = to_msgpack(value, ty, 0)?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp).map_err(|e| EncodeError::new(format!("msgpack encoding failed: {e}")))?;
    Ok(out)
}

fn to_msgpack(value: &Value, ty: &Type, depth: usize) -> Result<Mp, EncodeError> {
    depth_check(depth).map_err(EncodeError::new)?;
    if let Type::Dynamic = ty {
        let (concrete, inner) = split_dynamic(value);
        if *concrete == Type::Dynamic {
            // Only null and unknown have no concrete type: they stand alone.
            return match inner {
                Value::Null => Ok(Mp::Nil),
                Value::Unknown => Ok(Mp::Ext(UNKNOWN_EXT, vec![0])),
                other => Err(unexpected(ty, other)),
            };
        }
        let inner = to_msgpack(inner, &concrete, depth + 1)?;
        return Ok(Mp::Array(vec![Mp::Binary(concrete.to_json_bytes()), inner]));
    }
    // A dynamic wrapper in a position of a concrete type: its payload must fit.
    let value = value.concrete();
    match value {
        Value::Null => return Ok(Mp::Nil),
        Value::Unknown => return Ok(Mp::Ext(UNKNOWN_EXT, vec![0])),
        _ => {}
    }
    match (ty, value) {
        (Type::String, Value::String(s)) => Ok(Mp::from(s.as_str())),
        (Type::Bool, Value::Bool(b)) => Ok(Mp::Boolean(*b)),
        (Type::Number, Value::Number(n)) => number_to_msgpack(n),
        (Type::List(elem) | Type::Set(elem), Value::List(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| to_msgpack(v, elem, depth + 1).map_err(|e| e.under(PathStep::index(i))))
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Array),
        (Type::Tuple(elems), Value::List(items)) => {
            if items.len() != elems.len() {
                return Err(EncodeError::new(format!(
                    "expected a tuple of {} elements, found {}",
                    elems.len(),
                    items.len()
                )));
            }
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (v, t))| to_msgpack(v, t, depth + 1).map_err(|e| e.under(PathStep::index(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Array)
        }
        (Type::Map(elem), Value::Map(entries)) => entries
            .iter()
            .map(|(k, v)| {
                let v = to_msgpack(v, elem, depth + 1).map_err(|e| e.under(PathStep::Key(k.clone())))?;
                Ok((Mp::from(k.as_str()), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Map),
        (Type::Object(attrs), Value::Map(entries)) => {
            check_no_extra_attrs(attrs, entries)?;
            attrs
                .iter()
                .map(|(name, t)| {
                    let v = match entries.get(name) {
                        Some(v) => to_msgpack(v, t, depth + 1).map_err(|e| e.under(PathStep::Attr(name.clone())))?,
                        None => Mp::Nil,
                    };
                    Ok((Mp::from(name.as_str()), v))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Map)
        }
        (ty, value) => Err(unexpected(ty, value)),
    }
}

/// Numbers as Terraform writes them: an integer when exact, else a float when the
/// number is one, else decimal text.
fn number_to_msgpack(n: &Number) -> Result<Mp, EncodeError> {
    match n {
        Number::Int(i) => Ok(Mp::from(*i)),
        Number::Float(f) if f.is_nan() => Err(EncodeError::new("NaN is not a number Terraform can hold")),
        Number::Float(f) => Ok(match f64_to_i64_exact(*f) {
            Some(i) => Mp::from(i),
            None => Mp::F64(*f),
        }),
        Number::Big(s) => match Decimal::parse(s) {
            None => Err(EncodeError::new(format!("{} is not a valid number", quote(s)))),
            Some(d) => Ok(match d.to_i64() {
                Some(i) => Mp::from(i),
                None => Mp::from(s.as_str()),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode_json;
    use super::super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_bytes_of_known_encodings() {
        assert_eq!(encode_msgpack(&Value::Null, &Type::String).unwrap(), [0xc0]);
        assert_eq!(encode_msgpack(&Value::Unknown, &Type::String).unwrap(), [0xd4, 0x00, 0x00]);
        assert_eq!(encode_msgpack(&Value::Unknown, &obj_type()).unwrap(), [0xd4, 0x00, 0x00]);
        assert_eq!(encode_msgpack(&Value::Unknown, &Type::Dynamic).unwrap(), [0xd4, 0x00, 0x00]);
        assert_eq!(encode_msgpack(&Value::string("a"), &Type::String).unwrap(), [0xa1, b'a']);
        assert_eq!(encode_msgpack(&Value::Bool(true), &Type::Bool).unwrap(), [0xc3]);
        assert_eq!(encode_msgpack(&Value::int(5), &Type::Number).unwrap(), [0x05]);
        assert_eq!(encode_msgpack(&Value::int(-1), &Type::Number).unwrap(), [0xff]);
        assert_eq!(encode_msgpack(&Value::int(300), &Type::Number).unwrap(), [0xcd, 0x01, 0x2c]);
        // Whole floats are written as integers, as Terraform does.
        assert_eq!(encode_msgpack(&Value::float(3.0), &Type::Number).unwrap(), [0x03]);
        let mut f = vec![0xcb];
        f.extend_from_slice(&1.5f64.to_be_bytes());
        assert_eq!(encode_msgpack(&Value::float(1.5), &Type::Number).unwrap(), f);
        assert_eq!(
            encode_msgpack(&Value::number(Number::Big("0.1".into())), &Type::Number).unwrap(),
            [0xa3, b'0', b'.', b'1']
        );
        // Attributes in sorted order whatever the value's order; a missing one is nil.
        let ty = Type::object([("b", Type::Number), ("a", Type::String), ("c", Type::Bool)]);
        let v = Value::object([("b", Value::int(1)), ("a", Value::string("x"))]);
        assert_eq!(
            encode_msgpack(&v, &ty).unwrap(),
            [0x83, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0x01, 0xa1, b'c', 0xc0]
        );
        assert_eq!(encode_msgpack(&Value::list(vec![]), &Type::list(Type::String)).unwrap(), [0x90]);
        // A dynamic value is [type JSON as bytes, value].
        let mut d = vec![0x92, 0xc4, 0x08];
        d.extend_from_slice(b"\"string\"");
        d.extend_from_slice(&[0xa1, b'a']);
        assert_eq!(encode_msgpack(&Value::dynamic(Type::String, Value::string("a")), &Type::Dynamic).unwrap(), d);
        // A plain value in a dynamic position gets its inferred type.
        assert_eq!(encode_msgpack(&Value::string("a"), &Type::Dynamic).unwrap(), d);
        assert_eq!(encode_msgpack(&Value::Null, &Type::Dynamic).unwrap(), [0xc0]);
    }

    #[test]
    fn every_extension_is_unknown() {
        // fixext1 type 0, fixext4 type 12 (a refined unknown), ext8 of length 3.
        for bytes in [&[0xd4, 0x00, 0x00][..], &[0xd6, 0x0c, 1, 2, 3, 4], &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3]] {
            for ty in [Type::String, Type::Number, Type::Dynamic, obj_type(), Type::map(Type::Bool)] {
                assert_eq!(decode_msgpack(bytes, &ty).unwrap(), Value::Unknown, "{bytes:02x?} as {ty}");
            }
        }
        let mut list = vec![0x92, 0xa1, b'a'];
        list.extend_from_slice(&[0xd6, 0x0c, 1, 2, 3, 4]);
        assert_eq!(
            decode_msgpack(&list, &Type::list(Type::String)).unwrap(),
            Value::list(vec![Value::string("a"), Value::Unknown])
        );
    }

    #[test]
    fn numbers_decode_from_every_form_terraform_uses() {
        assert_eq!(decode_msgpack(&[0x2a], &Type::Number).unwrap(), Value::int(42));
        assert_eq!(decode_msgpack(&[0xd0, 0x80], &Type::Number).unwrap(), Value::int(-128));
        let mut u = vec![0xcf];
        u.extend_from_slice(&u64::MAX.to_be_bytes());
        let big = decode_msgpack(&u, &Type::Number).unwrap();
        assert_eq!(big, Value::number(Number::Big("18446744073709551615".into())));
        assert_eq!(big.as_i64(), None);
        let mut f32b = vec![0xca];
        f32b.extend_from_slice(&0.5f32.to_be_bytes());
        assert_eq!(decode_msgpack(&f32b, &Type::Number).unwrap(), Value::float(0.5));
        // Decimal text: kept exactly, re-encoded byte for byte.
        let text = b"\xa30.1";
        let v = decode_msgpack(text, &Type::Number).unwrap();
        assert!(matches!(v.as_number(), Some(Number::Big(s)) if s == "0.1"));
        assert_eq!(encode_msgpack(&v, &Type::Number).unwrap(), text);
        assert_eq!(decode_msgpack(b"\xa242", &Type::Number).unwrap().as_i64(), Some(42));
        assert!(decode_msgpack(b"\xa3abc", &Type::Number).is_err());
        let mut nan = vec![0xcb];
        nan.extend_from_slice(&f64::NAN.to_be_bytes());
        assert!(decode_msgpack(&nan, &Type::Number).is_err());
    }

    #[test]
    fn object_attributes_must_match_exactly() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let missing = msgpack_of(&rmpv::Value::Map(vec![("a".into(), "x".into())]));
        let e = decode_msgpack(&missing, &ty).unwrap_err();
        assert!(e.message.contains("missing attribute \"b\""), "{e}");
        let extra = msgpack_of(&rmpv::Value::Map(vec![
            ("a".into(), "x".into()),
            ("b".into(), 1.into()),
            ("c".into(), rmpv::Value::Nil),
        ]));
        assert!(decode_msgpack(&extra, &ty).unwrap_err().message.contains("unsupported attribute \"c\""));
        let dup = msgpack_of(&rmpv::Value::Map(vec![
            ("a".into(), "x".into()),
            ("a".into(), "y".into()),
            ("b".into(), 1.into()),
        ]));
        assert!(decode_msgpack(&dup, &ty).unwrap_err().message.contains("duplicate"));
        let int_key = msgpack_of(&rmpv::Value::Map(vec![(1.into(), "x".into())]));
        assert!(decode_msgpack(&int_key, &ty).is_err());
        assert!(decode_msgpack(&int_key, &Type::map(Type::String)).is_err());

        // Encoding: an attribute the type lacks is an error, wherever it is.
        let e = encode_msgpack(&Value::object([("zz", Value::Null)]), &ty).unwrap_err();
        assert!(e.message.contains("zz"));
        let nested_ty = Type::object([("n", Type::list(ty.clone()))]);
        let e =
            encode_msgpack(&Value::object([("n", Value::list(vec![Value::object([("q", Value::Null)])]))]), &nested_ty)
                .unwrap_err();
        assert_eq!(e.path, vec![PathStep::Attr("n".into()), PathStep::Index(0)]);
        assert!(encode_json(&Value::object([("zz", Value::Null)]), &ty).is_err());
    }

    #[test]
    fn truncated_bytes_are_errors() {
        let ty = obj_type();
        let v = Value::object([
            ("name", Value::string("a longer name")),
            ("remote_pod_cidrs", Value::list(vec![Value::string("10.0.0.0/16")])),
            ("extra", Value::dynamic(Type::String, Value::string("s"))),
            ("pair", Value::tuple(vec![Value::Unknown, Value::float(0.25)])),
        ]);
        let bytes = encode_msgpack(&v, &ty).unwrap();
        for cut in 1..bytes.len() {
            assert!(decode_msgpack(&bytes[..cut], &ty).is_err(), "prefix of {cut} bytes");
        }
        let mut long = bytes.clone();
        long.push(0xc0);
        assert!(decode_msgpack(&long, &ty).unwrap_err().message.contains("after the value"));
    }

    #[test]
    fn huge_declared_lengths_are_errors() {
        let cases: [&[u8]; 8] = [
            &[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
            &[0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, b'a', 0xc0],
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0xc6, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
            &[0xdc, 0xff, 0xff, 0x01],
            &[0xde, 0xff, 0xff],
            &[0x92, 0xc5, 0xff, 0xff, b'"'],
        ];
        for bytes in cases {
            for ty in [Type::String, Type::list(Type::Number), Type::map(Type::String), Type::Dynamic, obj_type()] {
                assert!(decode_msgpack(bytes, &ty).is_err(), "{bytes:02x?} as {ty}");
            }
        }
    }

    /// A valid encoding with one random edit: a byte changed, inserted or cut off.
    fn arb_mutated() -> impl Strategy<Value = (Type, Vec<u8>)> {
        (arb_typed_value(), any::<prop::sample::Index>(), any::<u8>(), 0..3u8).prop_map(|((t, v), at, byte, op)| {
            let mut bytes = encode_msgpack(&v, &t).unwrap_or_default();
            if bytes.is_empty() {
                return (t, vec![byte]);
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
            (t, bytes)
        })
    }

    proptest! {
        // At least 512 cases; PROPTEST_CASES may ask for more.
        #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(512), ..ProptestConfig::default() })]

        #[test]
        fn conforming_values_round_trip_through_msgpack((ty, v) in arb_typed_value()) {
            let bytes = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = decode_msgpack(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &v);
            // And byte for byte again.
            prop_assert_eq!(encode_msgpack(&back, &ty).ok(), Some(bytes));
        }

        #[test]
        fn mutated_encodings_never_panic((ty, bytes) in arb_mutated()) {
            if let Ok(v) = decode_msgpack(&bytes, &ty) {
                // Whatever decodes also encodes.
                prop_assert!(encode_msgpack(&v, &ty).is_ok());
            }
        }
    }
}
