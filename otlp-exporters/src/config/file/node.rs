//! A position in the parsed YAML with its path (`tracer_provider.processors[0].batch`), and
//! typed accessors whose errors name that path and the value.
//!
//! Scalars are read leniently across YAML's types, because `${VAR}` substitution yields text:
//! `timeout: ${TIMEOUT:-10000}` is a string to the parser and a number to the schema.

use std::time::Duration;

use otlp_core::InvalidSetting;
use yaml_rust2::Yaml;

use super::Warnings;

/// A value in the file, and where it is.
#[derive(Clone)]
pub(crate) struct Node<'a> {
    pub(crate) yaml: &'a Yaml,
    path: String,
    origin: &'a str,
}

impl<'a> Node<'a> {
    pub(crate) fn root(yaml: &'a Yaml, origin: &'a str) -> Self {
        Node {
            yaml,
            path: String::new(),
            origin,
        }
    }

    /// Where the node is (`tracer_provider.processors[0]`).
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// An error at this node.
    pub(crate) fn error(&self, reason: impl Into<String>) -> InvalidSetting {
        let path = if self.path.is_empty() {
            "(top level)"
        } else {
            &self.path
        };
        InvalidSetting::new(format!("{}: {path}", self.origin), shown(self.yaml), reason)
    }

    /// An error at this node whose value is secret (headers): the value is not shown.
    pub(crate) fn secret_error(&self, reason: impl Into<String>) -> InvalidSetting {
        InvalidSetting::secret(format!("{}: {}", self.origin, self.path), reason)
    }

    /// A warning about this node: the file, the path, and what happens.
    pub(crate) fn warning(&self, what: &str) -> String {
        format!("{}: {}: {what}", self.origin, self.path)
    }

    /// Absent and `null` both count as unset, as the schema says.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self.yaml, Yaml::Null | Yaml::BadValue)
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Child `key` of a mapping, holding `yaml`.
    pub(crate) fn child(&self, key: &str, yaml: &'a Yaml) -> Node<'a> {
        Node {
            yaml,
            path: self.child_path(key),
            origin: self.origin,
        }
    }

    /// The items of a list, as nodes.
    pub(crate) fn list(&self) -> Result<Vec<Node<'a>>, InvalidSetting> {
        let items = match self.yaml {
            Yaml::Array(items) => items.as_slice(),
            _ if self.is_null() => &[],
            _ => return Err(self.error("expected a list")),
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, yaml)| Node {
                yaml,
                path: format!("{}[{i}]", self.path),
                origin: self.origin,
            })
            .collect())
    }

    /// The mapping's entries after checking every key is one of `known`. A key ending in
    /// `/development` that is not known is warned about and skipped; any other is an error.
    pub(crate) fn entries(
        &self,
        known: &[&str],
        warnings: &mut Warnings,
    ) -> Result<Vec<(&'a str, Node<'a>)>, InvalidSetting> {
        let map = match self.yaml {
            Yaml::Hash(map) => map,
            _ if self.is_null() => return Ok(Vec::new()),
            _ => return Err(self.error("expected a mapping")),
        };
        let mut out = Vec::new();
        for (key, value) in map {
            let Some(key) = key.as_str() else {
                return Err(self.error(format!("key {} is not text", shown(key))));
            };
            if known.contains(&key) {
                out.push((key, self.child(key, value)));
            } else if key.ends_with("/development") {
                warnings.warn(format!(
                    "{}: {} is not supported by this SDK; ignored",
                    self.origin,
                    self.child_path(key)
                ));
            } else {
                return Err(InvalidSetting::new(
                    format!("{}: {}", self.origin, self.child_path(key)),
                    key,
                    format!("unknown key; expected one of {}", known.join(", ")),
                ));
            }
        }
        Ok(out)
    }

    /// Text; numbers and booleans are taken as written.
    pub(crate) fn string(&self) -> Result<Option<String>, InvalidSetting> {
        Ok(match self.yaml {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Integer(i) => Some(i.to_string()),
            Yaml::Real(r) => Some(r.clone()),
            Yaml::Boolean(b) => Some(b.to_string()),
            _ if self.is_null() => None,
            _ => return Err(self.error("expected text")),
        })
    }

    /// A whole number of at least `min`.
    pub(crate) fn integer(&self, min: i64) -> Result<Option<i64>, InvalidSetting> {
        let n = match self.yaml {
            Yaml::Integer(i) => *i,
            Yaml::String(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| self.error("expected a whole number"))?,
            _ if self.is_null() => return Ok(None),
            _ => return Err(self.error("expected a whole number")),
        };
        if n < min {
            return Err(self.error(format!("must be at least {min}")));
        }
        Ok(Some(n))
    }

    /// A whole number that fits `T`, at least `min`.
    pub(crate) fn number<T: TryFrom<i64>>(&self, min: i64) -> Result<Option<T>, InvalidSetting> {
        match self.integer(min)? {
            None => Ok(None),
            Some(n) => T::try_from(n)
                .map(Some)
                .map_err(|_| self.error("too large")),
        }
    }

    /// A number with or without a fraction.
    pub(crate) fn float(&self) -> Result<Option<f64>, InvalidSetting> {
        match self.yaml {
            Yaml::Integer(i) => Ok(Some(*i as f64)),
            Yaml::Real(r) | Yaml::String(r) => r
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| self.error("expected a number")),
            _ if self.is_null() => Ok(None),
            _ => Err(self.error("expected a number")),
        }
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&self) -> Result<Option<bool>, InvalidSetting> {
        match self.yaml {
            Yaml::Boolean(b) => Ok(Some(*b)),
            Yaml::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(self.error("expected true or false")),
            },
            _ if self.is_null() => Ok(None),
            _ => Err(self.error("expected true or false")),
        }
    }

    /// Milliseconds, as the schema writes durations; `0` is [`NO_LIMIT`](super::NO_LIMIT)
    /// where `zero_is_no_limit`, an error otherwise.
    pub(crate) fn millis(
        &self,
        zero_is_no_limit: bool,
    ) -> Result<Option<Duration>, InvalidSetting> {
        match self.integer(0)? {
            None => Ok(None),
            Some(0) if zero_is_no_limit => Ok(Some(super::NO_LIMIT)),
            Some(0) => Err(self.error("must be positive")),
            Some(ms) => Ok(Some(Duration::from_millis(ms.unsigned_abs()))),
        }
    }

    /// One of `choices`, any case.
    pub(crate) fn choice<T: Copy>(
        &self,
        choices: &[(&str, T)],
    ) -> Result<Option<T>, InvalidSetting> {
        let Some(text) = self.string()? else {
            return Ok(None);
        };
        let lower = text.trim().to_ascii_lowercase();
        match choices.iter().find(|(name, _)| *name == lower) {
            Some((_, value)) => Ok(Some(*value)),
            None => Err(self.error(format!(
                "expected one of {}",
                choices
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// A YAML value as an error shows it.
fn shown(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null | Yaml::BadValue => "null".to_owned(),
        Yaml::Array(_) => "a list".to_owned(),
        Yaml::Hash(_) => "a mapping".to_owned(),
        Yaml::Alias(_) => "an alias".to_owned(),
    }
}
