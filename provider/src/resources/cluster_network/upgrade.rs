//! UpgradeResourceState: `decoded` is the stored state read leniently against today's
//! schema (attributes removed since are dropped, attributes added since are null).
//! Arguments added with a default get that default, as a plan would give them, so an
//! upgraded state plans empty; computed attributes added since are filled by the next
//! refresh. Works on the raw value: an older state need not fit today's model.

use hybridnet_rules::PodNetworkMode;
use tfplugin5::{Diagnostics, Value};

/// The arguments with a default (see `plan::fill_defaults`).
const DEFAULTS: &[(&str, bool)] =
    &[("manage_attachment", true), ("create_route_table", false), ("manage_security_group_rules", true)];

pub fn upgrade(decoded: Value) -> (Value, Diagnostics) {
    let mut state = decoded;
    if !state.is_null() {
        for (k, default) in DEFAULTS {
            if state.get_attr(k).is_none_or(Value::is_null) {
                state.set_attr(*k, Value::Bool(*default));
            }
        }
        // pod_network_mode replaced pod_network_routable: each is filled from the other.
        let routable = state.get_attr("pod_network_routable").and_then(Value::as_bool);
        let mode = state.get_attr("pod_network_mode").and_then(Value::as_str).and_then(PodNetworkMode::parse);
        let mode = mode.unwrap_or_else(|| PodNetworkMode::from_routable(routable.unwrap_or(true)));
        state.set_attr("pod_network_mode", Value::String(mode.as_str().to_string()));
        state.set_attr("pod_network_routable", Value::Bool(mode.routable()));
    }
    (state, Diagnostics::new())
}
