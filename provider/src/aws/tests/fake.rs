//! A local endpoint answering like AWS for the unit tests: each request (head and body, as
//! text) goes to a handler that returns the status and XML body; requests are counted and kept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the fake server saw.
#[derive(Clone, Default)]
pub struct Seen {
    count: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Seen {
    /// Requests answered so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// The requests (head and body) answered so far, in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Serves `handler(n, request)` for the n-th request (from 0). Returns the URL and the record.
pub async fn serve<H>(handler: H) -> (String, Seen)
where
    H: Fn(usize, &str) -> (u16, String) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Seen::default();
    let record = seen.clone();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let record = record.clone();
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let Some(request) = read_request(&mut socket).await else {
                    return;
                };
                let n = record.count.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut r) = record.requests.lock() {
                    r.push(request.clone());
                }
                let (status, body) = handler(n, &request);
                let reason = if status == 200 { "OK" } else { "Error" };
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, seen)
}

/// Answers with the next scripted (status, body); the last answer repeats.
pub async fn fake_aws(script: Vec<(u16, &'static str)>) -> (String, Seen) {
    serve(move |n, _| {
        let (status, body) = script
            .get(n)
            .or(script.last())
            .copied()
            .unwrap_or((500, ""));
        (status, body.to_owned())
    })
    .await
}

/// Reads the head and the body (by Content-Length) of one request.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..read)?);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .get(..end)?
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Some(text);
            }
        }
    }
}
