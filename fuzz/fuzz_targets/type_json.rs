//! `Type::from_json_bytes` on arbitrary bytes. It must never panic; a type it reads
//! is at most `MAX_TYPE_DEPTH` deep, survives `to_json_bytes`/`from_json_bytes` and
//! `to_json`/`from_json`, and reads the same when it arrives as the type of a
//! dynamic value, in msgpack or in JSON (which has its own JSON reader).

#![no_main]

use hybridnet_fuzz::protocol::types::MAX_TYPE_DEPTH;
use hybridnet_fuzz::protocol::value::{decode_json, decode_msgpack};
use hybridnet_fuzz::protocol::{Type, Value};
use libfuzzer_sys::fuzz_target;

/// `[spec as bin, nil]`: a dynamic value of type `spec` that is null.
fn msgpack_dynamic_null(spec: &[u8]) -> Vec<u8> {
    let mut out = vec![0x92];
    let len = spec.len();
    if let Ok(n) = u8::try_from(len) {
        out.extend([0xc4, n]);
    } else if let Ok(n) = u16::try_from(len) {
        out.push(0xc5);
        out.extend(n.to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend(u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }
    out.extend_from_slice(spec);
    out.push(0xc0);
    out
}

fuzz_target!(|data: &[u8]| {
    let t = match Type::from_json_bytes(data) {
        Ok(t) => t,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert!(t.depth() <= MAX_TYPE_DEPTH, "accepted a type {} deep", t.depth());
    let _ = t.to_string();
    let bytes = t.to_json_bytes();
    assert_eq!(Type::from_json_bytes(&bytes).as_ref(), Ok(&t), "through {}", String::from_utf8_lossy(&bytes));
    assert_eq!(Type::from_json(&t.to_json()).as_ref(), Ok(&t));

    // A null dynamic value of this type: `dynamic` stands alone, others are wrapped.
    let expected = match &t {
        Type::Dynamic => Value::Null,
        other => Value::dynamic(other.clone(), Value::Null),
    };
    let mp = msgpack_dynamic_null(data);
    assert_eq!(decode_msgpack(&mp, &Type::Dynamic).as_ref(), Ok(&expected), "as the type of a msgpack dynamic value");
    let mut json = b"{\"value\":null,\"type\":".to_vec();
    json.extend_from_slice(data);
    json.push(b'}');
    assert_eq!(
        decode_json(&json, &Type::Dynamic).as_ref(),
        Ok(&expected),
        "as the type of a JSON dynamic value: {}",
        String::from_utf8_lossy(&json)
    );
});
