//! A load balancer in front of several bot processes, standing in for what `MEETNOW_PUBLIC_URL` points at:
//! each request goes to the next backend in turn, or to the one a test names for the next requests, so a
//! test decides which process gets which notification. Method, path, query, content type and body are
//! passed through; the answer comes back as the backend gave it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;

#[derive(Default)]
struct Inner {
    backends: Vec<SocketAddr>,
    turn: usize,
    /// Backends (by index) the next requests go to, before turns resume.
    next: VecDeque<usize>,
    /// Where each request went, in order: (backend index, path).
    routed: Vec<(usize, String)>,
}

#[derive(Clone)]
pub struct Balancer {
    /// `http://127.0.0.1:PORT`: what `MEETNOW_PUBLIC_URL` is set to.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Balancer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(forward).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, inner }
    }

    /// Adds a backend; returns its index.
    pub fn add(&self, backend: SocketAddr) -> usize {
        let mut inner = self.inner.lock().unwrap();
        inner.backends.push(backend);
        inner.backends.len() - 1
    }

    /// Takes backend `index` out (the ones after it move down by one).
    pub fn remove(&self, index: usize) {
        self.inner.lock().unwrap().backends.remove(index);
    }

    /// The next requests go to these backends, in this order.
    pub fn route_next(&self, backends: &[usize]) {
        self.inner.lock().unwrap().next.extend(backends);
    }

    /// Where each request went: (backend, path).
    pub fn routed(&self) -> Vec<(usize, String)> {
        self.inner.lock().unwrap().routed.clone()
    }
}

async fn forward(State(inner): State<Arc<Mutex<Inner>>>, request: Request) -> Response {
    let backend = {
        let mut inner = inner.lock().unwrap();
        if inner.backends.is_empty() {
            return (StatusCode::BAD_GATEWAY, "no backend").into_response();
        }
        let index = match inner.next.pop_front() {
            Some(index) => index,
            None => {
                inner.turn += 1;
                inner.turn % inner.backends.len()
            }
        };
        let path = request.uri().path().to_owned();
        inner.routed.push((index, path));
        inner.backends[index]
    };
    let method = request.method().clone();
    let path_and_query = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let content_type = request.headers().get("content-type").cloned();
    // As a load balancer does: Graph's call notifications carry their proof in `Authorization`.
    let authorization = request.headers().get("authorization").cloned();
    let Ok(body) = axum::body::to_bytes(request.into_body(), 1 << 20).await else {
        return (StatusCode::BAD_REQUEST, "body too large").into_response();
    };
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut outgoing = client.request(method, format!("http://{backend}{path_and_query}")).body(body);
    if let Some(content_type) = content_type {
        outgoing = outgoing.header("content-type", content_type);
    }
    if let Some(authorization) = authorization {
        outgoing = outgoing.header("authorization", authorization);
    }
    match outgoing.send().await {
        Ok(answer) => {
            let status = answer.status();
            let content_type = answer.headers().get("content-type").cloned();
            let body: Bytes = answer.bytes().await.unwrap_or_default();
            let mut response = (status, body).into_response();
            if let Some(content_type) = content_type {
                response.headers_mut().insert("content-type", content_type);
            } else {
                response.headers_mut().remove("content-type");
            }
            response
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "backend unreachable").into_response(),
    }
}
