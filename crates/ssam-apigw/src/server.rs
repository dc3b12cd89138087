//! The HTTP/1.1 server in front of the gateway: hyper with keep-alive and `TCP_NODELAY` on
//! every accepted socket (without it, small responses on a kept-alive connection wait for
//! Nagle's algorithm: ~40 ms each).

use std::future::Future;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::gateway::Gateway;
use crate::header_case::Sniff;

/// Serves `gateway` on `listener` until `shutdown` completes; connections in flight are
/// dropped then.
pub async fn serve(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let local_port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let gw = Arc::clone(&gateway);
        let (stream, spellings) = Sniff::new(stream);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let gw = Arc::clone(&gw);
                let spellings = Arc::clone(&spellings);
                async move {
                    Ok::<_, std::convert::Infallible>(
                        gw.handle(req, peer, local_port, Some(spellings)).await,
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
