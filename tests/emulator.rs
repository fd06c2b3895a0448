//! The function binaries under a real Lambda runtime emulator: `cargo lambda watch` builds and
//! runs them and turns HTTP requests into API Gateway v2 events, the functions keep their data
//! in DynamoDB on the local AWS API (moto) and read the bundle `portal bundle` assembles.
//! A visitor files an issue and tracks it; a customer logs in and sees their own invoices only.

mod common;

use common::emulator::Emulator;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn the_functions_file_track_and_log_in_under_the_lambda_emulator_on_dynamodb() {
    let endpoint = common::aws_endpoint();
    let aws = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let table = format!("dynamodb:emulator-{}", std::process::id());
    let (_dir, bundle) = common::emulator::demo_bundle(&table);

    let lambda = Emulator::start(&bundle, &table, &aws);

    // A visitor files an issue and follows it with the tracking link.
    let (status, _, filed) = lambda.call(
        "POST",
        "issues",
        "/api/issues",
        Some(r#"{"name": "Ada", "email": "ada@example.com", "subject": "Till freezes", "description": "After the third sale."}"#),
        None,
    );
    assert_eq!(status, 201, "{filed}");
    let filed = json(&filed);
    let number = filed["number"].as_str().unwrap();
    assert!(number.starts_with("KST-"), "{number}");
    let token = common::tracking_token(&filed);
    let (status, _, tracked) =
        lambda.call("GET", "issues", &format!("/api/track/{token}"), None, None);
    assert_eq!(status, 200, "{tracked}");
    assert_eq!(json(&tracked)["number"], number);
    let (status, headers, page) =
        lambda.call("GET", "issues", &format!("/track/{token}"), None, None);
    assert_eq!(status, 200);
    assert!(page.contains(number) && page.contains("Till freezes"));
    assert_eq!(headers["cache-control"], "no-store");
    let (status, _, _) = lambda.call("GET", "issues", "/api/track/not-a-token", None, None);
    assert_eq!(status, 404);

    // Search reads the bundle's index.
    let (status, _, found) = lambda.call("GET", "search", "/api/search?q=refund", None, None);
    assert_eq!(status, 200);
    assert!(found.contains("/kb/refund-a-sale"), "{found}");

    // A customer logs in, sees their invoices and not another customer's.
    let login = |password: &str| {
        let body = serde_json::json!({"email": "ada@harbour-cafe.example", "password": password});
        lambda.call(
            "POST",
            "auth",
            "/api/auth/login",
            Some(&body.to_string()),
            None,
        )
    };
    assert_eq!(login("not the password").0, 401);
    let (status, headers, body) = login("harbour cafe demo");
    assert_eq!(status, 200, "{body}");
    let cookie = common::emulator::session_cookie(&headers);
    let (status, _, invoices) =
        lambda.call("GET", "account", "/api/my/invoices", None, Some(&cookie));
    assert_eq!(status, 200, "{invoices}");
    assert_eq!(json(&invoices).as_array().unwrap().len(), 3);
    let (status, _, _) = lambda.call(
        "GET",
        "account",
        "/api/my/invoices/demo-2-inv-1",
        None,
        Some(&cookie),
    );
    assert_eq!(status, 404, "another customer's invoice");
    let (status, _, _) = lambda.call("GET", "account", "/api/my/invoices", None, None);
    assert_eq!(status, 401, "no session, no invoices");
}
