//! What the test servers (the fake endpoint, the proxy, the TLS front) share: a listener on
//! 127.0.0.1 with one thread per connection, and every socket tracked, so that dropping the
//! server shuts them all down, wakes the accept loop and joins it. A test that drops a
//! server mid-request is never left waiting on a socket nobody will close.
//!
//! `#[path]`-included by `fake_ecr.rs` (which the `fake_ecr` example includes in turn), so
//! it depends on std alone.

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What a server keeps between its connections: its sockets, and how it serves one.
pub trait Served: Send + Sync + 'static {
    fn conns(&self) -> &Conns;
    /// Serves one accepted connection, on its own thread.
    fn serve(&self, stream: TcpStream);
}

/// The open sockets of a server (accepted ones, and any it opened upstream).
#[derive(Default)]
pub struct Conns(Mutex<Open>);

#[derive(Default)]
struct Open {
    stopping: bool,
    next: u64,
    sockets: HashMap<u64, TcpStream>,
}

impl Conns {
    /// Tracks a socket for shutdown on drop; `None` if the server is stopping.
    pub fn track(&self, stream: &TcpStream) -> Option<u64> {
        let mut open = lock(&self.0);
        if open.stopping {
            return None;
        }
        let clone = stream.try_clone().ok()?;
        open.next += 1;
        let id = open.next;
        open.sockets.insert(id, clone);
        Some(id)
    }

    pub fn untrack(&self, id: u64) {
        lock(&self.0).sockets.remove(&id);
    }

    #[allow(dead_code)] // not every server looks
    pub fn stopping(&self) -> bool {
        lock(&self.0).stopping
    }

    /// Marks the server stopping and shuts every socket down.
    fn stop(&self) {
        let sockets = {
            let mut open = lock(&self.0);
            open.stopping = true;
            std::mem::take(&mut open.sockets)
        };
        for socket in sockets.values() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

/// A running server; dropping it stops it.
pub struct Server<S: Served> {
    shared: Arc<S>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl<S: Served> Server<S> {
    /// Serves each connection to a free port of 127.0.0.1 with `shared`. Panics, naming
    /// the server (`what`), if it cannot listen.
    #[allow(dead_code)] // the fake endpoint listens where it is told
    pub fn on_free_port(what: &str, shared: S) -> Server<S> {
        TcpListener::bind(("127.0.0.1", 0))
            .and_then(|listener| Server::start(listener, shared))
            .unwrap_or_else(|e| panic!("{what}: cannot listen: {e}"))
    }

    /// Serves each connection to `listener` with `shared`.
    pub fn start(listener: TcpListener, shared: S) -> std::io::Result<Server<S>> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(shared);
        let for_thread = Arc::clone(&shared);
        let acceptor = thread::spawn(move || accept_loop(&listener, &for_thread));
        Ok(Server {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    pub fn shared(&self) -> &S {
        &self.shared
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl<S: Served> Drop for Server<S> {
    fn drop(&mut self) {
        self.shared.conns().stop();
        // Wake the accept loop; join it only if the wake-up got through.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).is_ok();
        if let Some(acceptor) = self.acceptor.take().filter(|_| woke) {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop<S: Served>(listener: &TcpListener, shared: &Arc<S>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            thread::sleep(Duration::from_millis(10)); // out of descriptors, say
            continue;
        };
        let Some(id) = shared.conns().track(&stream) else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(shared);
        thread::spawn(move || {
            shared.serve(stream);
            shared.conns().untrack(id);
        });
    }
}

/// A connection as a buffered reader and a writer: `None` if the socket cannot be cloned.
#[allow(dead_code)] // the TLS front reads the raw socket
pub fn split(stream: TcpStream) -> Option<(BufReader<TcpStream>, TcpStream)> {
    let out = stream.try_clone().ok()?;
    Some((BufReader::new(stream), out))
}

/// A lock that outlives a panicking holder: a failed test's threads must not fail others.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
