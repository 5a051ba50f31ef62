//! The docs generator: renders `docs/` from `templates/` and the provider's own schema,
//! as tfplugindocs does for Go providers.
//!
//! Each template is Markdown with three directives (tfplugindocs' spelling):
//!
//! - `{{ .SchemaMarkdown }}`: the `## Schema` section of the page's type, rendered from
//!   [`provider_schemas`](crate::provider_schemas) (names, types, required / optional /
//!   read-only, descriptions with the defaults the provider applies, sensitivity,
//!   deprecation, nested blocks and object attributes);
//! - `{{ tffile "examples/…/x.tf" }}`: a file of `examples/` as a `terraform` code block;
//! - `{{ codefile "shell" "examples/…/x.sh" }}`: a file as a code block of that language.
//!
//! A function's template (`templates/functions/NAME.md.tmpl`, rendering
//! `docs/functions/NAME.md`) has instead, from its signature:
//!
//! - `{{ .Summary }}`, `{{ .Description }}`;
//! - `{{ .FunctionSignatureMarkdown }}`: `## Signature`, the call with its types;
//! - `{{ .FunctionArgumentsMarkdown }}`: `## Arguments`, each parameter described;
//! - `{{ .FunctionReturnMarkdown }}`: `## Return`, the result's type and attributes.
//!
//! `templates/index.md.tmpl` renders `docs/index.md` (the provider block);
//! `templates/resources/NAME.md.tmpl` and `templates/data-sources/NAME.md.tmpl` render
//! the page of `hybridnet_NAME`. Every type and function needs a template and every
//! template a type or function.
//! Run [`REGENERATE`] to rewrite `docs/`; `tests/docs_up_to_date.rs` fails when `docs/`
//! differs from what this renders.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use tfplugin5::{Attribute, Block, FunctionSignature, Nesting, Schema, Type};

use crate::{provider_schemas, PROVIDER_NAME};

/// The one command that regenerates `docs/`.
pub const REGENERATE: &str = "cargo run -p hybridnet-schema --bin hybridnet-docs";

/// A description that starts with this marks its attribute deprecated (tfplugin5's
/// `Attribute` has no deprecation flag yet).
pub const DEPRECATED_PREFIX: &str = "Deprecated:";

/// One rendered page: its path under `docs/`, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub path: PathBuf,
    pub template: PathBuf,
    pub text: String,
}

/// Which schema a template documents.
#[derive(Clone, Copy)]
enum Kind {
    Provider,
    Resource,
    DataSource,
    /// `templates/guides/NAME.md.tmpl` renders `docs/guides/NAME.md` (prose and examples).
    Guide,
    /// `templates/functions/NAME.md.tmpl` renders `docs/functions/NAME.md`.
    Function,
}

/// What a template documents.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Schema(&'a Schema),
    Function(&'a str, &'a FunctionSignature),
}

/// Renders every page from `root/templates` (root is the repository root).
pub fn render_all(root: &Path) -> Result<Vec<Page>, String> {
    let schemas = provider_schemas();
    let mut pages = Vec::new();
    let mut seen_resources = Vec::new();
    let mut seen_data_sources = Vec::new();
    let templates = root.join("templates");
    let mut jobs: Vec<(Kind, PathBuf)> = vec![(Kind::Provider, templates.join("index.md.tmpl"))];
    for (dir, kind) in [("resources", Kind::Resource), ("data-sources", Kind::DataSource)] {
        let mut files = list_templates(&templates.join(dir))?;
        files.sort();
        jobs.extend(files.into_iter().map(|f| (kind, f)));
    }
    for (dir, kind) in [("guides", Kind::Guide), ("functions", Kind::Function)] {
        let mut files = list_templates(&templates.join(dir))?;
        files.sort();
        jobs.extend(files.into_iter().map(|f| (kind, f)));
    }
    let mut seen_functions = Vec::new();
    for (kind, template) in jobs {
        let file_name = template.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let stem = file_name.trim_end_matches(".md.tmpl").to_string();
        let type_name = format!("{PROVIDER_NAME}_{stem}");
        if let Kind::Function = kind {
            let Some(sig) = schemas.functions.get(&stem) else {
                return Err(format!("{}: the provider has no function {stem}", template.display()));
            };
            seen_functions.push(stem.clone());
            let rel_template = template.strip_prefix(root).unwrap_or(&template).to_path_buf();
            let source = fs::read_to_string(&template).map_err(|e| format!("{}: {e}", template.display()))?;
            let text = render_subject(&source, &rel_template, Subject::Function(&stem, sig), root)?;
            pages.push(Page { path: Path::new("functions").join(format!("{stem}.md")), template: rel_template, text });
            continue;
        }
        let (schema, out) = match kind {
            Kind::Function => continue,
            Kind::Provider => (Some(&schemas.provider), PathBuf::from("index.md")),
            Kind::Resource => {
                seen_resources.push(type_name.clone());
                (schemas.resources.get(&type_name), Path::new("resources").join(format!("{stem}.md")))
            }
            Kind::DataSource => {
                seen_data_sources.push(type_name.clone());
                (schemas.data_sources.get(&type_name), Path::new("data-sources").join(format!("{stem}.md")))
            }
            // A guide shows no schema: the provider's stands in for the renderer.
            Kind::Guide => (Some(&schemas.provider), Path::new("guides").join(format!("{stem}.md"))),
        };
        let Some(schema) = schema else {
            return Err(format!("{}: the provider has no type {type_name}", template.display()));
        };
        let rel_template = template.strip_prefix(root).unwrap_or(&template).to_path_buf();
        let source = fs::read_to_string(&template).map_err(|e| format!("{}: {e}", template.display()))?;
        let text = render_template(&source, &rel_template, schema, root)?;
        pages.push(Page { path: out, template: rel_template, text });
    }
    if let Some(name) = schemas.resources.keys().find(|n| !seen_resources.contains(n)) {
        return Err(format!("resource {name} has no template templates/resources/{}.md.tmpl", short(name)));
    }
    if let Some(name) = schemas.data_sources.keys().find(|n| !seen_data_sources.contains(n)) {
        return Err(format!("data source {name} has no template templates/data-sources/{}.md.tmpl", short(name)));
    }
    if let Some(name) = schemas.functions.keys().find(|n| !seen_functions.contains(n)) {
        return Err(format!("function {name} has no template templates/functions/{name}.md.tmpl"));
    }
    Ok(pages)
}

fn short(type_name: &str) -> &str {
    type_name.strip_prefix(&format!("{PROVIDER_NAME}_")).unwrap_or(type_name)
}

fn list_templates(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.to_str().is_some_and(|p| p.ends_with(".md.tmpl")) {
            out.push(path);
        }
    }
    Ok(out)
}

/// Renders one template.
pub fn render_template(source: &str, template: &Path, schema: &Schema, root: &Path) -> Result<String, String> {
    render_subject(source, template, Subject::Schema(schema), root)
}

/// Renders one function's template.
pub fn render_function_template(
    source: &str,
    template: &Path,
    name: &str,
    sig: &FunctionSignature,
    root: &Path,
) -> Result<String, String> {
    render_subject(source, template, Subject::Function(name, sig), root)
}

fn render_subject(source: &str, template: &Path, subject: Subject<'_>, root: &Path) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("{}: unclosed {{{{", template.display()));
        };
        let directive = after[..end].trim();
        out.push_str(&expand(directive, template, subject, root)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(with_notice(&out, template))
}

/// Puts a "generated" notice after the front matter.
fn with_notice(text: &str, template: &Path) -> String {
    let notice = format!(
        "<!-- Generated from {} and the provider's schema by `{REGENERATE}`: edit those, not this file. -->\n",
        template.display()
    );
    if let Some(body) = text.strip_prefix("---\n") {
        if let Some(end) = body.find("\n---\n") {
            let (front, after) = body.split_at(end + 5);
            return format!("---\n{front}{notice}{after}");
        }
    }
    format!("{notice}{text}")
}

fn expand(directive: &str, template: &Path, subject: Subject<'_>, root: &Path) -> Result<String, String> {
    let words = split_words(directive);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match (words.as_slice(), subject) {
        ([".SchemaMarkdown"], Subject::Schema(schema)) => Ok(schema_markdown(schema).trim_end().to_string()),
        ([".Summary"], Subject::Function(_, f)) => Ok(f.summary.clone()),
        ([".Description"], Subject::Function(_, f)) => Ok(f.description.clone()),
        ([".FunctionSignatureMarkdown"], Subject::Function(name, f)) => Ok(function_signature_markdown(name, f)),
        ([".FunctionArgumentsMarkdown"], Subject::Function(_, f)) => Ok(function_arguments_markdown(f)),
        ([".FunctionReturnMarkdown"], Subject::Function(_, f)) => Ok(function_return_markdown(f)),
        (["tffile", path], _) => code_block("terraform", path, root),
        (["codefile", lang, path], _) => code_block(lang, path, root),
        _ => Err(format!("{}: unknown directive {{{{ {directive} }}}}", template.display())),
    }
}

/// Words of a directive; double-quoted strings are one word.
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                if quoted {
                    words.push(std::mem::take(&mut cur));
                }
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn code_block(lang: &str, path: &str, root: &Path) -> Result<String, String> {
    if !path.starts_with("examples/") || path.split('/').any(|part| part == "..") {
        return Err(format!("{path}: examples shown in the docs live under examples/"));
    }
    let text = fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: {e}"))?;
    Ok(format!("```{lang}\n{}\n```", text.trim_end()))
}

/// `## Signature`: the call as configuration writes it, with the types.
pub fn function_signature_markdown(name: &str, f: &FunctionSignature) -> String {
    let mut params: Vec<String> = f.parameters.iter().map(|p| format!("{} {}", p.name, type_name(&p.ty))).collect();
    if let Some(v) = &f.variadic {
        params.push(format!("{}... {}", v.name, type_name(&v.ty)));
    }
    format!(
        "## Signature\n\n```text\nprovider::{PROVIDER_NAME}::{name}({}) {}\n```",
        params.join(", "),
        type_name(&f.return_type)
    )
}

/// `## Arguments`: one numbered item per parameter.
pub fn function_arguments_markdown(f: &FunctionSignature) -> String {
    let mut out = String::from("## Arguments\n\n");
    let variadic = f.variadic.iter().map(|v| (v, true));
    for (i, (p, is_variadic)) in f.parameters.iter().map(|p| (p, false)).chain(variadic).enumerate() {
        let mut notes = vec![type_name(&p.ty)];
        if is_variadic {
            notes.push("Variadic".into());
        }
        if p.allow_null {
            notes.push("Nullable".into());
        }
        let _ = write!(out, "{}. `{}` ({})", i + 1, p.name, notes.join(", "));
        push_description(&mut out, &p.description);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// `## Return`: the result's type, and the attributes of its objects.
pub fn function_return_markdown(f: &FunctionSignature) -> String {
    let mut out = format!("## Return\n\n{}", type_name(&f.return_type));
    if let Some(attrs) = object_attributes(&f.return_type) {
        out.push_str(", each object with:\n\n");
        for (name, ty) in attrs {
            let _ = writeln!(out, "- `{name}` ({})", type_name(&ty));
        }
    }
    out.trim_end().to_string()
}

/// The `## Schema` section of one type, in tfplugindocs' layout.
pub fn schema_markdown(schema: &Schema) -> String {
    let mut out = String::from("## Schema\n");
    let mut nested = Vec::new();
    block_sections(&mut out, &schema.block, "", "###", &mut nested);
    while !nested.is_empty() {
        let batch = std::mem::take(&mut nested);
        for n in batch {
            let _ = write!(out, "\n<a id=\"{}\"></a>\n### Nested Schema for `{}`\n", n.anchor, n.path);
            match n.body {
                Nested::Block(b) => block_sections(&mut out, &b, &n.path, "", &mut nested),
                Nested::Object(attrs, category) => {
                    let _ = write!(out, "\n{category}:\n\n");
                    for (name, ty) in attrs {
                        let _ = writeln!(out, "- `{name}` ({})", type_name(&ty));
                    }
                }
            }
        }
    }
    out
}

enum Nested {
    Block(Block),
    Object(Vec<(String, Type)>, &'static str),
}

struct NestedSection {
    anchor: String,
    path: String,
    body: Nested,
}

const REQUIRED: &str = "Required";
const OPTIONAL: &str = "Optional";
const READ_ONLY: &str = "Read-Only";

fn category(a: &Attribute) -> &'static str {
    if a.required {
        REQUIRED
    } else if a.optional {
        OPTIONAL
    } else {
        READ_ONLY
    }
}

/// The Required / Optional / Read-Only lists of one block. Top-level sections are `###`
/// headings; those of nested schemas are `Required:` lines, as tfplugindocs writes them.
fn block_sections(out: &mut String, block: &Block, path: &str, heading: &str, nested: &mut Vec<NestedSection>) {
    for cat in [REQUIRED, OPTIONAL, READ_ONLY] {
        let mut lines = Vec::new();
        for a in block.attributes.iter().filter(|a| category(a) == cat) {
            let full = join_path(path, &a.name);
            let mut line = format!("- `{}` ({}", a.name, type_name(&a.ty));
            if a.sensitive {
                line.push_str(", Sensitive");
            }
            if a.description.starts_with(DEPRECATED_PREFIX) {
                line.push_str(", Deprecated");
            }
            line.push(')');
            push_description(&mut line, &a.description);
            if let Some(attrs) = object_attributes(&a.ty) {
                let anchor = format!("nestedatt--{}", full.replace('.', "--"));
                let _ = write!(line, " (see [below for nested schema](#{anchor}))");
                nested.push(NestedSection { anchor, path: full, body: Nested::Object(attrs, cat) });
            }
            lines.push(line);
        }
        let block_cat = |b: &tfplugin5::schema::NestedBlock| if b.min_items > 0 { REQUIRED } else { OPTIONAL };
        for b in block.blocks.iter().filter(|b| block_cat(b) == cat) {
            let full = join_path(path, &b.type_name);
            let anchor = format!("nestedblock--{}", full.replace('.', "--"));
            let mut line = format!("- `{}` ({})", b.type_name, block_type(b));
            push_description(&mut line, &b.block.description);
            let _ = write!(line, " (see [below for nested schema](#{anchor}))");
            nested.push(NestedSection { anchor, path: full, body: Nested::Block(b.block.clone()) });
            lines.push(line);
        }
        if lines.is_empty() {
            continue;
        }
        if heading.is_empty() {
            let _ = write!(out, "\n{cat}:\n\n");
        } else {
            let _ = write!(out, "\n{heading} {cat}\n\n");
        }
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
}

fn push_description(line: &mut String, description: &str) {
    let d = description.trim();
    if !d.is_empty() {
        line.push(' ');
        line.push_str(d);
    }
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The attributes of an object type, or of the objects of a collection.
fn object_attributes(ty: &Type) -> Option<Vec<(String, Type)>> {
    match ty {
        Type::Object(attrs) => Some(attrs.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Type::List(inner) | Type::Set(inner) | Type::Map(inner) => object_attributes(inner),
        _ => None,
    }
}

/// A type as the registry docs name it: `String`, `List of String`, `Map of Number`…
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(inner) => format!("List of {}", type_name(inner)),
        Type::Set(inner) => format!("Set of {}", type_name(inner)),
        Type::Map(inner) => format!("Map of {}", type_name(inner)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn block_type(b: &tfplugin5::schema::NestedBlock) -> String {
    let mut s = match b.nesting {
        Nesting::Single | Nesting::Group => {
            return format!("Block, {}", if b.min_items > 0 { REQUIRED } else { OPTIONAL });
        }
        Nesting::List => String::from("Block List"),
        Nesting::Set => String::from("Block Set"),
        Nesting::Map => String::from("Block Map"),
    };
    if b.min_items > 0 {
        let _ = write!(s, ", Min: {}", b.min_items);
    }
    if b.max_items > 0 {
        let _ = write!(s, ", Max: {}", b.max_items);
    }
    s
}

/// Writes every page under `root/docs`; returns the paths that changed.
pub fn write_all(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut changed = Vec::new();
    for page in render_all(root)? {
        let path = root.join("docs").join(&page.path);
        if fs::read_to_string(&path).ok().as_deref() != Some(page.text.as_str()) {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            fs::write(&path, &page.text).map_err(|e| format!("{}: {e}", path.display()))?;
            changed.push(page.path);
        }
    }
    Ok(changed)
}

/// The pages under `root/docs` that differ from what the templates and schema render.
pub fn stale(root: &Path) -> Result<Vec<PathBuf>, String> {
    Ok(render_all(root)?
        .into_iter()
        .filter(|p| fs::read_to_string(root.join("docs").join(&p.path)).ok().as_deref() != Some(p.text.as_str()))
        .map(|p| p.path)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin5::{Attribute, Block, FunctionSignature, Nesting, Schema, Type};

    fn sample() -> Schema {
        Schema::new(
            0,
            Block::new("x")
                .attribute(Attribute::required("name", Type::String).description("The name."))
                .attribute(Attribute::optional("secret", Type::String).description("A secret.").sensitive())
                .attribute(Attribute::optional("old", Type::Bool).description("Deprecated: use `name`."))
                .attribute(Attribute::computed("rows", Type::list(Type::object([("a", Type::Number)]))))
                .block(
                    "inner",
                    Nesting::List,
                    1,
                    1,
                    Block::new("Inner settings.").attribute(Attribute::optional("b", Type::Bool).description("B.")),
                ),
        )
    }

    #[test]
    fn renders_tfplugindocs_layout() {
        let md = schema_markdown(&sample());
        let want = "## Schema

### Required

- `name` (String) The name.
- `inner` (Block List, Min: 1, Max: 1) Inner settings. (see [below for nested schema](#nestedblock--inner))

### Optional

- `secret` (String, Sensitive) A secret.
- `old` (Boolean, Deprecated) Deprecated: use `name`.

### Read-Only

- `rows` (List of Object) (see [below for nested schema](#nestedatt--rows))

<a id=\"nestedblock--inner\"></a>
### Nested Schema for `inner`

Optional:

- `b` (Boolean) B.

<a id=\"nestedatt--rows\"></a>
### Nested Schema for `rows`

Read-Only:

- `a` (Number)
";
        assert_eq!(md, want);
    }

    #[test]
    fn directives_and_notice() {
        let root = std::env::temp_dir().join(format!("hybridnet-docs-test-{}", std::process::id()));
        let _ = fs::create_dir_all(root.join("examples"));
        fs::write(root.join("examples/a.tf"), "data \"x\" \"y\" {}\n").unwrap();
        let src = "---\ntitle: t\n---\n\n# T\n\n{{ tffile \"examples/a.tf\" }}\n\n{{ .SchemaMarkdown }}\n";
        let out = render_template(src, Path::new("templates/t.md.tmpl"), &sample(), &root).unwrap();
        assert!(out.starts_with("---\ntitle: t\n---\n<!-- Generated from templates/t.md.tmpl"), "{out}");
        assert!(out.contains("```terraform\ndata \"x\" \"y\" {}\n```"), "{out}");
        assert!(out.contains("## Schema\n\n### Required"), "{out}");
        let bad = render_template("{{ nope }}", Path::new("t"), &sample(), &root);
        assert!(bad.is_err());
        let outside = render_template("{{ tffile \"/etc/passwd\" }}", Path::new("t"), &sample(), &root);
        assert!(outside.is_err());
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn function_directives() {
        use tfplugin5::FunctionParameter;
        let f = FunctionSignature::new("Adds.", Type::list(Type::object([("n", Type::Number)])))
            .description("Adds numbers.")
            .parameter(FunctionParameter::new("a", Type::Number).description("First."))
            .variadic(FunctionParameter::new("rest", Type::Number).allow_null());
        let src = "# f\n\n{{ .Summary }}\n\n{{ .FunctionSignatureMarkdown }}\n\n{{ .Description }}\n\n\
                   {{ .FunctionArgumentsMarkdown }}\n\n{{ .FunctionReturnMarkdown }}\n";
        let out = render_function_template(src, Path::new("t"), "add", &f, Path::new(".")).unwrap();
        let want = "# f\n\nAdds.\n\n## Signature\n\n```text\nprovider::hybridnet::add(a Number, rest... Number) \
                    List of Object\n```\n\nAdds numbers.\n\n## Arguments\n\n1. `a` (Number) First.\n2. `rest` \
                    (Number, Variadic, Nullable)\n\n## Return\n\nList of Object, each object with:\n\n- `n` (Number)\n";
        assert!(out.ends_with(want), "{out}");
        // A schema directive is unknown on a function page, and the reverse.
        assert!(render_function_template("{{ .SchemaMarkdown }}", Path::new("t"), "add", &f, Path::new(".")).is_err());
        assert!(render_template("{{ .Summary }}", Path::new("t"), &sample(), Path::new(".")).is_err());
    }
}
