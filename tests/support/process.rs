//! The `meetnow` binary as a separate process, as an operator runs it: a clean environment, an empty working
//! directory, its output read as it runs (a full pipe would block it, and tests wait on its log lines),
//! stopped with SIGTERM or killed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Runs a one-shot command (`create`, `check`, `attendance`) with exactly `vars` in its environment, in
/// `dir` or an empty directory (so no `.env` is read unless the test writes one), and waits for it.
pub async fn command(args: &[&str], vars: &[(&str, String)], dir: Option<&Path>) -> std::process::Output {
    let empty = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_meetnow"))
        .args(args)
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .current_dir(dir.unwrap_or(empty.path()))
        .output()
        .await
        .unwrap()
}

pub struct BotProcess {
    child: tokio::process::Child,
    /// Everything printed so far, stdout and stderr, line by line.
    output: Arc<Mutex<String>>,
    printed: Arc<Notify>,
    readers: JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
}

/// How to start the binary beyond its environment.
#[derive(Default)]
pub struct Launch {
    /// Run it as this user id (only possible as root).
    pub uid: Option<u32>,
    /// Run it in this directory instead of a fresh empty one.
    pub dir: Option<PathBuf>,
    /// The binary to run instead of the one cargo built.
    pub program: Option<PathBuf>,
}

impl BotProcess {
    /// Starts `meetnow run` with exactly `vars` in its environment.
    pub fn start(vars: &[(&str, String)]) -> Self {
        Self::launch(vars, Launch::default())
    }

    /// [`Self::start`] with other launch options.
    pub fn launch(vars: &[(&str, String)], launch: Launch) -> Self {
        let owned_dir = launch.dir.is_none().then(|| tempfile::tempdir().unwrap());
        let dir: &Path = launch.dir.as_deref().unwrap_or_else(|| owned_dir.as_ref().unwrap().path());
        let program = launch.program.unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_meetnow")));
        let mut command = tokio::process::Command::new(program);
        command
            .arg("run")
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        if let Some(uid) = launch.uid {
            command.uid(uid).gid(uid);
        }
        let mut child = command.spawn().unwrap();
        let (output, printed) = (Arc::new(Mutex::new(String::new())), Arc::new(Notify::new()));
        let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let readers = tokio::spawn({
            let (output, printed) = (output.clone(), printed.clone());
            async move {
                tokio::join!(
                    collect(stdout, output.clone(), printed.clone()),
                    collect(stderr, output.clone(), printed.clone())
                );
            }
        });
        Self { child, output, printed, readers, _dir: owned_dir }
    }

    /// The address the process bound for `what` (a word of the log line that reports it, e.g. "interactions"),
    /// read from its `bound=ADDR` log field: the process binds port 0, so no port is guessed.
    pub async fn bound(&self, what: &str) -> SocketAddr {
        let find = || {
            let output = self.output.lock().unwrap();
            output.lines().filter(|line| line.contains(what)).find_map(|line| {
                let (_, rest) = line.split_once("bound=")?;
                rest.split_whitespace().next()?.trim_matches('"').parse().ok()
            })
        };
        super::wait_until(&self.printed, Duration::from_secs(30), &format!("the {what} address"), find).await
    }

    /// The process id, for reading its memory in `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Sends SIGTERM and returns at once.
    #[cfg(unix)]
    pub fn signal_terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id().expect("running")).unwrap();
        // SAFETY: kill(2) with a pid we spawned and a valid signal number touches no memory of ours.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM delivered");
    }

    /// Waits (at most `limit`) for the process to exit; returns its status and everything it printed.
    pub async fn exited_within(mut self, limit: Duration) -> (ExitStatus, String) {
        let status = tokio::time::timeout(limit, self.child.wait()).await.expect("the bot exits in time").unwrap();
        let _ = self.readers.await;
        let output = self.output.lock().unwrap().clone();
        (status, output)
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until a printed line contains `text`.
    pub async fn printed(&self, text: &str) {
        let find = || self.output.lock().unwrap().contains(text).then_some(());
        super::wait_until(&self.printed, Duration::from_secs(30), text, find).await
    }

    /// Sends SIGTERM and waits (at most 20 s) for the exit; returns its status and everything it printed.
    #[cfg(unix)]
    pub async fn terminate(mut self) -> (ExitStatus, String) {
        let pid = libc::pid_t::try_from(self.child.id().expect("running")).unwrap();
        // SAFETY: kill(2) with a pid we spawned and a valid signal number touches no memory of ours.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM delivered");
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("the bot exits after SIGTERM")
            .unwrap();
        let _ = self.readers.await;
        let output = self.output.lock().unwrap().clone();
        (status, output)
    }

    /// SIGKILL: the process ends at once, in the middle of whatever it was doing.
    pub async fn kill(mut self) -> String {
        self.child.kill().await.expect("SIGKILL delivered");
        let _ = self.readers.await;
        let output = self.output.lock().unwrap().clone();
        output
    }
}

/// Appends each line `stream` prints to `output`, waking waiters.
async fn collect(stream: impl AsyncRead + Unpin, output: Arc<Mutex<String>>, printed: Arc<Notify>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut output = output.lock().unwrap();
        output.push_str(&line);
        output.push('\n');
        drop(output);
        printed.notify_waiters();
    }
}
