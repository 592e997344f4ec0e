//! The access policy of `docs/access.md`, in one place. Resolvers and endpoints ask it;
//! none tests a role inline. Tenancy (partnerships in scope) is applied by the queries, which
//! only ever see the scope's partnerships, so a record out of scope is NOT_FOUND.

use uuid::Uuid;

use super::{Capability, Principal, Role};
use crate::error::AppError;

/// An operation a caller may ask for.
#[derive(Debug, Clone, Copy)]
pub enum Operation {
    /// Read plans, priorities, actions, progress history and plan progress reports.
    ReadPlans,
    /// Create or edit a plan, its priorities and actions; sign off; ratify; remove; close.
    ManagePlan,
    /// Record quarterly progress on an action led by `lead_agency`.
    RecordProgress { lead_agency: Uuid },
    /// Push incidents, always as the token's own agency.
    PushIncidents,
    /// Read incident records (rows), including the CSV export.
    ReadIncidentRows,
    /// Read incident statistics (exact for partners, suppressed for the PCC).
    ReadIncidentStats,
    /// Read areas and vocabularies.
    ReadReferenceData,
    /// Read exact statistics by official area (LSOA, MSOA, ward) with populations, rates and
    /// deprivation, hotspots and maps: partners. The PCC reads its figures by official area
    /// as cells of its protected table set (`ReadProtectedAreaStatistics`).
    ReadAreaStatistics,
    /// Read figures by official area as cells (and sums of cells) of the PCC's protected
    /// table set, small numbers withheld: the PCC. Partners read exact figures instead.
    ReadProtectedAreaStatistics,
    /// Create or edit a partnership's areas.
    ManageAreas,
    /// Read designated hotspots and the weekly response to them (no counts of records: every
    /// role).
    ReadHotspots,
    /// Designate a hotspot for a period: coordinators.
    ManageHotspots,
    /// Record the own agency's weekly response to a hotspot: any partner agency.
    RecordHotspotResponse,
    /// Open, read, search and work cases, their people and notes (which cases: the sharing
    /// rules, held by the queries and by row-level security). Never the PCC.
    WorkCases,
    /// Read the audit log's entries about plans, reports, pushes and incidents: the own agency's,
    /// or with `coordinator` the partnership's.
    ReadAuditLog,
    /// Read the audit log's entries that name a case, a note, a person or a search (they are
    /// case data): with `auditor`, the own agency's only.
    ReadCaseAudit,
    /// Read indicators, their links and populations (every role).
    ReadIndicators,
    /// Add indicators, link them to priorities, record external figures and populations.
    ManageIndicators,
    /// Read the strategic assessment (every role; the PCC's figures from its table sets).
    ReadAssessment,
    /// Read grants, their spend and survey results (every role).
    ReadGrants,
    /// Record a grant award or spend against one: the PCC, or a council coordinator.
    ManageGrants,
    /// Record resident survey results: coordinators.
    ManageSurveys,
    /// Submit (freeze) a report: coordinators.
    SubmitReports,
}

/// Whether the caller sees exact incident statistics; the PCC's figures have small numbers
/// suppressed and never break domestic abuse down by area.
pub fn exact_statistics(principal: &Principal) -> bool {
    principal.role != Role::Pcc
}

/// The kinds of submitted report a caller may read: the PCC reads only what is sent to it.
pub fn readable_reports(principal: &Principal) -> &'static [&'static str] {
    if exact_statistics(principal) {
        &["RAG_UPDATE", "PCC_REPORT", "STRATEGIC_ASSESSMENT"]
    } else {
        &["PCC_REPORT"]
    }
}

/// What of the audit log a caller that may read it (`Operation::ReadAuditLog`) sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditView {
    /// Every agency's entries (a coordinator), or its own agency's.
    pub every_agency: bool,
    /// Entries about case data too (`Operation::ReadCaseAudit`).
    pub case_data: bool,
}

/// The caller's view of the audit log. Asking for entries of case data by name
/// (`asks_case_data`) without the right to read them is FORBIDDEN, not answered empty.
pub fn audit_view(principal: &Principal, asks_case_data: bool) -> Result<AuditView, AppError> {
    let case_data = authorize(principal, Operation::ReadCaseAudit).is_ok();
    if asks_case_data && !case_data {
        authorize(principal, Operation::ReadCaseAudit)?;
    }
    Ok(AuditView {
        every_agency: principal.has(Capability::Coordinator),
        case_data,
    })
}

/// Allows the operation or says why not (FORBIDDEN).
pub fn authorize(principal: &Principal, op: Operation) -> Result<(), AppError> {
    let coordinator = principal.has(Capability::Coordinator);
    let partner = principal.role != Role::Pcc;
    let allowed = match op {
        Operation::ReadPlans => true,
        Operation::ManagePlan => partner && coordinator,
        Operation::RecordProgress { lead_agency } => {
            partner && (coordinator || principal.agency_id == lead_agency)
        }
        Operation::PushIncidents | Operation::ReadIncidentRows => partner,
        Operation::ReadAreaStatistics => partner,
        Operation::ReadProtectedAreaStatistics => !partner,
        Operation::ReadIncidentStats | Operation::ReadReferenceData => true,
        Operation::ManageAreas => partner && coordinator,
        Operation::ReadHotspots => true,
        Operation::ManageHotspots => partner && coordinator,
        Operation::RecordHotspotResponse => partner,
        Operation::WorkCases => partner && principal.has(Capability::Caseworker),
        Operation::ReadAuditLog => partner,
        Operation::ReadCaseAudit => partner && principal.has(Capability::Auditor),
        Operation::ReadIndicators => true,
        Operation::ManageIndicators => partner && coordinator,
        Operation::ReadAssessment => true,
        Operation::ReadGrants => true,
        Operation::ManageGrants => {
            principal.role == Role::Pcc || (principal.role == Role::Council && coordinator)
        }
        Operation::ManageSurveys => partner && coordinator,
        Operation::SubmitReports => partner && coordinator,
    };
    if allowed {
        return Ok(());
    }
    let why = match op {
        Operation::ReadPlans => "reading plans is not allowed",
        Operation::ManagePlan if !partner => "the PCC reads plans but does not manage them",
        Operation::ManagePlan => "managing the plan needs the coordinator capability",
        Operation::RecordProgress { .. } if !partner => {
            "the PCC reads progress but does not record it"
        }
        Operation::RecordProgress { .. } => {
            "only the action's lead agency or a coordinator may record its progress"
        }
        Operation::PushIncidents => "the PCC does not push incidents",
        Operation::ReadIncidentRows => "the PCC sees incident statistics, never incident records",
        Operation::ReadIncidentStats | Operation::ReadReferenceData => "not allowed",
        Operation::ReadAreaStatistics => {
            "the PCC's figures are cells of its protected table set: read protectedAreaStatistics"
        }
        Operation::ReadProtectedAreaStatistics => {
            "partners read exact figures by official area: read areaStatistics"
        }
        Operation::ManageAreas if !partner => "the PCC does not manage areas",
        Operation::ManageAreas => "managing areas needs the coordinator capability",
        Operation::ReadHotspots => "not allowed",
        Operation::ManageHotspots if !partner => {
            "the PCC reads designated hotspots but does not designate them"
        }
        Operation::ManageHotspots => "designating a hotspot needs the coordinator capability",
        Operation::RecordHotspotResponse => {
            "the PCC reads the response to hotspots but does not record it"
        }
        Operation::WorkCases if !partner => "the PCC never sees case data",
        Operation::WorkCases => "working cases needs the caseworker capability",
        Operation::ReadAuditLog | Operation::ReadCaseAudit if !partner => {
            "the PCC does not read the audit log"
        }
        Operation::ReadAuditLog => "not allowed",
        Operation::ReadCaseAudit => {
            "audit entries about case data (cases, notes, people, searches) are read by the agency's auditor"
        }
        Operation::ReadIndicators => "not allowed",
        Operation::ManageIndicators if !partner => {
            "the PCC reads indicators but does not manage them"
        }
        Operation::ManageIndicators => "managing indicators needs the coordinator capability",
        Operation::ReadAssessment | Operation::ReadGrants => "not allowed",
        Operation::ManageGrants => "grants are recorded by the PCC or a council coordinator",
        Operation::ManageSurveys if !partner => {
            "the PCC reads survey results but does not record them"
        }
        Operation::ManageSurveys => "recording survey results needs the coordinator capability",
        Operation::SubmitReports if !partner => "the PCC receives reports; it does not submit them",
        Operation::SubmitReports => "submitting a report needs the coordinator capability",
    };
    Err(AppError::Forbidden(why.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ScopedPartnership;

    fn principal(role: Role, caps: &[Capability]) -> Principal {
        Principal {
            sub: "t".into(),
            role,
            agency_id: Uuid::from_u128(1),
            agency: "a".into(),
            partnerships: vec![ScopedPartnership {
                id: Uuid::from_u128(9),
                slug: "p".into(),
            }],
            caps: caps.to_vec(),
        }
    }

    #[test]
    fn pcc_never_manages_even_with_coordinator() {
        let pcc = principal(Role::Pcc, &[Capability::Coordinator]);
        assert!(authorize(&pcc, Operation::ManagePlan).is_err());
        assert!(authorize(&pcc, Operation::ReadPlans).is_ok());
        let own = Operation::RecordProgress {
            lead_agency: Uuid::from_u128(1),
        };
        assert!(authorize(&pcc, own).is_err());
    }

    #[test]
    fn lead_agency_records_progress_without_coordinator() {
        let fire = principal(Role::Fire, &[]);
        let own = Operation::RecordProgress {
            lead_agency: Uuid::from_u128(1),
        };
        let other = Operation::RecordProgress {
            lead_agency: Uuid::from_u128(2),
        };
        assert!(authorize(&fire, own).is_ok());
        assert!(authorize(&fire, other).is_err());
        let coord = principal(Role::Council, &[Capability::Coordinator]);
        assert!(authorize(&coord, other).is_ok());
    }

    #[test]
    fn audit_entries_about_case_data_need_the_auditor_capability() {
        for role in [Role::Police, Role::Fire, Role::Council] {
            for caps in [
                &[][..],
                &[Capability::Coordinator],
                &[Capability::Caseworker],
                &[Capability::Coordinator, Capability::Caseworker],
            ] {
                let p = principal(role, caps);
                assert!(authorize(&p, Operation::ReadAuditLog).is_ok());
                assert!(
                    authorize(&p, Operation::ReadCaseAudit).is_err(),
                    "{role:?} {caps:?}"
                );
            }
            let auditor = principal(role, &[Capability::Auditor]);
            assert!(authorize(&auditor, Operation::ReadCaseAudit).is_ok());
        }
        let pcc = principal(Role::Pcc, &[Capability::Auditor, Capability::Coordinator]);
        assert!(authorize(&pcc, Operation::ReadAuditLog).is_err());
        assert!(authorize(&pcc, Operation::ReadCaseAudit).is_err());
    }
}
