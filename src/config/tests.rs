use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_valid_and_documented_schedules() {
    let l = load(None, &BTreeMap::new(), &CliOverrides::default()).expect("defaults load");
    assert_eq!(l.config.schedule.identity, "0 0 */4 * * *");
    assert_eq!(l.config.schedule.evidence, "0 15 */6 * * *");
    assert_eq!(l.config.server.listen, "127.0.0.1:8080");
    assert_eq!(l.sources["server.listen"], Source::Default);
}

#[test]
fn env_overrides_file_and_cli_overrides_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:9000\"\n[jobs]\nworkers = 2\n",
    )
    .expect("write");
    let e = env(&[
        ("TENANTRY_JOBS_WORKERS", "7"),
        ("TENANTRY_SERVER_LISTEN", "127.0.0.1:9001"),
    ]);
    let l = load(Some(&path), &e, &CliOverrides::default()).expect("load");
    assert_eq!(l.config.jobs.workers, 7);
    assert_eq!(l.config.server.listen, "127.0.0.1:9001");
    assert_eq!(l.sources["jobs.workers"], Source::Env);
    let cli = CliOverrides {
        listen: Some("127.0.0.1:9002".into()),
        data_dir: None,
    };
    let l = load(Some(&path), &e, &cli).expect("load");
    assert_eq!(l.config.server.listen, "127.0.0.1:9002");
    assert_eq!(l.sources["server.listen"], Source::Cli);
}

#[test]
fn bad_values_are_refused_with_the_key_name() {
    let cases = [
        (
            "TENANTRY_SCHEDULE_IDENTITY",
            "0 */4 * * *",
            "schedule.identity",
        ),
        (
            "TENANTRY_SCHEDULE_TIMEZONE",
            "Mars/Olympus",
            "schedule.timezone",
        ),
        ("TENANTRY_SERVER_LISTEN", "not-an-address", "server.listen"),
        ("TENANTRY_JOBS_WORKERS", "many", "jobs.workers"),
        ("TENANTRY_AUDIT_RETENTION_DAYS", "0", "audit.retention_days"),
        ("TENANTRY_JOBS_KEEP_DAYS", "0", "jobs.keep_days"),
        ("TENANTRY_AUDIT_MAX_ENTRIES", "10", "audit.max_entries"),
        (
            "TENANTRY_MICROSOFT_GRAPH_URL",
            "ftp://x",
            "microsoft.graph_url",
        ),
    ];
    for (k, v, key) in cases {
        let err = load(None, &env(&[(k, v)]), &CliOverrides::default())
            .expect_err(k)
            .to_string();
        assert!(err.contains(key), "{err} should name {key}");
    }
}

#[test]
fn unknown_file_keys_are_refused_and_unknown_env_warned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.toml");
    std::fs::write(&path, "[server]\nlisten_addr = \"x\"\n").expect("write");
    let err = load(Some(&path), &BTreeMap::new(), &CliOverrides::default())
        .expect_err("unknown key")
        .to_string();
    assert!(
        err.contains("server.listen_addr") && err.contains("unknown key"),
        "{err}"
    );
    let l = load(
        None,
        &env(&[("TENANTRY_SERVR_LISTEN", "x")]),
        &CliOverrides::default(),
    )
    .expect("load");
    assert!(
        l.warnings
            .iter()
            .any(|w| w.contains("TENANTRY_SERVR_LISTEN"))
    );
}

#[test]
fn certificate_files_come_in_a_matching_pair() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs");
    let cert = format!("{dir}/test-only-cert.pem");
    let key = format!("{dir}/test-only-key.pem");
    let other_key = format!("{dir}/test-only-other-key.pem");
    let no = CliOverrides::default();
    let ok = env(&[
        ("TENANTRY_MICROSOFT_CERTIFICATE_FILE", &cert),
        ("TENANTRY_MICROSOFT_PRIVATE_KEY_FILE", &key),
    ]);
    let l = load(None, &ok, &no).expect("a matching pair loads");
    assert_eq!(l.config.microsoft.certificate_file, cert);
    assert_eq!(l.sources["microsoft.private_key_file"], Source::Env);

    let alone = env(&[("TENANTRY_MICROSOFT_CERTIFICATE_FILE", &cert)]);
    let err = load(None, &alone, &no).expect_err("alone").to_string();
    assert!(err.contains("set together"), "{err}");

    let mismatched = env(&[
        ("TENANTRY_MICROSOFT_CERTIFICATE_FILE", &cert),
        ("TENANTRY_MICROSOFT_PRIVATE_KEY_FILE", &other_key),
    ]);
    let err = load(None, &mismatched, &no)
        .expect_err("mismatch")
        .to_string();
    assert!(
        err.contains("microsoft.certificate_file") && err.contains("does not belong"),
        "{err}"
    );

    let missing = env(&[
        ("TENANTRY_MICROSOFT_CERTIFICATE_FILE", &cert),
        (
            "TENANTRY_MICROSOFT_PRIVATE_KEY_FILE",
            "/nonexistent/key.pem",
        ),
    ]);
    let err = load(None, &missing, &no).expect_err("missing").to_string();
    assert!(err.contains("microsoft.private_key_file"), "{err}");
}

#[test]
fn debug_output_of_the_configuration_never_shows_the_client_secret() {
    let mut c = Config::default();
    c.microsoft.client_secret = "very-secret-value".into();
    let shown = format!("{c:?}");
    assert!(!shown.contains("very-secret-value"), "{shown}");
    assert!(shown.contains("client_secret: Secret(***)"), "{shown}");
}

#[test]
fn trusted_proxies_come_comma_separated_from_the_environment_and_are_checked() {
    let no = CliOverrides::default();
    let l = load(None, &BTreeMap::new(), &no).expect("defaults");
    assert!(
        l.config.server.trusted_proxies.is_empty(),
        "no proxy is trusted by default"
    );
    let e = env(&[(
        "TENANTRY_SERVER_TRUSTED_PROXIES",
        " 127.0.0.1, 10.0.0.0/8 ,::1,",
    )]);
    let l = load(None, &e, &no).expect("list from env");
    assert_eq!(
        l.config.server.trusted_proxies,
        vec!["127.0.0.1", "10.0.0.0/8", "::1"]
    );
    assert_eq!(l.sources["server.trusted_proxies"], Source::Env);
    assert_eq!(l.config.trusted_proxies().len(), 3);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.toml");
    std::fs::write(&path, "[server]\ntrusted_proxies = [\"192.0.2.1\"]\n").expect("write");
    let l = load(Some(&path), &BTreeMap::new(), &no).expect("list from file");
    assert_eq!(l.config.server.trusted_proxies, vec!["192.0.2.1"]);
    let cleared = env(&[("TENANTRY_SERVER_TRUSTED_PROXIES", "")]);
    let l = load(Some(&path), &cleared, &no).expect("env clears the list");
    assert!(l.config.server.trusted_proxies.is_empty());

    let err = load(
        None,
        &env(&[("TENANTRY_SERVER_TRUSTED_PROXIES", "127.0.0.1,proxy.local")]),
        &no,
    )
    .expect_err("a host name is not an address")
    .to_string();
    assert!(
        err.contains("server.trusted_proxies") && err.contains("proxy.local"),
        "{err}"
    );
    let err = load(
        None,
        &env(&[("TENANTRY_SERVER_PASSWORD_HASH_CONCURRENCY", "65")]),
        &no,
    )
    .expect_err("too many")
    .to_string();
    assert!(err.contains("server.password_hash_concurrency"), "{err}");
}

#[test]
fn the_request_bound_has_a_default_and_is_checked() {
    let no = CliOverrides::default();
    let c = load(None, &env(&[]), &no).expect("defaults").config;
    assert_eq!(
        (c.server.max_in_flight, c.server.overload_wait_ms),
        (32, 1_000)
    );
    let c = load(
        None,
        &env(&[
            ("TENANTRY_SERVER_MAX_IN_FLIGHT", "4"),
            ("TENANTRY_SERVER_OVERLOAD_WAIT_MS", "0"),
        ]),
        &no,
    )
    .expect("from the environment")
    .config;
    assert_eq!((c.server.max_in_flight, c.server.overload_wait_ms), (4, 0));
    for (key, value, named) in [
        ("TENANTRY_SERVER_MAX_IN_FLIGHT", "0", "server.max_in_flight"),
        (
            "TENANTRY_SERVER_OVERLOAD_WAIT_MS",
            "60001",
            "server.overload_wait_ms",
        ),
    ] {
        let err = load(None, &env(&[(key, value)]), &no)
            .expect_err("out of range")
            .to_string();
        assert!(err.contains(named), "{err}");
    }
}

#[test]
fn the_store_cache_is_bounded_by_default_and_checked() {
    let no = CliOverrides::default();
    let l = load(None, &BTreeMap::new(), &no).expect("defaults");
    assert_eq!(
        l.config.store.cache_mb, 64,
        "a small VM's default, not redb's 1 GiB"
    );
    let l = load(None, &env(&[("TENANTRY_STORE_CACHE_MB", "256")]), &no).expect("env");
    assert_eq!(l.config.store.cache_mb, 256);
    let err = load(None, &env(&[("TENANTRY_STORE_CACHE_MB", "2")]), &no)
        .expect_err("too small")
        .to_string();
    assert!(err.contains("store.cache_mb"), "{err}");
}

#[test]
fn concurrent_reads_default_to_twice_the_cpus_and_are_checked() {
    let no = CliOverrides::default();
    let l = load(None, &BTreeMap::new(), &no).expect("defaults");
    assert_eq!(l.config.store.concurrent_reads, 0, "0: twice the CPUs");
    let l = load(None, &env(&[("TENANTRY_STORE_CONCURRENT_READS", "8")]), &no).expect("env");
    assert_eq!(l.config.store.concurrent_reads, 8);
    let err = load(
        None,
        &env(&[("TENANTRY_STORE_CONCURRENT_READS", "5000")]),
        &no,
    )
    .expect_err("too many")
    .to_string();
    assert!(err.contains("store.concurrent_reads"), "{err}");
}
