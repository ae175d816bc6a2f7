//! Ringing someone into a bridge: Graph's calls API, from joining the meeting to hanging up.
//!
//! This module owns the Graph side of a ring and knows nothing of Discord:
//! - [`Ringer::ring`]: the bot joins the bridge's meeting (service-hosted media: it sends and hears nothing),
//!   invites the person, follows the invitation to its outcome ([`Outcome`]) and hangs up at once. The call
//!   lives in the process that took the command, from join to hang-up; nothing about it is stored elsewhere.
//! - [`callbacks`]: where Graph posts the call's notifications (`/graph/calls/{until}/{mac}`), which may be
//!   any process behind the load balancer. Each is checked (Microsoft's signed token, the address's MAC)
//!   and answered at once. The process running the ring is woken to read the call's progress; any other
//!   process knows from the address alone until when the call may live (`until`), and hangs up one still
//!   there after that: a call whose process died mid-ring.
//!
//! A ring never keeps the bot in a call more than [`OVERSTAY`] past the wait for an answer
//! (`MEETNOW_RING_SECONDS`, at most 60 s): 90 s at most.
//!
//! Reading progress is a `GET` of the call or the operation, on a notification or every [`POLL`] without one
//! (when Graph's notifications reach another process): the outcome never depends on which process Graph
//! chose.

pub mod callbacks;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::RingConfig;
use crate::graph::{
    CallState, GraphClient, GraphError, Invitation, InviteOperation, MeetingCoordinates, Person, ResultInfo,
};
use crate::live::Certificates;
use crate::metrics::Metrics;
use crate::telemetry::Chain;

/// The path below `MEETNOW_PUBLIC_URL` where Graph posts call notifications: the Azure Bot's calling webhook.
pub const CALLS_PATH: &str = "/graph/calls";
/// Rings one process runs at once; past it a ring is refused with a sentence, not queued.
pub const MAX_RINGS_IN_FLIGHT: usize = 16;
/// How long past the wait for an answer a call may live before any process that hears of it hangs it up.
pub const OVERSTAY: Duration = Duration::from_secs(30);
/// How long joining may take before the ring gives up (Graph's `establishing` takes a second or two).
const JOIN_WITHIN: Duration = Duration::from_secs(15);
/// How often a ring reads its call's progress when no notification wakes it sooner.
pub const POLL: Duration = Duration::from_secs(2);
/// Calls of dead processes waiting for their time to be hung up, at most: a flood of forged-but-signed
/// addresses can't grow memory.
const MAX_LEFT_BEHIND: usize = 1024;
/// This process's own finished calls remembered, for the notifications that arrive after the hang-up.
const FINISHED_REMEMBERED: usize = 256;

/// How a ring ended.
#[derive(Debug)]
pub enum Outcome {
    /// They joined the bridge.
    Joined,
    /// They declined (or were busy).
    Declined,
    /// Nobody answered within the wait.
    NoAnswer(Duration),
    /// Teams could not reach them: no Teams account, or not in this tenant.
    Unreachable,
    /// The bot could not ring at all.
    Failed(RingFailure),
}

impl Outcome {
    /// The metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Joined => "joined",
            Self::Declined => "declined",
            Self::NoAnswer(_) => "no_answer",
            Self::Unreachable => "unreachable",
            Self::Failed(_) => "failed",
        }
    }
}

/// Why a ring could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RingFailure {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("the bridge's join link does not name a meeting the calls API can join")]
    BadLink,
    #[error("the bot's call was not established ({})", describe(.0.as_ref()))]
    NotJoined(Option<ResultInfo>),
    #[error("Teams refused the invitation ({})", describe(Some(.0)))]
    Refused(ResultInfo),
}

fn describe(info: Option<&ResultInfo>) -> String {
    match info {
        Some(info) => format!("code {}/{}: {}", info.code, info.subcode, info.message.as_deref().unwrap_or("")),
        None => "no answer from Graph in time".into(),
    }
}

/// What a failed invitation's `resultInfo` means. Graph's pages do not list the codes; these are the SIP
/// status codes Teams reports, as Microsoft's calling samples and the Teams call records show them.
fn invitation_outcome(info: ResultInfo, waited: Duration) -> Outcome {
    match info.code {
        603 | 486 => Outcome::Declined,
        408 | 480 | 487 => Outcome::NoAnswer(waited),
        404 | 410 => Outcome::Unreachable,
        _ => Outcome::Failed(RingFailure::Refused(info)),
    }
}

/// Rings people into bridges, and hangs up calls left behind (see the module docs).
pub struct Ringer {
    graph: GraphClient,
    certificates: Certificates,
    public_url: Url,
    answer_within: Duration,
    tokens: callbacks::CallTokens,
    /// The calls this process is ringing on, by call id, with what wakes the ring.
    ringing: Mutex<HashMap<String, Arc<Heard>>>,
    /// Permits for [`MAX_RINGS_IN_FLIGHT`].
    slots: Arc<Semaphore>,
    /// Calls of other processes this one will hang up if they are still there at their time.
    left_behind: Mutex<HashSet<String>>,
    /// The last calls this process hung up itself: news about them that comes late is not a call left behind.
    finished: Mutex<VecDeque<String>>,
    metrics: Arc<Metrics>,
}

/// What the notifications of one call said, for the ring running it: it is woken, and reads what they carry
/// instead of asking Graph again.
#[derive(Default)]
struct Heard {
    wake: Notify,
    /// What arrived since the ring last looked.
    news: Mutex<News>,
}

/// What a verified call notification said about its call.
#[derive(Debug, Default)]
pub(crate) struct News {
    pub(crate) ended: bool,
    pub(crate) state: Option<CallState>,
    pub(crate) operation: Option<InviteOperation>,
    /// The object ids of users a participants notification shows on the call.
    pub(crate) participants: Vec<String>,
}

impl News {
    /// Adds what `later` says; the latest state and operation win, participants accumulate (a few dozen).
    fn merge(&mut self, later: News) {
        self.ended |= later.ended;
        self.state = later.state.or(self.state.take());
        self.operation = later.operation.or(self.operation.take());
        self.participants.extend(later.participants.into_iter().take(64));
    }
}

/// A ring's place among those in flight.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

impl Ringer {
    pub fn new(
        config: &RingConfig,
        certificates: Certificates,
        public_url: Url,
        graph: GraphClient,
        http: reqwest::Client,
        client_id: &str,
    ) -> Self {
        let metrics = graph.metrics();
        Self {
            tokens: callbacks::CallTokens::new(http, config.openid_configuration.clone(), client_id),
            graph,
            certificates,
            public_url,
            answer_within: config.answer_within,
            ringing: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(MAX_RINGS_IN_FLIGHT)),
            left_behind: Mutex::new(HashSet::new()),
            finished: Mutex::new(VecDeque::new()),
            metrics,
        }
    }

    /// A place for one more ring, unless [`MAX_RINGS_IN_FLIGHT`] are running.
    pub fn slot(&self) -> Option<Slot> {
        self.slots.clone().try_acquire_owned().ok().map(Slot)
    }

    /// What runs in the background while the bot runs: the calling service's signing keys kept at hand.
    pub fn background(self: &Arc<Self>) -> impl std::future::Future<Output = ()> + Send + 'static {
        let ringer = self.clone();
        async move { ringer.tokens.keys.keep().await }
    }

    /// `{MEETNOW_PUBLIC_URL}/graph/calls`: the Azure Bot's calling webhook.
    pub fn webhook(&self) -> String {
        format!("{}{CALLS_PATH}", self.public_url.as_str().trim_end_matches('/'))
    }

    /// The callback address of a call that may live until `until` (Unix seconds), with the MAC that makes it
    /// ours: `{webhook}/{until}/{mac}`.
    fn callback_uri(&self, until: i64) -> String {
        format!("{}/{until}/{}", self.webhook(), self.certificates.current.client_state(&callbacks::address(until)))
    }

    /// The routes Graph posts call notifications to.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        callbacks::router(self.clone())
    }

    /// Rings `person` into the meeting at `join_url` and returns how it ended, the bot's call hung up.
    pub async fn ring(&self, join_url: &str, person: &Person, _slot: &Slot) -> Outcome {
        let outcome = self.ring_once(join_url, person).await;
        self.metrics.ring_finished(outcome.label());
        outcome
    }

    async fn ring_once(&self, join_url: &str, person: &Person) -> Outcome {
        let Some(meeting) = MeetingCoordinates::from_join_url(join_url) else {
            return Outcome::Failed(RingFailure::BadLink);
        };
        let until = time::OffsetDateTime::now_utc().unix_timestamp()
            + i64::try_from((self.answer_within + OVERSTAY).as_secs()).unwrap_or(i64::MAX / 2);
        let call = match Box::pin(self.graph.join_meeting(&meeting, &self.callback_uri(until))).await {
            Ok(call) => call,
            Err(error) => return Outcome::Failed(error.into()),
        };
        tracing::info!(call_id = %call.id, "joined the bridge to ring someone");
        let on_call = OnCall::new(self, call.id.clone());
        let outcome = self.follow(&on_call, call.state, &meeting, person).await;
        on_call.hang_up().await;
        outcome
    }

    /// From the joined call to the invitation's outcome.
    async fn follow(
        &self,
        call: &OnCall<'_>,
        mut state: CallState,
        meeting: &MeetingCoordinates,
        person: &Person,
    ) -> Outcome {
        let joining_ends = Instant::now() + JOIN_WITHIN;
        let mut result = None;
        while state != CallState::Established {
            if state == CallState::Ended {
                return Outcome::Failed(RingFailure::NotJoined(result));
            }
            let woken = call.wait_until(joining_ends.min(Instant::now() + POLL)).await;
            if !woken && Instant::now() >= joining_ends {
                return Outcome::Failed(RingFailure::NotJoined(None));
            }
            let news = if woken { call.news() } else { News::default() };
            if let Some(told) = news.state.or(news.ended.then_some(CallState::Ended)) {
                state = told;
                continue;
            }
            match Box::pin(self.graph.call(&call.id)).await {
                Ok(Some(now)) => (state, result) = (now.state, now.result),
                Ok(None) => state = CallState::Ended,
                Err(error) => tracing::warn!(error = %Chain(&error), "could not read the call's state; trying again"),
            }
        }
        let invited = Box::pin(self.graph.invite(&call.id, &person.id, &meeting.tenant_id, "meetnow ring")).await;
        let operation = match invited {
            Ok(operation) => operation,
            Err(error) if crate::graph::is_not_found(&error) => return Outcome::Unreachable,
            Err(error) => return Outcome::Failed(error.into()),
        };
        let rung = Instant::now();
        let answer_by = rung + self.answer_within;
        let mut status = operation.status;
        loop {
            match status {
                Invitation::Joined => return Outcome::Joined,
                Invitation::Failed(info) => return invitation_outcome(info, rung.elapsed()),
                Invitation::Ringing => {}
            }
            let woken = call.wait_until(answer_by.min(Instant::now() + POLL)).await;
            if Instant::now() >= answer_by {
                return Outcome::NoAnswer(self.answer_within);
            }
            let news = if woken { call.news() } else { News::default() };
            if news.participants.contains(&person.id) {
                return Outcome::Joined;
            }
            if let Some(told) = news.operation.filter(|told| told.id == operation.id) {
                status = told.status;
                continue;
            }
            match Box::pin(self.graph.operation(&call.id, &operation.id)).await {
                Ok(now) => status = now.status,
                Err(error) => tracing::warn!(error = %Chain(&error), "could not read the invitation; trying again"),
            }
        }
    }

    /// A verified notification about call `call_id`, whose address says it may live until `until`: wakes the
    /// ring running it here, or, for another process's call, makes sure it is gone by then.
    pub(crate) fn heard_of(self: &Arc<Self>, call_id: &str, until: i64, news: News) {
        if let Some(heard) = self.ringing.lock().ok().and_then(|ringing| ringing.get(call_id).cloned()) {
            if let Ok(mut known) = heard.news.lock() {
                known.merge(news);
            }
            heard.wake.notify_one();
            return;
        }
        let ours = self.finished.lock().is_ok_and(|finished| finished.iter().any(|id| id == call_id));
        if ours || news.ended || news.state == Some(CallState::Ended) {
            return;
        }
        let fresh = self
            .left_behind
            .lock()
            .is_ok_and(|mut waiting| waiting.len() < MAX_LEFT_BEHIND && waiting.insert(call_id.to_owned()));
        if !fresh {
            return;
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let wait = Duration::from_secs(u64::try_from(until.saturating_sub(now)).unwrap_or(0));
        let (ringer, call_id) = (self.clone(), call_id.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            // Its own process hangs up well before `until`; one still there then was left behind.
            match Box::pin(ringer.graph.call(&call_id)).await {
                Ok(Some(call)) if call.state != CallState::Ended => {
                    tracing::warn!(%call_id, "hanging up a call another process left behind");
                    if let Err(error) = Box::pin(ringer.graph.hang_up(&call_id)).await {
                        tracing::warn!(%call_id, error = %Chain(&error), "could not hang up a call left behind");
                    } else {
                        ringer.metrics.ring_left_behind_hung_up();
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%call_id, error = %Chain(&error), "could not read a call left behind"),
            }
            if let Ok(mut waiting) = ringer.left_behind.lock() {
                waiting.remove(&call_id);
            }
        });
    }
}

/// The bot on one call: registered so notifications wake its ring, and hung up even when the ring is
/// cancelled (a shutdown's drain limit), by a task of its own.
struct OnCall<'a> {
    ringer: &'a Ringer,
    id: String,
    heard: Arc<Heard>,
    hung_up: bool,
}

impl<'a> OnCall<'a> {
    fn new(ringer: &'a Ringer, id: String) -> Self {
        let heard = Arc::new(Heard::default());
        if let Ok(mut ringing) = ringer.ringing.lock() {
            ringing.insert(id.clone(), heard.clone());
        }
        Self { ringer, id, heard, hung_up: false }
    }

    /// What the notifications said since the last look (taken: the next look starts afresh).
    fn news(&self) -> News {
        self.heard.news.lock().map(|mut news| std::mem::take(&mut *news)).unwrap_or_default()
    }

    /// Waits for a notification about this call, or `until`; whether one came.
    async fn wait_until(&self, until: Instant) -> bool {
        tokio::select! {
            () = self.heard.wake.notified() => true,
            () = tokio::time::sleep_until(until) => false,
        }
    }

    async fn hang_up(mut self) {
        if let Err(error) = Box::pin(self.ringer.graph.hang_up(&self.id)).await {
            tracing::warn!(call_id = %self.id, error = %Chain(&error), "could not hang up; any process that hears of the call later will");
        }
        self.hung_up = true;
    }
}

impl Drop for OnCall<'_> {
    fn drop(&mut self) {
        if let Ok(mut ringing) = self.ringer.ringing.lock() {
            ringing.remove(&self.id);
        }
        if let Ok(mut finished) = self.ringer.finished.lock() {
            if finished.len() >= FINISHED_REMEMBERED {
                finished.pop_front();
            }
            finished.push_back(self.id.clone());
        }
        if !self.hung_up {
            let (graph, id) = (self.ringer.graph.clone(), std::mem::take(&mut self.id));
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = Box::pin(graph.hang_up(&id)).await;
                });
            }
        }
    }
}
