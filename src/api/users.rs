//! `/api/v1/users` (administrators manage accounts) and `/api/v1/me` (one's own account).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::sessions::TokenResponse;
use crate::auth::{password, AuthUser};
use crate::db::users::{self, UserFilter, UserRow};
use crate::domain::{Binding, EmailAddress, InstitutionId, LearnerId, NewPassword, Role, UserId};
use crate::error::{AppError, FieldError};
use crate::services::accounts::{self, NewAccount};
use crate::state::AppState;

/// An account as the API shows it (never its password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    #[schema(value_type = i64)]
    pub id: UserId,
    pub email: String,
    pub role: Role,
    /// The institution (college or enterprise) a `college_staff` or `employer_hr` account serves.
    #[schema(value_type = Option<i64>)]
    pub institution_id: Option<InstitutionId>,
    /// The learner a `learner` account belongs to.
    #[schema(value_type = Option<i64>)]
    pub learner_id: Option<LearnerId>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for UserResponse {
    type Error = AppError;
    fn try_from(row: UserRow) -> Result<Self, AppError> {
        Ok(Self {
            role: row.role,
            id: row.id,
            email: row.email,
            institution_id: row.institution_id,
            learner_id: row.learner_id,
            disabled: row.disabled,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "wang.fang@college.example",
    "password": "a long passphrase",
    "role": "college_staff",
    "institution_id": 12
}))]
pub struct CreateUserRequest {
    pub email: String,
    /// 12 to 128 characters.
    pub password: String,
    #[schema(value_type = Role)]
    pub role: String,
    /// Required for `college_staff` and `employer_hr`; absent otherwise.
    #[schema(value_type = Option<i64>)]
    pub institution_id: Option<InstitutionId>,
    /// Required for `learner`; absent otherwise.
    #[schema(value_type = Option<i64>)]
    pub learner_id: Option<LearnerId>,
}

/// A request whose fields have all been checked.
struct ValidNewUser {
    email: EmailAddress,
    password: NewPassword,
    role: Role,
    institution_id: Option<InstitutionId>,
    learner_id: Option<LearnerId>,
}

fn check_binding(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<i64>,
    wanted: bool,
    role: Role,
) {
    match (value, wanted) {
        (None, true) => errors.push(FieldError::new(
            field,
            format!("is required for role {role}"),
        )),
        (Some(_), false) => errors.push(FieldError::new(
            field,
            format!("must be absent for role {role}"),
        )),
        (Some(id), true) if id < 1 => errors.push(FieldError::new(field, "must be a positive id")),
        _ => {}
    }
}

impl CreateUserRequest {
    fn validate(self) -> Result<ValidNewUser, AppError> {
        let mut errors = Vec::new();
        let email = EmailAddress::parse(&self.email)
            .map_err(|m| errors.push(FieldError::new("email", m)))
            .ok();
        let password = NewPassword::parse(&self.password)
            .map_err(|m| errors.push(FieldError::new("password", m)))
            .ok();
        let role = self
            .role
            .parse::<Role>()
            .map_err(|m| errors.push(FieldError::new("role", m)))
            .ok();
        if let Some(role) = role {
            let binding = role.binding();
            check_binding(
                &mut errors,
                "institution_id",
                self.institution_id.map(i64::from),
                binding == Binding::Institution,
                role,
            );
            check_binding(
                &mut errors,
                "learner_id",
                self.learner_id.map(i64::from),
                binding == Binding::Learner,
                role,
            );
        }
        match (email, password, role) {
            (Some(email), Some(password), Some(role)) if errors.is_empty() => Ok(ValidNewUser {
                email,
                password,
                role,
                institution_id: self.institution_id,
                learner_id: self.learner_id,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// The bound institution or learner must exist, and an institution must suit the role:
/// HR staff belong to an enterprise, college staff to a school or college.
async fn hash_password(password: NewPassword) -> Result<String, AppError> {
    password::hash_new(password).await
}

/// Create an account (administrators only).
#[utoipa::path(post, path = "/api/v1/users", tag = "users",
    request_body = CreateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserResponse,
            headers(("Location" = String, description = "The new account's URL"))),
        (status = 400, description = "Malformed body or unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require_admin()?;
    let valid = body.into_inner().validate()?;
    let hash = hash_password(valid.password.clone()).await?;
    let new = NewAccount {
        email: valid.email,
        password_hash: hash,
        role: valid.role,
        institution_id: valid.institution_id,
        learner_id: valid.learner_id,
    };
    let actor = caller.id;
    let row = state
        .db
        .write(move |conn| accounts::create(conn, actor, &new))
        .await?;
    tracing::info!(user_id = %row.id, role = %row.role, by = %caller.id, "account created");
    let location = format!("/api/v1/users/{}", row.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(UserResponse::try_from(row)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Items per page: 1 to 200 (larger values are capped), default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only accounts of this role.
    #[param(value_type = Option<Role>)]
    pub role: Option<String>,
    /// Only emails starting with this text (case-insensitive).
    pub email_prefix: Option<String>,
    pub disabled: Option<bool>,
}

/// List accounts in creation order (administrators only).
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    params(ListUsersQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of accounts", body = Page<UserResponse>),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit, cursor or role", body = Problem, content_type = "application/problem+json")))]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListUsersQuery>,
) -> Result<web::Json<Page<UserResponse>>, AppError> {
    caller.require_admin()?;
    let query = query.into_inner();
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let after = page.after_id()?;
    let role = match &query.role {
        Some(role) => Some(
            role.parse::<Role>()
                .map_err(|m| AppError::invalid("role", m))?,
        ),
        None => None,
    };
    let filter = UserFilter {
        role,
        email_prefix: query.email_prefix.map(|p| p.trim().to_lowercase()),
        disabled: query.disabled,
    };
    let rows = state
        .db
        .read(move |conn| Ok(users::list(conn, &filter, after, limit + 1)?))
        .await?;
    let page = Page::from_rows(rows, limit, |r| r.id, UserResponse::try_from);
    Ok(web::Json(Page {
        items: page.items.into_iter().collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    }))
}

async fn load_user(state: &AppState, id: UserId) -> Result<UserRow, AppError> {
    state
        .db
        .read(move |conn| users::find(conn, id)?.ok_or(AppError::NotFound { what: "user" }))
        .await
}

/// One account (administrators only).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserResponse),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json")))]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<UserId>,
) -> Result<web::Json<UserResponse>, AppError> {
    caller.require_admin()?;
    Ok(web::Json(
        load_user(&state, id.into_inner()).await?.try_into()?,
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UpdateUserRequest {
    /// Disabling ends every session of the account at once.
    pub disabled: Option<bool>,
    /// A new password (12 to 128 characters); ends every session of the account.
    pub password: Option<String>,
}

/// Disable or enable an account, or set its password (administrators only).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated account", body = UserResponse),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An administrator cannot disable their own account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<UserId>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<web::Json<UserResponse>, AppError> {
    caller.require_admin()?;
    let id = id.into_inner();
    let UpdateUserRequest { disabled, password } = body.into_inner();
    let password = password
        .map(|p| NewPassword::parse(&p).map_err(|m| AppError::invalid("password", m)))
        .transpose()?;
    if disabled == Some(true) && id == caller.id {
        return Err(AppError::conflict(
            "cannot_disable_self",
            "You cannot disable your own account.",
        ));
    }
    let hash = match password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let actor = caller.id;
    let row = state
        .db
        .write(move |conn| accounts::update(conn, actor, id, disabled, hash.as_deref()))
        .await?;
    tracing::info!(
        user_id = %id,
        by = %caller.id,
        disabled = row.disabled,
        "account updated"
    );
    Ok(web::Json(row.try_into()?))
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your account", body = UserResponse),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json")))]
pub async fn me(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<web::Json<UserResponse>, AppError> {
    Ok(web::Json(load_user(&state, caller.id).await?.try_into()?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// 12 to 128 characters.
    pub new_password: String,
}

/// Change one's own password. Every other session ends; the answer starts a new one.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "users",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed; a new session", body = TokenResponse),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or invalid new one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong attempts", body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: AuthUser,
    body: JsonBody<ChangePasswordRequest>,
) -> Result<web::Json<TokenResponse>, AppError> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.into_inner();
    let new_password =
        NewPassword::parse(&new_password).map_err(|m| AppError::invalid("new_password", m))?;
    let address = crate::client_address::client_address(&req, &state.settings);
    let attempt = state.login_limiter.attempt(&caller.email, &address).await?;
    let row = load_user(&state, caller.id).await?;
    let stored = row.password_hash.clone();
    let matches = web::block(move || password::verify(&current_password, &stored))
        .await
        .map_err(|e| AppError::internal("password check", e))?;
    if !matches {
        return Err(AppError::invalid("current_password", "is incorrect"));
    }
    attempt.succeeded().await;
    let hash = hash_password(new_password).await?;
    let st = state.clone();
    let id = caller.id;
    let tokens = state
        .db
        .write(move |conn| accounts::change_password(conn, st.issuer(), id, &hash))
        .await?;
    Ok(web::Json(tokens))
}
