//! The docs are rendered from `hybridnet_schema::provider_schemas()` (no AWS SDK), the one
//! list of types the registry is built from: this checks that each has an
//! implementation, and that the defaults the provider applies are the ones the
//! descriptions (and so the docs) state.

use std::time::Duration;

use hybridnet::resources::cluster_network::model::{ClusterNetworkModel, Desired};
use hybridnet::resources::cluster_network::plan::fill_defaults;
use hybridnet_schema::cluster_network::defaults;
use tfplugin5::provider::ProviderLogic;
use tfplugin5::typed::Tf;
use tfplugin5::Diagnostics;

#[test]
fn every_declared_type_is_implemented_once() {
    // The registry serves the declared schemas (`Registry::declared`); what can
    // diverge is the list of implementations: a type declared (and documented) but
    // not registered, or registered without a declared schema.
    let registry = hybridnet::provider::registry();
    assert_eq!(registry.check_registrations(), Ok(()));
    let served = registry.schemas();
    let documented = hybridnet_schema::provider_schemas();
    assert_eq!(served.provider, documented.provider);
    assert_eq!(served.resources, documented.resources);
    assert_eq!(served.data_sources, documented.data_sources);
    assert_eq!(served.functions, documented.functions);
}

#[test]
fn resource_defaults_are_the_documented_ones() {
    let mut m = ClusterNetworkModel::default();
    fill_defaults(&mut m);
    // The documented default of pod_network_mode is PodNetworkMode::default(), and the
    // deprecated boolean follows it.
    let mode = hybridnet_rules::PodNetworkMode::default();
    assert_eq!(m.pod_network_mode, Tf::Known(mode.as_str().to_string()));
    assert_eq!(m.pod_network_routable, Tf::Known(mode.routable()));
    assert_eq!(m.manage_attachment, Tf::Known(defaults::MANAGE_ATTACHMENT));
    assert_eq!(m.create_route_table, Tf::Known(defaults::CREATE_ROUTE_TABLE));
    assert_eq!(m.manage_security_group_rules, Tf::Known(defaults::MANAGE_SECURITY_GROUP_RULES));

    // Timeouts are applied where the arguments are read (model.rs), not in fill_defaults.
    let mut diags = Diagnostics::new();
    let d = Desired::from_model(&m, &mut diags);
    let want = Duration::from_secs(defaults::TIMEOUT_MINUTES * 60);
    assert_eq!((d.timeouts.create, d.timeouts.update, d.timeouts.delete), (want, want, want));
}

#[tokio::test]
async fn max_retries_default_is_the_documented_one() {
    // Building the clients needs a region but no network and no credentials.
    let settings = hybridnet::aws::AwsSettings { region: Some("us-east-1".into()), ..Default::default() };
    let aws = hybridnet::aws::Aws::new(settings);
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => panic!("clients: {e}"),
    };
    assert_eq!(clients.max_attempts, hybridnet_schema::defaults::MAX_RETRIES + 1);
}

#[tokio::test]
async fn the_largest_max_retries_gets_every_retry() {
    let settings =
        hybridnet::aws::AwsSettings { region: Some("us-east-1".into()), max_retries: Some(25), ..Default::default() };
    let aws = hybridnet::aws::Aws::new(settings);
    let clients = match aws.clients().await {
        Ok(c) => c,
        Err(e) => panic!("clients: {e}"),
    };
    assert_eq!(clients.max_attempts, 26, "max_retries = 25 means 25 retries after the first attempt");
}
