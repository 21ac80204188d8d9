//! Reads that also fingerprint what Microsoft sent: a SHA-256 over the raw body of every page
//! (or batch answer), in order, with the first page's status and `request-id`.
//!
//! WHY: an evidence snapshot keeps normalised facts, not Graph's pages, yet an auditor may ask
//! "is this what Microsoft said?". The hash ties each fact set to the exact bytes received,
//! and the request-id lets Microsoft find the call in its own logs.

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::error::{GraphError, GraphErrorKind};
use super::paging::RawPage;
use super::{GraphClient, RawResponse};

/// The fingerprint of one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadDigest {
    /// Pages (or batch answers) hashed, in order.
    pub pages: u32,
    /// Lower-case hex SHA-256 over the bodies as received, concatenated in order.
    pub sha256: String,
    /// `request-id` of the first response.
    pub request_id: Option<String>,
    /// HTTP status of the first response.
    pub status: u16,
}

/// Accumulates response bodies into a [`PayloadDigest`].
#[derive(Debug, Clone, Default)]
pub struct PayloadHasher {
    sha: Sha256,
    pages: u32,
    request_id: Option<String>,
    status: u16,
}

impl PayloadHasher {
    /// Add one body. The first one's status and request-id are the digest's.
    pub fn add(&mut self, body: &[u8], status: u16, request_id: Option<&str>) {
        if self.pages == 0 {
            self.status = status;
            self.request_id = request_id.map(str::to_string);
        }
        self.sha.update(body);
        self.pages += 1;
    }

    pub fn add_response(&mut self, r: &RawResponse) {
        self.add(&r.body, r.status(), r.request_id());
    }

    pub fn finish(self) -> PayloadDigest {
        PayloadDigest {
            pages: self.pages,
            sha256: hex::encode(self.sha.finalize()),
            request_id: self.request_id,
            status: self.status,
        }
    }
}

/// A collection read one page at a time, hashing each page: for lists too large to hold
/// (the registration report of a 100 k-user tenant).
pub struct HashedPages<'a> {
    client: &'a GraphClient,
    tenant: String,
    next: Option<String>,
    hasher: PayloadHasher,
}

impl HashedPages<'_> {
    /// The next page's items; `None` after the last page.
    pub async fn next_page<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>, GraphError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let raw = self
            .client
            .request_raw(&self.tenant, reqwest::Method::GET, &url, None)
            .await?;
        self.hasher.add_response(&raw);
        let page: RawPage<T> = raw.decode()?;
        match page.next_link.filter(|l| !l.is_empty()) {
            // A server that links a page to itself would keep us here forever.
            Some(next) if next == url => {
                let mut info = GraphError::blank(GraphErrorKind::Decode);
                info.detail = Some("next link repeats the page just read".into());
                return Err(GraphError::new(info));
            }
            next => self.next = next,
        }
        Ok(Some(page.value))
    }

    pub fn finish(self) -> PayloadDigest {
        self.hasher.finish()
    }
}

impl GraphClient {
    /// Page through the collection at `url` (absolute), hashing as it goes.
    pub fn hashed_pages(&self, tenant: &str, url: &str) -> HashedPages<'_> {
        HashedPages {
            client: self,
            tenant: tenant.to_string(),
            next: Some(url.to_string()),
            hasher: PayloadHasher::default(),
        }
    }

    /// Every item of a (small) collection, with the digest of its pages.
    pub async fn get_all_hashed<T: DeserializeOwned>(
        &self,
        tenant: &str,
        url: &str,
    ) -> Result<(Vec<T>, PayloadDigest), GraphError> {
        let mut pages = self.hashed_pages(tenant, url);
        let mut items = Vec::new();
        while let Some(page) = pages.next_page::<T>().await? {
            items.extend(page);
        }
        Ok((items, pages.finish()))
    }

    /// One object (a singleton such as security defaults), with its digest.
    pub async fn get_one_hashed<T: DeserializeOwned>(
        &self,
        tenant: &str,
        url: &str,
    ) -> Result<(T, PayloadDigest), GraphError> {
        let raw = self
            .request_raw(tenant, reqwest::Method::GET, url, None)
            .await?;
        let mut h = PayloadHasher::default();
        h.add_response(&raw);
        let value = raw.decode()?;
        Ok((value, h.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_covers_every_page_in_order() {
        let mut a = PayloadHasher::default();
        a.add(b"{\"value\":[1]}", 200, Some("req-1"));
        a.add(b"{\"value\":[2]}", 200, Some("req-2"));
        let a = a.finish();
        assert_eq!(a.pages, 2);
        assert_eq!(a.request_id.as_deref(), Some("req-1"));
        assert_eq!(a.status, 200);
        let mut whole = Sha256::new();
        whole.update(b"{\"value\":[1]}{\"value\":[2]}");
        assert_eq!(a.sha256, hex::encode(whole.finalize()));
        let mut b = PayloadHasher::default();
        b.add(b"{\"value\":[2]}", 200, None);
        b.add(b"{\"value\":[1]}", 200, None);
        assert_ne!(a.sha256, b.finish().sha256, "order matters");
    }
}
