//! Measures the limits the speed figures of `examples/bench.rs` are judged against, on the
//! machine it runs on:
//!
//! - `fma_gflops_per_core`: the peak of independent 512-bit (and 256-bit) fused multiply-adds on
//!   one core, with x86-64 intrinsics (24 accumulators, so latency never limits). Reported only
//!   on x86-64 CPUs that have the instructions.
//! - `l2_read_gbs`: how fast one core reads a 313 KB matrix (the MNIST MLP's first-layer
//!   weight) that sits in its L2 cache, 512 bits at a time into 8 independent sums: the bound of
//!   a per-sample forward pass, which must read the whole matrix. x86-64 with AVX-512 only.
//! - `l3_read_gbs`, `w_weights_read_us`: the same for workload W's 2.7 MB of weights, more than
//!   a core's L2: the bound of one image's inference through W, which must read them all.
//! - `handoff_us`: the median time rayon takes to run two 250 us jobs in parallel, minus 250 us,
//!   when the workers have been idle for 100 us: what a batch step pays to split its work.
//!
//! Run with `cargo run --release --example limits`.

use std::time::{Duration, Instant};

fn main() {
    fma_peak();
    handoff();
}

#[cfg(target_arch = "x86_64")]
fn fma_peak() {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// `ITERATIONS` rounds of 24 independent FMAs on vectors of `LANES` floats.
    macro_rules! peak {
        ($name:ident, $feature:literal, $vector:ty, $set1:ident, $fmadd:ident, $add:ident, $lanes:literal) => {
            #[target_feature(enable = $feature)]
            fn $name(iterations: usize) -> f64 {
                let (a, b) = ($set1(1.000_000_1), $set1(0.999_999_9));
                let mut sums: [$vector; 24] = [$set1(1.0); 24];
                let started = Instant::now();
                for _ in 0..iterations {
                    for sum in sums.iter_mut() {
                        *sum = $fmadd(*sum, a, b);
                    }
                }
                let seconds = started.elapsed().as_secs_f64();
                black_box(sums.iter().fold($set1(0.0), |total, sum| $add(total, *sum)));
                (iterations * 24 * $lanes * 2) as f64 / seconds / 1e9
            }
        };
    }
    peak!(peak_512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16);
    peak!(peak_256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8);

    /// Seconds to read `values` once, as the best of `rounds`.
    #[target_feature(enable = "avx512f")]
    fn read_512(values: &[f32], rounds: usize) -> f64 {
        let (blocks, _) = values.as_chunks::<128>();
        let mut best = f64::INFINITY;
        for _ in 0..rounds {
            let started = Instant::now();
            let mut sums = [_mm512_set1_ps(0.0); 8];
            for block in blocks {
                for (sum, part) in sums.iter_mut().zip(block.as_chunks::<16>().0) {
                    // SAFETY: `part` is 16 floats, the 64 bytes an unaligned 512-bit load reads.
                    *sum = _mm512_add_ps(*sum, unsafe { _mm512_loadu_ps(part.as_ptr()) });
                }
            }
            black_box(sums);
            best = best.min(started.elapsed().as_secs_f64());
        }
        best
    }

    const ITERATIONS: usize = 20_000_000;
    if is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, checked just above.
        let gflops = (0..3).map(|_| unsafe { peak_512(ITERATIONS) }).fold(0.0, f64::max);
        println!("fma_gflops_per_core_avx512 {gflops:.0}");
        let matrix = nn::__private::heap::AlignedBuffer::zeroed(78_400); // starts on a cache line
                                                                         // SAFETY: as above.
        let seconds = unsafe { read_512(&matrix, 20_000) };
        println!("l2_read_gbs {:.0}", (matrix.len() * 4) as f64 / seconds / 1e9);
        // The weights of workload W's 784-512-512-10 MLP (2.7 MB): more than a core's L2, so
        // reading them once, as one image's inference must, streams them from L3.
        let wide = nn::__private::heap::AlignedBuffer::zeroed(784 * 512 + 512 * 512 + 512 * 10);
        // SAFETY: as above.
        let seconds = unsafe { read_512(&wide, 2_000) };
        println!("l3_read_gbs {:.0}", (wide.len() * 4) as f64 / seconds / 1e9);
        println!("w_weights_read_us {:.1}", seconds * 1e6);
    }
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        let gflops = (0..3).map(|_| unsafe { peak_256(ITERATIONS) }).fold(0.0, f64::max);
        println!("fma_gflops_per_core_avx2 {gflops:.0}");
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_peak() {
    println!("fma_gflops_per_core: measured on x86-64 only");
}

fn handoff() {
    let spin = |duration: Duration| {
        let started = Instant::now();
        while started.elapsed() < duration {
            std::hint::spin_loop();
        }
    };
    let mut times: Vec<f64> = (0..1_000)
        .map(|_| {
            spin(Duration::from_micros(100));
            let started = Instant::now();
            rayon::join(|| spin(Duration::from_micros(250)), || spin(Duration::from_micros(250)));
            started.elapsed().as_secs_f64() * 1e6 - 250.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("threads {}", rayon::current_num_threads());
    println!("handoff_us {:.0}", times[times.len() / 2]);
}
