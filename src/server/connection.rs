//! One served connection: its requests counted in flight, the idle timeout and [`Limits::admit_within`]
//! (hyper closes neither an idle HTTP/2 connection nor one that never sent its preface), and its end at
//! shutdown.

use std::sync::{Arc, Mutex};

use axum::Router;
use tokio_util::sync::CancellationToken;

use super::Limits;

/// One connection's activity, as its requests report it: for the idle timeout and [`Limits::admit_within`].
/// Handlers reach it as a request extension, to say a request was admitted (it carried the credential) or
/// refused (the connection is closed at once).
#[derive(Clone, Default)]
pub struct Connection(Arc<Activity>);

#[derive(Default)]
struct Activity {
    state: Mutex<ActivityState>,
    changed: tokio::sync::Notify,
}

struct ActivityState {
    opened: tokio::time::Instant,
    in_flight: usize,
    last_answered: tokio::time::Instant,
    admitted: bool,
    refused: bool,
}

impl Default for ActivityState {
    fn default() -> Self {
        let now = tokio::time::Instant::now();
        Self { opened: now, in_flight: 0, last_answered: now, admitted: false, refused: false }
    }
}

/// A request in flight on a connection; its end is the connection's last activity.
struct InFlight(Connection);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.change(|state| {
            state.in_flight = state.in_flight.saturating_sub(1);
            state.last_answered = tokio::time::Instant::now();
        });
    }
}

impl Connection {
    fn change(&self, f: impl FnOnce(&mut ActivityState)) {
        f(&mut self.0.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        self.0.changed.notify_waiters();
    }

    /// A request on this connection carried what the route asks (the forwarder's secret).
    pub fn admit(&self) {
        self.change(|state| state.admitted = true);
    }

    /// A request on this connection did not: the connection is closed once its answer is out.
    pub fn refuse(&self) {
        self.change(|state| state.refused = true);
    }

    /// `service`, with each request counted in flight and carrying this connection as an extension.
    pub(super) fn track(
        &self,
        service: Router,
    ) -> impl tower::Service<
        axum::http::Request<hyper::body::Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone {
        let connection = self.clone();
        tower::service_fn(move |mut request: axum::http::Request<hyper::body::Incoming>| {
            connection.change(|state| state.in_flight += 1);
            let in_flight = InFlight(connection.clone());
            request.extensions_mut().insert(connection.clone());
            let answer = tower::ServiceExt::oneshot(service.clone(), request);
            async move {
                let response = answer.await;
                drop(in_flight);
                response
            }
        })
    }

    /// Returns when the connection should be closed: idle for `limits.idle_timeout`, not admitted within
    /// `limits.admit_within`, or refused.
    async fn closing(&self, limits: &Limits) {
        loop {
            let changed = self.0.changed.notified();
            let deadline = {
                let state = self.0.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if state.refused && state.in_flight == 0 {
                    return;
                }
                let idle = (state.in_flight == 0).then(|| state.last_answered + limits.idle_timeout);
                let unadmitted = limits.admit_within.filter(|_| !state.admitted).map(|within| state.opened + within);
                idle.into_iter().chain(unadmitted).min()
            };
            match deadline {
                Some(at) if tokio::time::Instant::now() >= at => return,
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = changed => {}
                },
                None => changed.await,
            }
        }
    }
}

/// What a served connection is watched for: going idle (or unadmitted, or refused), and shutdown.
pub(super) struct Watch {
    pub(super) connection: Connection,
    pub(super) limits: Limits,
    pub(super) stop: CancellationToken,
    pub(super) place: tokio::sync::OwnedSemaphorePermit,
}

impl Watch {
    /// Serves `served` until it ends, or until it is idle or shutdown starts: then it finishes the requests it
    /// is answering and closes (shutdown bounds that with the drain limit). Its place is given back at the end.
    pub(super) async fn run<C>(self, served: C)
    where
        C: hyper_util::server::graceful::GracefulConnection + Send + 'static,
        C::Error: std::fmt::Display + Send,
    {
        let mut served = std::pin::pin!(served);
        let ended = tokio::select! {
            ended = served.as_mut() => Some(ended),
            // Idle (nothing in flight), or a client the route never admitted: closed at once. A graceful
            // shutdown would wait for an HTTP/2 client that never sent its preface.
            () = self.connection.closing(&self.limits) => return drop(self.place),
            () = self.stop.cancelled() => None,
        };
        let ended = match ended {
            Some(ended) => ended,
            // Shutdown: the requests being answered finish (the drain limit bounds this).
            None => {
                served.as_mut().graceful_shutdown();
                served.await
            }
        };
        if let Err(error) = ended {
            tracing::debug!(%error, "connection ended with an error");
        }
        drop(self.place);
    }
}
