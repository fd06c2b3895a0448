//! Files on AWS, against S3 on the local AWS API (moto): the browser announces a file, sends
//! it to S3 itself through the presigned URL it is given, and the form that names it has it
//! checked where it lies — kept under a key of the portal's own when it passes, removed when
//! it does not — and downloads go through short-lived presigned links.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request};
use portal_core::blobs::S3Blobs;
use portal_functions::AppState;
use serde_json::{json, Value};
use tower::ServiceExt;

/// An S3 client of the local AWS API.
fn s3() -> aws_sdk_s3::Client {
    let endpoint = portal_core::aws::test_endpoint();
    let config = aws_sdk_s3::Config::builder()
        .http_client(portal_core::aws::http_client())
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Calls the issues function: status, headers, body as JSON (`null` if it is not).
async fn call(
    state: &AppState,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, axum::http::HeaderMap, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let res = portal_functions::group("issues", state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Sends `bytes` as the slot says: the status S3 answered.
fn send(slot: &Value, bytes: &[u8]) -> u16 {
    assert_eq!(slot["method"], "PUT");
    let mut req = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .put(slot["url"].as_str().unwrap());
    for (name, value) in slot["headers"].as_object().unwrap() {
        req = req.header(name.as_str(), value.as_str().unwrap());
    }
    req.send(bytes).expect("answered").status().as_u16()
}

/// The object's tags as `key=value`.
async fn tags(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<String> {
    s3.get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .tag_set()
        .iter()
        .map(|t| format!("{}={}", t.key(), t.value()))
        .collect()
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

fn issue(uploads: &[&str]) -> Value {
    json!({"name": "Ada", "email": "ada@example.com", "subject": "Printer error",
        "description": "See the photo.", "uploads": uploads})
}

#[tokio::test]
async fn files_go_to_s3_and_back_through_presigned_links_checked_in_between() {
    let s3 = s3();
    let bucket = format!("files-{}", std::process::id());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = portal_core::store::open(&format!(
        "sqlite:{}",
        dir.path().join("portal.db").display()
    ))
    .await
    .unwrap();
    let state = common::state_on(dir.path(), store, common::open_limits())
        .await
        .with_blobs(Arc::new(S3Blobs::new(s3.clone(), &bucket)));

    // The slot is a presigned PUT to the bucket, with the type and the pending tag signed.
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-rest-of-image";
    let (status, _, slot) = call(
        &state,
        "POST",
        "/api/uploads",
        Some(json!({"file_name": "shot.png", "size": png.len(), "media_type": "image/png"})),
    )
    .await;
    assert_eq!(status, 201, "{slot}");
    let url = slot["url"].as_str().unwrap();
    assert!(
        url.contains(&format!("/{bucket}/")) && url.contains("X-Amz-Signature="),
        "{url}"
    );
    assert_eq!(slot["headers"]["content-type"], "image/png");
    assert_eq!(send(&slot, png), 200);
    let token = slot["upload"].as_str().unwrap();
    let key = token.split('.').next().unwrap();
    assert_eq!(tags(&s3, &bucket, key).await, ["portal=pending"]);

    // The same token twice in one form is refused, and nothing is taken.
    let (status, _, twice) =
        call(&state, "POST", "/api/issues", Some(issue(&[token, token]))).await;
    assert_eq!(status, 422, "{twice}");
    assert!(exists(&s3, &bucket, key).await);

    // The form names it: checked, and the checked bytes kept under a new key without the
    // tag that would expire them; the upload is gone.
    let (status, _, filed) = call(&state, "POST", "/api/issues", Some(issue(&[token]))).await;
    assert_eq!(status, 201, "{filed}");
    assert!(!exists(&s3, &bucket, key).await);
    let tracking = filed["tracking_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (_, _, tracked) = call(&state, "GET", &format!("/api/track/{tracking}"), None).await;
    assert_eq!(tracked["attachments"][0]["size"], png.len(), "{tracked}");
    let kept = tracked["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(kept, key);
    assert!(tags(&s3, &bucket, &kept).await.is_empty());
    // Other bytes sent to the upload's URL afterwards change nothing that was kept (the
    // download below gives the first bytes); named again, they are checked afresh and kept
    // as another file of their own.
    assert_eq!(
        send(&slot, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-other-bytes!!"),
        200
    );
    let (status, _, again) = call(&state, "POST", "/api/issues", Some(issue(&[token]))).await;
    assert_eq!(
        status, 201,
        "a re-sent upload is a new file of the new issue: {again}"
    );
    let key = kept.as_str();

    // The download is a redirect to a short-lived link that saves the file under its name.
    let (status, headers, _) = call(
        &state,
        "GET",
        &format!("/api/track/{tracking}/attachments/{key}"),
        None,
    )
    .await;
    assert_eq!(status, 303);
    assert!(headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("no-store"));
    let link = headers[header::LOCATION].to_str().unwrap();
    assert!(link.contains("X-Amz-Expires=300"), "{link}");
    let mut got = ureq::get(link).call().unwrap();
    assert_eq!(
        got.headers()["content-disposition"],
        "attachment; filename=\"shot.png\""
    );
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.body_mut().read_to_vec().unwrap(), png);
    // Another issue's tracking link does not reach it.
    let (_, _, other) = call(
        &state,
        "POST",
        "/api/issues",
        Some(json!({"name": "Bo", "email": "bo@example.com", "subject": "S", "description": "D"})),
    )
    .await;
    let other = other["tracking_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (status, _, _) = call(
        &state,
        "GET",
        &format!("/api/track/{other}/attachments/{key}"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // An object larger than announced (a client that went around the signed length) and one
    // whose content is not what its name says: refused when the form arrives, and removed.
    let (_, _, big) = call(
        &state,
        "POST",
        "/api/uploads",
        Some(json!({"file_name": "till.log", "size": 10})),
    )
    .await;
    let big_token = big["upload"].as_str().unwrap();
    let big_key = big_token.split('.').next().unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key(big_key)
        .body(b"ERROR 42: paper out, twice over\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let (_, _, fake) = call(
        &state,
        "POST",
        "/api/uploads",
        Some(json!({"file_name": "scan.pdf", "size": 11})),
    )
    .await;
    assert_eq!(send(&fake, b"MZ\x90 binary!"), 200);
    let fake_token = fake["upload"].as_str().unwrap();
    let fake_key = fake_token.split('.').next().unwrap();
    for (token, key, says) in [
        (big_token, big_key, "announced as 10 bytes"),
        (fake_token, fake_key, "scan.pdf"),
    ] {
        assert!(exists(&s3, &bucket, key).await);
        let (status, _, answer) = call(&state, "POST", "/api/issues", Some(issue(&[token]))).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["field"], "uploads");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
        assert!(!exists(&s3, &bucket, key).await, "{key} was not removed");
    }
    // A token whose file never arrived says so.
    let (_, _, never) = call(
        &state,
        "POST",
        "/api/uploads",
        Some(json!({"file_name": "later.txt", "size": 3})),
    )
    .await;
    let (status, _, answer) = call(
        &state,
        "POST",
        "/api/issues",
        Some(issue(&[never["upload"].as_str().unwrap()])),
    )
    .await;
    assert_eq!(status, 422);
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("has not arrived"));
}
