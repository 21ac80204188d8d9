//! A tiny fake token endpoint + Graph for these tests (not the product's simulator): the token
//! endpoint checks the secret and counts requests; Graph paths answer from a per-URL script of
//! canned responses, so each test states exactly what Microsoft says, in order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::TcpListener;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::ServerHandle, web};
use tenantry::graph::{ClientSecret, Credential, GraphClient, RetryPolicy};

pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const SECRET: &str = "good-secret-value";
pub const TENANT: &str = "3f0c2b7e-5a1d-4c8e-9b2f-1d6e7a9c4b10";

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Canned {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
    pub fn ok(body: impl Into<String>) -> Self {
        Self::json(200, body)
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request the fake Graph received.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path_and_query: String,
    pub at: Instant,
    pub client_request_id: Option<String>,
}

#[derive(Default)]
struct State {
    token_requests: AtomicUsize,
    expires_in: AtomicU64,
    issued: Mutex<HashSet<String>>,
    scripts: Mutex<HashMap<String, VecDeque<Canned>>>,
    hits: Mutex<Vec<Hit>>,
    token_forms: Mutex<Vec<HashMap<String, String>>>,
}

pub struct Fake {
    pub base: String,
    state: web::Data<State>,
    handle: ServerHandle,
}

impl Fake {
    pub async fn start() -> Fake {
        let state = web::Data::new(State::default());
        state.expires_in.store(3599, Ordering::SeqCst);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let data = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/{tenant}/oauth2/v2.0/token", web::post().to(token))
                .default_service(web::to(graph))
        })
        .listen(listener)
        .expect("listen")
        .workers(1)
        .disable_signals()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Fake {
            base: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    /// A client for this fake with the given secret and a fast retry policy (tests that
    /// measure `Retry-After` waits do not depend on the backoff).
    pub fn client_with(&self, secret: &str, retry: RetryPolicy) -> GraphClient {
        let http = tenantry::http_client::default_client().expect("http client");
        GraphClient::new(
            http,
            CLIENT_ID,
            Credential::ClientSecret(ClientSecret::new(secret)),
        )
        .with_base_urls(&self.base, &self.base)
        .with_retry_policy(retry)
    }

    pub fn client(&self) -> GraphClient {
        self.client_with(SECRET, fast_retry())
    }

    /// A client for this fake with any credential (a certificate, say).
    pub fn client_with_credential(&self, credential: Credential) -> GraphClient {
        let http = tenantry::http_client::default_client().expect("http client");
        GraphClient::new(http, CLIENT_ID, credential)
            .with_base_urls(&self.base, &self.base)
            .with_retry_policy(fast_retry())
    }

    /// The form of every token request, in order.
    pub fn token_forms(&self) -> Vec<HashMap<String, String>> {
        self.state.token_forms.lock().expect("lock").clone()
    }

    /// Answers for `path_and_query`, in order; the last one repeats forever.
    pub fn script(&self, path_and_query: &str, answers: Vec<Canned>) {
        self.state
            .scripts
            .lock()
            .expect("lock")
            .insert(path_and_query.to_string(), answers.into());
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    pub fn set_expires_in(&self, secs: u64) {
        self.state.expires_in.store(secs, Ordering::SeqCst);
    }

    /// Invalidate every issued token (as if revoked): Graph then answers 401.
    pub fn revoke_tokens(&self) {
        self.state.issued.lock().expect("lock").clear();
    }

    pub fn hits(&self, path_and_query: &str) -> Vec<Hit> {
        self.state
            .hits
            .lock()
            .expect("lock")
            .iter()
            .filter(|h| h.path_and_query == path_and_query)
            .cloned()
            .collect()
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Retries quick enough for tests: backoff in milliseconds, three attempts.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(10),
    }
}

/// An AADSTS7000215 body in the token endpoint's error shape (docs/microsoft.md#token-errors).
pub const BAD_SECRET_BODY: &str = include_str!("fixtures/token_error_aadsts7000215.json");

async fn token(
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<State>,
) -> HttpResponse {
    let tenant = path.into_inner();
    let n = state.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    state.token_forms.lock().expect("lock").push(form.0.clone());
    // A scripted answer for this token URL (throttling, outages) wins over the real logic.
    if let Some(canned) = next_scripted(&state, &format!("/{tenant}/oauth2/v2.0/token")) {
        return respond(canned, &format!("sts-{n}"), None);
    }
    let field = |k: &str| form.get(k).map(String::as_str);
    let well_formed = field("grant_type") == Some("client_credentials")
        && field("scope") == Some("https://graph.microsoft.com/.default")
        && field("client_id") == Some(CLIENT_ID);
    if !well_formed {
        return HttpResponse::BadRequest()
            .content_type("application/json")
            .body(r#"{"error":"invalid_request","error_codes":[900144]}"#);
    }
    // A client assertion is accepted as long as it is announced correctly; the certificate
    // tests check its contents and signature themselves.
    let asserted = field("client_assertion_type")
        == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        && field("client_assertion").is_some_and(|a| a.split('.').count() == 3)
        && field("client_secret").is_none();
    if !asserted && field("client_secret") != Some(SECRET) {
        return HttpResponse::Unauthorized()
            .content_type("application/json")
            .body(BAD_SECRET_BODY);
    }
    let token = format!("tok-{tenant}-{n}");
    state.issued.lock().expect("lock").insert(token.clone());
    let expires = state.expires_in.load(Ordering::SeqCst);
    HttpResponse::Ok().json(serde_json::json!({
        "token_type": "Bearer",
        "expires_in": expires,
        "ext_expires_in": expires,
        "access_token": token,
    }))
}

async fn graph(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let key = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    state.hits.lock().expect("lock").push(Hit {
        path_and_query: key.clone(),
        at: Instant::now(),
        client_request_id: client_request_id.clone(),
    });
    let request_id = format!("req-{}", state.hits.lock().expect("lock").len());
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let authorised = bearer.is_some_and(|b| state.issued.lock().expect("lock").contains(&b));
    let canned = if !authorised {
        Canned::json(
            401,
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}"#,
        )
    } else {
        next_scripted(&state, &key).unwrap_or_else(|| {
            Canned::json(
                404,
                format!(
                    r#"{{"error":{{"code":"Request_ResourceNotFound","message":"no script for {key}"}}}}"#
                ),
            )
        })
    };
    respond(canned, &request_id, client_request_id.as_deref())
}

/// The next scripted answer for `key`; the last one repeats. An empty script means "no
/// script" (the token endpoint's real logic, or a 404).
fn next_scripted(state: &State, key: &str) -> Option<Canned> {
    let mut scripts = state.scripts.lock().expect("lock");
    let queue = scripts.get_mut(key)?;
    if queue.len() > 1 {
        queue.pop_front()
    } else {
        queue.front().cloned()
    }
}

fn respond(canned: Canned, request_id: &str, client_request_id: Option<&str>) -> HttpResponse {
    let mut resp =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(canned.status).expect("status"));
    resp.content_type("application/json");
    resp.insert_header(("request-id", request_id));
    if let Some(c) = client_request_id {
        resp.insert_header(("client-request-id", c));
    }
    for (k, v) in &canned.headers {
        resp.insert_header((k.as_str(), v.as_str()));
    }
    resp.body(canned.body)
}
