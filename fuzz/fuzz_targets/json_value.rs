//! `decode_json` and `decode_json_lenient` on arbitrary bytes, against a fixed
//! schema or a type read from the input. They must never panic; whatever the strict
//! decoder accepts the lenient one accepts as the same value; whatever decodes must
//! encode, decode back to the same value (strictly and leniently), re-encode to the
//! same bytes, and survive the msgpack codec too.

#![no_main]

use hybridnet_fuzz::protocol::value::{decode_json, decode_json_lenient, decode_msgpack, encode_json, encode_msgpack};
use hybridnet_fuzz::protocol::{Type, Value};
use hybridnet_fuzz::schemas;
use libfuzzer_sys::fuzz_target;

fn round_trip(v: &Value, ty: &Type) {
    let json = encode_json(v, ty).unwrap_or_else(|e| panic!("decoded {v:?} as {ty:?} but cannot encode it: {e}"));
    let text = String::from_utf8_lossy(&json);
    // Valid JSON grammar for any reader. (Not `serde_json::Value`: it refuses numbers
    // beyond f64 such as `1e400`, which Terraform reads exactly.)
    assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&json).is_ok(), "wrote invalid JSON {text}");
    let back = decode_json(&json, ty).unwrap_or_else(|e| panic!("cannot decode our own JSON {text}: {e}"));
    assert_eq!(&back, v, "JSON round trip as {ty:?} through {text}");
    assert_eq!(decode_json_lenient(&json, ty).as_ref(), Ok(v), "lenient JSON round trip through {text}");
    let again = encode_json(&back, ty).unwrap_or_else(|e| panic!("cannot re-encode {back:?}: {e}"));
    assert_eq!(again, json, "re-encoding {back:?} is not stable");

    let mp = encode_msgpack(v, ty).unwrap_or_else(|e| panic!("cannot encode {v:?} as msgpack: {e}"));
    let back = decode_msgpack(&mp, ty).unwrap_or_else(|e| panic!("cannot decode our own msgpack {mp:02x?}: {e}"));
    assert_eq!(&back, v, "msgpack round trip as {ty:?} through {mp:02x?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((ty, bytes)) = schemas::split(data) else { return };
    let strict = decode_json(bytes, &ty);
    let lenient = decode_json_lenient(bytes, &ty);
    if let Ok(v) = &strict {
        assert_eq!(lenient.as_ref(), Ok(v), "the lenient decoder disagrees with the strict one");
    }
    for decoded in [strict, lenient] {
        match decoded {
            Ok(v) => {
                assert!(v.is_fully_known(), "JSON decoded to an unknown value: {v:?}");
                round_trip(&v, &ty);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
