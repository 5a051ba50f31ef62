//! The go-plugin handshake and the serving loop.
//!
//! Terraform launches the binary with a magic cookie and its client certificate in
//! the environment and reads one line from stdout:
//! `1|5|tcp|127.0.0.1:PORT|grpc|CERT` (core protocol 1, app protocol 5, the address,
//! the wire protocol, the server certificate as unpadded standard base64 DER).
//! It then dials TLS and speaks gRPC over HTTP/2.

use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tonic::transport::server::Connected;

use super::pb;
use super::provider::ProviderLogic;
use super::server::ProviderServer;
use super::tls;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const CORE_PROTOCOL_VERSION: u32 = 1;
pub const APP_PROTOCOL_VERSION: u32 = 5;
/// HashiCorp's servers accept messages up to 256 MiB; so do we (large plans and states).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error(
        "This binary is a plugin for Terraform and OpenTofu. It is not meant to be run directly.\n\
         Install it as a provider (see its documentation) and run `terraform init`, `terraform plan`\n\
         or `terraform apply` in a configuration that uses it; Terraform will start it as needed."
    )]
    NotLaunchedByTerraform,
    #[error("Terraform asked for plugin protocol versions {0:?}, but this provider speaks only protocol 5. Use Terraform 0.12 or newer, or OpenTofu.")]
    UnsupportedProtocol(String),
    #[error("Terraform did not pass a client certificate (PLUGIN_CLIENT_CERT); refusing to serve without mutual TLS.")]
    NoClientCertificate,
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("could not listen on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Serve(String),
}

/// The settings go-plugin passes through the environment.
#[derive(Clone, Debug)]
pub struct LaunchEnv {
    pub client_cert_pem: String,
    pub min_port: u16,
    pub max_port: u16,
}

impl LaunchEnv {
    /// Reads and checks the environment Terraform launched us with.
    pub fn from_env() -> Result<Self, HandshakeError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, HandshakeError> {
        if get(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(HandshakeError::NotLaunchedByTerraform);
        }
        if let Some(versions) = get("PLUGIN_PROTOCOL_VERSIONS") {
            let speaks_5 = versions.split(',').any(|v| v.trim() == "5");
            if !versions.trim().is_empty() && !speaks_5 {
                return Err(HandshakeError::UnsupportedProtocol(versions));
            }
        }
        let client_cert_pem = get("PLUGIN_CLIENT_CERT").filter(|s| !s.trim().is_empty());
        let client_cert_pem = client_cert_pem.ok_or(HandshakeError::NoClientCertificate)?;
        let port = |k: &str, d: u16| get(k).and_then(|v| v.trim().parse::<u16>().ok()).unwrap_or(d);
        let min_port = port("PLUGIN_MIN_PORT", 0);
        let max_port = port("PLUGIN_MAX_PORT", 0);
        Ok(LaunchEnv { client_cert_pem, min_port, max_port })
    }
}

/// Binds 127.0.0.1 on a port within [min, max] when a range is given, else any port.
async fn bind_loopback(min: u16, max: u16) -> Result<TcpListener, HandshakeError> {
    if min > 0 && max >= min {
        let span = u32::from(max - min) + 1;
        // Start at a pseudo-random offset so concurrent plugins don't race for one port.
        let seed = std::process::id().wrapping_mul(2_654_435_761) ^ (chrono::Utc::now().timestamp_subsec_nanos());
        for i in 0..span {
            let port = min as u32 + (seed.wrapping_add(i) % span);
            if let Ok(l) = TcpListener::bind(("127.0.0.1", port as u16)).await {
                return Ok(l);
            }
        }
    }
    TcpListener::bind(("127.0.0.1", 0)).await.map_err(HandshakeError::Listen)
}

/// The handshake line Terraform reads.
pub fn handshake_line(addr: SocketAddr, server_cert_der: &[u8]) -> String {
    let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode(server_cert_der);
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
}

/// A TLS connection accepted from Terraform.
pub struct TlsConn {
    inner: tokio_rustls::server::TlsStream<TcpStream>,
    peer: Option<SocketAddr>,
}

impl Connected for TlsConn {
    type ConnectInfo = Option<SocketAddr>;
    fn connect_info(&self) -> Self::ConnectInfo {
        self.peer
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// go-plugin's controller: Shutdown asks the plugin to exit.
struct Controller {
    shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl pb::plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: tonic::Request<pb::plugin::Empty>,
    ) -> Result<tonic::Response<pb::plugin::Empty>, tonic::Status> {
        tracing::debug!(target: "tfplugin5::handshake", "controller shutdown requested");
        let _ = self.shutdown.send(true);
        Ok(tonic::Response::new(pb::plugin::Empty {}))
    }
}

/// go-plugin's stdio forwarding: we never write to stdout/stderr through it (logs go
/// to stderr directly), so the stream stays open and silent until shutdown.
struct Stdio {
    shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl pb::plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream =
        Pin<Box<dyn futures::Stream<Item = Result<pb::plugin::StdioData, tonic::Status>> + Send + 'static>>;

    async fn stream_stdio(
        &self,
        _request: tonic::Request<()>,
    ) -> Result<tonic::Response<Self::StreamStdioStream>, tonic::Status> {
        let mut rx = self.shutdown.clone();
        let stream = futures::stream::once(async move {
            let _ = rx.wait_for(|v| *v).await;
            None
        })
        .filter_map(|x: Option<Result<pb::plugin::StdioData, tonic::Status>>| async move { x });
        Ok(tonic::Response::new(Box::pin(stream)))
    }
}

use futures::StreamExt as _;

/// Performs the handshake and serves until Terraform shuts us down.
pub async fn serve<P: ProviderLogic>(logic: Arc<P>, env: LaunchEnv) -> Result<(), HandshakeError> {
    let client_cert = tls::parse_pem_certificate(&env.client_cert_pem)?;
    let identity = tls::generate_identity()?;
    let tls_config = Arc::new(tls::server_config(&identity, client_cert)?);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);

    let listener = bind_loopback(env.min_port, env.max_port).await?;
    let addr = listener.local_addr().map_err(HandshakeError::Listen)?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (conn_tx, conn_rx) = mpsc::channel::<Result<TlsConn, std::io::Error>>(16);

    // Accept loop: each TLS handshake runs in its own task with a deadline, so a
    // client that connects and stalls (or presents the wrong certificate) cannot
    // block others.
    let accept_shutdown = shutdown_rx.clone();
    tokio::spawn(async move {
        let mut shutdown = accept_shutdown;
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = shutdown.wait_for(|v| *v) => break,
            };
            let (tcp, peer) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(target: "tfplugin5::handshake", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = conn_tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send(Ok(TlsConn { inner: stream, peer: Some(peer) })).await;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(target: "tfplugin5::handshake", peer = %peer, error = %e, "TLS handshake refused");
                    }
                    Err(_) => {
                        tracing::warn!(target: "tfplugin5::handshake", peer = %peer, "TLS handshake timed out");
                    }
                }
            });
        }
    });

    let provider = pb::provider_server::ProviderServer::new(ProviderServer::new(logic))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let controller =
        pb::plugin::grpc_controller_server::GrpcControllerServer::new(Controller { shutdown: shutdown_tx.clone() });
    let stdio = pb::plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio { shutdown: shutdown_rx.clone() });
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;

    // The handshake line: the only thing we ever print on stdout.
    {
        let line = handshake_line(addr, identity.cert.as_ref());
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    tracing::info!(target: "tfplugin5::handshake", address = %addr, "plugin serving");

    let mut shutdown_wait = shutdown_rx.clone();
    let incoming = tokio_stream::wrappers::ReceiverStream::new(conn_rx);
    let result = tonic::transport::Server::builder()
        .add_service(provider)
        .add_service(controller)
        .add_service(stdio)
        .add_service(health_service)
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = shutdown_wait.wait_for(|v| *v).await;
            // go-plugin kills us 2 s after Shutdown; finish promptly.
        })
        .await;
    result.map_err(|e| HandshakeError::Serve(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| owned.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn refuses_without_cookie() {
        let err = LaunchEnv::from_lookup(env(&[])).unwrap_err();
        assert!(matches!(err, HandshakeError::NotLaunchedByTerraform));
        assert!(err.to_string().contains("plugin for Terraform"));
    }

    #[test]
    fn refuses_protocol_6_only() {
        let err = LaunchEnv::from_lookup(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "6"),
            ("PLUGIN_CLIENT_CERT", "x"),
        ]))
        .unwrap_err();
        assert!(matches!(err, HandshakeError::UnsupportedProtocol(_)));
    }

    #[test]
    fn requires_client_certificate() {
        let err =
            LaunchEnv::from_lookup(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE), ("PLUGIN_PROTOCOL_VERSIONS", "5,6")]))
                .unwrap_err();
        assert!(matches!(err, HandshakeError::NoClientCertificate));
    }

    #[test]
    fn reads_port_range() {
        let e = LaunchEnv::from_lookup(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_CLIENT_CERT", "pem"),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
        ]))
        .unwrap();
        assert_eq!((e.min_port, e.max_port), (10000, 25000));
    }

    #[test]
    fn handshake_line_uses_unpadded_base64() {
        let addr: SocketAddr = "127.0.0.1:12345".parse().unwrap();
        let line = handshake_line(addr, &[1, 2, 3, 4]);
        assert_eq!(line, "1|5|tcp|127.0.0.1:12345|grpc|AQIDBA");
        assert!(!line.ends_with('='));
    }
}
