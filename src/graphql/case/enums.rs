//! The case's GraphQL enums and the codes they stand for.

use super::*;

/// The kind of a case. It sets the prefix of the case's reference: ASB, DA, HATE, VUL or OTH.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CaseType {
    /// Anti-social behaviour; references start ASB-.
    Asb,
    /// Domestic abuse; references start DA-. The only type that takes a DASH risk assessment.
    DomesticAbuse,
    /// Hate crime or a hate incident; references start HATE-.
    Hate,
    /// A vulnerable person at risk; references start VUL-.
    Vulnerability,
    /// Any other kind; references start OTH-.
    Other,
}

impl CaseType {
    pub(super) fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }

    /// The reference's prefix: ASB-2015-0042.
    pub(super) fn prefix(self) -> &'static str {
        match self {
            CaseType::Asb => "ASB",
            CaseType::DomesticAbuse => "DA",
            CaseType::Hate => "HATE",
            CaseType::Vulnerability => "VUL",
            CaseType::Other => "OTH",
        }
    }

    pub(super) fn parse(s: &str) -> Result<CaseType, AppError> {
        crate::graphql::value_of(s)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown case type {s}")))
    }
}

/// Whether a case is still being worked.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CaseStatus {
    /// Being worked: the owning agency may change, assess and close it.
    Open,
    /// Closed with an outcome and a date, and due for retention review on `reviewOn`. The owning
    /// agency reopens it (`reopenCase`) before changing or assessing it again.
    Closed,
}

/// How much risk of harm a case carries, lowest first. A domestic-abuse case with a DASH score
/// is never below the level the score implies.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, PartialOrd, Ord)]
pub enum RiskLevel {
    /// The lowest level; what a DASH score below 10 implies.
    Standard,
    /// The middle level; what a DASH score of 10 to 13 implies.
    Medium,
    /// The highest level; what a DASH score of 14 or more implies. A HIGH case with no MARAC
    /// referral recorded shows `maracReferralMissing`.
    High,
}

impl RiskLevel {
    pub(super) fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }

    pub(super) fn parse(s: &str) -> Result<RiskLevel, AppError> {
        crate::graphql::value_of(s)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown risk level {s}")))
    }

    /// The level a DASH score implies (`domain::case::risk_from_dash`).
    pub fn from_dash(score: i32) -> RiskLevel {
        match domain::case::risk_from_dash(score) {
            domain::case::Risk::High => RiskLevel::High,
            domain::case::Risk::Medium => RiskLevel::Medium,
            domain::case::Risk::Standard => RiskLevel::Standard,
        }
    }
}

/// The part a person plays in a case.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SubjectPart {
    /// The person harmed or targeted.
    Victim,
    /// The person said to be causing the harm or the behaviour.
    Perpetrator,
    /// The person who complained or reported it, who need not be the victim.
    Complainant,
    /// A person who saw or heard what happened.
    Witness,
    /// Any other part in the case.
    Other,
}

impl SubjectPart {
    pub(super) fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }

    pub(super) fn parse(s: &str) -> Result<SubjectPart, AppError> {
        crate::graphql::value_of(s)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown part {s}")))
    }
}

/// Whether a person agreed to their data being shared.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Consent {
    /// They agreed; `consentOn` is the day they did.
    Given,
    /// They refused; `consentOn` is the day they did.
    Refused,
    /// They have not been asked (the default); `consentOn` is null.
    NotAsked,
}

impl Consent {
    pub(super) fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }

    pub(super) fn parse(s: &str) -> Consent {
        crate::graphql::value_of(s).unwrap_or(Consent::NotAsked)
    }
}

/// The legal basis a case is shared on.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LegalBasis {
    /// The owning agency's own access (not chosen: every case has it).
    Owner,
    /// s.115 Crime and Disorder Act 1998.
    #[graphql(name = "S115_CDA_1998")]
    S115Cda1998,
    /// The consent of the people the case concerns.
    Consent,
    /// Safeguarding a child or an adult at risk.
    Safeguarding,
    /// Any other basis, stated in `basisText`.
    Other,
}

impl LegalBasis {
    pub(super) fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }

    pub(super) fn parse(s: &str) -> LegalBasis {
        crate::graphql::value_of(s).unwrap_or(LegalBasis::Other)
    }
}

/// Who may read a note.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NoteVisibility {
    /// Every agency the case is shared with.
    Shared,
    /// The author's agency only.
    Agency,
}

impl NoteVisibility {
    pub(super) fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }
}
