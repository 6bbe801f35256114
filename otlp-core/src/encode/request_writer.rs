//! The one-pass writer of an export request: one resource, its scope groups and their items,
//! each item written once with its length set down after it.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use opentelemetry_sdk::Resource;

use super::values::ResourceMsg;
use super::wire::{measure, set_length, varint_len, Encode, Wire, LENGTH};

/// Writes an export request (`resource_spans` or `resource_logs`: the two share their field
/// numbers) of one resource and its scope groups, in one pass over the items.
///
/// Each item is written once, its length set down after it (two bytes are set aside, which
/// fits items of 128 bytes to 16 KiB; others are moved by a byte or so). The enclosing
/// messages' headers are only known at the end, so each scope's items are written after a gap
/// as large as its header can be; the headers then go into the gaps, and any slack is closed
/// by moving later groups down (nothing moves when a batch has one scope, the usual case).
/// The buffer is sized from the previous batch's bytes per item, and its allocation is reused
/// once the previous request is dropped.
#[derive(Debug, Default)]
pub(super) struct RequestWriter {
    buffer: BytesMut,
    header: BytesMut,
    bytes_per_item: usize,
}

/// Where one scope's items were written.
struct Written {
    /// Encoded `scope` field of the scope message, key and length included.
    scope_field: usize,
    content: std::ops::Range<usize>,
}

impl RequestWriter {
    /// `groups`: each scope's message, schema URL and items; `count`: the items in all.
    pub(super) fn write<S: Encode, I>(
        &mut self,
        resource: &Resource,
        groups: &[(S, &str, Vec<I>)],
        count: usize,
        item: impl Fn(&I, &mut BytesMut),
    ) -> Bytes {
        if groups.is_empty() {
            return Bytes::new();
        }
        let resource_field = measure(|w| w.message(1, &ResourceMsg(resource)));
        let buffer = &mut self.buffer;
        buffer.reserve(count * self.bytes_per_item.max(64) * 9 / 8);
        let mut written = Vec::with_capacity(groups.len());
        for (i, (scope, schema_url, members)) in groups.iter().enumerate() {
            let scope_field = measure(|w| w.message(1, scope));
            // Room for the largest header: the request's own for the first group (key, length,
            // resource), then the scope's (key, length, scope).
            let outer = if i == 0 { 1 + 5 + resource_field } else { 0 };
            buffer.put_bytes(0, outer + 1 + 5 + scope_field);
            let start = buffer.len();
            for member in members {
                buffer.key(2, LENGTH);
                let at = buffer.len();
                buffer.put_bytes(0, 2);
                item(member, buffer);
                let length = buffer.len() - at - 2;
                if (0x80..0x4000).contains(&length) {
                    buffer[at] = length as u8 | 0x80;
                    buffer[at + 1] = (length >> 7) as u8;
                } else {
                    set_length(buffer, at, 2);
                }
            }
            buffer.optional_bytes(3, schema_url.as_bytes());
            written.push(Written {
                scope_field,
                content: start..buffer.len(),
            });
        }
        let tail = buffer.len();
        buffer.optional_bytes(3, resource.schema_url().unwrap_or_default().as_bytes());
        let tail = tail..buffer.len();

        let scope_length = |group: &Written| group.scope_field + group.content.len();
        let resource_length = resource_field
            + written
                .iter()
                .map(|g| {
                    let length = scope_length(g);
                    1 + varint_len(length as u64) + length
                })
                .sum::<usize>()
            + tail.len();

        // The first group's header (the request's, then the scope's) ends where its items
        // begin; each later group's header follows the content before it, and its items are
        // moved down behind the header when the header room was not all used.
        let header = &mut self.header;
        let mut begin = 0;
        let mut end = 0;
        for (i, (group, (scope, _, _))) in written.iter().zip(groups).enumerate() {
            header.clear();
            if i == 0 {
                header.key(1, LENGTH);
                header.varint(resource_length as u64);
                header.message(1, &ResourceMsg(resource));
            }
            header.key(2, LENGTH);
            header.varint(scope_length(group) as u64);
            header.message(1, scope);
            let at = if i == 0 {
                begin = group.content.start - header.len();
                begin
            } else {
                end
            };
            let content = at + header.len();
            buffer[at..content].copy_from_slice(header);
            if content != group.content.start {
                buffer.copy_within(group.content.clone(), content);
            }
            end = content + group.content.len();
        }
        if end != tail.start {
            buffer.copy_within(tail.clone(), end);
        }
        buffer.truncate(end + tail.len());
        buffer.advance(begin);
        self.bytes_per_item = buffer.len() / count.max(1);
        buffer.split().freeze()
    }
}
