//! Heap allocation of fixed-size arrays without a stack temporary.
//!
//! `Box::new([0.0; N])` builds the array on the stack first and copies it; at 4096 x 4096 floats
//! that is 64 MiB and overflows any thread's stack (dfdx issues #16 and #669). These helpers
//! allocate on the heap directly, through a `Vec`.

/// A zeroed `[f32; N]` allocated directly on the heap.
///
/// ```
/// let buffer = nn_core::heap::zeroed_array::<1_000_000>();
/// assert_eq!(buffer.len(), 1_000_000);
/// ```
pub fn zeroed_array<const N: usize>() -> Box<[f32; N]> {
    vec![0.0f32; N]
        .into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!("a Vec of length N converts to [f32; N]"))
}

/// A zeroed `[[f32; C]; R]` matrix (R rows of C columns) allocated directly on the heap.
///
/// ```
/// let matrix = nn_core::heap::zeroed_matrix::<4096, 4096>();
/// assert_eq!(matrix[4095][4095], 0.0);
/// ```
pub fn zeroed_matrix<const R: usize, const C: usize>() -> Box<[[f32; C]; R]> {
    let mut rows: Vec<[f32; C]> = Vec::with_capacity(R);
    rows.resize(R, [0.0; C]);
    rows.into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("a Vec of length R converts to [[f32; C]; R]"))
}

/// A fixed-size tensor seen as one flat slice of its values, in row-major order.
///
/// ```
/// use nn_core::heap::AsFlat;
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
    fn flatten_keeps_row_major_order() {
        let mut m = zeroed_matrix::<2, 3>();
        m[1][0] = 5.0;
        assert_eq!(m.as_flat()[3], 5.0);
        m.as_flat_mut()[5] = 7.0;
        assert_eq!(m[1][2], 7.0);
    }
}
