//! A training step and a forward call allocate nothing once the workspace exists, proven by a
//! global allocator that counts the allocations of the current thread.

use nn::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The number of allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

network! {
    struct Mlp {
        Linear(784, 100) -> ReLU -> Linear(100, 10)
    }
}

type Workspace = <Mlp as Network<784, 10>>::Workspace;

fn setup() -> (Mlp, Workspace, Vec<[f32; 784]>, Vec<[f32; 10]>) {
    let net = Mlp::new(&mut nn::rand::rngs::StdRng::seed_from_u64(0));
    let workspace = net.workspace();
    let inputs: Vec<[f32; 784]> = (0..64).map(|i| [i as f32 / 64.0; 784]).collect();
    let targets: Vec<[f32; 10]> = (0..64).map(|i| one_hot(i % 10)).collect();
    (net, workspace, inputs, targets)
}

#[test]
fn the_allocator_counts() {
    assert_eq!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 10]))), 1);
}

#[test]
fn a_single_sample_step_allocates_nothing() {
    let (mut net, mut ws, inputs, targets) = setup();
    let mut sgd = Sgd::new(0.1);
    net.train_step(&mut ws, &inputs[0], &targets[0], &CrossEntropy, &mut sgd).unwrap();
    let count = allocations_in(|| {
        for (input, target) in inputs.iter().zip(&targets) {
            net.train_step(&mut ws, input, target, &CrossEntropy, &mut sgd).unwrap();
        }
    });
    assert_eq!(count, 0);
}

#[test]
fn a_mini_batch_step_allocates_nothing_after_warm_up() {
    let (mut net, mut ws, inputs, targets) = setup();
    let mut sgd = Sgd::new(0.1);
    net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut sgd).unwrap();
    let count = allocations_in(|| {
        for _ in 0..3 {
            net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut sgd).unwrap();
        }
    });
    assert_eq!(count, 0);
}

#[test]
fn forward_calls_allocate_nothing() {
    let (net, mut ws, inputs, _) = setup();
    let count = allocations_in(|| {
        for input in &inputs {
            std::hint::black_box(net.forward(input));
            std::hint::black_box(net.forward_with(&mut ws, input));
            std::hint::black_box(net.predict(input));
        }
    });
    assert_eq!(count, 0);
}
