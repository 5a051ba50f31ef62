//! UpgradeResourceState: `decoded` is the stored state read leniently against today's
//! schema (attributes removed since are dropped, attributes added since are null).
//! Arguments added with a default get that default, as a plan would give them, so an
//! upgraded state plans empty; computed attributes added since are filled by the next
//! refresh. Works on the raw value: an older state need not fit today's model.
//!
//! Version 0 (0.1.0) had no ownership attributes: everything it lists counts as created
//! by this resource (it was: 0.1.0 adopted only what an interrupted run of its own had
//! made), so `attachment_created` is true when it records an attachment it manages,
//! and nothing is adopted.

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
        if state.get_attr("attachment_created").is_none_or(Value::is_null) {
            let managed = state.get_attr("manage_attachment").and_then(Value::as_bool).unwrap_or(true);
            let recorded = state.get_attr("attachment_id").is_some_and(|a| !a.is_null());
            state.set_attr("attachment_created", Value::Bool(managed && recorded));
        }
        for list in ["adopted_routes", "adopted_security_group_rule_ids"] {
            if state.get_attr(list).is_none_or(Value::is_null) {
                state.set_attr(list, Value::List(Vec::new()));
            }
        }
    }
    (state, Diagnostics::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_0_1_0(attachment: Option<&str>) -> Value {
        let mut v = Value::Map(Default::default());
        v.set_attr("cluster_name", Value::String("c1".into()));
        v.set_attr("manage_attachment", Value::Bool(true));
        v.set_attr("attachment_id", attachment.map_or(Value::Null, |a| Value::String(a.into())));
        v.set_attr("attachment_created", Value::Null);
        v.set_attr("adopted_routes", Value::Null);
        v.set_attr("adopted_security_group_rule_ids", Value::Null);
        v
    }

    #[test]
    fn what_0_1_0_recorded_counts_as_created_by_us() {
        let (up, diags) = upgrade(state_0_1_0(Some("tgw-attach-1")));
        assert!(diags.is_empty());
        assert_eq!(up.get_attr("attachment_created"), Some(&Value::Bool(true)));
        assert_eq!(up.get_attr("adopted_routes"), Some(&Value::List(Vec::new())));
        assert_eq!(up.get_attr("adopted_security_group_rule_ids"), Some(&Value::List(Vec::new())));
        let (up, _) = upgrade(state_0_1_0(None));
        assert_eq!(up.get_attr("attachment_created"), Some(&Value::Bool(false)));
    }

    #[test]
    fn recorded_ownership_is_kept() {
        let mut v = state_0_1_0(Some("tgw-attach-1"));
        v.set_attr("attachment_created", Value::Bool(false));
        let (up, _) = upgrade(v);
        assert_eq!(up.get_attr("attachment_created"), Some(&Value::Bool(false)));
    }
}
