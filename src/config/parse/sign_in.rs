//! The four ways of signing in (`AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH`,
//! `AZURE_FEDERATED_TOKEN_FILE`, `MEETNOW_MANAGED_IDENTITY`): exactly one, each checked as far as it can be
//! before anything connects.

use reqwest::Url;
use secrecy::SecretString;

use super::{is_guid, is_loopback_host, is_metadata_host, parse_bool, require, Quoted};
use crate::config::ConfigError;
use crate::credential::{ClientCertificate, Credential, ManagedIdentity, IMDS_HOST};

fn parse_client_secret(value: String) -> Result<SecretString, ConfigError> {
    // The portal shows a secret's Value once and its Secret ID forever; the ID is a GUID and a
    // classic paste mistake. A secret value is never in that form. (The value is not echoed.)
    if is_guid(&value) {
        return Err(ConfigError::new(
            "AZURE_CLIENT_SECRET",
            "looks like the secret's Secret ID (a GUID), not its Value; in Certificates & secrets create a new \
             client secret and copy the Value column right away (it is shown only once)",
        ));
    }
    Ok(SecretString::new(value))
}

/// The one way of signing in: whichever of the four variables is set, and only one.
pub(in crate::config) fn parse_credential(get: &impl Fn(&str) -> Option<String>) -> Result<Credential, ConfigError> {
    let managed_identity = get("MEETNOW_MANAGED_IDENTITY")
        .map(|v| parse_bool("MEETNOW_MANAGED_IDENTITY", &v))
        .transpose()?
        .unwrap_or(false);
    let set: Vec<&'static str> = CREDENTIAL_VARIABLES
        .into_iter()
        .filter(|&name| if name == "MEETNOW_MANAGED_IDENTITY" { managed_identity } else { get(name).is_some() })
        .collect();
    match set.as_slice() {
        [] => Err(ConfigError::new(
            "AZURE_CLIENT_SECRET",
            "is not set, and no other way of signing in is either; set exactly one of AZURE_CLIENT_SECRET (the \
             client secret's Value), AZURE_CLIENT_CERTIFICATE_PATH (a PEM certificate and key, the safer choice), \
             AZURE_FEDERATED_TOKEN_FILE (Kubernetes workload identity) or MEETNOW_MANAGED_IDENTITY=true (on Azure)",
        )),
        ["AZURE_CLIENT_SECRET"] => Ok(Credential::Secret(parse_client_secret(require(get, "AZURE_CLIENT_SECRET")?)?)),
        ["AZURE_CLIENT_CERTIFICATE_PATH"] => {
            let path = require(get, "AZURE_CLIENT_CERTIFICATE_PATH")?;
            ClientCertificate::load(std::path::Path::new(&path))
                .map(|certificate| Credential::Certificate(std::sync::Arc::new(certificate)))
                .map_err(|problem| ConfigError::new("AZURE_CLIENT_CERTIFICATE_PATH", problem))
        }
        ["AZURE_FEDERATED_TOKEN_FILE"] => {
            Ok(Credential::FederatedToken(require(get, "AZURE_FEDERATED_TOKEN_FILE")?.into()))
        }
        ["MEETNOW_MANAGED_IDENTITY"] => parse_managed_identity(get).map(Credential::ManagedIdentity),
        [first, others @ ..] => Err(ConfigError::new(
            first,
            format!(
                "is set together with {}; meetnow signs in exactly one way, so unset all but one of them",
                others.join(" and ")
            ),
        )),
    }
}

const CREDENTIAL_VARIABLES: [&str; 4] =
    ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "MEETNOW_MANAGED_IDENTITY"];

/// `IDENTITY_ENDPOINT` with `IDENTITY_HEADER` (set by App Service, Container Apps and Functions), else the
/// instance metadata service.
fn parse_managed_identity(get: &impl Fn(&str) -> Option<String>) -> Result<ManagedIdentity, ConfigError> {
    let url = |variable: &'static str, value: &str| {
        let url = Url::parse(value)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                ConfigError::new(variable, format!("{value} is not an http:// or https:// URL", value = Quoted(&value)))
            })?;
        // The identity header and the token cross this connection: in clear text only where it can't leave
        // the host (loopback, as App Service and Container Apps give it) or the link-local metadata address.
        if url.scheme() == "http" && !(is_loopback_host(&url) || is_metadata_host(&url)) {
            return Err(ConfigError::new(
                variable,
                format!(
                    "{value} uses http:// for a host that is neither loopback nor the metadata address \
                     169.254.169.254; the identity header and the token would cross the network in clear text. \
                     Use https://, or unset it and let the platform set it",
                    value = Quoted(&value)
                ),
            ));
        }
        Ok(url)
    };
    match (get("IDENTITY_ENDPOINT"), get("IDENTITY_HEADER")) {
        (Some(endpoint), Some(header)) => {
            // It is sent as a header, so it must be one; the value is a secret and is not echoed.
            let mut header = reqwest::header::HeaderValue::from_str(&header)
                .ok()
                .filter(|_| header.bytes().all(|b| b.is_ascii_graphic()))
                .ok_or_else(|| {
                    ConfigError::new(
                        "IDENTITY_HEADER",
                        "contains spaces or characters an HTTP header can't carry; the platform sets it, so unset \
                         it rather than edit it",
                    )
                })?;
            header.set_sensitive(true);
            Ok(ManagedIdentity::AppService { endpoint: url("IDENTITY_ENDPOINT", &endpoint)?, header })
        }
        (Some(_), None) => Err(ConfigError::new(
            "IDENTITY_HEADER",
            "is not set, but IDENTITY_ENDPOINT is; the platform sets both (App Service, Container Apps, Functions). \
             Unset IDENTITY_ENDPOINT to use the instance metadata service instead",
        )),
        (None, Some(_)) => Err(ConfigError::new(
            "IDENTITY_ENDPOINT",
            "is not set, but IDENTITY_HEADER is; the platform sets both, or neither on VMs and AKS",
        )),
        (None, None) => {
            let host = get("AZURE_POD_IDENTITY_AUTHORITY_HOST").unwrap_or_else(|| IMDS_HOST.to_owned());
            let host = url("AZURE_POD_IDENTITY_AUTHORITY_HOST", &host)?;
            let endpoint = host.join("/metadata/identity/oauth2/token").map_err(|e| {
                ConfigError::new("AZURE_POD_IDENTITY_AUTHORITY_HOST", format!("{host} can't take a path ({e})"))
            })?;
            Ok(ManagedIdentity::Imds { endpoint })
        }
    }
}
