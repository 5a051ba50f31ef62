//! Diagnostics: what users read. Every error carries a summary, a detail saying how
//! to fix it, and when it concerns an input, the attribute path down to the list
//! element (`remote_pod_cidrs[1]`) so Terraform underlines the exact expression.

use std::fmt;

pub use super::value::PathStep;

/// A path into a configuration or state value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// A path starting at a top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        AttrPath(vec![PathStep::Attr(name.into())])
    }
    /// Extends the path with a nested attribute.
    pub fn then(mut self, name: impl Into<String>) -> Self {
        self.0.push(PathStep::Attr(name.into()));
        self
    }
    /// Extends the path with a list index.
    pub fn index(mut self, i: usize) -> Self {
        self.0.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
        self
    }
    /// Extends the path with a map key.
    pub fn key(mut self, k: impl Into<String>) -> Self {
        self.0.push(PathStep::Key(k.into()));
        self
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

/// An ordered collection of diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>, path: Option<AttrPath>) {
        self.0.push(Diagnostic { severity: Severity::Error, summary: summary.into(), detail: detail.into(), path });
    }
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>, path: Option<AttrPath>) {
        self.0.push(Diagnostic { severity: Severity::Warning, summary: summary.into(), detail: detail.into(), path });
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
    /// A single error diagnostic.
    pub fn from_error(summary: impl Into<String>, detail: impl Into<String>, path: Option<AttrPath>) -> Self {
        let mut d = Self::new();
        d.error(summary, detail, path);
        d
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_matches_terraform_notation() {
        let p = AttrPath::attr("remote_pod_cidrs").index(1);
        assert_eq!(p.to_string(), "remote_pod_cidrs[1]");
        let p = AttrPath::attr("assume_role").index(0).then("role_arn");
        assert_eq!(p.to_string(), "assume_role[0].role_arn");
        let p = AttrPath::attr("tags").key("Name");
        assert_eq!(p.to_string(), "tags[\"Name\"]");
    }

    #[test]
    fn has_errors_only_counts_errors() {
        let mut d = Diagnostics::new();
        d.warning("w", "x", None);
        assert!(!d.has_errors());
        d.error("e", "y", Some(AttrPath::attr("a")));
        assert!(d.has_errors());
        assert_eq!(d.len(), 2);
    }
}
