//! A small SMTP server on 127.0.0.1 for tests and benchmarks: a real SMTP conversation over TCP
//! (EHLO, MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT) that keeps what it receives and
//! can be told to misbehave the way real servers do.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Accepts every message.
    Accept,
    /// Greets with 421 and hangs up; open connections get 421 at their next command.
    Unavailable,
    /// Answers 451 (try again later) at the end of DATA.
    TemporaryFailure,
    /// Keeps each message but does not answer the end of DATA for a long time: the client
    /// cannot know it arrived.
    Stall,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The name the client gave in EHLO/HELO.
    pub client: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

impl Received {
    /// An (unfolded) header's raw value.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// A header with its RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) decoded.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        Some(decode_words(&self.header(name)?))
    }
}

fn decode_words(value: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut previous_was_word = false;
    for token in value.split(' ').filter(|t| !t.is_empty()) {
        let lower = token.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?") && lower.ends_with("?=") && token.len() > 12;
        // Whitespace between two encoded words is not part of the text (RFC 2047).
        let adjacent_words = encoded && previous_was_word;
        if !out.is_empty() && !adjacent_words {
            out.push(' ');
        }
        if encoded {
            let inner = &token[8..token.len() - 2];
            let (encoding, text) = (&inner[..1], &inner[2..]);
            let bytes = if encoding.eq_ignore_ascii_case("b") {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap_or_default()
            } else {
                decode_q(text)
            };
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            out.push_str(token);
        }
        previous_was_word = encoded;
    }
    out
}

fn decode_q(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("3F");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[derive(Clone)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    /// Recipients refused for good (550) at RCPT.
    refused: Arc<Mutex<Vec<String>>>,
    /// Connections accepted so far.
    connections: Arc<Mutex<usize>>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let server = Self {
            addr: listener.local_addr().expect("smtp address"),
            received: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            refused: Arc::default(),
            connections: Arc::default(),
        };
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Replies are small writes: without this, Nagle's algorithm and delayed ACKs
                // hold each one up to 40 ms.
                let _ = stream.set_nodelay(true);
                *s.connections.lock().unwrap() += 1;
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.converse(stream).await;
                });
            }
        });
        server
    }

    /// `smtp://127.0.0.1:port` for SMTP_URL.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn refuse_recipient(&self, address: &str) {
        self.refused.lock().unwrap().push(address.to_owned());
    }

    pub fn allow_all(&self) {
        self.refused.lock().unwrap().clear();
    }

    /// How many messages arrived (without copying them).
    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    fn mode(&self) -> Mode {
        self.mode.lock().unwrap().clone()
    }

    async fn converse(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        if self.mode() == Mode::Unavailable {
            write
                .write_all(b"421 sink.test Service not available\r\n")
                .await?;
            return Ok(());
        }
        write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
        let mut client = String::new();
        let mut mail_from = String::new();
        let mut rcpt_to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if self.mode() == Mode::Unavailable {
                write
                    .write_all(b"421 sink.test Service not available, closing\r\n")
                    .await?;
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                client = command[4..].trim().to_owned();
            }
            if upper.starts_with("EHLO") {
                write
                    .write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?;
            } else if upper.starts_with("HELO") || upper == "NOOP" {
                write.write_all(b"250 OK\r\n").await?;
            } else if upper == "RSET" {
                mail_from.clear();
                rcpt_to.clear();
                write.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                mail_from = address(&command[10..]);
                rcpt_to.clear();
                write.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                let to = address(&command[8..]);
                if self.refused.lock().unwrap().contains(&to) {
                    write
                        .write_all(b"550 5.1.1 No such mailbox here\r\n")
                        .await?;
                } else {
                    rcpt_to.push(to);
                    write.write_all(b"250 OK\r\n").await?;
                }
            } else if upper == "DATA" {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                match self.mode() {
                    Mode::TemporaryFailure => {
                        write.write_all(b"451 4.3.0 Try again later\r\n").await?;
                    }
                    Mode::Unavailable => {
                        write.write_all(b"421 closing\r\n").await?;
                        return Ok(());
                    }
                    Mode::Accept | Mode::Stall => {
                        let stall = self.mode() == Mode::Stall;
                        self.received.lock().unwrap().push(Received {
                            client: client.clone(),
                            mail_from: mail_from.clone(),
                            rcpt_to: rcpt_to.clone(),
                            data,
                        });
                        if stall {
                            tokio::time::sleep(std::time::Duration::from_secs(120)).await;
                        }
                        write.write_all(b"250 OK queued\r\n").await?;
                    }
                }
                mail_from.clear();
                rcpt_to.clear();
            } else if upper == "QUIT" {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"500 Unrecognised command\r\n").await?;
            }
        }
    }
}

fn address(arg: &str) -> String {
    let arg = arg.trim();
    let inner = arg
        .strip_prefix('<')
        .and_then(|a| a.split_once('>'))
        .map_or(arg, |(a, _)| a);
    inner.to_owned()
}
