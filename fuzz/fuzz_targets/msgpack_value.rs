//! `decode_msgpack` on arbitrary bytes, against a fixed schema or a type read from
//! the input. It must never panic; whatever decodes must encode, decode back to
//! the same value, re-encode to the same bytes, and (when fully known) survive the
//! JSON codec too.

#![no_main]

use hybridnet_fuzz::protocol::value::{decode_json, decode_msgpack, encode_json, encode_msgpack};
use hybridnet_fuzz::schemas;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((ty, bytes)) = schemas::split(data) else { return };
    let v = match decode_msgpack(bytes, &ty) {
        Ok(v) => v,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = (v.infer_type(), v.is_fully_known());

    let enc = encode_msgpack(&v, &ty).unwrap_or_else(|e| panic!("decoded {v:?} as {ty:?} but cannot encode it: {e}"));
    let back = decode_msgpack(&enc, &ty).unwrap_or_else(|e| panic!("cannot decode our own encoding {enc:02x?}: {e}"));
    assert_eq!(back, v, "msgpack round trip as {ty:?} through {enc:02x?}");
    let again = encode_msgpack(&back, &ty).unwrap_or_else(|e| panic!("cannot re-encode {back:?}: {e}"));
    assert_eq!(again, enc, "re-encoding {back:?} is not stable");

    match encode_json(&v, &ty) {
        Ok(json) => {
            assert!(v.is_fully_known(), "wrote an unknown value as JSON: {}", String::from_utf8_lossy(&json));
            let back = decode_json(&json, &ty)
                .unwrap_or_else(|e| panic!("cannot decode our own JSON {}: {e}", String::from_utf8_lossy(&json)));
            assert_eq!(back, v, "JSON round trip as {ty:?} through {}", String::from_utf8_lossy(&json));
        }
        Err(e) => assert!(!v.is_fully_known(), "cannot write the fully known {v:?} as JSON: {e}"),
    }
});
