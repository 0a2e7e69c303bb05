//! AutoMTLS: the self-signed P-256 server certificate go-plugin expects
//! when Terraform passes its own client certificate in `PLUGIN_CLIENT_CERT`.

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};

/// A generated server identity.
pub(crate) struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
    /// Unpadded standard base64 of the DER certificate, the handshake's last field.
    pub handshake_b64: String,
}

/// Generates the certificate: CN/O localhost/HashiCorp, a CA (go-plugin adds
/// it to its root pool), server and client auth usages, SAN `localhost`.
pub(crate) fn server_cert() -> Result<ServerCert, rcgen::Error> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "HashiCorp");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.self_signed(&key)?;
    Ok(ServerCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        handshake_b64: base64::engine::general_purpose::STANDARD_NO_PAD.encode(cert.der()),
    })
}
