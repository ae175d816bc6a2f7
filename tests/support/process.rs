//! The `meetnow` binary as a separate process, as an operator runs it: a clean environment, an empty working
//! directory, its output collected while it runs (a full pipe would block it), stopped with SIGTERM.

use std::process::{ExitStatus, Stdio};

use tokio::io::AsyncReadExt as _;
use tokio::task::JoinHandle;

pub struct BotProcess {
    child: tokio::process::Child,
    output: JoinHandle<String>,
    _dir: tempfile::TempDir,
}

impl BotProcess {
    /// Starts `meetnow run` with exactly `vars` in its environment.
    pub fn start(vars: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_meetnow"))
            .arg("run")
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let output = tokio::spawn(async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let _ = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
            format!("{}{}", String::from_utf8_lossy(&out), String::from_utf8_lossy(&err))
        });
        Self { child, output, _dir: dir }
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
}
