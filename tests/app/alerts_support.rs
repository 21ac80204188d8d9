//! What alert tests deliver to: a tiny SMTP sink and a tiny webhook receiver, each on a
//! random loopback port, recording what arrives. They speak just enough of each protocol for
//! lettre and reqwest.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An SMTP server that accepts every message and keeps its DATA.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut r = BufReader::new(r);
                    let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let cmd = line.trim_end().to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                            b"250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                        } else if cmd.starts_with("AUTH") {
                            b"235 2.7.0 authenticated\r\n"
                        } else if cmd == "DATA" {
                            let _ = w.write_all(b"354 end with .\r\n").await;
                            let mut data = String::new();
                            loop {
                                let mut l = String::new();
                                if r.read_line(&mut l).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if l == ".\r\n" {
                                    break;
                                }
                                data.push_str(&l);
                            }
                            store.lock().expect("lock").push(data);
                            b"250 queued\r\n"
                        } else if cmd == "QUIT" {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        if w.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink { port, mails }
    }

    pub fn mails(&self) -> Vec<String> {
        self.mails.lock().expect("lock").clone()
    }
}

/// An HTTP server that records each POST body and answers 500 to the first `fail` ones.
#[derive(Clone)]
pub struct WebhookReceiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    pub fail: Arc<AtomicU32>,
    pub refused: Arc<AtomicU32>,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind hook");
        let port = listener.local_addr().expect("addr").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicU32::new(0));
        let refused = Arc::new(AtomicU32::new(0));
        let (b, f, n) = (bodies.clone(), fail.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (b, f, n) = (b.clone(), f.clone(), n.clone());
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut r = BufReader::new(r);
                    let mut len = 0usize;
                    loop {
                        let mut l = String::new();
                        if r.read_line(&mut l).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let lower = l.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if l == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let failing = f
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
                        .is_ok();
                    let status = if failing {
                        n.fetch_add(1, Ordering::SeqCst);
                        "500 Internal Server Error"
                    } else {
                        b.lock()
                            .expect("lock")
                            .push(serde_json::from_slice(&body).unwrap_or_default());
                        "200 OK"
                    };
                    let _ = w
                        .write_all(
                            format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .as_bytes(),
                        )
                        .await;
                });
            }
        });
        WebhookReceiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            bodies,
            fail,
            refused,
        }
    }

    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().expect("lock").clone()
    }
}
