//! rustls configurations, server and client: the `ring` provider only, TLS 1.2 and 1.3.

use std::sync::Arc;

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsSettings;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate file {path}: {reason}")]
    Cert { path: String, reason: String },
    #[error("TLS key file {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that trusts the CA certificate(s) of `ca_file` (PEM) only, or,
/// without one, the system's trust store. The error says what is wrong with the file.
pub fn client_config(ca_file: Option<&std::path::Path>) -> Result<ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| e.to_string())?;
            if certs.is_empty() {
                return Err("no certificate found".into());
            }
            for cert in certs {
                roots.add(cert).map_err(|e| e.to_string())?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err("no certificate in the system's trust store".into());
            }
        }
    }
    Ok(ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

pub fn server_config(settings: &TlsSettings) -> Result<ServerConfig, TlsError> {
    let cert_path = settings.cert_file.display().to_string();
    let key_path = settings.key_file.display().to_string();
    let certs = CertificateDer::pem_file_iter(&settings.cert_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Cert {
            path: cert_path.clone(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Cert {
            path: cert_path,
            reason: "no certificate found".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&settings.key_file).map_err(|e| TlsError::Key {
        path: key_path,
        reason: e.to_string(),
    })?;
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))
}
