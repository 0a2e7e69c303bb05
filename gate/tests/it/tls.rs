//! TLS for the mock: a test CA, a server leaf for 127.0.0.1, a client leaf, and an axum
//! listener that terminates TLS and records presented client certificates.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

use crate::mock::{Shared, lock};

/// A certificate with its key, in DER and PEM.
pub struct Leaf {
    pub cert_der: CertificateDer<'static>,
    pub cert_pem: String,
    pub key_der: Vec<u8>,
    pub key_pem: String,
}

/// A CA and the leaves it signed (rustls rejects a CA certificate used as a leaf).
pub struct TestPki {
    pub ca_der: CertificateDer<'static>,
    pub ca_pem: String,
    pub server: Leaf,
    pub client: Leaf,
}

fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    name: &str,
    sans: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
) -> Leaf {
    let mut params = CertificateParams::new(sans).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages.push(KeyUsagePurpose::DigitalSignature);
    params.extended_key_usages.push(usage);
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, issuer).expect("sign leaf");
    Leaf {
        cert_der: cert.der().clone(),
        cert_pem: cert.pem(),
        key_der: key.serialize_der(),
        key_pem: key.serialize_pem(),
    }
}

impl TestPki {
    pub fn generate() -> TestPki {
        let mut params = CertificateParams::new(Vec::new()).expect("ca params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "spinhcl test CA");
        params.key_usages.push(KeyUsagePurpose::KeyCertSign);
        params.key_usages.push(KeyUsagePurpose::DigitalSignature);
        params.key_usages.push(KeyUsagePurpose::CrlSign);
        let ca_key = KeyPair::generate().expect("ca key");
        let ca = params.self_signed(&ca_key).expect("self-sign ca");
        let issuer = Issuer::new(params, ca_key);
        let server = leaf(
            &issuer,
            "gate.test",
            vec!["127.0.0.1".into(), "localhost".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client = leaf(
            &issuer,
            "terraform",
            Vec::new(),
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        TestPki {
            ca_der: ca.der().clone(),
            ca_pem: ca.pem(),
            server,
            client,
        }
    }

    /// A server config; with `require_client_cert`, only clients with a cert from the CA connect.
    pub fn server_config(&self, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("tls versions");
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_der.clone()).expect("add ca");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server.key_der.clone()));
        let config = builder
            .with_single_cert(vec![self.server.cert_der.clone()], key)
            .expect("server cert");
        Arc::new(config)
    }
}

/// Accepts TCP connections and completes the TLS handshake before handing them to axum.
pub struct TlsListener {
    pub tcp: TcpListener,
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub state: Shared,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            let handshake =
                tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(stream)).await;
            if let Ok(Ok(tls)) = handshake {
                if let Some(first) = tls.get_ref().1.peer_certificates().and_then(<[_]>::first) {
                    lock(&self.state).client_certs.push(first.len());
                }
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
