//! UpgradeResourceState: `decoded` is the stored state read leniently against today's
//! schema (attributes removed since are dropped, attributes added since are null).
//! Arguments added with a default get that default, as a plan would give them, so an
//! upgraded state plans empty; computed attributes added since are filled by the next
//! refresh. Works on the raw value: an older state need not fit today's model.

use tfplugin5::{Diagnostics, Value};

/// The arguments with a default (see `plan::fill_defaults`).
const DEFAULTS: &[(&str, bool)] = &[
    ("pod_network_routable", true),
    ("manage_attachment", true),
    ("create_route_table", false),
    ("manage_security_group_rules", true),
];

pub fn upgrade(decoded: Value) -> (Value, Diagnostics) {
    let mut state = decoded;
    if !state.is_null() {
        for (k, default) in DEFAULTS {
            if state.get_attr(k).is_none_or(Value::is_null) {
                state.set_attr(*k, Value::Bool(*default));
            }
        }
    }
    (state, Diagnostics::new())
}
