//! Keyset pagination shared by every list: `limit` (capped) and an opaque `cursor`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page: 1 to 200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if n < 1 => Err(AppError::invalid("limit", "must be at least 1")),
            Some(n) if n > MAX_LIMIT => Err(AppError::invalid(
                "limit",
                format!("must be at most {MAX_LIMIT}"),
            )),
            Some(n) => Ok(n),
        }
    }

    /// The last id of the previous page.
    pub fn after_id(&self) -> Result<Option<i64>, AppError> {
        match self.cursor.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|id| *id >= 0)
                .map(Some)
                .ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API issued")),
        }
    }
}

/// One page of a list, in a stable order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T, E> Page<Result<T, E>> {
    /// A page of items, or the first item's error.
    pub fn transpose(self) -> Result<Page<T>, E> {
        Ok(Page {
            items: self.items.into_iter().collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says another page exists.
    pub fn from_rows<R, K: Into<i64>>(
        rows: Vec<R>,
        limit: i64,
        id: impl Fn(&R) -> K,
        map: impl Fn(R) -> T,
    ) -> Self {
        Self::from_keyed_rows(rows, limit, |r| id(r).into().to_string(), map)
    }

    /// As `from_rows`, for lists ordered by a text key (e.g. occupation codes).
    pub fn from_keyed_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> String,
        map: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_cursor = if more { rows.last().map(key) } else { None };
        Self {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded_and_cursors_checked() {
        let p = PageParams {
            limit: Some(MAX_LIMIT),
            cursor: Some("42".into()),
        };
        assert_eq!(p.limit().unwrap(), MAX_LIMIT);
        assert!(PageParams {
            limit: Some(MAX_LIMIT + 1),
            cursor: None
        }
        .limit()
        .is_err());
        assert_eq!(p.after_id().unwrap(), Some(42));
        assert!(PageParams {
            limit: Some(0),
            cursor: None
        }
        .limit()
        .is_err());
        assert!(PageParams {
            limit: None,
            cursor: Some("abc".into())
        }
        .after_id()
        .is_err());
    }

    #[test]
    fn next_cursor_only_when_more_rows() {
        let page: Page<i64> = Page::from_rows(vec![1, 2, 3], 2, |r| *r, |r| r);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        let last: Page<i64> = Page::from_rows(vec![1, 2], 2, |r| *r, |r| r);
        assert_eq!(last.next_cursor, None);
    }
}
