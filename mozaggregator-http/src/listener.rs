//! The server's TCP listener: bound before anything else happens (so `serve` and `demo` fail
//! fast on a busy or invalid address), and guarding each HTTP/1 connection against request
//! lines longer than hyper accepts.
//!
//! hyper refuses a request target above 64 KiB (the `http` crate's URI limit) with a bare 414:
//! no body, no CORS or security headers, no log line, before [`crate::App`] sees the request.
//! [`Guarded`] sits between the socket and hyper: a request line longer than
//! [`MAX_REQUEST_LINE`] bytes reaches hyper as `METHOD /__mozaggregator_uri_too_long__/N
//! HTTP/1.1` (`N`: the length of the line), which the app answers like any other URL above
//! `--max-url-bytes`: 414 with the JSON error body, every common header and a log line. The
//! rest of the connection is passed on unchanged (headers, `Content-Length` bodies, further
//! requests); a chunked body, an upgrade or HTTP/2 turns the guard off for that connection.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{Error, Result};

/// Longest request line (method, target and version) passed to hyper as it is; hyper's own
/// limit is 65 534 bytes of target. `--max-url-bytes` is at most [`MAX_URL_BYTES`], below it.
pub const MAX_REQUEST_LINE: usize = 65_000;

/// The largest `--max-url-bytes` the server accepts (longer URLs cannot reach the app intact).
pub const MAX_URL_BYTES: usize = 64_000;

/// The path a too-long request line is rewritten to (followed by `/` and its length).
pub const URI_TOO_LONG_PATH: &str = "/__mozaggregator_uri_too_long__";

/// A bound listening socket, not yet serving.
pub struct BoundListener {
    acceptor: TcpAcceptor,
    addr: SocketAddr,
}

impl BoundListener {
    /// Binds `addr` now: an invalid address or a port in use fails here, before any work.
    ///
    /// # Errors
    /// [`Error::Bind`] naming the address and why.
    pub async fn bind(addr: &str) -> Result<Self> {
        let acceptor = TcpListener::bind(addr.to_string())
            .into_acceptor()
            .await
            .map_err(|source| Error::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| Error::Bind {
                addr: addr.to_string(),
                source: io::Error::other("no local address"),
            })?;
        Ok(Self { acceptor, addr })
    }

    /// The address actually bound (with the port chosen for `:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The acceptor for [`poem::Server::new_with_acceptor`], guarding every connection.
    pub fn into_acceptor(self) -> GuardedAcceptor {
        GuardedAcceptor(self.acceptor)
    }
}

/// A TCP acceptor whose connections are [`Guarded`].
pub struct GuardedAcceptor(TcpAcceptor);

impl Acceptor for GuardedAcceptor {
    type Io = Guarded<<TcpAcceptor as Acceptor>::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        Ok((Guarded::new(io), local, remote, scheme))
    }
}

/// Where the guard is in the byte stream of a connection.
enum State {
    /// At the start of a request: collecting its request line.
    Line(Vec<u8>),
    /// Dropping the rest of a too-long request line: its method, its last bytes (for the HTTP
    /// version) and its length so far.
    Discard {
        method: Vec<u8>,
        tail: Vec<u8>,
        len: usize,
    },
    /// In the header block: the current header line (its first bytes), and what the headers
    /// said so far.
    Headers {
        line: Vec<u8>,
        content_length: u64,
        stop: bool,
    },
    /// In a body of known length: bytes left.
    Body(u64),
    /// Guard off: everything passes unchanged.
    Pass,
}

/// A connection whose over-long request lines are rewritten (see the module docs).
pub struct Guarded<S> {
    inner: S,
    state: State,
    /// Bytes ready for hyper, from `pending[at..]`.
    pending: Vec<u8>,
    at: usize,
    eof: bool,
}

impl<S> Guarded<S> {
    /// Guards `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            state: State::Line(Vec::new()),
            pending: Vec::new(),
            at: 0,
            eof: false,
        }
    }

    /// Runs the incoming bytes through the state machine into `pending`.
    fn feed(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            match &mut self.state {
                State::Pass => {
                    self.pending.extend_from_slice(&bytes[i..]);
                    return;
                }
                State::Line(line) => {
                    line.push(b);
                    if b == b'\n' {
                        let line = std::mem::take(line);
                        let blank = line.iter().all(|c| c.is_ascii_whitespace());
                        self.state = if line.starts_with(b"PRI * HTTP/2") {
                            State::Pass
                        } else if blank {
                            State::Line(Vec::new())
                        } else {
                            State::Headers {
                                line: Vec::new(),
                                content_length: 0,
                                stop: false,
                            }
                        };
                        self.pending.extend_from_slice(&line);
                    } else if line.len() > MAX_REQUEST_LINE {
                        let line = std::mem::take(line);
                        match line.iter().position(|&c| c == b' ') {
                            Some(space) if space > 0 && space <= 32 => {
                                self.state = State::Discard {
                                    method: line[..space].to_vec(),
                                    tail: line[line.len() - 16..].to_vec(),
                                    len: line.len(),
                                };
                            }
                            _ => {
                                // Not an HTTP/1 request line: let hyper judge it.
                                self.pending.extend_from_slice(&line);
                                self.state = State::Pass;
                            }
                        }
                    }
                }
                State::Discard { method, tail, len } => {
                    if b == b'\n' {
                        let text = String::from_utf8_lossy(tail);
                        let version = text
                            .trim_end()
                            .rsplit(' ')
                            .next()
                            .filter(|v| v.starts_with("HTTP/"))
                            .unwrap_or("HTTP/1.1")
                            .to_string();
                        let n = *len - usize::from(tail.last() == Some(&b'\r'));
                        let rewritten = format!(" {URI_TOO_LONG_PATH}/{n} {version}\r\n");
                        self.pending.extend_from_slice(method);
                        self.pending.extend_from_slice(rewritten.as_bytes());
                        self.state = State::Headers {
                            line: Vec::new(),
                            content_length: 0,
                            stop: false,
                        };
                    } else {
                        *len += 1;
                        if tail.len() >= 16 {
                            tail.remove(0);
                        }
                        tail.push(b);
                    }
                }
                State::Headers {
                    line,
                    content_length,
                    stop,
                } => {
                    self.pending.push(b);
                    if b != b'\n' {
                        if line.len() < 256 {
                            line.push(b);
                        }
                        continue;
                    }
                    let header = String::from_utf8_lossy(line).to_ascii_lowercase();
                    let header = header.trim();
                    if header.is_empty() {
                        self.state = if *stop {
                            State::Pass
                        } else if *content_length > 0 {
                            State::Body(*content_length)
                        } else {
                            State::Line(Vec::new())
                        };
                        continue;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        match name.trim() {
                            "content-length" => match value.trim().parse::<u64>() {
                                Ok(n) => *content_length = n,
                                Err(_) => *stop = true,
                            },
                            "transfer-encoding" | "upgrade" => *stop = true,
                            _ => {}
                        }
                    }
                    line.clear();
                }
                State::Body(left) => {
                    self.pending.push(b);
                    *left -= 1;
                    if *left == 0 {
                        self.state = State::Line(Vec::new());
                    }
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.at < this.pending.len() {
                let n = buf.remaining().min(this.pending.len() - this.at);
                buf.put_slice(&this.pending[this.at..this.at + n]);
                this.at += n;
                if this.at == this.pending.len() {
                    this.pending.clear();
                    this.at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if matches!(this.state, State::Pass) || this.eof {
                if this.eof {
                    // A request line cut off by the end of the stream goes to hyper as it is.
                    if let State::Line(line) = &mut this.state {
                        if !line.is_empty() {
                            this.pending = std::mem::take(line);
                            continue;
                        }
                    }
                    return Poll::Ready(Ok(()));
                }
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let filled = read.filled();
                    if filled.is_empty() {
                        this.eof = true;
                    } else {
                        let filled = filled.to_vec();
                        this.feed(&filled);
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut g = Guarded::new(());
        for part in input.chunks(chunk) {
            g.feed(part);
        }
        if let State::Line(line) = &g.state {
            g.pending.extend_from_slice(line);
        }
        g.pending
    }

    #[test]
    fn short_requests_pass_unchanged_in_any_chunking() {
        let input = b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nGET /xGET /y HTTP/1.1\r\n\r\n";
        for chunk in [1, 3, 7, 1000] {
            assert_eq!(run(input, chunk), input.to_vec());
        }
    }

    #[test]
    fn a_too_long_request_line_is_rewritten_and_the_next_request_kept() {
        let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
        let input = format!("{long}GET /b HTTP/1.1\r\n\r\n");
        for chunk in [1, 4096, 1 << 20] {
            let out = String::from_utf8(run(input.as_bytes(), chunk)).unwrap();
            let first_len = "GET /".len() + 100_000 + " HTTP/1.1".len();
            assert_eq!(
                out,
                format!(
                    "GET {URI_TOO_LONG_PATH}/{first_len} HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n"
                )
            );
        }
    }

    #[test]
    fn chunked_bodies_and_http2_turn_the_guard_off() {
        let input = format!(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{}",
            "b".repeat(70_000)
        );
        assert_eq!(run(input.as_bytes(), 999), input.as_bytes());
        let input = format!("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n{}", "c".repeat(70_000));
        assert_eq!(run(input.as_bytes(), 999), input.as_bytes());
    }
}
