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

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "upload.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/upload.js"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "scan.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/scan.js"),
    },
    Asset {
        name: "jsQR.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/jsQR.min.js"),
    },
    Asset {
        name: "icon-192.png",
        content_type: "image/png",
        bytes: include_bytes!("../../static/icon-192.png"),
    },
    Asset {
        name: "icon-512.png",
        content_type: "image/png",
        bytes: include_bytes!("../../static/icon-512.png"),
    },
];

/// The service worker: at a fixed address at the root (its scope is the whole site), so it is
/// revalidated on every check rather than cached by content hash.
const SERVICE_WORKER: &[u8] = include_bytes!("../../static/sw.js");

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

/// The content-hashed address of the asset of this name.
fn url_of(name: &str) -> &'static str {
    ASSETS
        .iter()
        .zip(addresses())
        .find(|(asset, _)| asset.name == name)
        .map_or("/static/missing", |(_, (_, url))| url.as_str())
}

pub fn stylesheet_url() -> &'static str {
    url_of("app.css")
}

/// The cohort page's upload script.
pub fn upload_script_url() -> &'static str {
    url_of("upload.js")
}

/// The script every page loads (it registers the service worker).
pub fn app_script_url() -> &'static str {
    url_of("app.js")
}

/// The HR page's QR scanner, and the decoder it loads where the browser has none.
pub fn scan_script_url() -> &'static str {
    url_of("scan.js")
}

pub fn qr_decoder_url() -> &'static str {
    url_of("jsQR.min.js")
}

/// The app's icon, as pages link it.
pub fn icon_url() -> &'static str {
    url_of("icon-192.png")
}

/// `GET /sw.js`
pub async fn service_worker() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(SERVICE_WORKER)
}

/// `GET /manifest.webmanifest`: what makes the pages an installable app.
pub async fn manifest() -> HttpResponse {
    let manifest = serde_json::json!({
        "name": "Skillpath 技能路径",
        "short_name": "Skillpath",
        "description": "技能等级、申请日期与提醒 · Skill levels, application dates and reminders",
        "lang": "zh-CN",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": "#0b5cad",
        "icons": [
            {"src": icon_url(), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": url_of("icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": url_of("icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"}
        ]
    });
    HttpResponse::Ok()
        .content_type("application/manifest+json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(manifest.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_asset_has_its_hashed_address() {
        for url in [
            stylesheet_url(),
            upload_script_url(),
            app_script_url(),
            scan_script_url(),
            qr_decoder_url(),
            icon_url(),
            url_of("icon-512.png"),
        ] {
            assert!(
                url.starts_with("/static/") && url != "/static/missing",
                "{url}"
            );
        }
        assert_eq!(url_of("nothing.js"), "/static/missing");
    }
}
