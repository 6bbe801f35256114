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

/// What became of a pushed item. Items that do not stay are dropped here, so that nothing
/// the size of an item travels back to the caller on the hot path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued.
    Queued,
    /// Queued; an older item was dropped to make room.
    Evicted,
    /// Not queued: the queue stayed full.
    Refused,
}

pub(crate) struct BoundedQueue<T> {
    items: ArrayQueue<T>,
    /// An item's estimated size, for the byte limit; without one, sizes are 0 and the shared
    /// byte counter is never touched.
    size: Option<fn(&T) -> usize>,
    bytes: CachePadded<AtomicUsize>,
    /// Locked by the worker on every batch; padded away from what producers read.
    room: CachePadded<(Condvar, Mutex<()>)>,
}

impl<T> BoundedQueue<T> {
    pub(crate) fn new(capacity: usize, size: Option<fn(&T) -> usize>) -> Self {
        BoundedQueue {
            items: ArrayQueue::new(capacity),
            size,
            bytes: CachePadded::new(AtomicUsize::new(0)),
            room: CachePadded::new((Condvar::new(), Mutex::new(()))),
        }
    }

    /// Queues `item` under `policy`.
    #[inline]
    pub(crate) fn push(&self, item: T, policy: Overflow) -> Pushed {
        match policy {
            Overflow::DropNewest => self.try_push(item),
            Overflow::DropOldest => {
                self.add_bytes(self.size_of(&item));
                match self.items.force_push(item) {
                    None => Pushed::Queued,
                    Some(old) => {
                        self.sub_bytes(self.size_of(&old));
                        Pushed::Evicted
                    }
                }
            }
            Overflow::Block(wait) => self.push_waiting(item, wait),
        }
    }

    #[inline]
    fn try_push(&self, item: T) -> Pushed {
        let bytes = self.size_of(&item);
        self.add_bytes(bytes);
        match self.items.push(item) {
            Ok(()) => Pushed::Queued,
            Err(_) => {
                self.sub_bytes(bytes);
                Pushed::Refused
            }
        }
    }

    #[inline]
    fn size_of(&self, item: &T) -> usize {
        self.size.map_or(0, |size| size(item))
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

    fn push_waiting(&self, item: T, wait: Duration) -> Pushed {
        let deadline = Instant::now() + wait;
        let bytes = self.size_of(&item);
        self.add_bytes(bytes);
        let mut item = item;
        loop {
            match self.items.push(item) {
                Ok(()) => return Pushed::Queued,
                Err(back) => item = back,
            }
            let mut guard = self.room.1.lock();
            // Re-check under the lock: the worker signals while holding it, so no wake-up is
            // lost between the failed push and the wait.
            if !self.items.is_full() {
                continue;
            }
            if self.room.0.wait_until(&mut guard, deadline).timed_out() {
                drop(guard);
                if self.items.push(item).is_ok() {
                    return Pushed::Queued;
                }
                self.sub_bytes(bytes);
                return Pushed::Refused;
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
            let Some(item) = self.items.pop() else {
                break;
            };
            let bytes = self.size_of(&item);
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
        let queue = BoundedQueue::new(2, Some(|_| 1));
        assert_eq!(queue.push(1, Overflow::DropNewest), Pushed::Queued);
        assert_eq!(queue.push(2, Overflow::DropNewest), Pushed::Queued);
        assert_eq!(queue.push(3, Overflow::DropNewest), Pushed::Refused);
        assert_eq!(queue.bytes(), 2);
        assert_eq!(queue.push(4, Overflow::DropOldest), Pushed::Evicted);
        assert_eq!(queue.bytes(), 2);
        assert_eq!(queue.take(10, None), vec![2, 4]);
        assert_eq!(queue.bytes(), 0);
    }

    #[test]
    fn take_respects_the_byte_limit() {
        let queue = BoundedQueue::new(10, Some(|_| 100));
        for i in 0..5 {
            queue.push(i, Overflow::DropNewest);
        }
        assert_eq!(queue.take(10, Some(250)), vec![0, 1, 2]);
        assert_eq!(queue.bytes(), 200);
    }

    #[test]
    fn a_blocked_producer_gets_in_when_room_is_made() {
        let queue = std::sync::Arc::new(BoundedQueue::new(1, Some(|_| 1)));
        queue.push(1, Overflow::DropNewest);
        let taker = std::sync::Arc::clone(&queue);
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            taker.take(1, None)
        });
        assert_eq!(
            queue.push(2, Overflow::Block(Duration::from_secs(10))),
            Pushed::Queued
        );
        assert_eq!(worker.join().unwrap(), vec![1]);
        assert_eq!(
            queue.push(3, Overflow::Block(Duration::from_millis(10))),
            Pushed::Refused
        );
    }
}
