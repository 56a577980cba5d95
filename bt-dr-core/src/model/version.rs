//! Product versions as sites, backups and `check_health` report them.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::support::error::{Error, Result};

/// The build a `check_health` version carries: `37380-749b17ca…` (build number and commit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BuildId {
    /// Build number.
    pub number: u64,
    /// Commit id in lowercase hex.
    pub commit: String,
}

/// A product release version `X.Y.Z`, optionally with the build `check_health` reports.
///
/// Ordering and equality look at `X.Y.Z` only: two appliances on the same release
/// but different builds run the same version as far as restore rules go.
///
/// ```
/// use bt_dr_core::ProductVersion;
/// let v: ProductVersion = "19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)".parse().unwrap();
/// assert_eq!(v.to_string(), "19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)");
/// assert_eq!(v.release(), "19.1.8");
/// assert!(v < "23.2.1".parse().unwrap());
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(with = "String")
)]
pub struct ProductVersion {
    version: semver::Version,
    build: Option<BuildId>,
}

impl ProductVersion {
    /// A version without build.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            version: semver::Version::new(major, minor, patch),
            build: None,
        }
    }

    /// `X.Y.Z` without the build.
    pub fn release(&self) -> String {
        self.version.to_string()
    }

    /// Major version `X.Y`, the unit the vendor supports for two years.
    pub fn major(&self) -> (u64, u64) {
        (self.version.major, self.version.minor)
    }

    /// The semver triple.
    pub fn semver(&self) -> &semver::Version {
        &self.version
    }

    /// The one JSON view of a version every binding returns from `parse_version`.
    ///
    /// ```
    /// let v: bt_dr_core::ProductVersion = "19.1.8 (37380-749b17ca)".parse().unwrap();
    /// let view = serde_json::to_value(v.view()).unwrap();
    /// assert_eq!(view["release"], "19.1.8");
    /// assert_eq!(view["build_number"], 37380);
    /// ```
    pub fn view(&self) -> VersionView {
        VersionView {
            text: self.to_string(),
            release: self.release(),
            major: self.version.major,
            minor: self.version.minor,
            patch: self.version.patch,
            build_number: self.build.as_ref().map(|b| b.number),
            build_commit: self.build.as_ref().map(|b| b.commit.clone()),
        }
    }

    /// The build, when the version came from `check_health`.
    pub fn build(&self) -> Option<&BuildId> {
        self.build.as_ref()
    }

    /// The same version without its build.
    pub fn without_build(&self) -> Self {
        Self {
            version: self.version.clone(),
            build: None,
        }
    }
}

fn parse_triple(s: &str) -> Result<semver::Version> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 {
        return Err(Error::parse(
            "product version",
            format!("`{s}` is not of the form X.Y.Z"),
        ));
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty()
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return Err(Error::parse(
                "product version",
                format!("`{s}`: component `{p}` is not a number"),
            ));
        }
        nums[i] = p.parse().map_err(|_| {
            Error::parse(
                "product version",
                format!("`{s}`: component `{p}` is too large"),
            )
        })?;
    }
    Ok(semver::Version::new(nums[0], nums[1], nums[2]))
}

fn parse_build(s: &str, whole: &str) -> Result<BuildId> {
    let bad = |why: &str| Error::parse("product version", format!("`{whole}`: build `{s}` {why}"));
    let (num, commit) = s
        .split_once('-')
        .ok_or_else(|| bad("is not `<number>-<commit>`"))?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("has no build number"));
    }
    if !(7..=64).contains(&commit.len()) || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("has no hexadecimal commit id"));
    }
    Ok(BuildId {
        number: num
            .parse()
            .map_err(|_| bad("has a build number that is too large"))?,
        commit: commit.to_ascii_lowercase(),
    })
}

impl FromStr for ProductVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        match t.split_once(char::is_whitespace) {
            None => Ok(Self {
                version: parse_triple(t)?,
                build: None,
            }),
            Some((v, rest)) => {
                let rest = rest.trim();
                let inner = rest
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| {
                        Error::parse(
                            "product version",
                            format!("`{t}`: expected `X.Y.Z (<build>-<commit>)`"),
                        )
                    })?;
                Ok(Self {
                    version: parse_triple(v)?,
                    build: Some(parse_build(inner.trim(), t)?),
                })
            }
        }
    }
}

impl fmt::Display for ProductVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.version)?;
        if let Some(b) = &self.build {
            write!(f, " ({}-{})", b.number, b.commit)?;
        }
        Ok(())
    }
}

impl PartialEq for ProductVersion {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
    }
}
impl Eq for ProductVersion {}
impl PartialOrd for ProductVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ProductVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.version.cmp(&other.version)
    }
}
impl std::hash::Hash for ProductVersion {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.version.hash(state)
    }
}

impl Serialize for ProductVersion {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProductVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A version pattern in an upgrade table: a major `X.Y` (any maintenance release) or an exact `X.Y.Z`.
///
/// ```
/// use bt_dr_core::{ProductVersion, VersionPattern};
/// let p: VersionPattern = "23.2".parse().unwrap();
/// assert!(p.matches(&"23.2.4".parse::<ProductVersion>().unwrap()));
/// assert!(!p.matches(&"23.3.0".parse::<ProductVersion>().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(with = "String")
)]
pub enum VersionPattern {
    /// `X.Y`: every `X.Y.*`.
    Major(u64, u64),
    /// `X.Y.Z` exactly.
    Exact(semver::Version),
}

impl VersionPattern {
    /// Whether `v` falls under this pattern.
    pub fn matches(&self, v: &ProductVersion) -> bool {
        match self {
            VersionPattern::Major(a, b) => v.major() == (*a, *b),
            VersionPattern::Exact(e) => v.semver() == e,
        }
    }
}

impl FromStr for VersionPattern {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.split('.').count() == 2 {
            let full = parse_triple(&format!("{t}.0")).map_err(|_| {
                Error::parse("version pattern", format!("`{t}` is not X.Y or X.Y.Z"))
            })?;
            Ok(VersionPattern::Major(full.major, full.minor))
        } else {
            Ok(VersionPattern::Exact(parse_triple(t)?))
        }
    }
}

impl fmt::Display for VersionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionPattern::Major(a, b) => write!(f, "{a}.{b}"),
            VersionPattern::Exact(v) => write!(f, "{v}"),
        }
    }
}

impl Serialize for VersionPattern {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VersionPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_health_forms() {
        let v: ProductVersion = "24.1.2".parse().unwrap();
        assert_eq!(v.build(), None);
        let h: ProductVersion = "19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)"
            .parse()
            .unwrap();
        assert_eq!(h.build().unwrap().number, 37380);
        assert_eq!(h.release(), "19.1.8");
        assert_eq!(h, "19.1.8".parse().unwrap());
    }

    #[test]
    fn orders_numerically_not_lexically() {
        let a: ProductVersion = "9.10.0".parse().unwrap();
        let b: ProductVersion = "10.2.0".parse().unwrap();
        let c: ProductVersion = "9.9.9".parse().unwrap();
        assert!(c < a && a < b);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "24.1",
            "24.1.2.3",
            "24.x.1",
            "24.1.2 37380-abc",
            "24.1.2 (abc)",
            "24.01.2",
            "24.1.2 (1-zz)",
        ] {
            let e = bad.parse::<ProductVersion>().unwrap_err();
            assert_eq!(e.kind(), crate::support::error::ErrorKind::Parse, "{bad}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let v: ProductVersion = "23.2.1 (100-abcdef0)".parse().unwrap();
        let j = serde_json::to_string(&v).unwrap();
        assert_eq!(j, "\"23.2.1 (100-abcdef0)\"");
        let back: ProductVersion = serde_json::from_str(&j).unwrap();
        assert_eq!(back.build(), v.build());
    }
}

/// A version taken apart, as bindings show it (see [`ProductVersion::view`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VersionView {
    /// The version as written, build included.
    pub text: String,
    /// `X.Y.Z`.
    pub release: String,
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Build number, when known.
    pub build_number: Option<u64>,
    /// Build commit, when known.
    pub build_commit: Option<String>,
}
