//! An allocator that counts, for the tests that prove a step or a forward call allocates
//! nothing: a test binary installs it with `#[global_allocator]` and measures with
//! [`allocations_in`]. Hidden from the docs; reached through `nn::__private`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting every allocation and reallocation of the process (worker
/// threads included) once a binary installs it.
///
/// ```
/// use nn::__private::{allocations_in, CountingAllocator};
///
/// #[global_allocator]
/// static ALLOCATOR: CountingAllocator = CountingAllocator;
///
/// assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 10]))) >= 1);
/// assert_eq!(allocations_in(|| ()), 0);
/// ```
#[derive(Debug)]
pub struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as for `dealloc`; the caller's contract for `new_size` is passed on.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

/// The number of allocations made (by any thread) while `f` runs; meaningful only in a binary
/// whose global allocator is [`CountingAllocator`], and only when no other test runs at the
/// same time.
pub fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}
