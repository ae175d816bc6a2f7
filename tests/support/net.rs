//! The network between the bot and the stand-ins, made like production's: TLS from a test CA the bot trusts
//! the way a company CA is trusted (`SSL_CERT_FILE`), HTTP/2 or HTTP/1.1 chosen by ALPN, a relay that delays
//! every segment (so handshakes cost round trips), and a CONNECT proxy that records where it was asked to go.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority made at start-up, and a server certificate it signed for 127.0.0.1 and localhost.
pub struct TestCa {
    /// The CA certificate, PEM: what goes in the file `SSL_CERT_FILE` names.
    pub pem: String,
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
}

impl TestCa {
    /// The one CA of this test binary (made once: every stand-in serves a certificate it signed).
    pub fn shared() -> &'static TestCa {
        static CA: OnceLock<TestCa> = OnceLock::new();
        CA.get_or_init(|| Self::new("meetnow test CA"))
    }

    /// A CA nobody trusts, for the "unknown CA" case.
    pub fn untrusted() -> TestCa {
        Self::new("an unknown CA")
    }

    fn new(name: &str) -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(rcgen::DnType::CommonName, name);
        ca.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca_certificate = ca.self_signed(&ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let mut server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        server.distinguished_name.push(rcgen::DnType::CommonName, "stand-in");
        let server_certificate = server.signed_by(&server_key, &ca_certificate, &ca_key).unwrap();
        Self {
            pem: ca_certificate.pem(),
            chain: vec![server_certificate.der().clone()],
            key: rustls_pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        }
    }

    /// A server configuration offering `alpn` (e.g. `[b"h2", b"http/1.1"]`).
    pub fn server(&self, alpn: &[&[u8]]) -> Arc<rustls::ServerConfig> {
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// Writes the CA certificate to `dir/ca.pem` and returns the path, for `SSL_CERT_FILE`.
    pub fn write(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.pem).unwrap();
        path
    }
}

/// How a stand-in is served.
#[derive(Clone, Default)]
pub enum Transport {
    /// `http://`, HTTP/1.1 (most tests).
    #[default]
    Plain,
    /// `https://` with this configuration (its ALPN decides HTTP/2 or HTTP/1.1).
    Tls(Arc<rustls::ServerConfig>),
}

impl Transport {
    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Plain => "http",
            Self::Tls(_) => "https",
        }
    }

    /// TLS from the shared test CA, offering HTTP/2 and HTTP/1.1.
    pub fn tls() -> Self {
        Self::Tls(TestCa::shared().server(&[b"h2", b"http/1.1"]))
    }
    /// TLS from the shared test CA, HTTP/1.1 only (a server or proxy without HTTP/2).
    pub fn tls_http1() -> Self {
        Self::Tls(TestCa::shared().server(&[b"http/1.1"]))
    }
}

/// What a server saw of its connections.
#[derive(Default)]
pub struct Connections {
    /// TCP connections accepted.
    pub opened: AtomicU64,
    /// TLS handshakes that completed, and of those, how many chose HTTP/2.
    pub handshakes: AtomicU64,
    pub http2: AtomicU64,
    /// TLS handshakes the client broke off (it did not trust the certificate).
    pub refused: AtomicU64,
    /// Notified after every handshake, completed or refused.
    changed: tokio::sync::Notify,
}

impl Connections {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }

    /// Waits until `check` holds of the counts (the server notices a handshake after the client does).
    pub async fn wait_for(&self, what: &str, check: impl Fn(&Connections) -> bool) {
        super::wait_until(&self.changed, Duration::from_secs(10), what, || check(self).then_some(())).await
    }
}

/// Serves `router` on `listener` and returns the connection counts.
pub fn serve(listener: TcpListener, router: Router, transport: &Transport) -> Arc<Connections> {
    let connections = Arc::new(Connections::default());
    let counts = connections.clone();
    match transport {
        Transport::Plain => {
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            connections
        }
        Transport::Tls(config) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else { continue };
                    counts.opened.fetch_add(1, Ordering::SeqCst);
                    let (acceptor, router, counts) = (acceptor.clone(), router.clone(), counts.clone());
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            counts.refused.fetch_add(1, Ordering::SeqCst);
                            counts.changed.notify_waiters();
                            return;
                        };
                        if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                            counts.http2.fetch_add(1, Ordering::SeqCst);
                        }
                        counts.handshakes.fetch_add(1, Ordering::SeqCst);
                        counts.changed.notify_waiters();
                        let service = TowerToHyperService::new(router);
                        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                            .serve_connection_with_upgrades(TokioIo::new(tls), service)
                            .await;
                    });
                }
            });
            connections
        }
    }
}

/// A TCP relay that delays every segment by `one_way` in each direction, as a link with a round-trip time of
/// twice that does: a TCP+TLS handshake then costs what it costs across a continent.
pub struct DelayRelay {
    pub addr: SocketAddr,
}

impl DelayRelay {
    pub async fn start(upstream: SocketAddr, one_way: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    // The connect itself crosses the link too: one round trip before the first byte.
                    tokio::time::sleep(one_way * 2).await;
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::spawn(delayed_copy(client_read, server_write, one_way));
                    tokio::spawn(delayed_copy(server_read, client_write, one_way));
                });
            }
        });
        Self { addr }
    }

    /// `base_url` with its address replaced by the relay's.
    pub fn url(&self, base_url: &str) -> String {
        let (scheme, _) = base_url.split_once("://").unwrap();
        format!("{scheme}://{}", self.addr)
    }
}

/// Copies `from` to `to`, each chunk leaving `delay` after it arrived (chunks keep their order and overlap in
/// flight, as segments on a long link do).
async fn delayed_copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (queue, mut due) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, chunk)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buffer).await {
        if queue.send((tokio::time::Instant::now() + delay, buffer[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(queue);
    let _ = writer.await;
}

/// A forward proxy that speaks `CONNECT host:port` (what `HTTPS_PROXY` makes clients send) and plain-http
/// requests in absolute form (`HTTP_PROXY`), records every target, then tunnels or forwards the bytes.
pub struct ConnectProxy {
    pub url: String,
    targets: Arc<Mutex<VecDeque<String>>>,
}

impl ConnectProxy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(VecDeque::new()));
        let seen = targets.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                        if client.read_exact(&mut byte).await.is_err() {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let mut words = head.split_whitespace();
                    let (Some(method), Some(target)) = (words.next(), words.next()) else { return };
                    if method != "CONNECT" {
                        // A plain-http request in absolute form (what `HTTP_PROXY` makes clients send): recorded
                        // as `METHOD URL`, then forwarded in origin form on a connection of its own.
                        seen.lock().unwrap().push_back(format!("{method} {target}"));
                        let Ok(url) = url::Url::parse(target) else { return };
                        let authority = format!(
                            "{}:{}",
                            url.host_str().unwrap_or_default(),
                            url.port_or_known_default().unwrap_or(80)
                        );
                        let Ok(mut upstream) = TcpStream::connect(&authority).await else { return };
                        let origin_form = &url[url::Position::BeforePath..];
                        let head = head
                            .replacen(target, origin_form, 1)
                            .replace("Connection: keep-alive", "Connection: close");
                        let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                        if upstream.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                        return;
                    }
                    seen.lock().unwrap().push_back(target.to_owned());
                    let Ok(mut upstream) = TcpStream::connect(target).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
                        return;
                    };
                    let _ = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
        Self { url, targets }
    }

    /// Every `host:port` a client asked to be connected to, in order.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().iter().cloned().collect()
    }
}
