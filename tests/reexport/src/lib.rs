//! A crate that depends on `nn` alone, renamed to `neural`: the code `network!` generates must
//! reach the runtime through the facade's `$crate`, never through `nn_core` or `::nn`.

neural::network! {
    /// Declared in a crate with no `nn_core` and no `nn` in scope.
    pub struct Reexported {
        Linear(3, 4) -> ReLU -> Linear(4, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::Reexported;
    use neural::prelude::*;

    #[test]
    fn generated_code_resolves_through_the_renamed_facade() {
        let mut net = Reexported::new(&mut neural::Pcg64Mcg::seed_from_u64(0));
        let mut ws = net.workspace();
        let loss = net.train_step(&mut ws, &[1.0, 2.0, 3.0], &one_hot(1), &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
        assert!(loss.is_finite());
        assert_eq!(Reexported::PARAMETERS, 26);
    }
}
