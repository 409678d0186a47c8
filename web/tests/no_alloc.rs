//! The page's prediction allocates nothing once the first call has read the networks (and the
//! convolution's forward buffers exist), whichever network predicts: proven by a global
//! allocator that counts every allocation of the process.

use nn::__private::{allocations_in, CountingAllocator};
use nn_web::{ink, predict, CANVAS};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn a_prediction_allocates_nothing_after_the_first() {
    // SAFETY: the only test in this binary; nothing else touches the page's buffers.
    let ink = unsafe { std::slice::from_raw_parts_mut(ink(), CANVAS * CANVAS) };
    for y in 60..220 {
        ink[y * CANVAS + 130..y * CANVAS + 150].fill(255); // a 1
    }
    assert_eq!(predict(0), 1);
    assert_eq!(predict(1), 1);
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 10]))) >= 1, "the allocator counts");
    let allocations = allocations_in(|| {
        for model in [0, 1, 0, 1] {
            std::hint::black_box(predict(model));
        }
    });
    assert_eq!(allocations, 0);
}
