//! The vocabularies incidents are recorded in, as data with effective date ranges. A record is
//! checked against the vocabulary in force on the day it occurred.

use std::collections::HashMap;

use chrono::NaiveDate;

/// A vocabulary csphub knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vocabulary {
    CrimeCategory,
    AsbType,
    FireType,
    HateStrand,
    Outcome,
    DrugClass,
    CancelReason,
    CaseOutcome,
    Intervention,
}

impl Vocabulary {
    pub const ALL: [Vocabulary; 9] = [
        Vocabulary::CrimeCategory,
        Vocabulary::AsbType,
        Vocabulary::FireType,
        Vocabulary::HateStrand,
        Vocabulary::Outcome,
        Vocabulary::DrugClass,
        Vocabulary::CancelReason,
        Vocabulary::CaseOutcome,
        Vocabulary::Intervention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Vocabulary::CrimeCategory => "CRIME_CATEGORY",
            Vocabulary::AsbType => "ASB_TYPE",
            Vocabulary::FireType => "FIRE_TYPE",
            Vocabulary::HateStrand => "HATE_STRAND",
            Vocabulary::Outcome => "OUTCOME",
            Vocabulary::DrugClass => "DRUG_CLASS",
            Vocabulary::CancelReason => "CANCEL_REASON",
            Vocabulary::CaseOutcome => "CASE_OUTCOME",
            Vocabulary::Intervention => "INTERVENTION",
        }
    }

    pub fn parse(s: &str) -> Option<Vocabulary> {
        Vocabulary::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One term of a vocabulary and the dates it is in force (inclusive; open-ended when `to` is
/// None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub vocabulary: Vocabulary,
    pub code: String,
    pub label: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

/// The vocabularies csphub ships with: data.police.uk crime categories and outcomes, the ASB
/// qualifiers of the National Standard for Incident Recording, deliberate fires of the national
/// fire incident recording, the five monitored hate crime strands and drug classes. The
/// statutory depersonalised feed starts in April 2007; data.police.uk's 2013 changes split
/// public disorder and weapons and added bicycle theft, shoplifting and theft from the person.
pub fn builtin() -> Vec<Term> {
    use Vocabulary::*;
    let feed = d(2007, 4, 1);
    let split = d(2013, 5, 1);
    let mut terms = Vec::new();
    let mut add =
        |v: Vocabulary, code: &str, label: &str, from: NaiveDate, to: Option<NaiveDate>| {
            terms.push(Term {
                vocabulary: v,
                code: code.to_owned(),
                label: label.to_owned(),
                from,
                to,
            });
        };
    for (code, label, from, to) in [
        ("anti-social-behaviour", "Anti-social behaviour", feed, None),
        ("bicycle-theft", "Bicycle theft", split, None),
        ("burglary", "Burglary", feed, None),
        (
            "criminal-damage-arson",
            "Criminal damage and arson",
            feed,
            None,
        ),
        ("drugs", "Drugs", feed, None),
        ("other-theft", "Other theft", feed, None),
        (
            "possession-of-weapons",
            "Possession of weapons",
            split,
            None,
        ),
        ("public-order", "Public order", split, None),
        (
            "public-disorder-weapons",
            "Public disorder and weapons",
            feed,
            Some(d(2013, 4, 30)),
        ),
        ("robbery", "Robbery", feed, None),
        ("shoplifting", "Shoplifting", split, None),
        (
            "theft-from-the-person",
            "Theft from the person",
            split,
            None,
        ),
        ("vehicle-crime", "Vehicle crime", feed, None),
        ("violent-crime", "Violence and sexual offences", feed, None),
        ("other-crime", "Other crime", feed, None),
        (
            "deliberate-fire",
            "Deliberate fire (fire and rescue incident)",
            feed,
            None,
        ),
    ] {
        add(CrimeCategory, code, label, from, to);
    }
    for (code, label) in [
        ("personal", "Personal"),
        ("nuisance", "Nuisance"),
        ("environmental", "Environmental"),
    ] {
        add(AsbType, code, label, feed, None);
    }
    for (code, label) in [
        ("primary", "Deliberate primary fire (not in a vehicle)"),
        ("primary-vehicle", "Deliberate primary fire in a vehicle"),
        ("secondary", "Deliberate secondary fire"),
    ] {
        add(FireType, code, label, feed, None);
    }
    for (code, label) in [
        ("disability", "Disability"),
        ("race", "Race"),
        ("religion-or-belief", "Religion or belief"),
        ("sexual-orientation", "Sexual orientation"),
        ("transgender-identity", "Transgender identity"),
    ] {
        add(HateStrand, code, label, feed, None);
    }
    for (code, label) in [
        ("under-investigation", "Under investigation"),
        ("awaiting-court-result", "Awaiting court outcome"),
        ("charged", "Suspect charged"),
        ("cautioned", "Offender cautioned"),
        ("local-resolution", "Local resolution"),
        ("penalty-notice-issued", "Offender given a penalty notice"),
        ("unable-to-prosecute", "Unable to prosecute suspect"),
        (
            "no-further-action",
            "Investigation complete; no suspect identified",
        ),
        (
            "formal-action-not-in-public-interest",
            "Formal action is not in the public interest",
        ),
        (
            "action-taken-by-another-organisation",
            "Action to be taken by another organisation",
        ),
        (
            "further-investigation-not-in-public-interest",
            "Further investigation is not in the public interest",
        ),
        ("status-update-unavailable", "Status update unavailable"),
    ] {
        add(Outcome, code, label, feed, None);
    }
    for (code, label) in [("a", "Class A"), ("b", "Class B"), ("c", "Class C")] {
        add(DrugClass, code, label, feed, None);
    }
    // Why a partner withdrew a record: a code, never free text, since incident records carry no
    // personal data.
    for (code, label) in [
        ("transferred", "Transferred to another force or agency"),
        ("no-crime", "No crime: recorded, then found not to be one"),
        ("duplicate", "Duplicate of another record"),
        ("recorded-in-error", "Recorded in error"),
    ] {
        add(CancelReason, code, label, feed, None);
    }
    // How a case ended.
    for (code, label) in [
        ("behaviour-stopped", "Behaviour stopped or problem resolved"),
        (
            "risk-reduced",
            "Risk reduced to a level managed by one agency",
        ),
        ("enforcement-completed", "Enforcement action completed"),
        ("moved-away", "Subject moved out of the area"),
        ("no-engagement", "Victim or subject declined to engage"),
        (
            "transferred",
            "Transferred to another partnership or service",
        ),
        ("no-further-action", "No further action required"),
        ("subject-deceased", "Subject deceased"),
    ] {
        add(CaseOutcome, code, label, feed, None);
    }
    // Tools and powers of the Anti-social Behaviour, Crime and Policing Act 2014 (in force
    // 20 October 2014) and the orders it replaced (ASBOs, ASB injunctions, dispersal orders
    // under the 2003 Act), with the dates each was in force.
    let act_2014 = d(2014, 10, 20);
    let before_2014 = Some(d(2014, 10, 19));
    for (code, label, from, to) in [
        ("warning-letter", "Warning letter", feed, None),
        (
            "acceptable-behaviour-contract",
            "Acceptable behaviour contract",
            feed,
            None,
        ),
        ("mediation", "Mediation", feed, None),
        ("parenting-order", "Parenting order", feed, None),
        (
            "anti-social-behaviour-order",
            "Anti-social behaviour order (ASBO)",
            feed,
            before_2014,
        ),
        (
            "asb-injunction",
            "Anti-social behaviour injunction (Housing Act 1996)",
            feed,
            before_2014,
        ),
        (
            "dispersal-order-2003",
            "Dispersal order (Anti-social Behaviour Act 2003)",
            feed,
            before_2014,
        ),
        (
            "premises-closure-order-2003",
            "Premises closure order (Anti-social Behaviour Act 2003)",
            feed,
            before_2014,
        ),
        (
            "community-protection-notice",
            "Community protection notice",
            act_2014,
            None,
        ),
        (
            "community-protection-warning",
            "Community protection warning",
            act_2014,
            None,
        ),
        (
            "dispersal-direction",
            "Dispersal direction (2014 Act, s.35)",
            act_2014,
            None,
        ),
        (
            "civil-injunction",
            "Civil injunction (2014 Act, Part 1)",
            act_2014,
            None,
        ),
        (
            "criminal-behaviour-order",
            "Criminal behaviour order",
            act_2014,
            None,
        ),
        ("closure-notice", "Closure notice", act_2014, None),
        ("closure-order", "Closure order", act_2014, None),
        (
            "public-spaces-protection-order",
            "Public spaces protection order",
            act_2014,
            None,
        ),
        (
            "absolute-ground-for-possession",
            "Absolute ground for possession",
            act_2014,
            None,
        ),
        ("family-intervention", "Family intervention", feed, None),
        (
            "target-hardening",
            "Target hardening (security measures at the home)",
            feed,
            None,
        ),
        (
            "home-fire-safety-visit",
            "Home fire safety visit",
            feed,
            None,
        ),
    ] {
        add(Intervention, code, label, from, to);
    }
    terms
}

/// Why a value is not acceptable on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermProblem {
    Unknown,
    NotInForce { ranges: String },
}

/// The days a term is in force: from, and to (None while in force).
type InForce = (NaiveDate, Option<NaiveDate>);

/// The vocabularies loaded for checking records.
#[derive(Debug, Clone, Default)]
pub struct Vocabularies {
    terms: HashMap<(Vocabulary, String), Vec<InForce>>,
}

impl Vocabularies {
    pub fn new(terms: impl IntoIterator<Item = Term>) -> Self {
        let mut map: HashMap<(Vocabulary, String), Vec<InForce>> = HashMap::new();
        for t in terms {
            map.entry((t.vocabulary, t.code))
                .or_default()
                .push((t.from, t.to));
        }
        Self { terms: map }
    }

    /// Whether `code` is a term of `vocabulary` in force on `on`.
    pub fn check(
        &self,
        vocabulary: Vocabulary,
        code: &str,
        on: NaiveDate,
    ) -> Result<(), TermProblem> {
        let Some(ranges) = self.terms.get(&(vocabulary, code.to_owned())) else {
            return Err(TermProblem::Unknown);
        };
        if ranges
            .iter()
            .any(|(from, to)| *from <= on && to.is_none_or(|to| on <= to))
        {
            return Ok(());
        }
        let ranges = ranges
            .iter()
            .map(|(from, to)| match to {
                Some(to) => format!("{from} to {to}"),
                None => format!("from {from}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        Err(TermProblem::NotInForce { ranges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_checked_against_the_date() {
        let v = Vocabularies::new(builtin());
        let old = d(2012, 6, 1);
        let new = d(2015, 6, 1);
        assert!(
            v.check(Vocabulary::CrimeCategory, "public-disorder-weapons", old)
                .is_ok()
        );
        assert!(matches!(
            v.check(Vocabulary::CrimeCategory, "public-disorder-weapons", new),
            Err(TermProblem::NotInForce { .. })
        ));
        assert!(
            v.check(Vocabulary::CrimeCategory, "public-order", new)
                .is_ok()
        );
        assert!(
            v.check(Vocabulary::CrimeCategory, "public-order", old)
                .is_err()
        );
        assert_eq!(
            v.check(Vocabulary::CrimeCategory, "jaywalking", new),
            Err(TermProblem::Unknown)
        );
    }
}
