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

/// The variable that names the local AWS API (moto) the tests use.
pub const TEST_ENDPOINT_VAR: &str = "PORTAL_TEST_DYNAMODB";

/// The local AWS API (moto) the tests run against, from `PORTAL_TEST_DYNAMODB`, which the
/// test command (`scripts/test`) sets after starting it. Without it this says once, plainly,
/// how to run those tests and ends the test process (status 2), instead of a panic in each
/// of the tests that need it.
#[doc(hidden)]
pub fn test_endpoint() -> String {
    match std::env::var(TEST_ENDPOINT_VAR) {
        Ok(v) if !v.is_empty() => v,
        _ => {
            use std::io::Write as _;
            // Written to the process's stderr itself: a test's own output is captured, and
            // would be lost with the process.
            let _ = writeln!(
                std::io::stderr(),
                "\n{TEST_ENDPOINT_VAR} is not set: these tests run against a local AWS API (moto).\n\
                 Run the whole suite with `scripts/test` (it installs moto into target/venv and starts it), or start it yourself:\n  \
                 target/venv/bin/python scripts/moto-server.py -H 127.0.0.1 -p 5000 &\n  \
                 export {TEST_ENDPOINT_VAR}=http://127.0.0.1:5000\n"
            );
            std::process::exit(2)
        }
    }
}
