//! Schemas: what Terraform validates configuration against, and the object type our
//! codec decodes DynamicValues with. Built with small builders by each resource or
//! data source module.

use std::collections::BTreeMap;

use super::types::Type;

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Terraform may warn when a deprecated attribute is set (1.0 does not).
    pub deprecated: bool,
    /// A change of this argument replaces the object (resources only; applied by
    /// the typed layer's plan rules, `typed::plan_rules`).
    pub requires_replace: bool,
    /// When this computed attribute is planned unknown (resources only; applied by
    /// the typed layer's plan rules).
    pub unknown_until_apply: Option<UnknownUntilApply>,
}

/// When a computed attribute is planned unknown while the configuration holds an
/// unknown value (something else is not applied yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownUntilApply {
    /// Always: apply learns it from the arguments.
    Always,
    /// When the object is new (created or replaced); an existing object keeps its
    /// value.
    UntilCreated,
}

impl Attribute {
    fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            requires_replace: false,
            unknown_until_apply: None,
        }
    }
    /// An argument the user must set.
    pub fn required(name: &str, ty: Type) -> Self {
        Attribute { required: true, ..Self::new(name, ty) }
    }
    /// An argument the user may set.
    pub fn optional(name: &str, ty: Type) -> Self {
        Attribute { optional: true, ..Self::new(name, ty) }
    }
    /// An optional argument that the provider fills in when it is not set
    /// (a default, or a value read from elsewhere).
    pub fn optional_computed(name: &str, ty: Type) -> Self {
        Attribute { optional: true, computed: true, ..Self::new(name, ty) }
    }
    /// A result only the provider sets.
    pub fn computed(name: &str, ty: Type) -> Self {
        Attribute { computed: true, ..Self::new(name, ty) }
    }
    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// A change of this argument replaces the object: the typed layer lists it in
    /// the plan's `requires_replace` (the resource need not).
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    /// This computed attribute is planned unknown whenever the configuration holds
    /// an unknown value, whatever the resource's plan says (apply learns it).
    pub fn unknown_until_apply(mut self) -> Self {
        self.unknown_until_apply = Some(UnknownUntilApply::Always);
        self
    }
    /// This computed attribute is planned unknown, while the configuration holds an
    /// unknown value, when the object is new (created or replaced); an existing
    /// object keeps its value (an optional attribute with no value, unknown too).
    pub fn unknown_until_created(mut self) -> Self {
        self.unknown_until_apply = Some(UnknownUntilApply::UntilCreated);
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
}

impl Block {
    pub fn new(description: &str) -> Self {
        Block { description: description.to_string(), ..Default::default() }
    }
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, type_name: &str, nesting: Nesting, min_items: i64, max_items: i64, block: Block) -> Self {
        self.blocks.push(NestedBlock { type_name: type_name.to_string(), block, nesting, min_items, max_items });
        self
    }

    /// The object type of a value conforming to this block, as Terraform encodes it
    /// in DynamicValues.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            let inner = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
                Nesting::Map => Type::Map(Box::new(inner)),
            };
            attrs.insert(b.type_name.clone(), ty);
        }
        Type::Object(attrs)
    }

    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// A versioned schema of a provider, resource or data source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_type_includes_attributes_and_blocks() {
        let b = Block::new("x")
            .attribute(Attribute::required("a", Type::String))
            .attribute(Attribute::computed("n", Type::Number))
            .block("inner", Nesting::List, 0, 1, Block::new("").attribute(Attribute::optional("b", Type::Bool)));
        let Type::Object(attrs) = b.value_type() else { panic!("object expected") };
        assert_eq!(attrs.get("a"), Some(&Type::String));
        assert_eq!(attrs.get("n"), Some(&Type::Number));
        let mut inner = BTreeMap::new();
        inner.insert("b".to_string(), Type::Bool);
        assert_eq!(attrs.get("inner"), Some(&Type::List(Box::new(Type::Object(inner)))));
    }
}
