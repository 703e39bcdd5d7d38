//! The HTTP/1.1 server: actix-web's, built here for one difference.
//!
//! actix-http refuses some requests before any application code sees them, and answers with an
//! empty body it offers no hook to change: a head it cannot parse (400), a head larger than its
//! buffer (431), a head that does not arrive in time (408). Every other error of the service
//! carries a problem document (RFC 9457), and a client should not need a second way to read
//! one. So each connection's stream is wrapped, and such an answer is rewritten on its way out
//! with the problem document of its status.
//!
//! What is rewritten is recognised by its shape, which the application's own answers never have:
//! one whole response head, alone in a write, with one of those three statuses and
//! `content-length: 0` (every error of the application has a body). A refusal written in the same
//! buffer as a pipelined answer before it is left as it is.

use std::io;
use std::net::TcpListener;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::error::DispatchError;
use actix_http::{HttpService, KeepAlive, Protocol, Request, Response};
use actix_server::{Server, ServerBuilder};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Service, ServiceFactory};
use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::api::problem::{Problem, PROBLEM_CONTENT_TYPE};

/// How long after a stop begins the server still reads a request on a connection it has already
/// accepted. Told at once, actix-http closes every connection whose request it has not yet
/// read, and a request that had just been sent on one (a proxy's POST to a replica being
/// restarted) would fail though nothing of it ran. Connections idle past this are closed; those
/// with a request finish it.
const READ_AFTER_STOP: Duration = Duration::from_secs(1);

/// What stops a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopOn {
    /// SIGTERM or SIGINT, after draining its port (see [`drain_on_signal`]); a process that
    /// serves until it is told to stop.
    Signals,
    /// Its handle only (tests, and servers stopped by their own process).
    Handle,
}

/// How the server runs.
pub struct ServerOptions {
    /// Worker threads; `None` is one per core.
    pub workers: Option<usize>,
    /// Seconds in-flight requests get to finish once the server is told to stop.
    pub shutdown_timeout_secs: u64,
    /// What stops the server.
    pub stop_on: StopOn,
    /// Threads each worker may run blocking work on (database statements, password hashing);
    /// work beyond waits in the worker's queue. `None` keeps actix's default (512 shared out).
    pub max_blocking_threads: Option<usize>,
}

/// Serves the application `factory` builds (one per worker) on `listener`, with the settings
/// actix-web's `HttpServer` uses by default (5 s keep-alive, 5 s for a request head, 1 s to
/// close).
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    factory: F,
    options: ServerOptions,
) -> io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let mut builder = ServerBuilder::new().shutdown_timeout(options.shutdown_timeout_secs);
    if let Some(workers) = options.workers {
        builder = builder.workers(workers);
    }
    if let Some(threads) = options.max_blocking_threads {
        builder = builder.worker_max_blocking_threads(threads.max(1));
    }
    // actix-server's own signal handling closes the port at once; ours drains it first. The
    // future holds a second handle on the port: it goes with the server however it stops.
    builder = match options.stop_on {
        StopOn::Signals => builder.shutdown_signal(drain_on_signal(listener.try_clone()?)),
        StopOn::Handle => builder.disable_signals(),
    };
    let shutdown = builder.graceful_shutdown_signal();
    let builder = builder.listen(format!("skillpath-{addr}"), listener, move || {
        let shutdown = shutdown.clone();
        let app = factory()
            .into_factory()
            .map_err(|err| err.into().error_response());
        let http = HttpService::build()
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move {
                    shutdown.notified().await;
                    actix_web::rt::time::sleep(READ_AFTER_STOP).await
                }
            })
            .keep_alive(KeepAlive::default())
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .h1_allow_half_closed(true)
            .local_addr(addr)
            .finish(map_config(app, |_| AppConfig::default()));
        fn_service(|io: TcpStream| async move {
            // Answers are written whole; waiting to coalesce them only adds latency.
            let _ = io.set_nodelay(true);
            let peer = io.peer_addr().ok();
            Ok::<_, DispatchError>((RefusalsAsProblems::new(io), Protocol::Http1, peer))
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}

/// How long a stopping server goes on accepting the connections the kernel completed before it
/// stopped taking new ones (its accept thread and workers take them up within milliseconds).
const DRAIN_BEFORE_STOP: Duration = Duration::from_millis(250);

/// Resolves (and the server stops gracefully) once, after SIGTERM or SIGINT, new connections are
/// no longer taken and those already waiting in the kernel's queue have been accepted.
///
/// Closing the port at once (what actix-server does) resets every connection still in that
/// queue, and a proxy that had already sent a POST on one answers 502 without trying another
/// replica. Dropped instead by a socket filter, a new connection's first SYN goes unanswered; its
/// retry a second later finds the port closed, and the proxy takes the next replica.
async fn drain_on_signal(port: TcpListener) {
    stop_signal().await;
    match refuse_new_connections(&port) {
        Ok(()) => {
            drop(port);
            tokio::time::sleep(DRAIN_BEFORE_STOP).await;
        }
        Err(error) => {
            tracing::warn!(%error, "could not stop taking connections before stopping");
            drop(port);
        }
    }
    tracing::info!("stopping: finishing the requests in hand");
}

/// Resolves on SIGTERM or SIGINT.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        // Without a way to be told, serve until killed rather than stop at once.
        tracing::error!(%error, "cannot listen for SIGTERM or SIGINT");
        std::future::pending::<()>().await;
    }
}

/// Makes the kernel drop every packet a listening socket would take from now on: SYNs of new
/// connections (and the last ACK of a handshake in progress). Connections already completed,
/// waiting to be accepted, are sockets of their own and stay as they are.
#[cfg(target_os = "linux")]
fn refuse_new_connections(port: &TcpListener) -> io::Result<()> {
    /// `BPF_RET | BPF_K` with 0: keep nothing of the packet.
    const DROP_EVERYTHING: socket2::SockFilter = socket2::SockFilter::new(0x06, 0, 0, 0);
    socket2::SockRef::from(port).attach_filter(&[DROP_EVERYTHING])
}

#[cfg(not(target_os = "linux"))]
fn refuse_new_connections(_port: &TcpListener) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "socket filters are Linux's",
    ))
}

/// A connection's stream that rewrites actix-http's own refusals (see the module's doc).
pub struct RefusalsAsProblems<IO> {
    inner: IO,
    /// A rewritten answer not yet fully written, and how much of it is.
    pending: Vec<u8>,
    written: usize,
}

impl<IO> RefusalsAsProblems<IO> {
    pub fn new(inner: IO) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<IO: AsyncWrite + Unpin> RefusalsAsProblems<IO> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for RefusalsAsProblems<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for RefusalsAsProblems<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = with_problem(buf) {
            this.pending = answer;
            // Taken whole; what the socket does not take now, flush and shutdown write first.
            if let Poll::Ready(Err(error)) = this.poll_pending(cx) {
                return Poll::Ready(Err(error));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The problem a refusal of actix-http's stands for: its code and what the client should know.
fn refusal(status: u16) -> Option<(&'static str, &'static str)> {
    match status {
        400 => Some((
            "malformed_request",
            "The request could not be read as HTTP/1.1: its request line or a header is malformed.",
        )),
        408 => Some((
            crate::error::AppError::InputTimedOut.code(),
            "The request's head did not arrive in time; send it again.",
        )),
        431 => Some((
            "headers_too_large",
            "The request's head is larger than the server accepts (128 KiB, 96 headers).",
        )),
        _ => None,
    }
}

/// `head` with its problem document, when `head` is exactly one of actix-http's refusals.
fn with_problem(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let fields = text.strip_suffix("\r\n\r\n")?;
    if fields.contains("\r\n\r\n") {
        return None;
    }
    let mut lines = fields.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))?
        .get(..3)?
        .parse()
        .ok()?;
    let (code, detail) = refusal(status)?;
    let mut empty = false;
    let mut kept = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("content-length") {
            if value.trim() != "0" {
                return None;
            }
            empty = true;
        } else if name.eq_ignore_ascii_case("content-type")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return None;
        } else {
            kept.push(line);
        }
    }
    if !empty {
        return None;
    }
    let status = actix_http::StatusCode::from_u16(status).ok()?;
    let body = serde_json::to_vec(&Problem::new(status, code, detail.to_owned())).ok()?;
    let mut answer = String::with_capacity(head.len() + 160);
    answer.push_str(status_line);
    answer.push_str("\r\n");
    for line in kept {
        answer.push_str(line);
        answer.push_str("\r\n");
    }
    answer.push_str(&format!(
        "content-type: {PROBLEM_CONTENT_TYPE}\r\ncontent-length: {}\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\n\r\n",
        body.len()
    ));
    let mut answer = answer.into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(head: &str) -> Option<String> {
        with_problem(head.as_bytes()).map(|bytes| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn actix_refusals_get_their_problem_document() {
        let answer = rewritten(
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Fri, 04 Dec 2026 17:00:00 GMT\r\n\r\n",
        )
        .unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(head.contains("\r\nconnection: close\r\n"));
        assert!(head.contains("\r\ndate: Fri, 04 Dec 2026 17:00:00 GMT\r\n"));
        assert!(head.contains("\r\ncontent-type: application/problem+json\r\n"));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        assert!(!head.contains("content-length: 0"));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["code"], "malformed_request");
        assert_eq!(problem["type"], "urn:skillpath:problem:malformed_request");
        assert_eq!(problem["title"], "Bad Request");

        for (status, code) in [(408, "request_timeout"), (431, "headers_too_large")] {
            let answer = rewritten(&format!(
                "HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\n\r\n"
            ))
            .unwrap();
            assert!(answer.contains(&format!("\"code\":\"{code}\"")), "{answer}");
        }
    }

    /// What a stopping server relies on: after the filter, a connection already waiting to be
    /// accepted is accepted and carries its request; a new one does not get in.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_drained_port_keeps_waiting_connections_and_takes_no_new_one() {
        use std::io::{Read, Write};

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let mut waiting = std::net::TcpStream::connect(address).unwrap();
        refuse_new_connections(&listener).unwrap();
        waiting.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();

        let late = std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300));
        assert!(late.is_err(), "a new connection got in: {late:?}");

        let (mut accepted, _) = listener.accept().unwrap();
        accepted
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut request = [0u8; 18];
        accepted.read_exact(&mut request).unwrap();
        assert_eq!(&request, b"GET / HTTP/1.1\r\n\r\n");
        accepted
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .unwrap();
        let mut answer = [0u8; 12];
        waiting.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 204");
    }

    #[test]
    fn the_applications_own_answers_pass_unchanged() {
        for head in [
            // an answer with a body (every error of the application has one)
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\ncontent-type: application/problem+json\r\n\r\n",
            // another status
            "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            // a head and the start of its body in one write
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{",
            // two answers in one write (pipelining)
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            // no length at all, or chunked
            "HTTP/1.1 400 Bad Request\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\ncontent-length: 0\r\n\r\n",
            // not a head
            "{\"status\":400}",
            "",
        ] {
            assert_eq!(rewritten(head), None, "{head:?}");
        }
    }
}
