//! Writes the seed inputs under `fuzz/seeds/<target>/`: valid encodings of sample
//! values of every fixed schema (and of a type given inline), type specifications,
//! and CIDR strings. Regenerate with
//! `CARGO_TARGET_DIR=fuzz/target cargo run --manifest-path fuzz/Cargo.toml --example make_seeds`.

use std::fs;
use std::path::{Path, PathBuf};

use hybridnet_fuzz::protocol::value::{encode_json, encode_msgpack, Number};
use hybridnet_fuzz::protocol::{Type, Value};
use hybridnet_fuzz::schemas;

/// How a sample value looks: everything known, unknowns at the leaves, or nulls at
/// the leaves.
#[derive(Clone, Copy, PartialEq)]
enum Fill {
    Known,
    Unknown,
    Null,
}

fn sample(ty: &Type, fill: Fill, depth: usize) -> Value {
    let leaf = |v: Value| match fill {
        Fill::Known => v,
        Fill::Unknown => Value::Unknown,
        Fill::Null => Value::Null,
    };
    match ty {
        Type::String => leaf(Value::string("10.80.0.0/16")),
        Type::Number => leaf(match depth % 3 {
            0 => Value::int(443),
            1 => Value::float(1.5),
            _ => Value::number(Number::Big("123456789012345678901234567890".to_string())),
        }),
        Type::Bool => leaf(Value::bool(true)),
        Type::Dynamic if depth > 2 => Value::Null,
        Type::Dynamic => Value::dynamic(
            Type::object([("a", Type::list(Type::String)), ("n", Type::Number)]),
            sample(&Type::object([("a", Type::list(Type::String)), ("n", Type::Number)]), fill, depth + 1),
        ),
        Type::List(t) | Type::Set(t) => {
            Value::list(vec![sample(t, fill, depth + 1), sample(t, Fill::Known, depth + 2)])
        }
        Type::Map(t) => Value::map([("Name", sample(t, fill, depth + 1)), ("env", sample(t, Fill::Known, depth + 2))]),
        Type::Object(attrs) => Value::Map(attrs.iter().map(|(k, t)| (k.clone(), sample(t, fill, depth + 1))).collect()),
        Type::Tuple(elems) => Value::list(elems.iter().map(|t| sample(t, fill, depth + 1)).collect()),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("create the seed directory");
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let fixed = schemas::fixed();
    let inline = Type::object([("m", Type::map(Type::list(Type::Number))), ("d", Type::Dynamic)]);
    let inline_spec = inline.to_json_bytes();
    let inline_selector = u8::try_from(fixed.len()).expect("few schemas");

    for (target, json) in [("msgpack_value", false), ("json_value", true)] {
        let dir = root.join(target);
        let fills: &[(Fill, &str)] = if json {
            &[(Fill::Known, "known"), (Fill::Null, "null")]
        } else {
            &[(Fill::Known, "known"), (Fill::Unknown, "unknown"), (Fill::Null, "null")]
        };
        for (i, ty) in fixed.iter().enumerate() {
            for &(fill, fill_name) in fills {
                let v = sample(ty, fill, 0);
                let body = if json { encode_json(&v, ty) } else { encode_msgpack(&v, ty) }.expect("a sample conforms");
                let mut input = vec![u8::try_from(i).expect("few schemas")];
                input.extend(body);
                write(&dir, &format!("schema{i:02}_{fill_name}"), &input);
            }
        }
        let v = sample(&inline, Fill::Known, 0);
        let body =
            if json { encode_json(&v, &inline) } else { encode_msgpack(&v, &inline) }.expect("a sample conforms");
        let mut input = vec![inline_selector, u8::try_from(inline_spec.len()).expect("a short spec")];
        input.extend(&inline_spec);
        input.extend(body);
        write(&dir, "inline_type", &input);
    }

    let dir = root.join("type_json");
    for (i, ty) in fixed.iter().chain([&inline]).enumerate() {
        write(&dir, &format!("type{i:02}"), &ty.to_json_bytes());
    }
    write(&dir, "optional_attrs", br#"["object",{"a":"string","b":["set","number"]},["b"]]"#);

    let dir = root.join("cidr_parse");
    for (i, s) in [
        "10.0.0.0/8",
        "192.168.1.0/24",
        "172.16.0.0/12",
        "0.0.0.0/0",
        "255.255.255.255/32",
        "10.0.0.5/16",
        " 10.0.0.0/8",
        "10.0.0.0",
        "010.0.0.0/8",
        "10.0.0.0/08",
        "10.0.0.0/33",
        "fd00::/8",
        "10.0.0/24",
    ]
    .iter()
    .enumerate()
    {
        write(&dir, &format!("cidr{i:02}"), s.as_bytes());
    }
}
