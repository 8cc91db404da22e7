//! Instances kept between calls. A call that ends cleanly leaves its instance for the
//! runtime's next call, which then skips instantiation, the component's start-up and its
//! first-touch costs.
//!
//! Each runtime keeps its own (an instance has seen that runtime's environment, clock and
//! policy, and no other's); all runtimes sharing one loaded component share one [`Budget`],
//! so that kept instances never hold more than [`Budget::new`]'s count of instance slots.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// How many instances may be kept at once, over all runtimes sharing it.
pub(crate) struct Budget {
    left: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(instances: usize) -> Arc<Self> {
        Arc::new(Self {
            left: AtomicUsize::new(instances),
        })
    }

    fn take_one(&self) -> bool {
        let take = |left: usize| left.checked_sub(1);
        self.left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, take)
            .is_ok()
    }

    fn give_back(&self, instances: usize) {
        self.left.fetch_add(instances, Ordering::AcqRel);
    }
}

/// One runtime's kept instances, counted against a shared [`Budget`].
pub(crate) struct Kept<T> {
    idle: Mutex<Vec<T>>,
    budget: Arc<Budget>,
}

impl<T> Kept<T> {
    pub(crate) fn new(budget: Arc<Budget>) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            budget,
        }
    }

    /// The instance kept last, if any: the one most likely still in the CPU's caches.
    pub(crate) fn take(&self) -> Option<T> {
        let taken = self.lock().pop();
        if taken.is_some() {
            self.budget.give_back(1);
        }
        taken
    }

    /// Keeps `instance` for a later call, or drops it (outside the lock: dropping a store
    /// takes microseconds) when the budget is spent.
    pub(crate) fn keep(&self, instance: T) {
        if self.budget.take_one() {
            self.lock().push(instance);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        // Nothing panics while holding the lock; should something, the list is still whole.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> Drop for Kept<T> {
    fn drop(&mut self) {
        let idle = self.idle.get_mut().unwrap_or_else(PoisonError::into_inner);
        self.budget.give_back(idle.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_instance_kept_is_taken_first() {
        let kept = Kept::new(Budget::new(4));
        kept.keep(1);
        kept.keep(2);
        assert_eq!(kept.take(), Some(2));
        assert_eq!(kept.take(), Some(1));
        assert_eq!(kept.take(), None);
    }

    #[test]
    fn runtimes_sharing_a_budget_keep_at_most_its_count_between_them() {
        let budget = Budget::new(2);
        let (one, other) = (Kept::new(budget.clone()), Kept::new(budget.clone()));
        one.keep("a");
        other.keep("b");
        other.keep("dropped: the budget is spent");
        one.keep("dropped too");
        assert_eq!(other.take(), Some("b"));
        assert_eq!(other.take(), None);
        // Taking one gave its share back.
        one.keep("c");
        assert_eq!(one.take(), Some("c"));
        assert_eq!(one.take(), Some("a"));
    }

    #[test]
    fn a_dropped_runtime_gives_its_share_back() {
        let budget = Budget::new(2);
        let one = Kept::new(budget.clone());
        one.keep(1);
        one.keep(2);
        drop(one);
        let other = Kept::new(budget);
        other.keep(3);
        other.keep(4);
        assert_eq!((other.take(), other.take()), (Some(4), Some(3)));
    }
}
