//! Static assets, embedded in the binary.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::errors::AppError;

pub const STYLESHEET_PATH: &str = "/assets/style.css";
/// The one script: print buttons and a running batch's progress; no page needs it.
pub const SCRIPT_PATH: &str = "/assets/app.js";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/style.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/app.js"),
    },
];

/// A weak validator: the content's length and a cheap FNV-1a hash, computed per request
/// on a few kilobytes.
fn etag(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{:x}-{h:016x}\"", body.len())
}

pub async fn serve_asset(
    req: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == file.as_str())
        .ok_or(AppError::NotFound)?;
    let tag = etag(asset.body);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::ETAG, tag));
    if matches {
        return Ok(res.finish());
    }
    Ok(res.content_type(asset.content_type).body(asset.body))
}
