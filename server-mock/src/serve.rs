//! The HTTP/1.1 server loop: hyper with explicit limits, so a hostile client is bounded before
//! the router sees anything. Header buffers are larger than the router's own limits
//! (`http::MAX_HEADER_BYTES`, `http::MAX_HEADERS`), so an oversized request usually gets a
//! Stripe-shaped 431 from `http::check_request`; only beyond these buffers does hyper refuse it
//! alone, without a body. Connections are capped, slow headers time out, and shutdown is
//! graceful: requests in flight finish.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tower::ServiceExt;

/// Bytes hyper buffers for a request head before refusing it on its own.
const MAX_HEAD_BUFFER: usize = 3 * 1024 * 1024;
/// Headers hyper parses before refusing on its own.
const MAX_PARSED_HEADERS: usize = 4 * crate::http::MAX_HEADERS;
/// Open connections at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 1024;
/// Time a client has to send its request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time requests in flight get to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop` fires, then drains.
pub async fn serve(listener: TcpListener, router: Router, stop: oneshot::Receiver<()>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            let router = router.clone();
            async move {
                Ok::<_, Infallible>(
                    router
                        .oneshot(req.map(axum::body::Body::new))
                        .await
                        .unwrap_or_else(|never| match never {}),
                )
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .max_buf_size(MAX_HEAD_BUFFER)
            .max_headers(MAX_PARSED_HEADERS)
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
}
