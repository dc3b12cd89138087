//! Response streaming in both directions: a streamed response forwarded chunk by chunk to a
//! caller that streams (bounded by the function's Timeout), collected for a caller that
//! wants the whole payload, and a buffered response handed to a streaming caller as one chunk.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, oneshot};

use crate::instance::Ended;
use crate::invocation::{job, Running};
use crate::limits::RESPONSE_MAX;
use crate::outcome::{error_type_of, stream_timeout, FailureKind, Outcome};
use crate::pool::{Lease, Pool};
use crate::runtime_api::StreamEvent;
use crate::service::{InvokeRequest, InvokeResponse, InvokeStream, LambdaService};

impl LambdaService {
    /// Runs one invocation for a caller that consumes the response as a stream: the stream
    /// (or the whole buffered answer as one chunk) goes to `to` as soon as it starts.
    pub(crate) async fn run_streaming(
        &self,
        pool: &Arc<Pool>,
        lease: Lease,
        req: &InvokeRequest,
        payload: Bytes,
        to: oneshot::Sender<InvokeStream>,
    ) {
        let mut run = match self.begin(pool, lease, req).await {
            Ok(run) => run,
            Err(init_failed) => {
                let _ = to.send(stream_of(&init_failed));
                return;
            }
        };
        let job = job(&run.request_id, req, payload);
        match self.dispatch(pool, &mut run, job, req).await {
            Err(init_failed) => {
                let _ = to.send(stream_of(&init_failed));
            }
            Ok(Ended::Done(outcome)) => {
                let resp = self.finish(pool, run, outcome, req);
                let _ = to.send(stream_of(&resp));
            }
            Ok(Ended::Stream {
                content_type,
                chunks,
            }) => {
                self.forward_stream(pool, run, content_type, chunks, to, req)
                    .await;
            }
        }
    }

    /// Passes a streamed response on to the caller chunk by chunk, bounded by the function's
    /// Timeout, then finishes the invocation once the runtime has ended its stream.
    async fn forward_stream(
        &self,
        pool: &Arc<Pool>,
        run: Running,
        content_type: Option<String>,
        mut chunks: mpsc::Receiver<StreamEvent>,
        to: oneshot::Sender<InvokeStream>,
        req: &InvokeRequest,
    ) {
        let (tx, rx) = mpsc::channel(16);
        let (done_tx, done_rx) = oneshot::channel();
        let _ = to.send(InvokeStream {
            request_id: run.request_id.clone(),
            executed_version: "$LATEST".into(),
            content_type: content_type.clone(),
            body: rx,
            done: done_rx,
        });
        let deadline = tokio::time::Instant::from_std(run.started + pool.spec.timeout);
        let mut failure = None;
        loop {
            match tokio::time::timeout_at(deadline, chunks.recv()).await {
                // A caller that went away does not stop the function: keep draining.
                Ok(Some(ev)) => {
                    if matches!(ev, StreamEvent::Error { .. }) {
                        failure = Some(FailureKind::Function);
                    }
                    let _ = tx.send(ev).await;
                }
                Ok(None) => break,
                Err(_) => {
                    failure = Some(FailureKind::Timeout);
                    let (msg, doc) = stream_timeout(&run.request_id, pool.spec.timeout);
                    run.inst.log.line(&msg);
                    let _ = tx
                        .send(StreamEvent::Error {
                            error_type: "Sandbox.Timedout".into(),
                            body: doc,
                        })
                        .await;
                    break;
                }
            }
        }
        let outcome = Outcome {
            payload: Bytes::new(),
            content_type,
            failure,
            log: Vec::new(),
            keep_instance: failure != Some(FailureKind::Timeout),
        };
        let resp = self.finish(pool, run, outcome, req);
        // The caller may still hold the body: close it before reporting the end.
        drop(tx);
        let _ = done_tx.send(resp);
    }
}

/// A buffered response as a one-chunk stream (or an error event).
pub(crate) fn stream_of(resp: &InvokeResponse) -> InvokeStream {
    let (tx, rx) = mpsc::channel(1);
    let event = if resp.failure.is_some() {
        StreamEvent::Error {
            error_type: error_type_of(&resp.payload).unwrap_or_else(|| "Unhandled".into()),
            body: resp.payload.clone(),
        }
    } else {
        StreamEvent::Chunk(resp.payload.clone())
    };
    let _ = tx.try_send(event);
    let (done_tx, done_rx) = oneshot::channel();
    let _ = done_tx.send(resp.clone());
    InvokeStream {
        request_id: resp.request_id.clone(),
        executed_version: resp.executed_version.clone(),
        content_type: resp.content_type.clone(),
        body: rx,
        done: done_rx,
    }
}

/// Buffers a streamed response for a caller that wants the whole payload.
pub(crate) async fn collect_stream(
    mut chunks: mpsc::Receiver<StreamEvent>,
    content_type: Option<String>,
) -> Outcome {
    let mut buf = BytesMut::new();
    let mut too_large = false;
    while let Some(ev) = chunks.recv().await {
        match ev {
            StreamEvent::Chunk(c) => {
                if buf.len() + c.len() > RESPONSE_MAX {
                    too_large = true;
                } else if !too_large {
                    buf.extend_from_slice(&c);
                }
            }
            StreamEvent::Error { error_type, body } => {
                return Outcome::function_error(body, Some(&error_type));
            }
        }
    }
    if too_large {
        return Outcome::response_too_large(None, true);
    }
    Outcome::response(buf.freeze(), content_type)
}
