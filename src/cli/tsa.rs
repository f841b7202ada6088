//! The HTTP(S) client of `sign --tsa URL`: one POST of the DER TimeStampReq as
//! `application/timestamp-query` (RFC 3161 §3.4), the DER TimeStampResp back. It lives in the
//! CLI so the offline core never links a network stack; the core checks what comes back.

use std::sync::Arc;
use std::time::Duration;

use gxp_evidence_core::signing::timestamp::TimestampAuthority;

/// A TSA answer is a few KiB (the token and the TSA's certificate chain).
const MAX_RESPONSE_BYTES: u64 = 1 << 20;
/// A whole exchange with the TSA, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct HttpTsa {
    /// Where requests go, as given.
    endpoint: String,
    /// The URL as messages show it: without a `user:password@` part.
    url: String,
    agent: ureq::Agent,
}

impl HttpTsa {
    /// A client for the TSA at `url` (`http://` or `https://`; TLS server certificates are
    /// checked against Mozilla's roots).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            anyhow::bail!(
                "--tsa {}: expected an http:// or https:// URL",
                without_credentials(url)
            );
        }
        let tls = ureq::tls::TlsConfig::builder()
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .root_certs(ureq::tls::RootCerts::WebPki)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            endpoint: url.to_string(),
            url: without_credentials(url),
            agent,
        })
    }
}

impl TimestampAuthority for HttpTsa {
    fn url(&self) -> &str {
        &self.url
    }

    fn request(&self, query: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        let mut response = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/timestamp-query")
            .header("Accept", "application/timestamp-reply")
            .send(query)
            .map_err(|err| self.scrubbed(&err))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP status {status}").into());
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|err| self.scrubbed(&err))?;
        Ok(body)
    }
}

impl HttpTsa {
    /// The client's error as a message that cannot hold the URL's credentials, whatever the
    /// HTTP library puts into its text.
    fn scrubbed(&self, err: &ureq::Error) -> Box<dyn std::error::Error + Send + Sync> {
        let mut text = err.to_string().replace(&self.endpoint, &self.url);
        if let Some(userinfo) = userinfo(&self.endpoint) {
            text = text.replace(userinfo, "***");
        }
        text.into()
    }
}

/// The `user:password` part of `url`'s authority, if any.
fn userinfo(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(&rest[..at]).filter(|info| !info.is_empty())
}

/// `url` with any `user:password@` in its authority replaced by `***@`, so a TSA account's
/// password never reaches a message.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_error_never_shows_the_credentials() {
        let tsa = HttpTsa::new("http://user:s3cret@127.0.0.1:9/tsr").unwrap();
        let err = tsa.request(b"query").unwrap_err().to_string();
        assert!(!err.contains("s3cret") && !err.contains("user:"), "{err}");
        // Whatever the library writes: here an error that quotes the URL in full.
        let quoted = ureq::Error::BadUri("http://user:s3cret@127.0.0.1:9/tsr".to_string());
        let shown = tsa.scrubbed(&quoted).to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("http://***@127.0.0.1:9/tsr"), "{shown}");
        assert_eq!(userinfo("https://a:b@h/x@y"), Some("a:b"));
        assert_eq!(userinfo("https://h/x@y"), None);
    }

    #[test]
    fn credentials_in_the_url_are_never_shown() {
        assert_eq!(
            without_credentials("https://user:secret@tsa.example/tsr?x=@"),
            "https://***@tsa.example/tsr?x=@"
        );
        assert_eq!(
            without_credentials("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/"
        );
        let err = HttpTsa::new("ftp://u:secret@tsa")
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
