//! Packaging: `install.sh` run for real into a temporary root (twice, then uninstalled and
//! purged), the installed systemd unit checked with `systemd-analyze verify`, `shellcheck`
//! on the scripts, and the example config checked to document every key.
//!
//! Tools that only CI is sure to have (shellcheck, systemd-analyze) are skipped with a loud
//! message when absent locally; with `CI=true` their absence fails the test.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_tenantry");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether `tool` is on PATH; when it is not, say so loudly, and fail under CI.
fn require_tool(tool: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            !in_ci(),
            "{tool} is not installed, but CI=true: .ci/run must install it ({why})"
        );
        eprintln!();
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!("!!! SKIPPED: {tool} is not installed, so {why} was NOT checked.");
        eprintln!("!!! Install it (apt-get install -y {tool}) or run .ci/run.");
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    }
    found
}

fn show(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `bash install.sh --root ROOT ARGS...`, with no terminal and none of our env variables.
fn install_sh(root: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("install.sh"))
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("TENANTRY_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().expect("run bash install.sh")
}

fn install(root: &Path) -> Output {
    let out = install_sh(root, &["--binary", BINARY, "--non-interactive"]);
    assert!(out.status.success(), "install.sh failed\n{}", show(&out));
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Layout {
    etc: PathBuf,
    config: PathBuf,
    key: PathBuf,
    data: PathBuf,
    bin: PathBuf,
    unit: PathBuf,
    sysusers: PathBuf,
}

impl Layout {
    fn new(root: &Path) -> Self {
        let etc = root.join("etc/tenantry");
        Self {
            config: etc.join("tenantry.toml"),
            key: etc.join("secret.key"),
            etc,
            data: root.join("var/lib/tenantry"),
            bin: root.join("usr/local/bin/tenantry"),
            unit: root.join("etc/systemd/system/tenantry.service"),
            sysusers: root.join("etc/sysusers.d/tenantry.conf"),
        }
    }
}

#[test]
fn install_twice_then_uninstall_keeps_data_and_purge_removes_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let l = Layout::new(&root);

    // First run: a fresh install.
    let first = install(&root);
    let text = stdout(&first);
    assert!(text.contains("Tenantry is installed"), "{}", show(&first));
    assert!(text.contains("configuration OK"), "{}", show(&first));
    for skipped in ["creating the system user", "chown", "systemctl"] {
        assert!(
            text.contains("skipped:") && text.contains(skipped),
            "--root should report that it skipped {skipped}\n{}",
            show(&first)
        );
    }

    assert_eq!(mode(&l.etc), 0o750, "/etc/tenantry");
    assert_eq!(mode(&l.config), 0o640, "tenantry.toml");
    assert_eq!(mode(&l.key), 0o640, "secret.key");
    assert_eq!(mode(&l.data), 0o750, "/var/lib/tenantry");
    assert_eq!(mode(&l.bin), 0o755, "binary");
    assert_eq!(mode(&l.unit), 0o644, "unit");
    assert_eq!(
        read(&l.config),
        read(&repo().join("packaging/tenantry.toml"))
    );
    assert_eq!(
        read(&l.unit),
        read(&repo().join("packaging/tenantry.service"))
    );
    assert_eq!(
        read(&l.sysusers),
        read(&repo().join("packaging/sysusers.d/tenantry.conf"))
    );
    assert_eq!(
        std::fs::metadata(&l.bin).expect("bin").len(),
        std::fs::metadata(BINARY).expect("BINARY").len(),
        "the installed binary is the one given"
    );
    let version = Command::new(&l.bin)
        .arg("--version")
        .output()
        .expect("run it");
    assert!(
        version.status.success(),
        "installed binary runs\n{}",
        show(&version)
    );

    let key = read(&l.key);
    assert_eq!(key.trim().len(), 64, "secret key is 64 hex chars: {key:?}");
    assert!(key.trim().chars().all(|c| c.is_ascii_hexdigit()), "{key:?}");
    assert_ne!(key.trim(), "0".repeat(64));

    // The staged config passes the real binary's check (with the root-relative overrides
    // that install.sh applies under --root).
    let check = Command::new(&l.bin)
        .args(["check-config", "--config"])
        .arg(&l.config)
        .env("TENANTRY_SERVER_DATA_DIR", &l.data)
        .env("TENANTRY_SECRETS_KEY_FILE", &l.key)
        .output()
        .expect("check-config");
    assert!(check.status.success(), "{}", show(&check));

    // Some data, as the service would leave it.
    std::fs::write(l.data.join("tenantry.redb"), b"data").expect("write data");

    // Second run: nothing changes, and the key is never regenerated.
    let second = install(&root);
    let text = stdout(&second);
    assert!(
        text.contains("already installed and up to date"),
        "{}",
        show(&second)
    );
    assert!(text.contains("never regenerated"), "{}", show(&second));
    assert_eq!(read(&l.key), key, "secret key unchanged by a second run");
    assert!(
        !root.join("usr/local/bin/tenantry.previous").exists(),
        "an unchanged binary is not rotated"
    );
    assert!(!l.etc.join("tenantry.toml.new").exists());
    assert_eq!(mode(&l.etc), 0o750);
    assert_eq!(mode(&l.config), 0o640);
    assert_eq!(mode(&l.key), 0o640);
    assert_eq!(mode(&l.data), 0o750);

    // An admin's edited config is kept; the shipped example goes beside it as .new, and
    // loosened permissions are tightened again.
    let edited = format!("{}\n# edited by the admin\n", read(&l.config));
    std::fs::write(&l.config, &edited).expect("edit config");
    std::fs::set_permissions(&l.key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let third = install(&root);
    assert_eq!(
        read(&l.config),
        edited,
        "the admin's config is never overwritten"
    );
    assert_eq!(
        read(&l.etc.join("tenantry.toml.new")),
        read(&repo().join("packaging/tenantry.toml"))
    );
    assert!(
        stdout(&third).contains("tenantry.toml.new"),
        "{}",
        show(&third)
    );
    assert_eq!(mode(&l.key), 0o640, "secret.key permissions restored");
    assert_eq!(read(&l.key), key);

    // The unit install.sh installed is valid for systemd, next to the real binary.
    verify_installed_unit(&root);

    // Uninstall keeps config, key and data.
    let out = install_sh(&root, &["--uninstall", "--non-interactive"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(!l.bin.exists(), "binary removed");
    assert!(!l.unit.exists(), "unit removed");
    assert_eq!(read(&l.key), key, "uninstall keeps the secret key");
    assert_eq!(read(&l.config), edited, "uninstall keeps the config");
    assert!(
        l.data.join("tenantry.redb").exists(),
        "uninstall keeps the data"
    );

    // Reinstalling afterwards reuses the kept key.
    install(&root);
    assert_eq!(read(&l.key), key, "reinstall keeps the secret key");

    // --purge asks first; with no terminal and no --non-interactive it refuses and changes nothing.
    let out = install_sh(&root, &["--uninstall", "--purge"]);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(l.bin.exists() && l.config.exists() && l.data.exists());

    // --uninstall --purge removes config and data too.
    let out = install_sh(&root, &["--uninstall", "--purge", "--non-interactive"]);
    assert!(out.status.success(), "{}", show(&out));
    for gone in [&l.bin, &l.unit, &l.etc, &l.data, &l.sysusers] {
        assert!(
            !gone.exists(),
            "{} should be gone after --purge",
            gone.display()
        );
    }
}

/// `systemd-analyze verify` on the unit as installed. systemd is not PID 1 in CI, so it runs
/// offline against the staged root, into which the distribution's units are copied (for
/// sysinit.target and friends). verify only warns, exit 0, on an unknown directive, so any
/// message about our unit fails the test.
fn verify_installed_unit(root: &Path) {
    if !require_tool(
        "systemd-analyze",
        "systemd-analyze verify of the installed unit",
    ) {
        return;
    }
    let system_units = Path::new("/lib/systemd/system");
    assert!(system_units.is_dir(), "no {}", system_units.display());
    std::fs::create_dir_all(root.join("usr/lib/systemd")).expect("mkdir");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(system_units)
        .arg(root.join("usr/lib/systemd/"))
        .status()
        .expect("cp");
    assert!(copied.success());
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg(root.join("etc/systemd/system/tenantry.service"))
        .output()
        .expect("systemd-analyze");
    let messages = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !messages.contains("tenantry"),
        "systemd-analyze verify rejected the installed unit\n{}",
        show(&out)
    );
    std::fs::remove_dir_all(root.join("usr/lib/systemd")).expect("cleanup");
}

#[test]
fn a_refused_config_stops_the_install_before_anything_is_replaced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let l = Layout::new(&root);
    std::fs::create_dir_all(&l.etc).expect("mkdir");
    std::fs::write(&l.config, "[server]\nlisten = \"not an address\"\n").expect("write");

    let out = install_sh(&root, &["--binary", BINARY, "--non-interactive"]);
    let all = show(&out);
    assert!(
        !out.status.success(),
        "a bad config must fail the install\n{all}"
    );
    assert!(all.contains("server.listen"), "the key is named\n{all}");
    assert!(
        all.contains("NOT enabled"),
        "says the service was not enabled\n{all}"
    );
    assert!(all.contains("Next steps"), "{all}");
    assert!(
        !l.bin.exists(),
        "the binary is not installed when the check fails"
    );
    assert!(!l.unit.exists(), "nor the unit");
    assert_eq!(
        read(&l.config),
        "[server]\nlisten = \"not an address\"\n",
        "the admin's config is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(root.join("usr/local/bin"))
        .expect("bin dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        leftovers.is_empty(),
        "no staged binary left behind: {leftovers:?}"
    );
}

#[test]
fn install_sh_refuses_bad_usage() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (args, expect) in [
        (&["--purge"][..], "--purge only goes with --uninstall"),
        (&["--bogus"][..], "unknown option"),
        (&["--prefix", "relative"][..], "absolute"),
        (&["--binary", "/nonexistent/tenantry"][..], "not found"),
    ] {
        let out = install_sh(tmp.path(), args);
        assert!(!out.status.success(), "{args:?}\n{}", show(&out));
        assert!(show(&out).contains(expect), "{args:?}\n{}", show(&out));
    }
    let help = install_sh(tmp.path(), &["--help"]);
    assert!(help.status.success());
    for opt in [
        "--binary",
        "--prefix",
        "--root",
        "--non-interactive",
        "--uninstall",
        "--purge",
    ] {
        assert!(stdout(&help).contains(opt), "--help documents {opt}");
    }
}

#[test]
fn shellcheck_is_clean() {
    if !require_tool("shellcheck", "shellcheck of install.sh and .ci/run") {
        return;
    }
    let out = Command::new("shellcheck")
        .current_dir(repo())
        .args(["install.sh", ".ci/run"])
        .output()
        .expect("shellcheck");
    assert!(
        out.status.success(),
        "shellcheck found problems\n{}",
        show(&out)
    );
}

#[test]
fn example_config_documents_every_key_and_loads() {
    let path = repo().join("packaging/tenantry.toml");
    let text = read(&path);
    let defaults = toml::Table::try_from(tenantry::config::Config::default()).expect("defaults");
    let mut undocumented = Vec::new();
    for (section, keys) in &defaults {
        let keys = keys.as_table().expect("section table");
        // The text of this section: from its header to the next one.
        let start = text
            .find(&format!("\n[{section}]\n"))
            .unwrap_or_else(|| panic!("no [{section}] in the example"));
        let body = &text[start + 1..];
        let body = &body[..body[1..].find("\n[").map_or(body.len(), |i| i + 1)];
        for key in keys.keys() {
            let set = body.lines().any(|line| {
                let line = line.trim_start_matches('#').trim_start();
                line.starts_with(&format!("{key} = "))
            });
            let env = tenantry::config::env_name(section, key);
            if !set || !body.contains(&env) {
                undocumented.push(format!(
                    "{section}.{key} (needs a `{key} = ` line and {env})"
                ));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "not documented in {}: {undocumented:#?}",
        path.display()
    );

    let loaded = tenantry::config::load(
        Some(&path),
        &BTreeMap::new(),
        &tenantry::config::CliOverrides::default(),
    )
    .expect("the shipped example is a valid config");
    let c = loaded.config;
    assert_eq!(c.server.data_dir, "/var/lib/tenantry");
    assert_eq!(c.secrets.key_file, "/etc/tenantry/secret.key");
    assert_eq!(c.server.listen, "127.0.0.1:8080");

    // Every commented-out default, uncommented, must equal the built-in default.
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.split_once(" = ").is_some_and(|(k, _)| {
                    defaults
                        .values()
                        .any(|s| s.as_table().is_some_and(|t| t.contains_key(k)))
                }) =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file: toml::Table = toml::from_str(&uncommented).expect("uncommented example parses");
    for (section, keys) in &file {
        for (key, value) in keys.as_table().expect("table") {
            if matches!(
                (section.as_str(), key.as_str()),
                ("server", "data_dir") | ("secrets", "key_file")
            ) {
                continue; // the installed values, documented as such
            }
            assert_eq!(
                Some(value),
                defaults[section].get(key),
                "{section}.{key}: the example shows a default that is not the built-in one"
            );
        }
    }
}
