//! Plan behaviour declared on schema attributes ([`Attribute::requires_replace`],
//! [`Attribute::unknown_until_apply`], [`Attribute::unknown_until_created`]) and
//! applied by the [`Registry`](super::Registry) to every resource's
//! PlanResourceChange, so that no resource writes it by hand:
//!
//! - before the resource plans, the `requires_replace` arguments whose value changes
//!   (an unknown new value is a change) are worked out; the resource sees them in
//!   [`PlanRequest::requires_replace`](super::PlanRequest) and the answer lists them;
//! - after it plans, while an argument is unknown (Terraform cannot know the
//!   configuration until something else is applied), each `unknown_until_apply`
//!   attribute is planned unknown, and each `unknown_until_created` one when the object
//!   is new (created or replaced), the existing object's value being kept otherwise.
//!   An attribute the configuration sets keeps the configured value.
//!
//! Only the attributes of the schema's top-level block carry plan behaviour.
//!
//! [`Attribute::requires_replace`]: crate::schema::Attribute::requires_replace
//! [`Attribute::unknown_until_apply`]: crate::schema::Attribute::unknown_until_apply
//! [`Attribute::unknown_until_created`]: crate::schema::Attribute::unknown_until_created

use crate::diag::AttrPath;
use crate::schema::{Block, UnknownUntilApply};
use crate::value::Value;

/// One attribute planned unknown.
#[derive(Clone, Debug, PartialEq)]
struct Unknown {
    name: String,
    when: UnknownUntilApply,
    /// Whether configuration may set it (an optional computed attribute).
    optional: bool,
}

/// The plan behaviour a schema declares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanRules {
    replace: Vec<String>,
    unknown: Vec<Unknown>,
}

impl PlanRules {
    /// The rules declared on `block`'s attributes.
    pub fn new(block: &Block) -> Self {
        PlanRules {
            replace: block.attributes.iter().filter(|a| a.requires_replace).map(|a| a.name.clone()).collect(),
            unknown: block
                .attributes
                .iter()
                .filter_map(|a| {
                    a.unknown_until_apply.map(|when| Unknown { name: a.name.clone(), when, optional: a.optional })
                })
                .collect(),
        }
    }

    /// The `requires_replace` attributes whose proposed value differs from the prior
    /// one; none when the object is created or destroyed.
    pub fn requires_replace(&self, prior: &Value, proposed: &Value) -> Vec<AttrPath> {
        if prior.is_null() || proposed.is_null() {
            return Vec::new();
        }
        self.replace
            .iter()
            .filter(|n| prior.get_attr(n) != proposed.get_attr(n))
            .map(|n| AttrPath::attr(n.as_str()))
            .collect()
    }

    /// Plans unknown what the rules say while the configuration holds an unknown
    /// value. `replacing`: the plan replaces the object (a new one, like a create).
    pub fn mark_unknown(&self, config: &Value, prior: &Value, replacing: bool, planned: &mut Value) {
        if planned.is_null() || config.is_null() || config.is_fully_known() {
            return;
        }
        let new_object = prior.is_null() || replacing;
        for u in &self.unknown {
            if config.get_attr(&u.name).is_some_and(|v| !v.is_null()) {
                continue;
            }
            let Some(v) = planned.get_attr_mut(&u.name) else { continue };
            let unknown = match u.when {
                UnknownUntilApply::Always => true,
                // An optional computed attribute with no value to keep is learnt at
                // apply as well.
                UnknownUntilApply::UntilCreated => new_object || (u.optional && v.is_null()),
            };
            if unknown {
                *v = Value::Unknown;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;
    use crate::types::Type;

    fn block() -> Block {
        Block::new("")
            .attribute(Attribute::required("name", Type::String).requires_replace())
            .attribute(Attribute::optional("size", Type::Number))
            .attribute(Attribute::computed("id", Type::String).unknown_until_apply())
            .attribute(Attribute::computed("home", Type::String).unknown_until_created())
            .attribute(Attribute::optional_computed("group", Type::String).unknown_until_created())
            .attribute(Attribute::computed("stable", Type::String))
    }

    fn obj(name: Value, size: Value, id: &str, home: &str, group: Value) -> Value {
        Value::object([
            ("name", name),
            ("size", size),
            ("id", Value::string(id)),
            ("home", Value::string(home)),
            ("group", group),
            ("stable", Value::string("s")),
        ])
    }

    fn config(name: Value, size: Value, group: Value) -> Value {
        Value::object([
            ("name", name),
            ("size", size),
            ("id", Value::Null),
            ("home", Value::Null),
            ("group", group),
            ("stable", Value::Null),
        ])
    }

    #[test]
    fn rules_are_read_from_the_attributes() {
        let r = PlanRules::new(&block());
        assert_eq!(r.replace, vec!["name".to_string()]);
        let names: Vec<_> = r.unknown.iter().map(|u| (u.name.as_str(), u.when, u.optional)).collect();
        assert_eq!(
            names,
            vec![
                ("id", UnknownUntilApply::Always, false),
                ("home", UnknownUntilApply::UntilCreated, false),
                ("group", UnknownUntilApply::UntilCreated, true),
            ]
        );
        assert!(
            PlanRules::new(&Block::new("").attribute(Attribute::optional("x", Type::String))) == PlanRules::default()
        );
    }

    #[test]
    fn a_changed_or_unknown_replacing_argument_requires_replace() {
        let r = PlanRules::new(&block());
        let prior = obj(Value::string("a"), Value::int(1), "i", "h", Value::string("g"));
        let same = obj(Value::string("a"), Value::int(2), "i", "h", Value::string("g"));
        assert_eq!(r.requires_replace(&prior, &same), Vec::<AttrPath>::new(), "size does not replace");
        let renamed = obj(Value::string("b"), Value::int(1), "i", "h", Value::string("g"));
        assert_eq!(r.requires_replace(&prior, &renamed), vec![AttrPath::attr("name")]);
        let unknown = obj(Value::Unknown, Value::int(1), "i", "h", Value::string("g"));
        assert_eq!(r.requires_replace(&prior, &unknown), vec![AttrPath::attr("name")]);
        // Create and destroy replace nothing.
        assert!(r.requires_replace(&Value::Null, &renamed).is_empty());
        assert!(r.requires_replace(&prior, &Value::Null).is_empty());
    }

    #[test]
    fn a_known_configuration_leaves_the_plan_alone() {
        let r = PlanRules::new(&block());
        let planned = obj(Value::string("a"), Value::int(1), "i", "h", Value::string("g"));
        for prior in [Value::Null, planned.clone()] {
            let mut p = planned.clone();
            r.mark_unknown(&config(Value::string("a"), Value::int(1), Value::Null), &prior, false, &mut p);
            assert_eq!(p, planned);
        }
    }

    #[test]
    fn an_unknown_argument_makes_the_declared_attributes_unknown() {
        let r = PlanRules::new(&block());
        let cfg = config(Value::string("a"), Value::Unknown, Value::Null);
        let planned = obj(Value::string("a"), Value::Unknown, "i", "h", Value::string("g"));
        let unknown = |p: &Value, n: &str| p.get_attr(n) == Some(&Value::Unknown);

        // Update: id unknown, home and group kept, stable untouched.
        let mut p = planned.clone();
        r.mark_unknown(&cfg, &planned, false, &mut p);
        assert!(unknown(&p, "id"));
        assert_eq!(p.get_attr("home"), Some(&Value::string("h")));
        assert_eq!(p.get_attr("group"), Some(&Value::string("g")));
        assert_eq!(p.get_attr("stable"), Some(&Value::string("s")));

        // Create and replace: all three unknown.
        for (prior, replacing) in [(Value::Null, false), (planned.clone(), true)] {
            let mut p = planned.clone();
            r.mark_unknown(&cfg, &prior, replacing, &mut p);
            assert!(["id", "home", "group"].iter().all(|n| unknown(&p, n)), "{p:?}");
            assert_eq!(p.get_attr("stable"), Some(&Value::string("s")));
        }

        // An optional computed attribute with nothing to keep is unknown on update too;
        // a computed-only one keeps its null.
        let mut p = obj(Value::string("a"), Value::Unknown, "i", "h", Value::Null);
        *p.get_attr_mut("home").unwrap() = Value::Null;
        r.mark_unknown(&cfg, &planned, false, &mut p);
        assert!(unknown(&p, "group"));
        assert_eq!(p.get_attr("home"), Some(&Value::Null));

        // What the configuration sets is kept, even on create.
        let cfg = config(Value::string("a"), Value::Unknown, Value::string("mine"));
        let mut p = obj(Value::string("a"), Value::Unknown, "i", "h", Value::string("mine"));
        r.mark_unknown(&cfg, &Value::Null, false, &mut p);
        assert_eq!(p.get_attr("group"), Some(&Value::string("mine")));

        // Destroy: nothing to plan.
        let mut p = Value::Null;
        r.mark_unknown(&Value::Null, &planned, false, &mut p);
        assert_eq!(p, Value::Null);
    }
}
