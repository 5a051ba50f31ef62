//! Provider-defined functions (protocol 5.5 and later; Terraform 1.8+, OpenTofu 1.7+):
//! their signatures as served by GetProviderSchema and GetFunctions, and the error a
//! call answers. Called as `provider::NAME::FUNCTION(...)` in configuration.
//!
//! A function is pure: the same arguments give the same result, with no network and
//! no provider configuration (Terraform may call it before Configure, or while
//! validating).

use super::types::Type;

/// One parameter of a function.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionParameter {
    pub name: String,
    /// Terraform converts each argument to this type before the call
    /// (`Type::Dynamic` takes any value as it is).
    pub ty: Type,
    /// Whether the argument may be null; when false, Terraform rejects a null
    /// argument before calling (and the server refuses one, should it come).
    pub allow_null: bool,
    /// Whether the argument may hold unknown values; when false, a call with an
    /// unknown (anywhere inside) answers an unknown result without running the function.
    pub allow_unknown: bool,
    /// Markdown.
    pub description: String,
}

impl FunctionParameter {
    /// A parameter that takes known, non-null values of type `ty`.
    pub fn new(name: &str, ty: Type) -> Self {
        FunctionParameter {
            name: name.to_string(),
            ty,
            allow_null: false,
            allow_unknown: false,
            description: String::new(),
        }
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    pub fn allow_null(mut self) -> Self {
        self.allow_null = true;
        self
    }

    pub fn allow_unknown(mut self) -> Self {
        self.allow_unknown = true;
        self
    }
}

/// A function's signature and documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSignature {
    /// Positional parameters, in call order.
    pub parameters: Vec<FunctionParameter>,
    /// Takes any number of further arguments of this parameter's type.
    pub variadic: Option<FunctionParameter>,
    pub return_type: Type,
    /// One line.
    pub summary: String,
    /// Markdown.
    pub description: String,
    /// Non-empty when the function is deprecated: what to use instead.
    pub deprecation_message: String,
}

impl FunctionSignature {
    /// A function with no parameters yet, returning `return_type`.
    pub fn new(summary: &str, return_type: Type) -> Self {
        FunctionSignature {
            parameters: Vec::new(),
            variadic: None,
            return_type,
            summary: summary.to_string(),
            description: String::new(),
            deprecation_message: String::new(),
        }
    }

    pub fn parameter(mut self, p: FunctionParameter) -> Self {
        self.parameters.push(p);
        self
    }

    pub fn variadic(mut self, p: FunctionParameter) -> Self {
        self.variadic = Some(p);
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// The parameter argument `index` (0-based) is bound to: a positional one, or
    /// the variadic one past them.
    pub fn parameter_for(&self, index: usize) -> Option<&FunctionParameter> {
        self.parameters.get(index).or(self.variadic.as_ref())
    }

    /// Whether `count` arguments fit.
    pub fn accepts(&self, count: usize) -> bool {
        count == self.parameters.len() || (self.variadic.is_some() && count > self.parameters.len())
    }
}

/// Why a call failed: Terraform reports `text`, and when `argument` is set, it names
/// that argument (0-based) and points at it in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error about the call as a whole.
    pub fn new(text: impl Into<String>) -> Self {
        FunctionError { text: text.into(), argument: None }
    }

    /// An error about argument `index` (0-based).
    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        FunctionError { text: text.into(), argument: Some(index) }
    }
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.argument {
            Some(i) => write!(f, "argument {i}: {}", self.text),
            None => f.write_str(&self.text),
        }
    }
}

impl std::error::Error for FunctionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_bind_to_positional_then_variadic_parameters() {
        let s = FunctionSignature::new("x", Type::String)
            .parameter(FunctionParameter::new("a", Type::String))
            .variadic(FunctionParameter::new("rest", Type::Number));
        assert_eq!(s.parameter_for(0).map(|p| p.name.as_str()), Some("a"));
        assert_eq!(s.parameter_for(3).map(|p| p.name.as_str()), Some("rest"));
        assert!(!s.accepts(0));
        assert!(s.accepts(1) && s.accepts(4));
        let fixed = FunctionSignature::new("y", Type::String).parameter(FunctionParameter::new("a", Type::String));
        assert!(fixed.accepts(1) && !fixed.accepts(2));
        assert_eq!(fixed.parameter_for(1), None);
    }
}
