//! The built site as `portal serve` answers it: compressed for a client that accepts brotli
//! or gzip (the same bytes once decoded, `Vary: Accept-Encoding`), an `ETag` and a
//! `Last-Modified` on every file, `304 Not Modified` to a client that has the file, and never
//! a stale file after a rebuild.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;

/// An answer read off the wire, undecoded: status, headers (names in lower case), body.
struct Raw {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Sends `method path` with `headers` on a new connection and reads the whole answer.
fn send(base: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Raw {
    let addr = base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    conn.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    conn.read_to_end(&mut all).unwrap();
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&all[..end]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Raw {
        status,
        headers,
        body: all[end + 4..].to_vec(),
    }
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn ungzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn pages_and_assets_come_compressed_with_validators_and_304s() {
    let (_dir, server) = common::demo_site("", None, |_| {});
    let base = &server.base;
    let plain = send(base, "GET", "/kb/refund-a-sale", &[]);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.headers["content-type"], "text/html");
    assert!(!plain.headers.contains_key("content-encoding"));
    assert_eq!(plain.headers["vary"], "accept-encoding");
    assert!(String::from_utf8_lossy(&plain.body).contains("Refund a sale"));

    let br = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("Accept-Encoding", "gzip, deflate, br")],
    );
    assert_eq!(br.headers["content-encoding"], "br");
    assert_eq!(br.headers["vary"], "accept-encoding");
    assert!(
        br.body.len() * 3 < plain.body.len(),
        "brotli shrinks a page"
    );
    assert_eq!(unbrotli(&br.body), plain.body, "the same page once decoded");

    let gz = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("Accept-Encoding", "gzip, br;q=0")],
    );
    assert_eq!(gz.headers["content-encoding"], "gzip");
    assert_eq!(ungzip(&gz.body), plain.body);

    let identity = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("Accept-Encoding", "identity")],
    );
    assert!(!identity.headers.contains_key("content-encoding"));
    assert_eq!(identity.body, plain.body);

    // Validators, and 304s for a client that has the file.
    let etag = plain.headers["etag"].clone();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let br_etag = br.headers["etag"].clone();
    assert_ne!(br_etag, etag, "each encoding is its own representation");
    assert_ne!(gz.headers["etag"], br_etag);
    let cached_br = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("Accept-Encoding", "br"), ("If-None-Match", &br_etag)],
    );
    assert_eq!(cached_br.status, 304, "the brotli copy is fresh");
    assert!(
        !br.headers.contains_key("accept-ranges"),
        "ranges are of the plain file only"
    );
    let star = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("Accept-Encoding", "*, br;q=0")],
    );
    assert_eq!(
        star.headers["content-encoding"], "gzip",
        "`*` covers what is not named"
    );
    let modified = plain.headers["last-modified"].clone();
    let again = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.headers["etag"], etag);
    let since = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("If-Modified-Since", &modified)],
    );
    assert_eq!(since.status, 304);
    let other = send(
        base,
        "GET",
        "/kb/refund-a-sale",
        &[("If-None-Match", "\"another\"")],
    );
    assert_eq!(other.status, 200, "another version is sent whole");

    // The home page, a stylesheet, the sitemap; HEAD; a range (from disk).
    for path in ["/", "/sitemap.xml", "/robots.txt"] {
        let r = send(base, "GET", path, &[("Accept-Encoding", "br")]);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.headers.contains_key("etag"), "{path}");
    }
    let home = String::from_utf8(unbrotli(
        &send(base, "GET", "/", &[("Accept-Encoding", "br")]).body,
    ))
    .unwrap();
    let css = home
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.ends_with(".css"))
        .expect("the home page links its stylesheet")
        .to_string();
    let style = send(base, "GET", &css, &[("Accept-Encoding", "br")]);
    assert_eq!(style.headers["content-type"], "text/css");
    assert_eq!(style.headers["content-encoding"], "br");
    let head = send(
        base,
        "HEAD",
        "/kb/refund-a-sale",
        &[("Accept-Encoding", "br")],
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.headers["content-length"],
        br.body.len().to_string(),
        "HEAD says the length GET sends"
    );
    let range = send(base, "GET", "/kb/refund-a-sale", &[("Range", "bytes=0-9")]);
    assert_eq!(range.status, 206);
    assert_eq!(range.body, plain.body[..10]);
    let missing = send(base, "GET", "/kb/no-such-article", &[]);
    assert_eq!(missing.status, 404);
}

#[test]
fn no_path_reaches_a_file_outside_the_site() {
    let (dir, server) = common::demo_site("", None, |_| {});
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "not for visitors").unwrap();
    let absolute = secret.display().to_string();
    for path in [
        format!("/{absolute}"),
        format!("//{}", absolute.trim_start_matches('/')),
        "/kb/../../secret.txt".to_string(),
        "/./secret.txt".to_string(),
        "/static/%2e%2e/%2e%2e/secret.txt".to_string(),
    ] {
        for encoding in ["br", "identity"] {
            let r = send(&server.base, "GET", &path, &[("Accept-Encoding", encoding)]);
            assert!(
                !String::from_utf8_lossy(&r.body).contains("not for visitors"),
                "{path} reached a file outside the site"
            );
            assert!(
                r.status >= 400 || r.status == 301 || r.status == 307,
                "{path}: {}",
                r.status
            );
        }
    }
}

#[test]
fn a_rebuild_is_served_at_once_with_a_new_etag() {
    let dir = common::demo_copy();
    let content = dir.path().join("content");
    let server = common::Server::start(&content, &dir.path().join("out"));
    let first = send(
        &server.base,
        "GET",
        "/kb/refund-a-sale",
        &[("Accept-Encoding", "br")],
    );
    let article = content.join("kb/point-of-sale/refund-a-sale.md");
    let text = std::fs::read_to_string(&article).unwrap();
    std::fs::write(
        &article,
        text.replace(
            "title = \"Refund a sale\"",
            "title = \"Refund or exchange a sale\"",
        ),
    )
    .unwrap();
    assert!(server.wait_stdout("Rebuilt ", 30).is_some(), "rebuilt");
    let second = send(
        &server.base,
        "GET",
        "/kb/refund-a-sale",
        &[
            ("Accept-Encoding", "br"),
            ("If-None-Match", &first.headers["etag"]),
        ],
    );
    assert_eq!(second.status, 200, "the old version is not fresh any more");
    assert_ne!(second.headers["etag"], first.headers["etag"]);
    let page = String::from_utf8(unbrotli(&second.body)).unwrap();
    assert!(
        page.contains("Refund or exchange a sale"),
        "the edit is live"
    );
}

/// A file answered once is answered again in front of the router, by its address alone: the
/// security headers stay, and an address a function answers is never taken by the file of a
/// neighbouring address (`/search/` is the site's search page, `/search` the function's
/// results; `/track/` a page, `/track/{token}` the function).
#[test]
fn files_answered_again_keep_their_headers_and_never_shadow_a_function() {
    let (_dir, server) = common::demo_site("", None, |_| {});
    for round in 0..3 {
        let page = send(&server.base, "GET", "/search/", &[]);
        assert_eq!(page.status, 200, "round {round}");
        for header in [
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "strict-transport-security",
            "etag",
        ] {
            assert!(page.headers.contains_key(header), "round {round}: {header}");
        }
        let results = send(&server.base, "GET", "/search?q=refund", &[]);
        assert_eq!(results.status, 200);
        let body = String::from_utf8_lossy(&results.body);
        assert!(body.contains("/kb/refund-a-sale"), "round {round}: {body}");
        assert_ne!(results.body, page.body);
        let api = send(&server.base, "GET", "/api/search?q=refund", &[]);
        assert!(api.headers["content-type"].starts_with("application/json"));
        // Another method at a remembered address still reaches the router.
        let post = send(&server.base, "POST", "/search/", &[("Content-Length", "0")]);
        assert_ne!(post.status, 200, "round {round}");
        let missing = send(
            &server.base,
            "GET",
            "/track/00000000000000000000000000000000",
            &[],
        );
        assert_eq!(missing.status, 404, "round {round}");
    }
}
