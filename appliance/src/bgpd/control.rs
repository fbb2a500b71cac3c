//! The control socket's server side: one task per client (vtysh,
//! healthcheck). A request line is at most MAX_REQUEST bytes; an answer
//! goes back in parts through a queue of one, so a client that does not
//! read holds at most two parts in bgpd (one queued, one being written;
//! its `show` waits, paused), and after WRITE_TIMEOUT it is dropped.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::event::{Event, Events};
use crate::control::{Request, Response};

/// The longest request line: a whole config pasted with `vtysh -f` fits
/// many times over.
pub const MAX_REQUEST: usize = 4 << 20;
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

pub fn socket(path: &std::path::Path) -> Result<UnixListener, String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // A socket left by a crashed bgpd; a live one answers and is kept.
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(format!("another bgpd is already running on {}", path.display()));
    }
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path).map_err(|e| format!("control socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| format!("control socket {}: {e}", path.display()))?;
    Ok(l)
}

pub async fn accept_loop(l: UnixListener, tx: Events) {
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                tokio::spawn(client(s, tx.clone()));
            }
            Err(e) => {
                crate::warn!("control", "control socket: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads one line of at most MAX_REQUEST bytes. Ok(None): the client
/// closed; Err: the line is too long (the rest is not read).
async fn read_line(r: &mut BufReader<tokio::net::unix::OwnedReadHalf>, line: &mut Vec<u8>) -> Result<Option<()>, ()> {
    line.clear();
    loop {
        let buf = r.fill_buf().await.map_err(|_| ())?;
        if buf.is_empty() {
            return Ok(None);
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > MAX_REQUEST + 1 {
            return Err(());
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if done {
            return Ok(Some(()));
        }
    }
}

/// One client: requests in order, each answered in one or more parts.
async fn client(s: UnixStream, tx: Events) {
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let mut line = Vec::new();
    loop {
        let first = match read_line(&mut r, &mut line).await {
            Ok(None) => return,
            Err(()) => Response::err(format!("% request longer than {} bytes: refused", MAX_REQUEST)),
            Ok(Some(())) => match serde_json::from_slice::<Request>(&line) {
                Ok(req) => {
                    let (rtx, mut rrx) = mpsc::channel(1);
                    if tx.send(Event::Control(req, rtx)).is_err() {
                        return;
                    }
                    if !forward(&mut rrx, &mut w).await {
                        return;
                    }
                    continue;
                }
                Err(e) => Response::err(format!("% bad request: {e}")),
            },
        };
        let too_long = !first.ok && line.len() > MAX_REQUEST;
        if !write(&mut w, &first).await || too_long {
            return;
        }
    }
}

/// Passes an answer's parts to the client until the last; false when the
/// client is gone or does not read.
async fn forward(rx: &mut mpsc::Receiver<Response>, w: &mut tokio::net::unix::OwnedWriteHalf) -> bool {
    loop {
        let Some(part) = rx.recv().await else {
            return write(w, &Response::err("% bgpd is stopping")).await;
        };
        let last = !part.more;
        if !write(w, &part).await {
            return false;
        }
        if last {
            return true;
        }
    }
}

async fn write(w: &mut tokio::net::unix::OwnedWriteHalf, r: &Response) -> bool {
    let mut out = serde_json::to_vec(r).unwrap_or_default();
    out.push(b'\n');
    matches!(tokio::time::timeout(WRITE_TIMEOUT, w.write_all(&out)).await, Ok(Ok(())))
}
