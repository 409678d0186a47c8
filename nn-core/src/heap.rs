//! Heap allocation of fixed-size arrays: aligned to cache lines, without a stack temporary.
//!
//! `Box::new([0.0; N])` builds the array on the stack first and copies it; at 4096 x 4096 floats
//! that is 64 MiB and overflows any thread's stack (dfdx issues #16 and #669). These helpers
//! allocate zeroed memory on the heap directly.
//!
//! The memory is aligned to 64 bytes, one cache line. The allocator aligns a plain `Box<[f32; N]>`
//! to only 16 bytes (glibc puts large blocks 16 bytes past a page boundary), so every AVX-512 load
//! of a row would straddle two cache lines, and a forward pass that streams the weight reads
//! twice the lines it needs.

use std::ops::{Deref, DerefMut};

/// A value aligned to a 64-byte cache line, so rows of a multiple of 16 floats start on one.
///
/// It dereferences to the value, so a `Box<CacheAligned<[f32; N]>>` is used like a
/// `Box<[f32; N]>`:
///
/// ```
/// use nn::layers::CacheAligned;
///
/// let mut aligned = CacheAligned([1.0f32, 2.0]);
/// aligned[1] = 3.0;
/// assert_eq!(aligned.iter().sum::<f32>(), 4.0);
/// assert_eq!(std::mem::align_of_val(&aligned), 64);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C, align(64))]
pub struct CacheAligned<T>(pub T);

impl<T> Deref for CacheAligned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for CacheAligned<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// Types for which all-zero bytes are a valid value: arrays of `f32` (all zeros is `0.0`).
///
/// # Safety
/// Implement only for types whose every field is an `f32` or an array of them.
unsafe trait ZeroBitsValid {}

// SAFETY: all-zero bits are the float 0.0, and arrays have no padding.
unsafe impl<const N: usize> ZeroBitsValid for [f32; N] {}
// SAFETY: as above; an array of arrays of f32 is still only f32s.
unsafe impl<const R: usize, const C: usize> ZeroBitsValid for [[f32; C]; R] {}

/// A zeroed, cache-aligned `T` allocated directly on the heap.
fn zeroed<T: ZeroBitsValid>() -> Box<CacheAligned<T>> {
    let uninitialised = Box::<CacheAligned<T>>::new_zeroed();
    // SAFETY: the memory is all zero bytes, a valid `T` by `ZeroBitsValid`; `CacheAligned` is
    // `repr(C)` around `T` and its trailing alignment padding needs no value.
    unsafe { uninitialised.assume_init() }
}

/// A zeroed `[f32; N]` allocated directly on the heap, aligned to a cache line.
///
/// ```
/// let buffer = nn::__private::heap::zeroed_array::<1_000_000>();
/// assert_eq!(buffer.len(), 1_000_000);
/// assert_eq!(buffer.as_ptr() as usize % 64, 0);
/// ```
pub fn zeroed_array<const N: usize>() -> Box<CacheAligned<[f32; N]>> {
    zeroed()
}

/// A zeroed `[[f32; C]; R]` matrix (R rows of C columns) allocated directly on the heap, aligned
/// to a cache line.
///
/// ```
/// let matrix = nn::__private::heap::zeroed_matrix::<4096, 4096>();
/// assert_eq!(matrix[4095][4095], 0.0);
/// assert_eq!(matrix.as_ptr() as usize % 64, 0);
/// ```
pub fn zeroed_matrix<const R: usize, const C: usize>() -> Box<CacheAligned<[[f32; C]; R]>> {
    zeroed()
}

/// A growable flat buffer of `f32` whose values start on a cache line: the flat gradients and the
/// batch copies that the kernels stream through with whole-vector loads.
///
/// It over-allocates by one cache line and starts at the first aligned value, so it needs no
/// custom allocation. It dereferences to `[f32]`.
///
/// ```
/// use nn::layers::AlignedBuffer;
///
/// let mut buffer = AlignedBuffer::zeroed(100);
/// buffer[99] = 1.0;
/// assert_eq!((buffer.len(), buffer.iter().sum::<f32>()), (100, 1.0));
/// assert_eq!(buffer.as_ptr() as usize % 64, 0);
/// ```
#[derive(Debug, Default)]
pub struct AlignedBuffer {
    storage: Vec<f32>,
    start: usize,
    len: usize,
}

/// Floats per cache line.
const LINE_FLOATS: usize = 64 / size_of::<f32>();

impl AlignedBuffer {
    /// `len` zeros.
    pub fn zeroed(len: usize) -> Self {
        let storage = vec![0.0; len + LINE_FLOATS - 1];
        // `align_offset` may decline (usize::MAX); the buffer is then correct, only unaligned.
        let start = storage.as_ptr().align_offset(64).min(LINE_FLOATS - 1);
        Self { storage, start, len }
    }

    /// Makes the buffer at least `len` long, reallocating (and zeroing) only when it is shorter.
    /// The contents are unspecified after a call that grows it.
    pub fn grow(&mut self, len: usize) {
        if self.len < len {
            *self = Self::zeroed(len);
        }
    }
}

impl Clone for AlignedBuffer {
    fn clone(&self) -> Self {
        let mut copy = Self::zeroed(self.len);
        copy.copy_from_slice(self);
        copy
    }
}

impl PartialEq for AlignedBuffer {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Deref for AlignedBuffer {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.storage[self.start..self.start + self.len]
    }
}

impl DerefMut for AlignedBuffer {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// A fixed-size tensor seen as one flat slice of its values, in row-major order.
///
/// ```
/// use nn::__private::heap::AsFlat;
///
/// let matrix = [[1.0, 2.0], [3.0, 4.0]];
/// assert_eq!(matrix.as_flat(), &[1.0, 2.0, 3.0, 4.0]);
/// ```
pub trait AsFlat {
    /// The values as one slice.
    fn as_flat(&self) -> &[f32];
    /// The values as one mutable slice.
    fn as_flat_mut(&mut self) -> &mut [f32];
}

impl<const N: usize> AsFlat for [f32; N] {
    fn as_flat(&self) -> &[f32] {
        self
    }

    fn as_flat_mut(&mut self) -> &mut [f32] {
        self
    }
}

impl<const R: usize, const C: usize> AsFlat for [[f32; C]; R] {
    fn as_flat(&self) -> &[f32] {
        self.as_flattened()
    }

    fn as_flat_mut(&mut self) -> &mut [f32] {
        self.as_flattened_mut()
    }
}

impl<T: AsFlat> AsFlat for CacheAligned<T> {
    fn as_flat(&self) -> &[f32] {
        self.0.as_flat()
    }

    fn as_flat_mut(&mut self) -> &mut [f32] {
        self.0.as_flat_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_matrix_allocates_on_a_small_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| zeroed_matrix::<2048, 2048>()[2047][2047])
            .expect("spawn");
        assert_eq!(handle.join().expect("no stack overflow"), 0.0);
    }

    #[test]
    fn allocations_start_on_a_cache_line() {
        for _ in 0..8 {
            let (small, large) = (zeroed_array::<3>(), zeroed_matrix::<100, 784>());
            assert_eq!(small.as_ptr() as usize % 64, 0);
            assert_eq!(large.as_ptr() as usize % 64, 0);
        }
    }

    #[test]
    fn aligned_buffers_start_on_a_cache_line_and_grow() {
        for len in [0, 1, 17, 78_500] {
            let mut buffer = AlignedBuffer::zeroed(len);
            assert_eq!((buffer.len(), buffer.as_ptr() as usize % 64), (len, 0));
            buffer.grow(len + 5);
            assert_eq!((buffer.len(), buffer.as_ptr() as usize % 64), (len + 5, 0));
            let copy = buffer.clone();
            assert_eq!((copy.as_ptr() as usize % 64, copy), (0, buffer));
        }
    }

    #[test]
    fn clones_are_aligned_and_equal() {
        let mut matrix = zeroed_matrix::<3, 5>();
        matrix[2][4] = 1.5;
        let copy = matrix.clone();
        assert_eq!(copy, matrix);
        assert_eq!(copy.as_ptr() as usize % 64, 0);
    }

    #[test]
    fn flatten_keeps_row_major_order() {
        let mut m = zeroed_matrix::<2, 3>();
        m[1][0] = 5.0;
        assert_eq!(m.as_flat()[3], 5.0);
        m.as_flat_mut()[5] = 7.0;
        assert_eq!(m[1][2], 7.0);
    }
}
