//! Admin reading of the audit trail.

use super::AdminService;
use crate::dto::audit::AuditFilter;
use crate::errors::AppResult;
use crate::models::AuditEvent;
use crate::repositories::audit as audit_repo;

impl AdminService {
    /// Events matching `filter`, newest first.
    pub async fn audit_events(&self, filter: AuditFilter) -> AppResult<Vec<AuditEvent>> {
        self.db
            .run(move |c| {
                Ok(audit_repo::list(
                    c,
                    filter.user_id,
                    filter.event.as_deref(),
                    filter.since,
                    filter.limit,
                )?)
            })
            .await
    }
}
