//! AWS settings shared by every client the portal makes (DynamoDB, S3, SES, CloudFront): the
//! environment's region and credentials (`AWS_ENDPOINT_URL` for a local server such as moto)
//! and one HTTPS client on rustls with *ring* — smaller than the SDK's default TLS stack, which
//! keeps the Lambda binaries small.

use aws_config::{BehaviorVersion, ConfigLoader};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The HTTP(S) client every AWS client uses.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// A loader of the environment's AWS settings with the portal's HTTP client; add settings,
/// then `.load().await`.
///
/// ```no_run
/// # async fn f() {
/// let config = portal_core::aws::loader().load().await;
/// let s3 = aws_sdk_s3::Client::new(&config);
/// # }
/// ```
pub fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client())
}
