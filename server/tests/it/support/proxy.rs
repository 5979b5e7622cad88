//! A TCP proxy in front of a real service, so a test can take Postgres or Redis away from one
//! app (and give it back, or slow it down) without disturbing the other tests.
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    /// Bumped on every cut, so live connections notice and close.
    generation: watch::Sender<u64>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let up = Arc::new(AtomicBool::new(true));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (generation, _) = watch::channel(0u64);
        let (up2, delay2, gen2) = (up.clone(), delay_ms.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let (delay, cut) = (delay2.clone(), gen2.subscribe());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        pipe(client, server, delay, cut).await;
                    }
                });
            }
        });
        Self {
            addr,
            up,
            delay_ms,
            generation,
        }
    }

    /// The service becomes unreachable: open connections drop, new ones are refused.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Every chunk from the client waits this long before it is forwarded.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    delay: Arc<AtomicU64>,
    mut cut: watch::Receiver<u64>,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let upstream = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let ms = delay.load(Ordering::SeqCst);
            if ms > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
    };
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
        _ = cut.changed() => {}
    }
}

pub fn addr_of(url: &str) -> SocketAddr {
    let rest = url.split("://").nth(1).expect("url has a scheme");
    let host_port = rest.rsplit('@').next().unwrap().split('/').next().unwrap();
    host_port.parse().expect("url host is ip:port")
}

/// `url` with its host and port replaced by `proxy` (user, database and query are kept), so a
/// client through the proxy reaches the same database as one without.
pub fn through(url: &str, proxy: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("url has a scheme");
    let (user, host_and_path) = match rest.rsplit_once('@') {
        Some((user, tail)) => (format!("{user}@"), tail),
        None => (String::new(), rest),
    };
    let path = host_and_path.find('/').map_or("", |i| &host_and_path[i..]);
    format!("{scheme}://{user}{proxy}{path}")
}
