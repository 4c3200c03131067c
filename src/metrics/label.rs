//! One label value, escaped as the text exposition requires.
//!
//! prometheus-client writes label values as they are; a `"`, `\` or newline in
//! one would end the value early and break the page for every scraper. Every
//! label set of ours holds [`Label`]s, so escaping cannot be forgotten. (What
//! goes in a label is still ours to choose from a closed set: escaping keeps
//! the page valid, it does not keep the number of series small.)

use std::fmt::Write;

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

/// A label value, written with `\\`, `\"` and `\n` escaped.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Label(String);

impl Label {
    /// The value as given (unescaped).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Label {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Label {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl EncodeLabelValue for Label {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        let mut rest = self.0.as_str();
        while let Some(at) = rest.find(['\\', '"', '\n']) {
            encoder.write_str(&rest[..at])?;
            encoder.write_str(match rest.as_bytes()[at] {
                b'\\' => "\\\\",
                b'"' => "\\\"",
                _ => "\\n",
            })?;
            rest = &rest[at + 1..];
        }
        encoder.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::{
        encoding::{text::encode, EncodeLabelSet},
        metrics::{counter::Counter, family::Family},
        registry::Registry,
    };

    use super::Label;

    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    struct Labels {
        value: Label,
    }

    fn exposition(values: &[&str]) -> String {
        let mut registry = Registry::default();
        let family = Family::<Labels, Counter>::default();
        registry.register("probe", "label escaping probe", family.clone());
        for value in values {
            family
                .get_or_create(&Labels {
                    value: Label::from(*value),
                })
                .inc();
        }
        let mut out = String::new();
        encode(&mut out, &registry).expect("encodes");
        out
    }

    #[test]
    fn quotes_backslashes_and_newlines_are_escaped() {
        let text = exposition(&["a\"b", "c\\d", "e\nf", "plain"]);
        assert!(text.contains(r#"probe_total{value="a\"b"} 1"#), "{text}");
        assert!(text.contains(r#"probe_total{value="c\\d"} 1"#), "{text}");
        assert!(text.contains(r#"probe_total{value="e\nf"} 1"#), "{text}");
        assert!(text.contains(r#"probe_total{value="plain"} 1"#), "{text}");
    }

    #[test]
    fn escaped_page_parses_back_to_the_same_values() {
        let values = ["a\"b", "c\\d", "e\nf", "\\\"\n", "plain", ""];
        let text = exposition(&values);
        let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&text)
            .unwrap_or_else(|err| panic!("page does not parse: {err:?}\n{text}"));
        let family = parsed.families.get("probe").expect("probe family");
        assert_eq!(family.iter_samples().count(), values.len());
    }
}
