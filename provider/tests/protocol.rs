//! Protocol tests: start the real binary as Terraform does (environment, handshake
//! line, mutual TLS) and speak tfplugin5 to it over gRPC.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tfplugin5::pb;
use tfplugin5::tls::{self, Identity};
use tfplugin5::value::{decode_msgpack, encode_msgpack};
use tfplugin5::{Type, Value};
use tonic::transport::{Channel, Endpoint, Uri};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-hybridnet");
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client identity like Terraform's: ECDSA P-521, self-signed, CA:TRUE.
fn terraform_like_identity() -> Identity {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, PKCS_ECDSA_P521_SHA512};
    let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("P-521 key");
    let mut params = CertificateParams::new(vec!["localhost".into()]).expect("params");
    params.distinguished_name.push(DnType::OrganizationName, "HashiCorp");
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("self-signed");
    Identity { cert: cert.der().clone(), key: PrivateKeyDer::Pkcs8(key.serialize_der().into()) }
}

struct Plugin {
    child: Child,
    addr: SocketAddr,
    server_cert: CertificateDer<'static>,
    line: String,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(client: &Identity) -> Plugin {
    let mut child = Command::new(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", tls::certificate_pem(&client.cert))
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn provider");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("handshake line");
    let line = line.trim_end().to_string();
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    let addr: SocketAddr = parts[3].parse().expect("address");
    let der = base64::engine::general_purpose::STANDARD_NO_PAD.decode(parts[5]).expect("unpadded base64 certificate");
    Plugin { child, addr, server_cert: CertificateDer::from(der), line }
}

async fn connect(plugin: &Plugin, client: &Identity) -> Result<Channel, tonic::transport::Error> {
    let config = Arc::new(tls::client_config(plugin.server_cert.clone(), client).expect("client tls config"));
    let addr = plugin.addr;
    let connector = tower::service_fn(move |_: Uri| {
        let config = config.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
            let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
        }
    });
    Endpoint::from_static("http://localhost").connect_with_connector(connector).await
}

/// The value type of a schema block, as Terraform derives it.
fn block_type(block: &pb::schema::Block) -> Type {
    let mut attrs: std::collections::BTreeMap<String, Type> = block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), Type::from_json_bytes(&a.r#type).expect("attribute type")))
        .collect();
    for nb in &block.block_types {
        let inner = block_type(nb.block.as_ref().expect("nested block"));
        let ty = match pb::schema::nested_block::NestingMode::try_from(nb.nesting).expect("nesting") {
            pb::schema::nested_block::NestingMode::List => Type::List(Box::new(inner)),
            pb::schema::nested_block::NestingMode::Set => Type::Set(Box::new(inner)),
            pb::schema::nested_block::NestingMode::Map => Type::Map(Box::new(inner)),
            _ => inner,
        };
        attrs.insert(nb.type_name.clone(), ty);
    }
    Type::Object(attrs)
}

fn cidr_plan_type(schema: &pb::Schema) -> Type {
    block_type(schema.block.as_ref().expect("block"))
}

fn null_object(ty: &Type) -> Value {
    let Type::Object(attrs) = ty else { panic!("object type") };
    Value::Map(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
}

fn config(ty: &Type, pods: Vec<Value>) -> pb::DynamicValue {
    let Type::Object(attrs) = ty else { panic!("object type") };
    let mut obj = std::collections::BTreeMap::new();
    for name in attrs.keys() {
        obj.insert(name.clone(), Value::Null);
    }
    obj.insert("vpc_cidrs".into(), Value::List(vec![Value::String("10.0.0.0/16".into())]));
    obj.insert("remote_node_cidrs".into(), Value::List(vec![Value::String("192.168.0.0/24".into())]));
    obj.insert("remote_pod_cidrs".into(), Value::List(pods));
    pb::DynamicValue { msgpack: encode_msgpack(&Value::Map(obj), ty).expect("encode"), json: vec![] }
}

async fn schema(client: &mut pb::provider_client::ProviderClient<Channel>) -> pb::get_provider_schema::Response {
    client.get_schema(pb::get_provider_schema::Request::default()).await.expect("GetSchema").into_inner()
}

#[tokio::test]
async fn handshake_schema_validate_and_read() {
    let id = terraform_like_identity();
    let plugin = launch(&id);
    assert!(plugin.line.starts_with("1|5|tcp|127.0.0.1:"), "{}", plugin.line);
    assert!(!plugin.line.ends_with('='), "certificate must be unpadded base64");
    assert!((10000..=25000).contains(&plugin.addr.port()));

    let channel = connect(&plugin, &id).await.expect("mTLS connection with the announced certificate");
    let mut client = pb::provider_client::ProviderClient::new(channel.clone());

    let s = schema(&mut client).await;
    assert!(s.diagnostics.is_empty());
    assert!(s.provider.is_some(), "Terraform 1.0 requires a provider schema");
    let ds = s.data_source_schemas.get("hybridnet_cidr_plan").expect("cidr plan schema");
    let names: Vec<&str> = ds.block.as_ref().unwrap().attributes.iter().map(|a| a.name.as_str()).collect();
    for expected in ["vpc_cidrs", "remote_node_cidrs", "remote_pod_cidrs", "vpc_routes", "onprem_firewall_rules"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let ty = cidr_plan_type(ds);

    // Configure needs no credentials.
    let provider_ty = block_type(s.provider.as_ref().unwrap().block.as_ref().unwrap());
    let cfg =
        pb::DynamicValue { msgpack: encode_msgpack(&null_object(&provider_ty), &provider_ty).unwrap(), json: vec![] };
    let r = client
        .configure(pb::configure::Request {
            terraform_version: "1.0.3".into(),
            config: Some(cfg),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);

    // An invalid element: the diagnostic points at remote_pod_cidrs[1].
    let bad = config(&ty, vec![Value::String("172.16.0.0/16".into()), Value::String("10.0.4.0/24".into())]);
    let r = client
        .validate_data_source_config(pb::validate_data_source_config::Request {
            type_name: "hybridnet_cidr_plan".into(),
            config: Some(bad),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    let d = &r.diagnostics[0];
    assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
    assert!(d.summary.contains("10.0.4.0/24") || d.detail.contains("10.0.0.0/16"), "{d:?}");
    assert!(!d.detail.is_empty());
    use pb::attribute_path::step::Selector;
    let steps: Vec<Selector> =
        d.attribute.as_ref().unwrap().steps.iter().map(|s| s.selector.clone().unwrap()).collect();
    assert_eq!(steps, vec![Selector::AttributeName("remote_pod_cidrs".into()), Selector::ElementKeyInt(1)]);

    // Unknown elements defer: no diagnostics.
    let unknown = config(&ty, vec![Value::Unknown]);
    let r = client
        .validate_data_source_config(pb::validate_data_source_config::Request {
            type_name: "hybridnet_cidr_plan".into(),
            config: Some(unknown),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);

    // A valid read returns the derived tables.
    let good = config(&ty, vec![Value::String("172.16.0.0/16".into())]);
    let r = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "hybridnet_cidr_plan".into(),
            config: Some(good),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let state = decode_msgpack(&r.state.unwrap().msgpack, &ty).expect("state decodes");
    assert_eq!(state.get_attr("effective_service_cidr"), Some(&Value::String("172.20.0.0/16".into())));
    let routes = state.get_attr("vpc_routes").and_then(|v| v.as_list()).expect("routes");
    assert_eq!(routes.len(), 2);

    // Health service reports the plugin as serving.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let h = health
        .check(tonic_health::pb::HealthCheckRequest { service: "plugin".into() })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(h.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
}

#[tokio::test]
async fn wrong_client_certificate_is_refused() {
    let id = terraform_like_identity();
    let plugin = launch(&id);
    let intruder = terraform_like_identity();
    let result = async {
        let channel = connect(&plugin, &intruder).await?;
        let mut client = pb::provider_client::ProviderClient::new(channel);
        client
            .get_schema(pb::get_provider_schema::Request::default())
            .await
            .map(|_| ())
            .map_err(|s| Box::new(s) as Box<dyn std::error::Error>)?;
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    assert!(result.is_err(), "a client without the announced certificate must be refused");

    // The rightful client still gets through afterwards.
    let channel = connect(&plugin, &id).await.expect("announced client connects");
    let mut client = pb::provider_client::ProviderClient::new(channel);
    assert!(schema(&mut client).await.provider.is_some());
}

#[tokio::test]
async fn malformed_input_and_unsupported_rpcs_give_diagnostics() {
    let id = terraform_like_identity();
    let plugin = launch(&id);
    let channel = connect(&plugin, &id).await.unwrap();
    let mut client = pb::provider_client::ProviderClient::new(channel);

    let r = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "hybridnet_cidr_plan".into(),
            config: Some(pb::DynamicValue { msgpack: vec![0x93, 0xc1, 0xff, 0x00], json: vec![] }),
            ..Default::default()
        })
        .await
        .expect("answered, not crashed")
        .into_inner();
    assert_eq!(r.diagnostics.len(), 1);
    assert!(r.diagnostics[0].summary.contains("Malformed"), "{:?}", r.diagnostics);

    let r = client
        .read_data_source(pb::read_data_source::Request { type_name: "hybridnet_nope".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics[0].detail.contains("hybridnet_nope"), "{:?}", r.diagnostics);

    let r = client.move_resource_state(pb::move_resource_state::Request::default()).await.unwrap().into_inner();
    assert!(r.diagnostics[0].summary.contains("not supported"), "{:?}", r.diagnostics);

    let r = client.get_functions(pb::get_functions::Request::default()).await.unwrap().into_inner();
    let mut names: Vec<&str> = r.functions.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, vec!["cidr_problems", "onprem_firewall_rules"]);
    assert!(r.diagnostics.is_empty());

    // A garbage argument to a function: a function error on that argument, not a crash.
    let r = client
        .call_function(pb::call_function::Request {
            name: "cidr_problems".into(),
            arguments: vec![pb::DynamicValue { msgpack: vec![0x92, 0xc1], json: vec![] }],
        })
        .await
        .expect("answered, not crashed")
        .into_inner();
    let e = r.error.expect("a function error");
    assert_eq!(e.function_argument, Some(0));
    assert!(r.result.is_none());

    let r = client.get_metadata(pb::get_metadata::Request::default()).await.unwrap().into_inner();
    let names: Vec<&str> = r.data_sources.iter().map(|d| d.type_name.as_str()).collect();
    assert_eq!(names, vec!["hybridnet_cidr_plan", "hybridnet_cluster_network"]);
    let names: Vec<&str> = r.resources.iter().map(|d| d.type_name.as_str()).collect();
    assert_eq!(names, vec!["hybridnet_cluster_network"]);
    let names: Vec<&str> = r.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["cidr_problems", "onprem_firewall_rules"]);

    // Garbage state for a resource type that doesn't exist: an error, not a crash.
    let r = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "hybridnet_nope".into(),
            version: 0,
            raw_state: Some(pb::RawState { json: b"{not json".to_vec(), ..Default::default() }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!r.diagnostics.is_empty());

    // Still alive.
    assert!(schema(&mut client).await.provider.is_some());
}

#[tokio::test]
async fn controller_shutdown_stops_the_process() {
    let id = terraform_like_identity();
    let mut plugin = launch(&id);
    let channel = connect(&plugin, &id).await.unwrap();
    let mut controller = pb::plugin::grpc_controller_client::GrpcControllerClient::new(channel);
    controller.shutdown(pb::plugin::Empty {}).await.expect("shutdown");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = plugin.child.try_wait().unwrap() {
            assert!(status.success(), "clean exit after Shutdown, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "plugin still running 5 s after Shutdown");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn run_by_hand_prints_help_and_fails() {
    let out = Command::new(BIN).env_remove("TF_PLUGIN_MAGIC_COOKIE").output().expect("run");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing on stdout without a handshake");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin for Terraform"), "{err}");
    assert!(err.contains("terraform init"), "{err}");
}

#[tokio::test]
async fn older_state_upgrades_and_garbage_state_is_a_clear_error() {
    let id = terraform_like_identity();
    let plugin = launch(&id);
    let channel = connect(&plugin, &id).await.unwrap();
    let mut client = pb::provider_client::ProviderClient::new(channel);
    let s = schema(&mut client).await;
    let ty = cidr_plan_type(s.resource_schemas.get("hybridnet_cluster_network").expect("resource schema"));

    // State as an earlier release wrote it: some of today's attributes absent, one
    // attribute since removed, numbers as strings.
    let old = serde_json::json!({
        "id": "edge",
        "cluster_name": "edge",
        "remote_node_cidrs": ["192.168.0.0/22"],
        "transit_gateway_id": "tgw-1",
        "route_table_ids": ["rtb-1"],
        "webhook_ports": ["9443"],
        "vpc_id": "vpc-1",
        "routes": [{"route_table_id": "rtb-1", "destination_cidr": "192.168.0.0/22", "target_id": "tgw-1", "network": "node"}],
        "legacy_attribute_since_removed": true
    });
    let r = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "hybridnet_cluster_network".into(),
            version: 0,
            raw_state: Some(pb::RawState { json: old.to_string().into_bytes(), ..Default::default() }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let v = decode_msgpack(&r.upgraded_state.expect("upgraded").msgpack, &ty).expect("conforms to today's schema");
    assert_eq!(v.get_attr("cluster_name"), Some(&Value::String("edge".into())));
    assert_eq!(v.get_attr("webhook_ports").and_then(|p| p.as_list()).and_then(|l| l[0].as_i64()), Some(9443));
    assert_eq!(v.get_attr("eks_network_interface_ips"), Some(&Value::Null));
    // Arguments added with a default get it, as a plan would: the upgraded state plans empty.
    assert_eq!(v.get_attr("manage_attachment"), Some(&Value::Bool(true)));
    assert_eq!(v.get_attr("create_route_table"), Some(&Value::Bool(false)));
    assert_eq!(v.get_attr("legacy_attribute_since_removed"), None);
    assert_eq!(v.get_attr("routes").and_then(|r| r.as_list()).map(<[Value]>::len), Some(1));

    for garbage in [&b"{not json"[..], b"[1,2,3]", b"{\"remote_node_cidrs\": {\"a\": 1}}"] {
        let r = client
            .upgrade_resource_state(pb::upgrade_resource_state::Request {
                type_name: "hybridnet_cluster_network".into(),
                version: 0,
                raw_state: Some(pb::RawState { json: garbage.to_vec(), ..Default::default() }),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
        assert_eq!(r.diagnostics[0].summary, "Invalid resource state");
        assert!(r.diagnostics[0].detail.contains("restore it from a backup"), "{:?}", r.diagnostics);
        assert!(r.upgraded_state.is_none());
    }
    assert!(schema(&mut client).await.provider.is_some(), "still serving");
}
