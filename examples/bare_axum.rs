//! The yardstick of the server benchmarks (`scripts/bench-serve`): a bare axum handler that
//! answers every request with a fixed JSON body, on the same runtime and allocator settings
//! as `portal serve`, so `portal serve`'s figures can be given as a share of it.
//!
//! ```sh
//! cargo run --release --example bare_axum -- 8080
//! ```

use axum::routing::get;
use axum::serve::ListenerExt as _;
use axum::Router;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let app = Router::new().fallback(get(|| async {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ok","message":"a fixed answer"}"#,
        )
    }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    println!("Serving on http://127.0.0.1:{port}");
    axum::serve(listener, app).await
}
