//! Helpers for the buffers of generated networks.

/// Makes `buffer` hold at least `rows` rows, growing it (and so allocating) only when a batch is
/// larger than any before: a workspace warms up once, then steps allocate nothing.
///
/// ```
/// let mut buffer: Vec<[f32; 3]> = Vec::new();
/// nn_core::buffers::grow_rows(&mut buffer, 4);
/// nn_core::buffers::grow_rows(&mut buffer, 2);
/// assert_eq!(buffer.len(), 4);
/// ```
pub fn grow_rows<const N: usize>(buffer: &mut Vec<[f32; N]>, rows: usize) {
    if buffer.len() < rows {
        buffer.resize(rows, [0.0; N]);
    }
}

/// Splits the flat gradient of a whole network into one slice per parameter tensor.
///
/// ```
/// let mut flat = [1.0, 2.0, 3.0];
/// let [weight, bias] = nn_core::buffers::split_gradients(&mut flat, [2, 1]);
/// assert_eq!((weight.len(), bias[0]), (2, 3.0));
/// ```
///
/// # Panics
/// If `flat` is not exactly as long as the lengths together.
pub fn split_gradients<const N: usize>(flat: &mut [f32], lengths: [usize; N]) -> [&mut [f32]; N] {
    let total: usize = lengths.iter().sum();
    assert_eq!(flat.len(), total, "a gradient buffer of {} values for a network of {total} parameters", flat.len());
    let mut rest = flat;
    lengths.map(|length| {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(length);
        rest = tail;
        head
    })
}
