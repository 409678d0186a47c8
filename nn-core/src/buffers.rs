//! Helpers for the buffers of generated networks.

/// Makes `buffer` hold at least `rows` rows, growing it (and so allocating) only when a batch is
/// larger than any before: a workspace warms up once, then steps allocate nothing.
///
/// ```
/// let mut buffer: Vec<[f32; 3]> = Vec::new();
/// nn::__private::buffers::grow_rows(&mut buffer, 4);
/// nn::__private::buffers::grow_rows(&mut buffer, 2);
/// assert_eq!(buffer.len(), 4);
/// ```
pub fn grow_rows<const N: usize>(buffer: &mut Vec<[f32; N]>, rows: usize) {
    if buffer.len() < rows {
        // Zeroed in place: `resize(rows, [0.0; N])` passes a row by value, and a debug build
        // copies it through the stack, which a row of 100 KB overflows on a small thread stack.
        let additional = rows - buffer.len();
        buffer.reserve(additional);
        // SAFETY: `reserve` made room for `additional` more rows, so the pointer past the last
        // row stays inside the allocation.
        let end = unsafe { buffer.as_mut_ptr().add(buffer.len()) };
        // SAFETY: those `additional` rows are allocated and not yet initialised; all-zero bytes
        // are an array of `0.0` floats.
        unsafe { std::ptr::write_bytes(end, 0, additional) };
        // SAFETY: every row below `rows` is now initialised.
        unsafe { buffer.set_len(rows) };
    }
}

/// Splits the flat gradient of a whole network into one slice per parameter tensor.
///
/// ```
/// let mut flat = [1.0, 2.0, 3.0];
/// let [weight, bias] = nn::__private::buffers::split_gradients(&mut flat, [2, 1]);
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

/// [`split_gradients`] for reading, from a buffer that may be absent: one slice per layer, or
/// `None` for every layer.
///
/// ```
/// let flat = [1.0, 2.0, 3.0];
/// let [weight, bias] = nn::__private::buffers::split_gradients_option(Some(&flat), [2, 1]);
/// assert_eq!((weight.unwrap().len(), bias.unwrap()[0]), (2, 3.0));
/// assert_eq!(nn::__private::buffers::split_gradients_option(None, [2, 1]), [None, None]);
/// ```
///
/// # Panics
/// If `flat` is given and not exactly as long as the lengths together.
pub fn split_gradients_option<const N: usize>(flat: Option<&[f32]>, lengths: [usize; N]) -> [Option<&[f32]>; N] {
    match flat {
        Some(flat) => split_gradients_shared(flat, lengths).map(Some),
        None => [None; N],
    }
}

/// [`split_gradients`] for reading.
///
/// ```
/// let [weight, bias] = nn::__private::buffers::split_gradients_shared(&[1.0, 2.0, 3.0], [2, 1]);
/// assert_eq!((weight, bias), (&[1.0, 2.0][..], &[3.0][..]));
/// ```
///
/// # Panics
/// If `flat` is not exactly as long as the lengths together.
pub fn split_gradients_shared<const N: usize>(flat: &[f32], lengths: [usize; N]) -> [&[f32]; N] {
    let total: usize = lengths.iter().sum();
    assert_eq!(flat.len(), total, "a gradient buffer of {} values for a network of {total} parameters", flat.len());
    let mut rest = flat;
    lengths.map(|length| {
        let (head, tail) = rest.split_at(length);
        rest = tail;
        head
    })
}

/// The largest of `values` (0 for none), in a constant expression.
///
/// ```
/// const LARGEST: usize = nn::__private::buffers::largest(&[1, 2, 1]);
/// assert_eq!(LARGEST, 2);
/// ```
pub const fn largest(values: &[usize]) -> usize {
    let (mut best, mut index) = (0, 0);
    while index < values.len() {
        if values[index] > best {
            best = values[index];
        }
        index += 1;
    }
    best
}

/// The first `len` values of `buffer`, growing it (with default values) only when it is
/// shorter: a layer's scratch space, allocated by the first pass of the largest size.
///
/// ```
/// let mut scratch: Vec<f32> = Vec::new();
/// assert_eq!(nn::__private::buffers::grown(&mut scratch, 3).len(), 3);
/// nn::__private::buffers::grown(&mut scratch, 2);
/// assert_eq!(scratch.len(), 3);
/// ```
pub fn grown<T: Clone + Default>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    if buffer.len() < len {
        buffer.resize(len, T::default());
    }
    &mut buffer[..len]
}
