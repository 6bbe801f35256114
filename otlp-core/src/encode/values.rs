//! Values every signal shares, written straight from the API types: `AnyValue` and
//! `KeyValue` (with arrays), attribute lists, the instrumentation scope and the resource.

use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;

use super::wire::{Encode, Wire, FIXED64, VARINT};

struct AnyValue<'a>(&'a Value);

fn any_scalar<W: Wire>(w: &mut W, value: &Value) {
    match value {
        Value::Bool(b) => {
            w.key(2, VARINT);
            w.varint(u64::from(*b));
        }
        Value::I64(i) => {
            w.key(3, VARINT);
            w.varint(*i as u64);
        }
        Value::F64(f) => {
            w.key(4, FIXED64);
            w.fixed64(f.to_bits());
        }
        Value::String(s) => w.bytes_field(1, s.as_str().as_bytes()),
        Value::Array(array) => w.message(5, &ArrayValue(array)),
        other => w.bytes_field(1, other.to_string().as_bytes()),
    }
}

impl Encode for AnyValue<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        any_scalar(w, self.0);
    }
}

struct ArrayValue<'a>(&'a Array);

impl Encode for ArrayValue<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        match self.0 {
            Array::Bool(values) => values
                .iter()
                .for_each(|v| w.message(1, &AnyValue(&Value::Bool(*v)))),
            Array::I64(values) => values
                .iter()
                .for_each(|v| w.message(1, &AnyValue(&Value::I64(*v)))),
            Array::F64(values) => values
                .iter()
                .for_each(|v| w.message(1, &AnyValue(&Value::F64(*v)))),
            Array::String(values) => values
                .iter()
                .for_each(|v| w.message(1, &OwnedString(v.as_str()))),
            other => w.message(1, &OwnedString(&other.to_string())),
        }
    }
}

/// An `AnyValue` holding a string.
struct OwnedString<'a>(&'a str);

impl Encode for OwnedString<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.bytes_field(1, self.0.as_bytes());
    }
}

pub(super) struct KeyValueMsg<'a>(pub(super) &'a str, pub(super) &'a Value);

impl Encode for KeyValueMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.optional_bytes(1, self.0.as_bytes());
        w.message(2, &AnyValue(self.1));
    }
}

pub(super) fn attributes<'a, W: Wire>(
    w: &mut W,
    field: u32,
    attributes: impl Iterator<Item = &'a KeyValue>,
) {
    for kv in attributes {
        w.message(field, &KeyValueMsg(kv.key.as_str(), &kv.value));
    }
}

pub(super) struct ScopeMsg<'a>(pub(super) &'a InstrumentationScope);

impl Encode for ScopeMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let scope = self.0;
        w.optional_bytes(1, scope.name().as_bytes());
        w.optional_bytes(2, scope.version().unwrap_or_default().as_bytes());
        attributes(w, 3, scope.attributes());
    }
}

pub(super) struct ResourceMsg<'a>(pub(super) &'a Resource);

impl Encode for ResourceMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        for (key, value) in self.0.iter() {
            w.message(1, &KeyValueMsg(key.as_str(), value));
        }
    }
}
