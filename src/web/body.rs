//! Response bodies written into reused buffers: the list pages (HTML and the API's JSON).
//!
//! Why: a list page is tens of KB. Rendered into a fresh `String` it grew by doubling (five or
//! six reallocations, each a copy), and once actix had copied it into the connection's write
//! buffer it was freed. Above 16 KiB jemalloc serves such a buffer from its own pages, and with
//! the process's `dirty_decay_ms:0` (`src/allocator.rs`) every free hands them back to the
//! kernel at once (`madvise`, a TLB shootdown on the other core) and the next page faults them
//! in again: a profile of the lists bench put a quarter of a page's server CPU in the allocator
//! (BENCHMARKS.md, "Where a list page's time goes").
//!
//! Here a body is written into a buffer taken from a small per-thread pool, handed to actix as
//! `Bytes` that own it, and when actix drops those bytes (after copying them into the socket's
//! write buffer, on the same worker thread) the buffer goes back to the pool, emptied. Only
//! capacity is reused, never content: a buffer is cleared before it is pooled and a body is
//! exactly what was written for this response, so nothing crosses from one request (or user)
//! to another. A buffer dropped on another thread (a compressed answer: actix compresses a
//! chunk on the blocking pool) is freed there, not pooled, so blocking threads never collect
//! buffers they would not reuse. The pool is bounded (`POOLED` buffers of at most `MAX_POOLED` bytes per thread,
//! ~1 MiB per worker at worst), so it cannot hold memory a page once needed.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::web::Bytes;
use std::cell::RefCell;

/// Buffers kept per thread: a worker has one body in hand at a time, a few while actix flushes
/// the previous ones.
const POOLED: usize = 4;
/// A buffer that grew past this (a huge page, an export) is freed rather than kept.
const MAX_POOLED: usize = 256 * 1024;
/// What a fresh buffer starts with: a list page of 50 rows fits without growing.
const FIRST_CAPACITY: usize = 64 * 1024;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer, from the pool when it has one.
fn take() -> Vec<u8> {
    POOL.with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(FIRST_CAPACITY))
}

/// The bytes of one response body; its buffer returns to the pool of the thread that wrote
/// it when actix drops them there.
struct Pooled {
    buf: Vec<u8>,
    home: std::thread::ThreadId,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        if buf.capacity() > MAX_POOLED || std::thread::current().id() != self.home {
            return;
        }
        buf.clear();
        // `try_with`: a body dropped while its thread exits just frees its buffer.
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOLED {
                p.push(buf);
            }
        });
    }
}

fn into_bytes(buf: Vec<u8>) -> Bytes {
    Bytes::from_owner(Pooled {
        buf,
        home: std::thread::current().id(),
    })
}

/// A template rendered into a pooled buffer.
pub fn html(page: &impl askama::Template) -> askama::Result<Bytes> {
    // An empty Vec is valid UTF-8, so this keeps the buffer's capacity.
    let mut out = String::from_utf8(take()).unwrap_or_default();
    page.render_into(&mut out)?;
    Ok(into_bytes(out.into_bytes()))
}

/// A value serialised as JSON into a pooled buffer.
pub fn json(value: &impl serde::Serialize) -> serde_json::Result<Bytes> {
    let mut out = take();
    serde_json::to_writer(&mut out, value)?;
    Ok(into_bytes(out))
}

/// A 200 page (what askama_web's `WebTemplate` answers), or a 500 when the template fails.
pub fn page_response(page: &impl askama::Template) -> HttpResponse {
    match html(page) {
        Ok(body) => {
            let mut r = HttpResponse::Ok();
            r.insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ));
            r.body(body)
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            HttpResponse::build(StatusCode::INTERNAL_SERVER_ERROR)
                .insert_header((
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ))
                .body("INTERNAL SERVER ERROR")
        }
    }
}

/// Implements actix's `Responder` for page views through [`page_response`] (in place of
/// askama_web's `WebTemplate` derive, which renders into a fresh `String`).
macro_rules! pooled_page {
    ($($view:ty),+ $(,)?) => {$(
        impl actix_web::Responder for $view {
            type Body = actix_web::body::BoxBody;
            fn respond_to(self, _: &actix_web::HttpRequest) -> actix_web::HttpResponse {
                $crate::web::body::page_response(&self)
            }
        }
    )+};
}
pub(crate) use pooled_page;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_what_was_written_and_its_buffer_comes_back_empty() {
        let first = json(&serde_json::json!({"a": "x".repeat(100)})).unwrap();
        assert_eq!(&first[..9], b"{\"a\":\"xxx");
        let ptr = first.as_ptr();
        drop(first);
        // The same buffer again, emptied: the second body holds only its own bytes.
        let second = json(&[1, 2, 3]).unwrap();
        assert_eq!(second.as_ptr(), ptr, "the buffer was reused");
        assert_eq!(&second[..], b"[1,2,3]");
    }

    #[test]
    fn a_buffer_that_grew_too_large_is_not_kept() {
        let pooled = || POOL.with(|p| p.borrow().len());
        let big = json(&"y".repeat(MAX_POOLED + 1)).unwrap();
        let before = pooled();
        drop(big);
        assert_eq!(pooled(), before, "the large buffer was freed, not pooled");
        let small = json(&1).unwrap();
        let during = pooled();
        drop(small);
        assert_eq!(pooled(), during + 1, "a small one is pooled");
    }

    #[test]
    fn a_body_dropped_on_another_thread_is_freed_there() {
        let body = json(&[1, 2, 3]).unwrap();
        let there = std::thread::spawn(move || {
            drop(body);
            POOL.with(|p| p.borrow().len())
        })
        .join()
        .unwrap();
        assert_eq!(there, 0, "not pooled on a thread that never writes bodies");
    }
}
