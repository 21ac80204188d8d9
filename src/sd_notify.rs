//! systemd's readiness protocol (`Type=notify`), by hand: one datagram of `KEY=VALUE` lines to
//! the unix socket named by `$NOTIFY_SOCKET` (see `sd_notify(3)`). WHY not a crate: the protocol
//! is a single `sendto`, std's `UnixDatagram` does it (abstract sockets included), and this
//! crate forbids `unsafe` in the binary.
//!
//! Without `$NOTIFY_SOCKET` (not under systemd, or `Type=simple`) every call is a no-op, so
//! `serve` behaves the same in a terminal.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Where to send notifications, read once from the environment at start.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    socket: Option<String>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` and `$WATCHDOG_USEC` (with `$WATCHDOG_PID`, which must name us
    /// when set: the variables can be inherited by a child that is not the service).
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self::from_vars(
            var("NOTIFY_SOCKET"),
            var("WATCHDOG_USEC"),
            var("WATCHDOG_PID"),
            std::process::id(),
        )
    }

    /// The same from given values (tests).
    pub fn from_vars(
        socket: Option<String>,
        watchdog_usec: Option<String>,
        watchdog_pid: Option<String>,
        pid: u32,
    ) -> Self {
        let for_us = watchdog_pid
            .as_deref()
            .is_none_or(|p| p.trim().parse::<u32>().is_ok_and(|p| p == pid));
        let watchdog = watchdog_usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|u| *u > 0 && for_us)
            .map(Duration::from_micros);
        Self { socket, watchdog }
    }

    /// How often to ping: half the watchdog interval, as `sd_watchdog_enabled(3)` advises.
    /// None when systemd runs no watchdog for us.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 2)
    }

    /// The service is up: the listener is bound and jobs are running.
    pub fn ready(&self) {
        self.send("READY=1\nSTATUS=Serving");
    }

    /// Still alive (the scheduler loop calls this every [`Self::watchdog_interval`]).
    pub fn watchdog(&self) {
        if self.watchdog.is_some() {
            self.send("WATCHDOG=1");
        }
    }

    /// Shutdown has begun.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=Stopping");
    }

    fn send(&self, message: &str) {
        let Some(path) = self.socket.as_deref() else {
            return;
        };
        if let Err(e) = send_to(path, message) {
            // systemd acts on the absence of READY or WATCHDOG; a log line says why.
            tracing::warn!(socket = path, error = %e, "could not notify systemd");
        }
    }
}

fn send_to(path: &str, message: &str) -> std::io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    // A leading '@' names a socket in Linux's abstract namespace.
    if let Some(name) = path.strip_prefix('@') {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sock.send_to_addr(message.as_bytes(), &addr)?;
            return Ok(());
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = name;
            return Err(std::io::Error::other("abstract sockets need Linux"));
        }
    }
    sock.send_to(message.as_bytes(), path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_only_when_set_for_this_process() {
        let n = Notifier::from_vars(None, Some("10000000".into()), None, 7);
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(5)));
        let other = Notifier::from_vars(None, Some("10000000".into()), Some("8".into()), 7);
        assert_eq!(other.watchdog_interval(), None);
        let none = Notifier::from_vars(None, None, None, 7);
        assert_eq!(none.watchdog_interval(), None);
    }

    #[test]
    fn messages_arrive_on_the_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).expect("bind");
        let n = Notifier::from_vars(
            Some(path.display().to_string()),
            Some("2000000".into()),
            None,
            1,
        );
        n.ready();
        n.watchdog();
        n.stopping();
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        for _ in 0..3 {
            let len = listener.recv(&mut buf).expect("recv");
            got.push(String::from_utf8_lossy(&buf[..len]).to_string());
        }
        assert_eq!(
            got,
            [
                "READY=1\nSTATUS=Serving",
                "WATCHDOG=1",
                "STOPPING=1\nSTATUS=Stopping"
            ]
        );
    }
}
