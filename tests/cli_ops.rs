//! The operations side of the `tenantry` binary, run as a real process: `restore`, systemd's
//! readiness protocol under `serve`, and the `[metrics]` configuration checks.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn tenantry(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(args)
        .env_remove("TENANTRY_CONFIG")
        .env("TENANTRY_SERVER_DATA_DIR", dir)
        .env("TENANTRY_SERVER_LISTEN", "127.0.0.1:0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tenantry");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn add_user(dir: &std::path::Path, email: &str) -> Output {
    tenantry(
        dir,
        &["admin", "add-user", "--email", email],
        Some("a long enough password\n"),
    )
}

#[test]
fn restore_puts_the_backup_back_and_keeps_the_replaced_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(add_user(dir.path(), "before@msp.example").status.success());
    let backup = dir.path().join("nightly.redb");
    let o = tenantry(
        dir.path(),
        &["backup", backup.to_str().expect("path")],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(add_user(dir.path(), "after@msp.example").status.success());

    // Something that is not a backup is refused, and nothing changes.
    let junk = dir.path().join("junk.redb");
    std::fs::write(&junk, vec![0x5a; 8192]).expect("write");
    let o = tenantry(dir.path(), &["restore", junk.to_str().expect("path")], None);
    assert!(!o.status.success());
    assert!(text(&o).contains("junk.redb"), "{}", text(&o));
    let o = add_user(dir.path(), "after@msp.example");
    assert!(!o.status.success(), "the database was left as it was");

    let o = tenantry(
        dir.path(),
        &["restore", backup.to_str().expect("path")],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("restored") && out.contains("kept as"), "{out}");
    assert!(dir.path().join("tenantry.redb.before-restore").exists());
    // The restored database has the account made before the backup, not the one after.
    assert!(!add_user(dir.path(), "before@msp.example").status.success());
    assert!(add_user(dir.path(), "after@msp.example").status.success());
}

/// Receive one notification, waiting at most `secs`.
fn next_message(sock: &UnixDatagram, secs: u64) -> String {
    sock.set_read_timeout(Some(Duration::from_secs(secs)))
        .expect("timeout");
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).expect("a notification from tenantry");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn serve_tells_systemd_ready_pings_the_watchdog_and_says_when_it_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&socket).expect("bind notify socket");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("TENANTRY_CONFIG")
        .env("TENANTRY_SERVER_DATA_DIR", dir.path())
        .env("TENANTRY_ADMIN_EMAIL", "admin@msp.example")
        .env("TENANTRY_ADMIN_PASSWORD", "a long enough password")
        .env("NOTIFY_SOCKET", &socket)
        // A 0.4 s watchdog: pings every 0.2 s.
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let pid = serve.id().to_string();
    let ready = next_message(&sock, 60);
    // READY comes after the listener is bound: the port answers now.
    let listening = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    let mut pings = 0;
    while pings < 2 {
        let m = next_message(&sock, 10);
        assert_eq!(
            m, "WATCHDOG=1",
            "only watchdog pings between ready and stop"
        );
        pings += 1;
    }
    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    let mut stopping = String::new();
    for _ in 0..20 {
        stopping = next_message(&sock, 10);
        if stopping != "WATCHDOG=1" {
            break;
        }
    }
    let status = serve.wait().expect("wait");
    assert!(ready.starts_with("READY=1"), "{ready}");
    assert!(listening, "the port answers once READY is sent");
    assert!(term.success());
    assert!(stopping.starts_with("STOPPING=1"), "{stopping}");
    assert!(status.success(), "a clean stop: {status:?}");
}

#[test]
fn check_config_refuses_metrics_nobody_could_scrape_or_a_short_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "[metrics]\nenabled = true\nallow_from = []\n",
            "nobody could scrape",
        ),
        (
            "[metrics]\nenabled = true\ntoken = \"short\"\n",
            "at least 24 characters",
        ),
        (
            "[metrics]\nallow_from = [\"10.0.0.1/8\"]\n",
            "metrics.allow_from",
        ),
    ];
    for (toml, says) in cases {
        let file = dir.path().join("t.toml");
        std::fs::write(&file, toml).expect("write");
        let o = tenantry(
            dir.path(),
            &["--config", file.to_str().expect("path"), "check-config"],
            None,
        );
        assert!(!o.status.success(), "{toml}");
        assert!(text(&o).contains(says), "{toml}: {}", text(&o));
    }
    let file = dir.path().join("ok.toml");
    std::fs::write(
        &file,
        "[metrics]\nenabled = true\ntoken = \"0123456789abcdef0123456789\"\n",
    )
    .expect("write");
    let o = tenantry(
        dir.path(),
        &["--config", file.to_str().expect("path"), "check-config"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !text(&o).contains("0123456789abcdef"),
        "the token is masked: {}",
        text(&o)
    );
}
