//! Load on one URL as the list benches measure it: p50/p99 over 200 sequential requests on one
//! connection, then over 50 tasks of 20 requests each (50 concurrent connections); and a
//! signed-in admin session for the HTML pages.

use std::sync::Arc;
use std::time::Instant;

const SEQUENTIAL: usize = 200;
const CONCURRENT: usize = 50;
const PER_TASK: usize = 20;

/// Latencies in milliseconds.
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub rps: f64,
    pub errors: usize,
}

pub fn summarize(mut ms: Vec<f64>, secs: f64, errors: usize) -> Latency {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        ms.get(((ms.len() as f64 * q) as usize).min(ms.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Latency {
        p50: at(0.50),
        p99: at(0.99),
        rps: ms.len() as f64 / secs.max(1e-9),
        errors,
    }
}

async fn timed(client: &reqwest::Client, url: &str, bearer: Option<&str>) -> (f64, bool) {
    let t = Instant::now();
    let mut req = client.get(url);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let ok = match req.send().await {
        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
        Err(_) => false,
    };
    (t.elapsed().as_secs_f64() * 1000.0, ok)
}

/// p50/p99 at one connection, then at 50 concurrent ones.
pub async fn load(client: &reqwest::Client, url: &str, bearer: Option<&str>) -> (Latency, Latency) {
    // Warm: the first request pays for connection set-up.
    let _ = timed(client, url, bearer).await;
    let t0 = Instant::now();
    let mut ms = Vec::with_capacity(SEQUENTIAL);
    let mut errors = 0;
    for _ in 0..SEQUENTIAL {
        let (t, ok) = timed(client, url, bearer).await;
        ms.push(t);
        errors += usize::from(!ok);
    }
    let one = summarize(ms, t0.elapsed().as_secs_f64(), errors);
    let t0 = Instant::now();
    let url = Arc::new(url.to_string());
    let bearer = Arc::new(bearer.map(String::from));
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let (client, url, bearer) = (client.clone(), url.clone(), bearer.clone());
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(PER_TASK);
                for _ in 0..PER_TASK {
                    out.push(timed(&client, &url, bearer.as_deref()).await);
                }
                out
            })
        })
        .collect();
    let mut ms = Vec::with_capacity(CONCURRENT * PER_TASK);
    let mut errors = 0;
    for t in tasks {
        for (m, ok) in t.await.unwrap_or_default() {
            ms.push(m);
            errors += usize::from(!ok);
        }
    }
    (one, summarize(ms, t0.elapsed().as_secs_f64(), errors))
}

/// A cookie-keeping client signed in as `email` through the login form (with its CSRF token).
pub async fn signed_in_client(base: &str, email: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login")
        .text()
        .await
        .expect("page");
    let marker = "name=\"csrf\" value=\"";
    let csrf = login
        .find(marker)
        .map(|i| {
            let rest = &login[i + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default();
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("sign in");
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "signed in: {}",
        r.status()
    );
    client
}
