//! The `tenantry` command line, run as a real process.

use std::process::{Command, Output};

fn tenantry(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tenantry"));
    cmd.args(args)
        .env_remove("TENANTRY_CONFIG")
        .env("TENANTRY_SERVER_DATA_DIR", dir)
        .env("TENANTRY_SERVER_LISTEN", "127.0.0.1:0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run tenantry");
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

#[test]
fn version_and_check_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = tenantry(dir.path(), &["--version"], None);
    assert!(o.status.success());
    assert!(text(&o).contains(env!("CARGO_PKG_VERSION")));
    let o = tenantry(dir.path(), &["check-config"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("# server.data_dir: env"), "{}", text(&o));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[schedule]\nidentity = \"0 */4 * * *\"\n").expect("write");
    let o = tenantry(
        dir.path(),
        &["--config", bad.to_str().expect("path"), "check-config"],
        None,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("schedule.identity") && text(&o).contains("5 fields"),
        "{}",
        text(&o)
    );
}

#[test]
fn admin_commands_work_with_the_service_stopped_and_backup_copies_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = tenantry(
        dir.path(),
        &[
            "admin",
            "add-user",
            "--email",
            "Ops@MSP.example",
            "--role",
            "admin",
        ],
        Some("a long enough password\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("created admin account ops@msp.example"));
    let o = tenantry(
        dir.path(),
        &["admin", "add-user", "--email", "x@msp.example"],
        Some("short\n"),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("at least 12 characters"), "{}", text(&o));
    let o = tenantry(
        dir.path(),
        &[
            "admin",
            "create-token",
            "--name",
            "rmm-script",
            "--role",
            "admin",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let token = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(token.starts_with("tnt_") && token.len() > 40, "{token}");
    let o = tenantry(
        dir.path(),
        &["admin", "reset-password", "--email", "ops@msp.example"],
        Some("another long password\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let dest = dir.path().join("backup.redb");
    let o = tenantry(dir.path(), &["backup", dest.to_str().expect("path")], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dest.exists());
    let o = tenantry(dir.path(), &["backup", dest.to_str().expect("path")], None);
    assert!(!o.status.success(), "refuses to overwrite a backup");
}

#[test]
fn a_corrupt_database_gives_a_clear_start_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tenantry.redb"), vec![0x5a; 8192]).expect("write");
    let o = tenantry(dir.path(), &["serve"], None);
    assert!(!o.status.success());
    let out = text(&o);
    assert!(
        out.contains("cannot be opened") && out.contains("tenantry.redb"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn while_the_service_runs_admin_commands_say_why_they_cannot_and_backup_still_works() {
    let dir = tempfile::tempdir().expect("tempdir");
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
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let mut up = false;
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let locked = tenantry(dir.path(), &["admin", "create-token", "--name", "x"], None);
    let dest = dir.path().join("live-backup.redb");
    let backup = tenantry(dir.path(), &["backup", dest.to_str().expect("path")], None);
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(up, "serve started");
    assert!(!locked.status.success());
    assert!(
        text(&locked).contains("in use by another Tenantry process"),
        "{}",
        text(&locked)
    );
    assert!(
        backup.status.success(),
        "backup while running: {}",
        text(&backup)
    );
    assert!(text(&backup).contains("backup written"));
}
