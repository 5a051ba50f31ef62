//! AutoMTLS for the go-plugin transport.
//!
//! Terraform passes its client certificate in `PLUGIN_CLIENT_CERT` and always dials
//! TLS. We answer with a fresh self-signed server certificate (announced in the
//! handshake line) and accept exactly the client certificate Terraform announced:
//! the check is a byte-for-byte comparison of the DER, plus the usual proof that the
//! peer holds its private key (the TLS CertificateVerify signature).
//!
//! go-plugin's certificates are self-signed *and* CA:TRUE, which path-building
//! verifiers (webpki) reject as end-entity certificates, so both directions use the
//! pinned-certificate verifier below instead of a CA root store.
//!
//! Start-up cost: everything that draws random bytes (our key, its certificate's
//! signature, the TLS key exchange and CertificateVerify) goes through *ring*, which reads
//! the operating system's generator (one `getrandom` call). aws-lc-rs is used only to
//! verify signatures, for the ECDSA P-521 certificates Terraform makes (ring has no
//! P-521); verifying draws no random bytes. aws-lc's own generator is seeded from CPU
//! jitter entropy the first time it is used, about 30 ms of pure computation: when the
//! server key came from aws-lc, that was nine tenths of the time from spawn to the
//! handshake line.

use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// The crypto provider of every TLS config of ours: ring's (key exchange, ciphers, our
/// signatures, random numbers from the OS), with aws-lc-rs's signature verification
/// algorithms, which include the ECDSA P-521 that Terraform's client certificates use.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        signature_verification_algorithms: rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms,
        ..rustls::crypto::ring::default_provider()
    })
}

/// A freshly generated server identity.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    BadClientCert(String),
    #[error("could not generate the server certificate: {0}")]
    CertGen(String),
    #[error("could not build the TLS configuration: {0}")]
    Config(String),
}

/// An ECDSA P-256 key of ring's, as rcgen signs with it (whichever crypto backend rcgen
/// was built with elsewhere in the build).
struct RingEcdsaKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl rcgen::PublicKeyData for RingEcdsaKey {
    fn der_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for RingEcdsaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let sig = self.pair.sign(&self.rng, msg).map_err(|_| rcgen::Error::RingUnspecified)?;
        Ok(sig.as_ref().to_vec())
    }
}

/// Generates a self-signed ECDSA P-256 certificate for `localhost`, as go-plugin's
/// client expects (it trusts the announced certificate and checks the name `localhost`).
pub fn generate_identity() -> Result<Identity, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName as Dn, DnType, ExtendedKeyUsagePurpose, IsCa,
        KeyUsagePurpose,
    };
    let gen_err = |e: &dyn std::fmt::Display| TlsError::CertGen(e.to_string());
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).map_err(|e| gen_err(&e))?;
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).map_err(|e| gen_err(&e))?;
    let key = RingEcdsaKey { pair, rng };
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| gen_err(&e))?;
    let mut dn = Dn::new();
    dn.push(DnType::OrganizationName, "go-plugin");
    dn.push(DnType::CommonName, "localhost");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages =
        vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::KeyCertSign];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let now = std::time::SystemTime::now();
    params.not_before = (now - std::time::Duration::from_secs(30)).into();
    params.not_after = (now + std::time::Duration::from_secs(30 * 24 * 3600)).into();
    let cert = params.self_signed(&key).map_err(|e| gen_err(&e))?;
    let key_der = PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
    Ok(Identity { cert: cert.der().clone(), key: PrivateKeyDer::Pkcs8(key_der) })
}

/// Parses the first certificate of a PEM document (the value of `PLUGIN_CLIENT_CERT`).
pub fn parse_pem_certificate(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| TlsError::BadClientCert(e.to_string()))
}

/// A verifier that accepts exactly one certificate, for either side of a connection.
#[derive(Debug)]
pub struct PinnedCertVerifier {
    expected: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl PinnedCertVerifier {
    pub fn new(expected: CertificateDer<'static>) -> Self {
        Self { expected, provider: crypto_provider() }
    }

    fn check(&self, presented: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if presented.as_ref() == self.expected.as_ref() {
            Ok(())
        } else {
            Err(rustls::Error::General("peer certificate is not the one announced for this plugin session".into()))
        }
    }
}

impl ClientCertVerifier for PinnedCertVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity).map(|_| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity).map(|_| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The server side: our identity, HTTP/2 only, and only the pinned client certificate.
pub fn server_config(
    identity: &Identity,
    client_cert: CertificateDer<'static>,
) -> Result<rustls::ServerConfig, TlsError> {
    let verifier = Arc::new(PinnedCertVerifier::new(client_cert));
    let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![identity.cert.clone()], identity.key.clone_key())
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// The client side, as Terraform would set it up (used by the protocol tests and
/// usable by any tool that launches the plugin itself). All of aws-lc-rs here: the
/// client's key may be ECDSA P-521, as Terraform's is, which ring cannot sign with.
pub fn client_config(
    server_cert: CertificateDer<'static>,
    client: &Identity,
) -> Result<rustls::ClientConfig, TlsError> {
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCertVerifier::new(server_cert)))
            .with_client_auth_cert(vec![client.cert.clone()], client.key.clone_key())
            .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// PEM text of a certificate (to hand a client certificate to the plugin in tests).
pub fn certificate_pem(cert: &CertificateDer<'_>) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_round_trips_through_pem() {
        let id = generate_identity().expect("identity");
        let pem = certificate_pem(&id.cert);
        let parsed = parse_pem_certificate(&pem).expect("parse");
        assert_eq!(parsed.as_ref(), id.cert.as_ref());
    }

    #[test]
    fn garbage_client_cert_is_an_error() {
        let err = parse_pem_certificate("not a certificate").unwrap_err();
        assert!(err.to_string().contains("PLUGIN_CLIENT_CERT"), "{err}");
    }

    #[test]
    fn pinned_verifier_rejects_other_certificates() {
        let a = generate_identity().unwrap();
        let b = generate_identity().unwrap();
        let v = PinnedCertVerifier::new(a.cert.clone());
        assert!(v.check(&a.cert).is_ok());
        let err = v.check(&b.cert).unwrap_err();
        assert!(err.to_string().contains("not the one announced"), "{err}");
    }

    /// A self-signed ECDSA P-521 identity shaped like Terraform's client certificate.
    fn terraform_like_client() -> Identity {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, PKCS_ECDSA_P521_SHA512};
        let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params.distinguished_name.push(DnType::OrganizationName, "HashiCorp");
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("self-signed");
        Identity { cert: cert.der().clone(), key: PrivateKeyDer::Pkcs8(key.serialize_der().into()) }
    }

    /// Runs a TLS handshake in memory; the server's error, if any.
    fn handshake(server: rustls::ServerConfig, client: rustls::ClientConfig) -> Result<(), String> {
        let name = ServerName::try_from("localhost").expect("name");
        let mut c = rustls::ClientConnection::new(Arc::new(client), name).map_err(|e| e.to_string())?;
        let mut s = rustls::ServerConnection::new(Arc::new(server)).map_err(|e| e.to_string())?;
        for _ in 0..20 {
            let mut buf = Vec::new();
            while c.wants_write() {
                c.write_tls(&mut buf).map_err(|e| e.to_string())?;
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                s.read_tls(&mut rd).map_err(|e| e.to_string())?;
            }
            s.process_new_packets().map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            while s.wants_write() {
                s.write_tls(&mut buf).map_err(|e| e.to_string())?;
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                c.read_tls(&mut rd).map_err(|e| e.to_string())?;
            }
            c.process_new_packets().map_err(|e| format!("client: {e}"))?;
            if !s.is_handshaking() && !c.is_handshaking() {
                assert_eq!(s.alpn_protocol(), Some(&b"h2"[..]));
                let peer = s.peer_certificates().and_then(|p| p.first()).map(|c| c.as_ref().to_vec());
                assert!(peer.is_some(), "the server saw no client certificate");
                return Ok(());
            }
        }
        Err("handshake did not finish".into())
    }

    #[test]
    fn accepts_exactly_the_announced_p521_client() {
        let server_id = generate_identity().expect("identity");
        let client = terraform_like_client();
        let server = server_config(&server_id, client.cert.clone()).expect("server config");
        let cfg = client_config(server_id.cert.clone(), &client).expect("client config");
        handshake(server, cfg).expect("the announced client is accepted");

        let stranger = terraform_like_client();
        let server = server_config(&server_id, client.cert.clone()).expect("server config");
        let cfg = client_config(server_id.cert.clone(), &stranger).expect("client config");
        let err = handshake(server, cfg).expect_err("another client is refused");
        assert!(err.contains("not the one announced"), "{err}");
    }

    #[test]
    fn server_certificate_is_for_localhost_and_self_signed() {
        let id = generate_identity().expect("identity");
        let der = id.cert.as_ref();
        // SAN DNS:localhost (tag 0x82, length 9), what go-plugin checks.
        assert!(der.windows(11).any(|w| w == b"\x82\x09localhost"), "no SAN DNS:localhost");
        // Its signature verifies with its own key: go-plugin's client makes the announced
        // certificate its root and verifies the chain.
        fn tlv(d: &[u8]) -> (&[u8], &[u8], &[u8]) {
            // (whole element, contents, rest) of one DER element
            let (len, hdr) = match d[1] {
                n if n < 0x80 => (n as usize, 2),
                0x81 => (d[2] as usize, 3),
                0x82 => (((d[2] as usize) << 8) | d[3] as usize, 4),
                n => panic!("length form {n:#x}"),
            };
            (&d[..hdr + len], &d[hdr..hdr + len], &d[hdr + len..])
        }
        let (_, cert, _) = tlv(der);
        let (tbs, _, rest) = tlv(cert);
        let (_, _, rest) = tlv(rest); // signature algorithm
        let (_, bits, _) = tlv(rest);
        let PrivateKeyDer::Pkcs8(pkcs8) = &id.key else { panic!("not PKCS#8") };
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.secret_pkcs8_der(), &SystemRandom::new())
                .expect("key");
        let public =
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, pair.public_key());
        public.verify(tbs, &bits[1..]).expect("the certificate's signature verifies with its own key");
    }
}
