//! A CSV answer sent while it is being written (the audit export): chunks from a domain
//! producer, so a large export is never held whole in memory. Shared by the pages and the API.

use actix_web::HttpResponse;
use actix_web::http::header;

/// The audit CSV as it is written (see `Services::audit_csv_chunks`), for the page and the API.
pub(crate) fn csv_response(
    rx: tokio::sync::mpsc::Receiver<crate::domain::DomainResult<String>>,
) -> HttpResponse {
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        let chunk = chunk
            .map(actix_web::web::Bytes::from)
            .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()));
        Some((chunk, rx))
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"tenantry-audit.csv\"",
        ))
        .streaming(chunks)
}
