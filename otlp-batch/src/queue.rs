//! The bounded queue between application threads and the batch worker.
//!
//! A lock-free `ArrayQueue`: producers never take a lock on the hot path, and `DropOldest`
//! uses `force_push`, which swaps out the oldest item in one step. Only the `Block` policy
//! waits, on a condition variable the worker signals as it takes items out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use parking_lot::{Condvar, Mutex};

use crate::config::Overflow;

/// Why an item was not queued, or which queued item made room for it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed<T> {
    /// Queued.
    Queued,
    /// Queued; this older item was dropped to make room.
    Evicted(T),
    /// Not queued: the queue stayed full.
    Refused(T),
}

pub(crate) struct BoundedQueue<T> {
    items: ArrayQueue<(T, usize)>,
    bytes: CachePadded<AtomicUsize>,
    /// Locked by the worker on every batch; padded away from what producers read.
    room: CachePadded<(Condvar, Mutex<()>)>,
}

impl<T> BoundedQueue<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedQueue {
            items: ArrayQueue::new(capacity),
            bytes: CachePadded::new(AtomicUsize::new(0)),
            room: CachePadded::new((Condvar::new(), Mutex::new(()))),
        }
    }

    /// Queues `item` (whose estimated size is `bytes`) under `policy`.
    #[inline]
    pub(crate) fn push(&self, item: T, bytes: usize, policy: Overflow) -> Pushed<T> {
        match policy {
            Overflow::DropNewest => self.try_push(item, bytes),
            Overflow::DropOldest => {
                self.add_bytes(bytes);
                match self.items.force_push((item, bytes)) {
                    None => Pushed::Queued,
                    Some((old, old_bytes)) => {
                        self.sub_bytes(old_bytes);
                        Pushed::Evicted(old)
                    }
                }
            }
            Overflow::Block(wait) => self.push_waiting(item, bytes, wait),
        }
    }

    #[inline]
    fn try_push(&self, item: T, bytes: usize) -> Pushed<T> {
        self.add_bytes(bytes);
        match self.items.push((item, bytes)) {
            Ok(()) => Pushed::Queued,
            Err((item, bytes)) => {
                self.sub_bytes(bytes);
                Pushed::Refused(item)
            }
        }
    }

    // Without a byte limit every size is 0: skipping the shared counter then keeps producers
    // and the worker off one contended cache line.
    fn add_bytes(&self, bytes: usize) {
        if bytes > 0 {
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    fn sub_bytes(&self, bytes: usize) {
        if bytes > 0 {
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    fn push_waiting(&self, mut item: T, bytes: usize, wait: Duration) -> Pushed<T> {
        let deadline = Instant::now() + wait;
        loop {
            match self.try_push(item, bytes) {
                Pushed::Refused(back) => item = back,
                other => return other,
            }
            let mut guard = self.room.1.lock();
            // Re-check under the lock: the worker signals while holding it, so no wake-up is
            // lost between the failed push and the wait.
            if !self.items.is_full() {
                continue;
            }
            if self.room.0.wait_until(&mut guard, deadline).timed_out() {
                drop(guard);
                return self.try_push(item, bytes);
            }
        }
    }

    /// Takes up to `max_items` items, stopping before `max_bytes` would be exceeded (a first
    /// item is always taken, however large).
    pub(crate) fn take(&self, max_items: usize, max_bytes: Option<usize>) -> Vec<T> {
        let mut batch = Vec::with_capacity(max_items.min(self.items.len()));
        let mut total = 0usize;
        while batch.len() < max_items {
            if let Some(limit) = max_bytes {
                if !batch.is_empty() && total >= limit {
                    break;
                }
            }
            let Some((item, bytes)) = self.items.pop() else {
                break;
            };
            self.sub_bytes(bytes);
            total += bytes;
            batch.push(item);
        }
        if !batch.is_empty() {
            let _guard = self.room.1.lock();
            self.room.0.notify_all();
        }
        batch
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_keeps_the_right_items() {
        let queue = BoundedQueue::new(2);
        assert_eq!(queue.push(1, 1, Overflow::DropNewest), Pushed::Queued);
        assert_eq!(queue.push(2, 1, Overflow::DropNewest), Pushed::Queued);
        assert_eq!(queue.push(3, 1, Overflow::DropNewest), Pushed::Refused(3));
        assert_eq!(queue.push(4, 1, Overflow::DropOldest), Pushed::Evicted(1));
        assert_eq!(queue.take(10, None), vec![2, 4]);
        assert_eq!(queue.bytes(), 0);
    }

    #[test]
    fn take_respects_the_byte_limit() {
        let queue = BoundedQueue::new(10);
        for i in 0..5 {
            queue.push(i, 100, Overflow::DropNewest);
        }
        assert_eq!(queue.take(10, Some(250)), vec![0, 1, 2]);
        assert_eq!(queue.bytes(), 200);
    }

    #[test]
    fn a_blocked_producer_gets_in_when_room_is_made() {
        let queue = std::sync::Arc::new(BoundedQueue::new(1));
        queue.push(1, 1, Overflow::DropNewest);
        let taker = std::sync::Arc::clone(&queue);
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            taker.take(1, None)
        });
        assert_eq!(
            queue.push(2, 1, Overflow::Block(Duration::from_secs(10))),
            Pushed::Queued
        );
        assert_eq!(worker.join().unwrap(), vec![1]);
        assert_eq!(
            queue.push(3, 1, Overflow::Block(Duration::from_millis(10))),
            Pushed::Refused(3)
        );
    }
}
