//! `docs/` is what the templates and the provider's schema render: a changed
//! description, default, attribute or template without regenerating fails here.

use std::path::PathBuf;

use hybridnet_schema::docs;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn docs_match_the_schema_and_templates() {
    let stale = docs::stale(&root()).unwrap_or_else(|e| panic!("cannot render the docs: {e}"));
    assert!(
        stale.is_empty(),
        "docs/ differs from what templates/ and the schema render: {:?}; run `{}`",
        stale,
        docs::REGENERATE
    );
}

#[test]
fn every_terraform_block_in_the_docs_is_an_example_file() {
    // The templates may only show HCL through {{ tffile }}: a hand-written block would
    // escape `terraform validate` in acceptance-tests/test_examples.py.
    for page in docs::render_all(&root()).unwrap_or_else(|e| panic!("{e}")) {
        let source = std::fs::read_to_string(root().join(&page.template)).unwrap_or_default();
        for fence in ["```terraform", "```hcl", "```tf"] {
            assert!(
                !source.contains(fence),
                "{} writes HCL inline; use {{{{ tffile \"examples/…\" }}}}",
                page.template.display()
            );
        }
    }
}

#[test]
fn defaults_are_rendered_from_the_values_the_provider_applies() {
    let md = docs::render_all(&root()).unwrap_or_default();
    let text: String = md.iter().map(|p| p.text.as_str()).collect();
    let d = hybridnet_schema::cluster_network::defaults::TIMEOUT_MINUTES;
    assert!(text.contains(&format!("Defaults to `{d}m`.")), "timeouts default missing");
    assert!(text.contains(&format!("Defaults to `{}`.", hybridnet_schema::defaults::MAX_RETRIES)));
    assert!(text.contains("`172.20.0.0/16` if any VPC CIDR lies in 10.0.0.0/8, otherwise `10.100.0.0/16`"));
    assert!(text.contains("10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16"));
}
