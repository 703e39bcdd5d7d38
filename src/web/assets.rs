//! Static files compiled into the binary, served under an address that carries a hash of their
//! content: a new release changes the address, so browsers may keep a file for a year.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[Asset {
    name: "app.css",
    content_type: "text/css; charset=utf-8",
    bytes: include_bytes!("../../static/app.css"),
}];

/// Each asset's hash (12 hex digits of its SHA-256) and address.
fn addresses() -> &'static Vec<(String, String)> {
    static ADDRESSES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ADDRESSES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let hash = hex::encode(&Sha256::digest(a.bytes)[..6]);
                let url = format!("/static/{hash}/{}", a.name);
                (hash, url)
            })
            .collect()
    })
}

pub fn stylesheet_url() -> &'static str {
    &addresses()[0].1
}

/// `GET /static/{hash}/{name}`: the file when the hash is its current one; 404 otherwise.
pub async fn serve(path: web::Path<(String, String)>) -> HttpResponse {
    let (hash, name) = path.into_inner();
    let found = ASSETS
        .iter()
        .zip(addresses())
        .find(|(asset, (current, _))| asset.name == name && *current == hash);
    match found {
        Some((asset, _)) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.bytes),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found"),
    }
}
