//! Starting `spinhcl server` as a child process and finding its address on stderr.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `spinhcl server <args>` and waits for its "listening on" line.
    pub fn start(args: &[&str]) -> Self {
        Self::start_logged(args, "info")
    }

    /// [`ServerProcess::start`] with a `SPINHCL_LOG` filter.
    pub fn start_logged(args: &[&str], filter: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spinhcl"))
            .arg("server")
            .args(args)
            .env("SPINHCL_LOG", filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = mpsc::channel();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("spinhcl server listening on ").nth(1) {
                    let _ = found.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                sink.lock().unwrap().push(line);
            }
        });
        let url = match address.recv_timeout(Duration::from_secs(20)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not announce its address: {:?}",
                    lines.lock().unwrap()
                );
            }
        };
        Self {
            child,
            url,
            stderr: lines,
        }
    }

    pub fn start_on(data: &Path) -> Self {
        Self::start(&["--listen", "127.0.0.1:0", "--data", data.to_str().unwrap()])
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("server did not stop on SIGTERM");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
