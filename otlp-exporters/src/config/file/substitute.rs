//! Environment variable substitution in the configuration file, as the specification
//! defines it: `${VAR}`, `${env:VAR}`, `${VAR:-default}` (the default when VAR is unset or
//! empty), `$$` for a literal `$`; in scalar values only, never in keys, and never
//! re-substituted. A value that was only a reference to an unset variable becomes `null`.

use yaml_rust2::yaml::Hash;
use yaml_rust2::Yaml;

use crate::config::EnvSource;

/// A reference that cannot be substituted: where it is, the value, and why.
pub(crate) struct BadReference {
    pub(crate) path: String,
    pub(crate) value: String,
    pub(crate) reason: String,
}

/// Substitutes in every string value of `yaml`, which is at `path`.
pub(crate) fn substitute(
    yaml: Yaml,
    env: &dyn EnvSource,
    path: &str,
) -> Result<Yaml, BadReference> {
    Ok(match yaml {
        Yaml::String(text) => {
            let replaced = substitute_text(&text, env).map_err(|(value, reason)| BadReference {
                path: path.to_owned(),
                value,
                reason,
            })?;
            if replaced.is_empty() && text.trim_start().starts_with("${") {
                Yaml::Null
            } else {
                Yaml::String(replaced)
            }
        }
        Yaml::Array(items) => Yaml::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| substitute(item, env, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(map) => {
            let mut out = Hash::new();
            for (key, value) in map {
                let name = key.as_str().unwrap_or("?");
                let child = if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                let value = substitute(value, env, &child)?;
                out.insert(key, value);
            }
            Yaml::Hash(out)
        }
        other => other,
    })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Substitutes in one scalar.
pub(crate) fn substitute_text(text: &str, env: &dyn EnvSource) -> Result<String, (String, String)> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err((text.to_owned(), "a ${ without its closing }".to_owned()));
            };
            let reference = &inner[..end];
            let (name, default) = match reference.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (reference, None),
            };
            let name = name.strip_prefix("env:").unwrap_or(name);
            if !valid_name(name) {
                return Err((
                    text.to_owned(),
                    format!("${{{reference}}} is not a valid reference (expected ${{NAME}} or ${{NAME:-default}})"),
                ));
            }
            match env.get(name) {
                Some(value) => out.push_str(&value),
                None => out.push_str(default.unwrap_or("")),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn references_defaults_and_escapes() {
        let env: HashMap<&str, &str> = [("HOST", "collector"), ("EMPTY", "")].into_iter().collect();
        let cases = [
            ("http://${HOST}:4318", "http://collector:4318"),
            ("${env:HOST}", "collector"),
            ("${MISSING:-fallback}", "fallback"),
            ("${EMPTY:-fallback}", "fallback"),
            ("${HOST:-fallback}", "collector"),
            ("$${HOST}", "${HOST}"),
            ("cost $5", "cost $5"),
            ("${MISSING}/v1/traces", "/v1/traces"),
        ];
        for (text, expected) in cases {
            assert_eq!(substitute_text(text, &env).unwrap(), expected, "{text}");
        }
        for bad in ["${1BAD}", "${ HOST}", "${HOST", "${}"] {
            assert!(substitute_text(bad, &env).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_result_is_not_substituted_again() {
        let env: HashMap<&str, &str> = [("A", "${B}"), ("B", "no")].into_iter().collect();
        assert_eq!(substitute_text("${A}", &env).unwrap(), "${B}");
    }
}
