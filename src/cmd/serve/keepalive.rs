//! Keep-alive connections that lose nothing. A handler may answer before it reads the
//! request's body (a missing key, a type no form sends, a body over the limit); the
//! connection then holds the unread rest, and a client that reuses it would have its next
//! request lost. This layer reads what a handler left of a body, up to [`DRAIN_MAX`] bytes
//! and [`DRAIN_TIME`], so the connection stays usable; past that (a body announced larger, or
//! a client too slow), the answer says `Connection: close`, so the client opens a new one.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// The most of an unread body read to keep its connection: more than the largest body any
/// route takes (a form with five files of 10 MiB), so a refused body of any size a route
/// takes is read to its end; closing on a client that is still sending could lose it the
/// answer (its unread bytes make the close a reset).
pub const DRAIN_MAX: u64 = 64 * 1024 * 1024;
/// The longest a client may take to send the rest of a body before the connection closes.
pub const DRAIN_TIME: Duration = Duration::from_secs(2);

/// A request body the layer can finish reading after the handler has let it go.
struct Shared {
    body: Arc<Mutex<Body>>,
}

impl HttpBody for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut body = self.body.lock().unwrap_or_else(|e| e.into_inner());
        Pin::new(&mut *body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .size_hint()
    }
}

/// The layer (`axum::middleware::from_fn`).
pub async fn keep_alive(req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = Arc::new(Mutex::new(body));
    let shared = Body::new(Shared { body: body.clone() });
    // A client that waits for `100 Continue` before it sends the body is not made to send
    // it after a refusal: its connection closes instead.
    let expects = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut answer = next.run(Request::from_parts(parts, shared)).await;
    let unread = body.lock().map(|b| !b.is_end_stream()).unwrap_or(true);
    // A body the handler still holds (a task of its own) is not read here as well.
    let held = Arc::strong_count(&body) > 1;
    if unread && (expects || held || !drained(&body).await) {
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    answer
}

/// Reads the rest of `body`; whether it ended within the bounds.
async fn drained(body: &Arc<Mutex<Body>>) -> bool {
    if body
        .lock()
        .map(|b| b.size_hint().lower() > DRAIN_MAX)
        .unwrap_or(true)
    {
        return false;
    }
    let read = async {
        let mut total = 0u64;
        loop {
            let frame = std::future::poll_fn(|cx| {
                let mut b = body.lock().unwrap_or_else(|e| e.into_inner());
                Pin::new(&mut *b).poll_frame(cx)
            })
            .await;
            match frame {
                None => return true,
                Some(Err(_)) => return false,
                Some(Ok(frame)) => {
                    total += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if total > DRAIN_MAX {
                        return false;
                    }
                }
            }
        }
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}
