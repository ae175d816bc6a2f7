//! The `meetnow` binary as a separate process, as an operator runs it: a clean environment, an empty working
//! directory, its output collected while it runs (a full pipe would block it), stopped with SIGTERM or killed.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use tokio::io::AsyncReadExt as _;
use tokio::task::JoinHandle;

pub struct BotProcess {
    child: tokio::process::Child,
    output: JoinHandle<String>,
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
        let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let output = tokio::spawn(async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let _ = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
            format!("{}{}", String::from_utf8_lossy(&out), String::from_utf8_lossy(&err))
        });
        Self { child, output, _dir: owned_dir }
    }

    /// Sends SIGTERM and waits (at most 20 s) for the exit; returns its status and everything it printed.
    #[cfg(unix)]
    pub async fn terminate(mut self) -> (ExitStatus, String) {
        let pid = libc::pid_t::try_from(self.child.id().expect("running")).unwrap();
        // SAFETY: kill(2) with a pid we spawned and a valid signal number touches no memory of ours.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM delivered");
        let status = tokio::time::timeout(std::time::Duration::from_secs(20), self.child.wait())
            .await
            .expect("the bot exits after SIGTERM")
            .unwrap();
        (status, self.output.await.unwrap())
    }

    /// SIGKILL: the process ends at once, in the middle of whatever it was doing.
    pub async fn kill(mut self) -> String {
        self.child.kill().await.expect("SIGKILL delivered");
        self.output.await.unwrap()
    }

    /// Everything printed so far is not available until exit; this tells whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}
