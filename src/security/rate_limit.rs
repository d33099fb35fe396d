//! Brute-force limits: token buckets (GCRA, from `governor`) that count only
//! what an attacker must repeat.
//!
//! - Failed logins are counted per username *and* client address (the
//!   tight limit: one client guessing one account), per username from any
//!   address (a guessing botnet), and per client address for any username
//!   (one client trying many accounts). A correct login, or loading the
//!   login page, never counts, so a user who knows the password is never
//!   locked out by their own use.
//! - Registrations are counted per client address, successful or not, once
//!   the input is valid (each costs a password hash).
//!
//! A bucket holds `N` attempts and regains one every `PERIOD / N`. While it
//! is empty the request is refused before any password is checked, with a
//! "try again in N seconds" hint; the wait is never longer than one
//! `PERIOD / N` past the last counted failure, which caps how long an
//! attacker can lock a victim out ([`MAX_PENALTY`] bounds the setting).
//! Because a refused attempt is not counted, hammering a locked bucket does
//! not make the lock last longer.
//!
//! IPv6 clients are counted by their /64 network: one host usually holds a
//! whole /64 and could otherwise change address for every guess.

use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::clock::{Clock, FakeRelativeClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::{Quota, RateLimiter};

/// Longest a single lock may last (the setting's `PERIOD / N`): an attacker
/// who stops can keep a victim out for at most this long. Equal to
/// [`crate::error::MAX_WAIT_SHOWN`].
pub const MAX_PENALTY: Duration = Duration::from_secs(crate::error::MAX_WAIT_SHOWN as u64);

/// How often buckets that are full again are forgotten.
pub const CLEANUP_INTERVAL: Duration = Duration::from_secs(60);

/// A limit as written in the settings: `N/PERIOD`, "N attempts per PERIOD",
/// e.g. `5/5m`. The bucket holds `N` and regains one every `PERIOD / N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Bucket size: attempts allowed at once.
    pub burst: NonZeroU32,
    /// Time to regain all of them.
    pub period: Duration,
}

/// Why a limit setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Not of the form `N/PERIOD`.
    #[error("a limit is written N/PERIOD, like 5/5m")]
    Syntax,
    /// One attempt regained in less than a millisecond.
    #[error("a limit must regain one attempt per millisecond at most")]
    TooFast,
    /// One attempt regained in more than [`MAX_PENALTY`].
    #[error("a limit may lock for at most 15 minutes (PERIOD / N); lower PERIOD or raise N")]
    PenaltyTooLong,
}

impl Limit {
    /// How long one attempt takes to come back: the longest single lock.
    pub fn penalty(&self) -> Duration {
        self.period / self.burst.get()
    }

    fn quota(&self) -> Quota {
        // `FromStr` made sure the interval is at least a millisecond.
        Quota::with_period(self.penalty())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(self.burst)
    }
}

impl FromStr for Limit {
    type Err = LimitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (count, period) = s.trim().split_once('/').ok_or(LimitError::Syntax)?;
        let burst = count
            .trim()
            .parse::<NonZeroU32>()
            .map_err(|_| LimitError::Syntax)?;
        let period = humantime::parse_duration(period.trim()).map_err(|_| LimitError::Syntax)?;
        let limit = Self { burst, period };
        if limit.penalty() < Duration::from_millis(1) {
            return Err(LimitError::TooFast);
        }
        if limit.penalty() > MAX_PENALTY {
            return Err(LimitError::PenaltyTooLong);
        }
        Ok(limit)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.burst,
            humantime::format_duration(self.period)
        )
    }
}

/// A key with a mode: a dry run asks "would one more be allowed?" and
/// leaves the bucket as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Probe<K> {
    key: K,
    dry_run: bool,
}

/// `governor`'s concurrent map of buckets, able to answer a dry run: the
/// limiter decides as usual, and a dry run refuses the update.
struct PeekableStore<K: Hash + Eq + Clone>(DashMapStateStore<K>);

impl<K: Hash + Eq + Clone> StateStore for PeekableStore<K> {
    type Key = Probe<K>;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe<K>, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if !probe.dry_run {
            return self.0.measure_and_replace(&probe.key, f);
        }
        if !self.0.contains_key(&probe.key) {
            return f(None).map(|(outcome, _)| outcome);
        }
        let decided = self.0.measure_and_replace(&probe.key, |tat| {
            // An `Err` tells the store not to write anything.
            Err::<(std::convert::Infallible, Nanos), _>(f(tat).map(|(outcome, _)| outcome))
        });
        match decided {
            Ok(never) => match never {},
            Err(decision) => decision,
        }
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<Probe<K>> for PeekableStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&self.0, drop_below);
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&self.0);
    }

    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::len(&self.0)
    }

    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::is_empty(&self.0)
    }
}

/// One bucket per key that fills with counted events (failures): asking
/// whether a key is locked costs nothing and changes nothing.
pub struct KeyedLimiter<K: Hash + Eq + Clone, C: Clock = LimitClock> {
    limiter: RateLimiter<Probe<K>, PeekableStore<K>, C, NoOpMiddleware<C::Instant>>,
}

/// The clock the server's limits run on: the system's monotonic clock, or
/// one that moves only when told, so that tests of the limits do not depend
/// on how fast the machine happens to run them.
#[derive(Debug, Clone)]
pub struct LimitClock(Ticking);

#[derive(Debug, Clone)]
enum Ticking {
    /// Time since the limits were made.
    System(Instant),
    /// Time a test moves with [`LimitClock::advance`].
    Manual(FakeRelativeClock),
}

impl LimitClock {
    /// The system's monotonic clock (what the server uses).
    pub fn system() -> Self {
        Self(Ticking::System(Instant::now()))
    }

    /// A clock standing still until [`Self::advance`] moves it; clones share it.
    pub fn manual() -> Self {
        Self(Ticking::Manual(FakeRelativeClock::default()))
    }

    /// Moves a [`Self::manual`] clock forward; the system clock moves by itself
    /// and ignores this.
    pub fn advance(&self, by: Duration) {
        if let Ticking::Manual(clock) = &self.0 {
            clock.advance(by);
        }
    }
}

impl Clock for LimitClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match &self.0 {
            Ticking::System(start) => Nanos::from(start.elapsed()),
            Ticking::Manual(clock) => clock.now(),
        }
    }
}

impl<K: Hash + Eq + Clone, C: Clock> KeyedLimiter<K, C> {
    /// A limiter for `limit` on `clock` (tests pass a fake clock).
    pub fn with_clock(limit: Limit, clock: C) -> Self {
        let store = PeekableStore(DashMapStateStore::default());
        Self {
            limiter: RateLimiter::new(limit.quota(), store, clock),
        }
    }

    /// How long `key` stays locked, if its bucket is empty now.
    pub fn locked_for(&self, key: &K) -> Option<Duration> {
        let probe = Probe {
            key: key.clone(),
            dry_run: true,
        };
        let now = self.limiter.clock().now();
        self.limiter
            .check_key(&probe)
            .err()
            .map(|not_until| not_until.wait_time_from(now))
    }

    /// Counts one event for `key`. When the bucket is already empty nothing
    /// changes: refused attempts do not lengthen the lock.
    pub fn count(&self, key: K) {
        let probe = Probe {
            key,
            dry_run: false,
        };
        let _ = self.limiter.check_key(&probe);
    }

    /// Forgets the buckets that are full again.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many keys have a bucket now.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether no key has a bucket.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// The limits in use, one value per setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Failed logins for one username from one client address.
    pub login_user_ip: Limit,
    /// Failed logins for one username from anywhere.
    pub login_user: Limit,
    /// Failed logins from one client address, any username.
    pub login_ip: Limit,
    /// Registrations from one client address.
    pub register_ip: Limit,
}

struct Buckets {
    login_user_ip: KeyedLimiter<(String, IpAddr)>,
    login_user: KeyedLimiter<String>,
    login_ip: KeyedLimiter<IpAddr>,
    register_ip: KeyedLimiter<IpAddr>,
}

/// All brute-force limits of the server; cheap to clone. Built disabled
/// when `AUTHBRIDGE_RATE_LIMIT=off` (development only).
#[derive(Clone)]
pub struct RateLimits(Option<Arc<Buckets>>);

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RateLimits")
            .field(&self.0.as_ref().map_or("off", |_| "on"))
            .finish()
    }
}

impl RateLimits {
    /// Limits enforcing `settings`, on the system clock.
    pub fn new(settings: LimitSettings) -> Self {
        Self::with_clock(settings, &LimitClock::system())
    }

    /// Limits enforcing `settings`, on `clock`.
    pub fn with_clock(settings: LimitSettings, clock: &LimitClock) -> Self {
        Self(Some(Arc::new(Buckets {
            login_user_ip: KeyedLimiter::with_clock(settings.login_user_ip, clock.clone()),
            login_user: KeyedLimiter::with_clock(settings.login_user, clock.clone()),
            login_ip: KeyedLimiter::with_clock(settings.login_ip, clock.clone()),
            register_ip: KeyedLimiter::with_clock(settings.register_ip, clock.clone()),
        })))
    }

    /// No limits at all (load tests and benchmarks).
    pub fn off() -> Self {
        Self(None)
    }

    /// How long a login for `username` (its case-folded key; `None` when
    /// the input is no valid name) from `ip` must wait, if it must.
    pub fn login_locked(&self, username: Option<&str>, ip: IpAddr) -> Option<Duration> {
        let buckets = self.0.as_ref()?;
        let ip = bucket_ip(ip);
        let by_name = username.and_then(|name| {
            longest(
                buckets.login_user_ip.locked_for(&(name.to_owned(), ip)),
                buckets.login_user.locked_for(&name.to_owned()),
            )
        });
        longest(by_name, buckets.login_ip.locked_for(&ip))
    }

    /// Counts a failed login (or a wrong current password) for `username`
    /// from `ip`.
    pub fn login_failed(&self, username: Option<&str>, ip: IpAddr) {
        let Some(buckets) = &self.0 else {
            return;
        };
        let ip = bucket_ip(ip);
        if let Some(name) = username {
            buckets.login_user_ip.count((name.to_owned(), ip));
            buckets.login_user.count(name.to_owned());
        }
        buckets.login_ip.count(ip);
    }

    /// How long a registration from `ip` must wait, if it must.
    pub fn registration_locked(&self, ip: IpAddr) -> Option<Duration> {
        self.0.as_ref()?.register_ip.locked_for(&bucket_ip(ip))
    }

    /// Counts a registration attempt from `ip`.
    pub fn registration_attempted(&self, ip: IpAddr) {
        if let Some(buckets) = &self.0 {
            buckets.register_ip.count(bucket_ip(ip));
        }
    }

    /// Forgets the buckets that are full again, so the maps hold only
    /// recently active keys.
    pub fn forget_idle(&self) {
        if let Some(b) = &self.0 {
            b.login_user_ip.forget_idle();
            b.login_user.forget_idle();
            b.login_ip.forget_idle();
            b.register_ip.forget_idle();
        }
    }

    /// Runs [`Self::forget_idle`] every [`CLEANUP_INTERVAL`], forever.
    pub async fn forget_idle_forever(self) {
        let mut tick = tokio::time::interval(CLEANUP_INTERVAL);
        loop {
            tick.tick().await;
            self.forget_idle();
        }
    }
}

/// Whole seconds to wait, rounded up, at least one: for "try again in N
/// seconds" and `Retry-After`.
pub fn retry_after_secs(wait: Duration) -> u32 {
    let secs = wait.as_millis().div_ceil(1000).max(1);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

fn longest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The key an address is counted under: IPv4 as is (also when mapped into
/// IPv6), IPv6 by its /64.
pub fn bucket_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limit(s: &str) -> Limit {
        s.parse().unwrap()
    }

    fn fake(
        limit_text: &str,
    ) -> (
        KeyedLimiter<&'static str, FakeRelativeClock>,
        FakeRelativeClock,
    ) {
        let clock = FakeRelativeClock::default();
        (
            KeyedLimiter::with_clock(limit(limit_text), clock.clone()),
            clock,
        )
    }

    #[test]
    fn the_limits_clock_stands_still_until_moved_and_clones_share_it() {
        let clock = LimitClock::manual();
        let limits = RateLimits::with_clock(
            LimitSettings {
                login_user_ip: limit("1/1m"),
                login_user: limit("100/1m"),
                login_ip: limit("100/1m"),
                register_ip: limit("1/1m"),
            },
            &clock,
        );
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        limits.login_failed(Some("eve"), ip);
        assert_eq!(
            limits.login_locked(Some("eve"), ip),
            Some(Duration::from_secs(60))
        );
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            limits.login_locked(Some("eve"), ip),
            Some(Duration::from_secs(60))
        );
        clock.clone().advance(Duration::from_secs(60));
        assert_eq!(limits.login_locked(Some("eve"), ip), None);
        // The system clock moves by itself and ignores `advance`.
        let system = LimitClock::system();
        let before = system.now();
        system.advance(Duration::from_secs(3600));
        let moved = Duration::from(system.now()) - Duration::from(before);
        assert!(moved < Duration::from_secs(60), "{moved:?}");
    }

    #[test]
    fn limits_are_written_n_per_period() {
        let l = limit("5/5m");
        assert_eq!(l.burst.get(), 5);
        assert_eq!(l.penalty(), Duration::from_secs(60));
        assert_eq!(l.to_string(), "5/5m");
        for bad in ["", "5", "0/1m", "x/1m", "5/soon", "-1/1m", "5/"] {
            assert_eq!(bad.parse::<Limit>(), Err(LimitError::Syntax), "{bad:?}");
        }
        assert_eq!("1/1h".parse::<Limit>(), Err(LimitError::PenaltyTooLong));
        assert_eq!("1000000/1s".parse::<Limit>(), Err(LimitError::TooFast));
    }

    #[test]
    fn asking_whether_locked_never_uses_up_the_bucket() {
        let (limiter, _) = fake("3/3m");
        for _ in 0..100 {
            assert_eq!(limiter.locked_for(&"alice"), None);
        }
        assert!(limiter.is_empty(), "a dry run stores nothing");
    }

    #[test]
    fn the_bucket_locks_after_n_counted_failures_and_reopens_one_at_a_time() {
        let (limiter, clock) = fake("3/3m");
        for _ in 0..3 {
            assert_eq!(limiter.locked_for(&"alice"), None);
            limiter.count("alice");
        }
        assert_eq!(limiter.locked_for(&"alice"), Some(Duration::from_secs(60)));
        assert_eq!(limiter.locked_for(&"bob"), None, "other keys are free");

        clock.advance(Duration::from_secs(59));
        assert_eq!(limiter.locked_for(&"alice"), Some(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(1));
        assert_eq!(limiter.locked_for(&"alice"), None);
        limiter.count("alice");
        assert_eq!(limiter.locked_for(&"alice"), Some(Duration::from_secs(60)));
    }

    #[test]
    fn failures_while_locked_do_not_lengthen_the_lock() {
        let (limiter, clock) = fake("2/2m");
        limiter.count("victim");
        limiter.count("victim");
        for _ in 0..1000 {
            limiter.count("victim");
        }
        clock.advance(Duration::from_secs(60));
        assert_eq!(limiter.locked_for(&"victim"), None, "the penalty is capped");
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let (limiter, clock) = fake("2/2m");
        limiter.count("a");
        limiter.count("b");
        assert_eq!(limiter.len(), 2);
        clock.advance(Duration::from_secs(600));
        limiter.forget_idle();
        assert!(limiter.is_empty());
    }

    #[test]
    fn logins_are_limited_per_name_and_address_and_per_address() {
        let limits = RateLimits::new(LimitSettings {
            login_user_ip: limit("2/2m"),
            login_user: limit("4/4m"),
            login_ip: limit("3/3m"),
            register_ip: limit("1/1m"),
        });
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        limits.login_failed(Some("alice"), one);
        limits.login_failed(Some("alice"), one);
        assert!(limits.login_locked(Some("alice"), one).is_some());
        assert_eq!(limits.login_locked(Some("alice"), two), None);
        assert_eq!(limits.login_locked(Some("bob"), one), None);

        // A third failure from `one`, for another name, fills its address bucket.
        limits.login_failed(Some("bob"), one);
        assert!(limits.login_locked(Some("carol"), one).is_some());
        assert!(limits.login_locked(None, one).is_some());

        // Failures from many addresses fill the name's own bucket.
        limits.login_failed(Some("alice"), two);
        limits.login_failed(Some("alice"), "192.0.2.3".parse().unwrap());
        assert!(
            limits
                .login_locked(Some("alice"), "192.0.2.9".parse().unwrap())
                .is_some()
        );
    }

    #[test]
    fn switched_off_nothing_is_ever_locked() {
        let limits = RateLimits::off();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..100 {
            limits.login_failed(Some("alice"), ip);
            limits.registration_attempted(ip);
        }
        assert_eq!(limits.login_locked(Some("alice"), ip), None);
        assert_eq!(limits.registration_locked(ip), None);
    }

    #[test]
    fn ipv6_hosts_are_counted_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(bucket_ip(a), bucket_ip(b));
        assert_ne!(bucket_ip(a), bucket_ip(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(bucket_ip(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
