//! Rate limits per caller (the token's issuer and subject) and per client address, answered
//! with 429 RATE_LIMITED and `Retry-After`. Partner pushes (`POST /api/v1/incidents`) draw on a
//! budget of their own, so a busy front-end cannot use up what the partner systems need.
//!
//! The buckets live in each instance's memory (governor's GCRA): with several instances behind
//! a load balancer, each allows its own budget.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

/// A budget: `count` requests per `period`, of which all `count` may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    /// Reads `N/s`, `N/min` or `N/h`. `None` for `off`.
    pub fn parse(name: &str, value: &str) -> anyhow::Result<Option<Rate>> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad =
            || anyhow::anyhow!("{name} must be a rate such as 20/s, 600/min or 1000/h, or off");
        let (count, unit) = value.split_once('/').ok_or_else(bad)?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(bad)?;
        let period = match unit.trim() {
            "s" | "sec" => Duration::from_secs(1),
            "min" | "m" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        Ok(Some(Rate { count, period }))
    }

    fn quota(self) -> anyhow::Result<Quota> {
        let burst = NonZeroU32::new(self.count).context("a rate of 0")?;
        let each = self.period / self.count;
        Ok(Quota::with_period(each)
            .context("a rate too fast to keep")?
            .allow_burst(burst))
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.period.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// One setting as configured: unset (the default applies) or a rate, or off.
pub type Setting = Option<Option<Rate>>;

/// Where a client's address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAddress {
    /// The TCP peer.
    #[default]
    Peer,
    /// The last address in `X-Forwarded-For` (the one the load balancer in front of csphub
    /// added), else the peer. Only for a csphub that nothing but the load balancer can reach.
    ForwardedFor,
}

/// The rate limits as configured (`CSPHUB_RATE_LIMIT*`, `CSPHUB_PUSH_RATE_LIMIT*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `CSPHUB_RATE_LIMIT`: requests per caller (issuer and subject).
    pub caller: Setting,
    /// `CSPHUB_RATE_LIMIT_PER_ADDRESS`: requests per client address, before any token check.
    pub address: Setting,
    /// `CSPHUB_PUSH_RATE_LIMIT`: pushes per caller.
    pub push_caller: Setting,
    /// `CSPHUB_PUSH_RATE_LIMIT_PER_ADDRESS`: pushes per client address.
    pub push_address: Setting,
    /// `CSPHUB_CLIENT_ADDRESS`: `peer` (default) or `x-forwarded-for`.
    pub client_address: ClientAddress,
}

/// What applies where a setting is not given, outside demo mode. Demo mode has no limits
/// unless they are set. The per-address limits are off unless set: behind a load balancer
/// every client has the balancer's address, and one client's flood would then spend everyone's
/// budget.
pub const DEFAULT_CALLER: Option<Rate> = Some(Rate {
    count: 50,
    period: Duration::from_secs(1),
});
pub const DEFAULT_ADDRESS: Option<Rate> = None;
pub const DEFAULT_PUSH_CALLER: Option<Rate> = Some(Rate {
    count: 5,
    period: Duration::from_secs(1),
});
pub const DEFAULT_PUSH_ADDRESS: Option<Rate> = None;

impl RateLimitSettings {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let setting = |name: &str| -> anyhow::Result<Setting> {
            var(name).map(|v| Rate::parse(name, &v)).transpose()
        };
        let client_address = match var("CSPHUB_CLIENT_ADDRESS").as_deref().map(str::trim) {
            None | Some("peer") => ClientAddress::Peer,
            Some(v) if v.eq_ignore_ascii_case("x-forwarded-for") => ClientAddress::ForwardedFor,
            Some(_) => anyhow::bail!("CSPHUB_CLIENT_ADDRESS must be peer or x-forwarded-for"),
        };
        Ok(Self {
            caller: setting("CSPHUB_RATE_LIMIT")?,
            address: setting("CSPHUB_RATE_LIMIT_PER_ADDRESS")?,
            push_caller: setting("CSPHUB_PUSH_RATE_LIMIT")?,
            push_address: setting("CSPHUB_PUSH_RATE_LIMIT_PER_ADDRESS")?,
            client_address,
        })
    }

    /// No limits at all, whatever the mode.
    pub fn off() -> Self {
        Self {
            caller: Some(None),
            address: Some(None),
            push_caller: Some(None),
            push_address: Some(None),
            client_address: ClientAddress::Peer,
        }
    }
}

type Keyed<K> = DefaultKeyedRateLimiter<K>;

/// One budget, per key.
struct Bucket<K: std::hash::Hash + Eq + Clone> {
    rate: Rate,
    limiter: Keyed<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Bucket<K> {
    fn new(setting: Setting, default: Option<Rate>, demo: bool) -> anyhow::Result<Option<Self>> {
        let rate = match setting {
            Some(rate) => rate,
            None if demo => None,
            None => default,
        };
        rate.map(|rate| {
            Ok(Self {
                rate,
                limiter: Keyed::dashmap(rate.quota()?),
            })
        })
        .transpose()
    }

    /// Takes one from `key`'s budget, or says how long until there is one.
    fn take(&self, key: &K, what: &str) -> Result<(), AppError> {
        match self.limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(AppError::RateLimited {
                    message: format!(
                        "too many {what} (at most {}); try again in {} s",
                        self.rate,
                        secs.max(1)
                    ),
                    retry_after_secs: secs.max(1),
                })
            }
        }
    }

    fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Requests,
    Pushes,
}

/// The service's rate limiters, shared by every request of an instance.
pub struct RateLimits {
    caller: Option<Bucket<(String, String)>>,
    address: Option<Bucket<IpAddr>>,
    push_caller: Option<Bucket<(String, String)>>,
    push_address: Option<Bucket<IpAddr>>,
    client_address: ClientAddress,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings, demo: bool) -> anyhow::Result<Self> {
        Ok(Self {
            caller: Bucket::new(settings.caller, DEFAULT_CALLER, demo)?,
            address: Bucket::new(settings.address, DEFAULT_ADDRESS, demo)?,
            push_caller: Bucket::new(settings.push_caller, DEFAULT_PUSH_CALLER, demo)?,
            push_address: Bucket::new(settings.push_address, DEFAULT_PUSH_ADDRESS, demo)?,
            client_address: settings.client_address,
        })
    }

    /// Takes one from the caller's budget: after its token is verified, so that nobody can
    /// spend another caller's budget.
    pub fn take_caller(&self, issuer: &str, subject: &str, budget: Budget) -> Result<(), AppError> {
        let (bucket, what) = match budget {
            Budget::Requests => (&self.caller, "requests from this caller"),
            Budget::Pushes => (&self.push_caller, "pushes from this caller"),
        };
        match bucket {
            Some(b) => b.take(&(issuer.to_owned(), subject.to_owned()), what),
            None => Ok(()),
        }
    }

    fn take_address(&self, address: IpAddr, budget: Budget) -> Result<(), AppError> {
        let (bucket, what) = match budget {
            Budget::Requests => (&self.address, "requests from this address"),
            Budget::Pushes => (&self.push_address, "pushes from this address"),
        };
        match bucket {
            Some(b) => b.take(&address, what),
            None => Ok(()),
        }
    }

    fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        if self.client_address == ClientAddress::ForwardedFor
            && let Some(forwarded) = headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|a| a.trim().parse::<IpAddr>().ok())
        {
            return Some(forwarded);
        }
        peer.map(|p| p.ip())
    }

    /// Drops the buckets of keys that have been quiet long enough to be full again, so that
    /// many one-off callers or addresses cannot grow the maps without end.
    pub fn forget_idle(&self) {
        if let Some(b) = &self.caller {
            b.forget_idle();
        }
        if let Some(b) = &self.address {
            b.forget_idle();
        }
        if let Some(b) = &self.push_caller {
            b.forget_idle();
        }
        if let Some(b) = &self.push_address {
            b.forget_idle();
        }
    }

    pub fn any(&self) -> bool {
        self.caller.is_some()
            || self.address.is_some()
            || self.push_caller.is_some()
            || self.push_address.is_some()
    }
}

/// The budget a route draws on; `None` for the health probes, which are never limited.
pub fn budget_of(path: &str) -> Option<Budget> {
    match path {
        "/healthz" | "/readyz" => None,
        "/api/v1/incidents" => Some(Budget::Pushes),
        _ => Some(Budget::Requests),
    }
}

/// The per-address limit, before anything else is read of the request: the answer that
/// refuses the request when its address has spent its budget. Called by `layers::guards`.
pub fn refused_address(limits: &RateLimits, req: &Request) -> Option<Response> {
    let budget = budget_of(req.uri().path())?;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let address = limits.client(req.headers(), peer)?;
    let e = limits.take_address(address, budget).err()?;
    // GraphQL clients read `errors`; everyone else the REST shape.
    Some(if req.uri().path() == "/graphql" {
        e.into_graphql_response()
    } else {
        e.into_response()
    })
}

/// Forgets idle buckets every minute, for as long as the service runs.
pub async fn forget_idle_buckets(limits: Arc<RateLimits>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        limits.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(
            Rate::parse("X", "20/s").expect("ok"),
            Some(Rate {
                count: 20,
                period: Duration::from_secs(1)
            })
        );
        assert_eq!(
            Rate::parse("X", " 600 / min ").expect("ok"),
            Some(Rate {
                count: 600,
                period: Duration::from_secs(60)
            })
        );
        assert_eq!(Rate::parse("X", "OFF").expect("ok"), None);
        for bad in ["", "20", "0/s", "-1/s", "20/day", "x/s", "20/s/s"] {
            assert!(Rate::parse("X", bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn demo_has_no_limits_unless_set() {
        let unset = RateLimitSettings::default();
        assert!(!RateLimits::new(&unset, true).expect("limits").any());
        let prod = RateLimits::new(&unset, false).expect("limits");
        assert!(prod.caller.is_some() && prod.push_caller.is_some());
        assert!(prod.address.is_none() && prod.push_address.is_none());
        let set = RateLimitSettings {
            caller: Some(Rate::parse("X", "2/s").expect("rate")),
            ..Default::default()
        };
        let demo = RateLimits::new(&set, true).expect("limits");
        assert!(demo.caller.is_some() && demo.address.is_none());
    }

    #[test]
    fn a_caller_budget_runs_out_and_says_when_to_come_back() {
        let set = RateLimitSettings {
            caller: Some(Rate::parse("X", "2/min").expect("rate")),
            ..RateLimitSettings::off()
        };
        let limits = RateLimits::new(&set, false).expect("limits");
        for _ in 0..2 {
            limits
                .take_caller("iss", "a", Budget::Requests)
                .expect("within budget");
        }
        match limits.take_caller("iss", "a", Budget::Requests) {
            Err(AppError::RateLimited {
                retry_after_secs, ..
            }) => assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}"),
            other => panic!("expected RATE_LIMITED, got {other:?}"),
        }
        // Another subject, the same subject at another issuer, and pushes are separate.
        limits
            .take_caller("iss", "b", Budget::Requests)
            .expect("another caller");
        limits
            .take_caller("other", "a", Budget::Requests)
            .expect("another issuer");
        limits
            .take_caller("iss", "a", Budget::Pushes)
            .expect("pushes are not limited here");
    }

    #[test]
    fn forwarded_for_takes_the_last_address_only_when_configured() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "10.9.9.9, 192.0.2.7".parse().expect("header"),
        );
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let peer_only = RateLimits::new(&RateLimitSettings::off(), false).expect("limits");
        assert_eq!(peer_only.client(&headers, Some(peer)), Some(peer.ip()));
        let forwarded = RateLimits::new(
            &RateLimitSettings {
                client_address: ClientAddress::ForwardedFor,
                ..RateLimitSettings::off()
            },
            false,
        )
        .expect("limits");
        assert_eq!(
            forwarded.client(&headers, Some(peer)),
            Some("192.0.2.7".parse().expect("ip"))
        );
        assert_eq!(
            forwarded.client(&HeaderMap::new(), Some(peer)),
            Some(peer.ip())
        );
    }
}
