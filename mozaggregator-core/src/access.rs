//! Who may read which metric: the deny-list, the auth-only metrics and the `release` gate
//! (docs/api.md, "Access rules").
//!
//! The policy is pure data plus two decisions: [`AccessPolicy::check`] for a metric query and
//! [`AccessPolicy::listable`] for the metric list of `/filters/`. Whether a caller is authorized
//! is decided elsewhere (the HTTP layer); the policy only takes the answer.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};
use crate::metric_name;

/// The channel whose metrics are gated.
pub const RELEASE: &str = "release";

/// The decision for one metric query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Serve it.
    Allowed,
    /// Pretend it does not exist (deny-listed).
    NotFound,
    /// It exists but needs authorization.
    Forbidden,
}

/// The access rules of the HTTP API.
///
/// ```
/// use mozaggregator_core::access::{Access, AccessPolicy};
/// let policy = AccessPolicy::default();
/// assert_eq!(policy.check("nightly", "GC_MS", false), Access::Allowed);
/// assert_eq!(policy.check("nightly", "SEARCH_COUNTS", true), Access::NotFound);
/// assert_eq!(policy.check("release", "GC_MS", false), Access::Forbidden);
/// assert_eq!(policy.check("release", "GC_MS", true), Access::Allowed);
/// assert_eq!(policy.check("nightly", "SCALARS_TELEMETRY.EVENT_COUNTS", false), Access::Forbidden);
/// ```
#[derive(Clone, Debug)]
pub struct AccessPolicy {
    /// Metrics matching any of these (anchored at the start of the name, like Python's
    /// `re.match`) are never served nor listed.
    pub deny: Vec<Regex>,
    /// Metrics served and listed only to authorized callers, on every channel.
    pub auth_only: BTreeSet<String>,
    /// Metrics of `release` served without authorization.
    pub public_release: BTreeSet<String>,
    /// Serve every `release` metric without authorization.
    pub allow_all_release: bool,
}

/// The original service's deny-list patterns.
pub const DEFAULT_DENY: [&str; 2] = ["SEARCH_COUNTS", r"SCALARS_BROWSER\.SEARCH\..+"];

/// The original service's auth-only metrics.
pub const DEFAULT_AUTH_ONLY: [&str; 2] = [
    "SCALARS_TELEMETRY.EVENT_COUNTS",
    "SCALARS_TELEMETRY.DYNAMIC_EVENT_COUNTS",
];

/// The original service's public `release` metrics.
pub const DEFAULT_PUBLIC_RELEASE: [&str; 1] = ["SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT"];

/// The original service's policy, built once. It must never fall back to anything more open:
/// the default patterns are constants, a test builds them, and a build that could not would
/// stop here rather than serve denied metrics.
static DEFAULT_POLICY: LazyLock<AccessPolicy> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    AccessPolicy::new(
        DEFAULT_DENY,
        DEFAULT_AUTH_ONLY,
        DEFAULT_PUBLIC_RELEASE,
        false,
    )
    .expect("the default deny patterns are valid regular expressions (tested)")
});

impl Default for AccessPolicy {
    /// The original service's rules (never an open policy).
    fn default() -> Self {
        DEFAULT_POLICY.clone()
    }
}

impl AccessPolicy {
    /// A policy from patterns and names. Each deny pattern is anchored at the start of the
    /// metric name (as `^(?:pattern)`), not at its end.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a pattern that is not a valid regular expression.
    pub fn new<D, A, P>(
        deny: D,
        auth_only: A,
        public_release: P,
        allow_all_release: bool,
    ) -> Result<Self>
    where
        D: IntoIterator,
        D::Item: AsRef<str>,
        A: IntoIterator,
        A::Item: Into<String>,
        P: IntoIterator,
        P::Item: Into<String>,
    {
        let deny = deny
            .into_iter()
            .map(|p| {
                let p = p.as_ref();
                Regex::new(&format!("^(?:{p})"))
                    .map_err(|e| Error::invalid("deny-list pattern", format!("`{p}`: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            deny,
            auth_only: auth_only.into_iter().map(Into::into).collect(),
            public_release: public_release.into_iter().map(Into::into).collect(),
            allow_all_release,
        })
    }

    /// A policy that gates nothing except `release` (no deny-list, no auth-only metrics).
    pub fn open() -> Self {
        Self {
            deny: Vec::new(),
            auth_only: BTreeSet::new(),
            public_release: BTreeSet::new(),
            allow_all_release: false,
        }
    }

    /// True when the metric matches the deny-list. A count histogram is checked under its
    /// served name (without `[[COUNT]]_`), so `[[COUNT]]_SEARCH_COUNTS` is denied too.
    pub fn denied(&self, metric: &str) -> bool {
        let served = metric_name::served(metric);
        self.deny
            .iter()
            .any(|r| r.is_match(served) || r.is_match(metric))
    }

    fn is_auth_only(&self, metric: &str) -> bool {
        self.auth_only.contains(metric_name::served(metric)) || self.auth_only.contains(metric)
    }

    /// The decision for a query of `metric` on `channel` by a caller who is `authorized` or not.
    ///
    /// Order: deny-listed → [`Access::NotFound`]; auth-only without authorization →
    /// [`Access::Forbidden`]; on `release`, unless all release metrics are open or the metric is
    /// public, without authorization → [`Access::Forbidden`]; else [`Access::Allowed`].
    pub fn check(&self, channel: &str, metric: &str, authorized: bool) -> Access {
        if self.denied(metric) {
            return Access::NotFound;
        }
        if authorized {
            return Access::Allowed;
        }
        if self.is_auth_only(metric) {
            return Access::Forbidden;
        }
        if channel == RELEASE
            && !self.allow_all_release
            && !self.public_release.contains(metric_name::served(metric))
        {
            return Access::Forbidden;
        }
        Access::Allowed
    }

    /// True when `metric` may appear in the `/filters/` metric list for this caller.
    pub fn listable(&self, metric: &str, authorized: bool) -> bool {
        !self.denied(metric) && (authorized || !self.is_auth_only(metric))
    }

    /// True when `channel` may be listed or browsed (its dates, its filters) by this caller.
    pub fn channel_visible(&self, channel: &str, authorized: bool) -> bool {
        authorized || channel != RELEASE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default policy is the original's, never the open one: every default pattern
    /// builds, and the defaults deny, gate and open what they list.
    #[test]
    fn the_default_policy_is_built_from_the_constants() {
        for pattern in DEFAULT_DENY {
            assert!(Regex::new(&format!("^(?:{pattern})")).is_ok(), "{pattern}");
        }
        let policy = AccessPolicy::default();
        assert_eq!(policy.deny.len(), DEFAULT_DENY.len());
        assert_eq!(policy.auth_only.len(), DEFAULT_AUTH_ONLY.len());
        assert_eq!(policy.public_release.len(), DEFAULT_PUBLIC_RELEASE.len());
        assert!(!policy.allow_all_release);
        assert_eq!(
            policy.check("nightly", "SCALARS_BROWSER.SEARCH.X", true),
            Access::NotFound
        );
        assert_eq!(
            policy.check("nightly", DEFAULT_AUTH_ONLY[0], false),
            Access::Forbidden
        );
        assert_eq!(
            policy.check(RELEASE, DEFAULT_PUBLIC_RELEASE[0], false),
            Access::Allowed
        );
    }

    #[test]
    fn deny_is_anchored_at_the_start_only() {
        let p = AccessPolicy::default();
        assert!(p.denied("SEARCH_COUNTS"));
        assert!(p.denied("SEARCH_COUNTS_EXTRA"));
        assert!(p.denied("[[COUNT]]_SEARCH_COUNTS"));
        assert!(!p.denied("MY_SEARCH_COUNTS"));
        assert!(p.denied("SCALARS_BROWSER.SEARCH.TEST_SCALAR"));
        assert!(!p.denied("SCALARS_BROWSER.SEARCH."));
        assert!(!p.denied("SCALARS_BROWSERXSEARCH.X"));
        assert_eq!(p.check("nightly", "SEARCH_COUNTS", true), Access::NotFound);
        assert_eq!(p.check("release", "SEARCH_COUNTS", false), Access::NotFound);
    }

    #[test]
    fn release_gate_and_public_metrics() {
        let p = AccessPolicy::default();
        let public = "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT";
        assert_eq!(p.check("release", public, false), Access::Allowed);
        assert_eq!(p.check("release", "GC_MS", false), Access::Forbidden);
        assert_eq!(p.check("beta", "GC_MS", false), Access::Allowed);
        let open = AccessPolicy {
            allow_all_release: true,
            ..AccessPolicy::default()
        };
        assert_eq!(open.check("release", "GC_MS", false), Access::Allowed);
        // Auth-only metrics stay gated even when release is open.
        assert_eq!(
            open.check("release", "SCALARS_TELEMETRY.EVENT_COUNTS", false),
            Access::Forbidden
        );
    }

    #[test]
    fn listing_hides_denied_and_auth_only() {
        let p = AccessPolicy::default();
        assert!(!p.listable("SEARCH_COUNTS", true));
        assert!(!p.listable("SCALARS_TELEMETRY.EVENT_COUNTS", false));
        assert!(p.listable("SCALARS_TELEMETRY.EVENT_COUNTS", true));
        assert!(p.listable("GC_MS", false));
        assert!(p.channel_visible("nightly", false));
        assert!(!p.channel_visible("release", false));
    }

    #[test]
    fn bad_pattern_is_an_error() {
        assert!(AccessPolicy::new(["("], [""; 0], [""; 0], false).is_err());
    }
}
