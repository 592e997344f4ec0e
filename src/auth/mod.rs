//! Who is asking: token verification (`token`) and the one access policy (`policy`).

pub mod link;
pub mod policy;
pub mod token;

use uuid::Uuid;

use crate::error::AppError;

/// The access class a token carries in its `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Police,
    Fire,
    Council,
    Pcc,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "police" => Some(Role::Police),
            "fire" => Some(Role::Fire),
            "council" => Some(Role::Council),
            "pcc" => Some(Role::Pcc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Police => "police",
            Role::Fire => "fire",
            Role::Council => "council",
            Role::Pcc => "pcc",
        }
    }

    /// The registered agency kind a token of this role must act as.
    pub fn agency_kind(self) -> &'static str {
        self.as_str()
    }
}

/// Extra capabilities a token may carry in its `caps` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    Coordinator,
    Caseworker,
    /// The agency's information governance lead: reads its agency's audit entries about case
    /// data.
    Auditor,
}

impl Capability {
    pub fn parse(s: &str) -> Option<Capability> {
        match s {
            "coordinator" => Some(Capability::Coordinator),
            "caseworker" => Some(Capability::Caseworker),
            "auditor" => Some(Capability::Auditor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Coordinator => "coordinator",
            Capability::Caseworker => "caseworker",
            Capability::Auditor => "auditor",
        }
    }
}

/// A partnership the request may act in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedPartnership {
    pub id: Uuid,
    pub slug: String,
}

/// The verified caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub sub: String,
    pub role: Role,
    pub agency_id: Uuid,
    pub agency: String,
    /// Partnerships named in the token that the agency belongs to.
    pub partnerships: Vec<ScopedPartnership>,
    pub caps: Vec<Capability>,
}

impl Principal {
    pub fn has(&self, cap: Capability) -> bool {
        self.caps.contains(&cap)
    }

    /// The ids of the partnerships in scope, for queries.
    pub fn scope(&self) -> Vec<Uuid> {
        self.partnerships.iter().map(|p| p.id).collect()
    }

    /// The partnership a request names by slug, or NOT_FOUND when it is not in scope, exactly as
    /// for one that does not exist.
    pub fn partnership(&self, slug: &str) -> Result<&ScopedPartnership, AppError> {
        self.partnerships
            .iter()
            .find(|p| p.slug == slug)
            .ok_or_else(|| AppError::not_found(&format!("partnership '{slug}'")))
    }

    /// The partnership a request names, or the token's only one when it names none.
    pub fn partnership_or_only(&self, slug: Option<&str>) -> Result<&ScopedPartnership, AppError> {
        match (slug, self.partnerships.as_slice()) {
            (Some(slug), _) => self.partnership(slug),
            (None, [only]) => Ok(only),
            (None, []) => Err(AppError::NotFound(
                "the token's partnerships are not open to its agency".to_owned(),
            )),
            (None, _) => Err(AppError::BadUserInput(
                "name the partnership: the token names more than one".to_owned(),
            )),
        }
    }
}
