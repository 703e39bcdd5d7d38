//! The baseline of the HTTP benchmarks: the least an actix-web + diesel service can do per
//! request — read one learner row by primary key through the same connection pool, on the
//! blocking pool, and answer JSON — with the same configuration as `skillpath serve`
//! (DATABASE_URL, SKILLPATH_BIND, SKILLPATH_DB_POOL_SIZE, SKILLPATH_DB_POOL_TIMEOUT_MS).
//! `GET /learners/{id}` → `{"id":…,"name":…}`. Run it beside the service:
//! `DATABASE_URL=… SKILLPATH_BIND=127.0.0.1:8081 cargo run --release --example baseline_server`.

use actix_web::{web, App, HttpResponse, HttpServer};
use diesel::prelude::*;

use skillpath::config::Settings;
use skillpath::db::schema::learners;
use skillpath::db::Database;

async fn learner(db: web::Data<Database>, id: web::Path<i64>) -> HttpResponse {
    let id = id.into_inner();
    let found = db
        .read(move |conn| {
            Ok(learners::table
                .find(id)
                .select((learners::id, learners::name))
                .get_result::<(i64, String)>(conn)
                .optional()?)
        })
        .await;
    match found {
        Ok(Some((id, name))) => {
            HttpResponse::Ok().json(serde_json::json!({"id": id, "name": name}))
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env().map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = web::Data::new(Database::connect(&settings)?);
    println!("baseline listening on {}", settings.bind);
    HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .route("/learners/{id}", web::get().to(learner))
    })
    .bind(settings.bind)?
    .run()
    .await?;
    Ok(())
}
