//! Static files embedded in the binary (rust-embed), with an ETag from their hash.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct Static;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{path:.*}", web::get().to(serve));
}

async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(file) = Static::get(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..8]));
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return HttpResponse::NotModified().finish();
    }
    HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(file.data.into_owned())
}
