//! The `network!` procedural macro of the [`nn`](https://docs.rs/nn) crate.
//!
//! Use it through `nn::network!`, which passes the runtime's path in; this crate is an
//! implementation detail. The macro parses the DSL (`parse`), checks it and infers every
//! shape (`check`), then writes the code (`expand`).

mod args;
mod ast;
mod check;
mod expand;
mod layers;
mod parse;

use proc_macro::TokenStream;

/// Declares networks. Called by `nn::network!` as `network_impl! { ($crate) items }`.
#[doc(hidden)]
#[proc_macro]
pub fn network_impl(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as ast::Input);
    expand_all(&input).into()
}

/// Checks and expands each declared network; one with errors becomes its errors and a stub.
fn expand_all(input: &ast::Input) -> proc_macro2::TokenStream {
    let networks = input.networks.iter().map(|decl| {
        let model = parse::parse_layers(decl.body.clone()).and_then(|layers| check::check(decl, layers));
        match model {
            Ok(model) => expand::expand(&expand::Expansion::new(&input.krate, &model)),
            Err(error) => expand::fallback(decl, error),
        }
    });
    quote::quote!(#(#networks)*)
}

#[cfg(test)]
mod tests {
    /// The code generated for a small network, compared with `snapshots/xor.expanded.rs`, so
    /// that every change to the unrolled forward and backward passes shows as a diff.
    /// Regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p nn-macros` and read the diff.
    #[test]
    fn expansion_snapshot() {
        let input: super::ast::Input = syn::parse_quote! {
            (::nn)
            /// Learns XOR.
            pub struct Xor {
                Linear(2, 8) -> LeakyReLU(0.2) -> Linear(8, 1) -> Sigmoid
            }
        };
        let file: syn::File = syn::parse2(super::expand_all(&input)).expect("the expansion parses as Rust");
        let expanded = prettyplease::unparse(&file);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/xor.expanded.rs");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &expanded).unwrap();
        }
        let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(snapshot == expanded, "the expansion changed; run with UPDATE_SNAPSHOTS=1 and review:\n{expanded}");
    }

    /// A `ReLU` after a convolution is applied by the convolution (`FusedReLU`): its own
    /// training and batch passes are not called, and the convolution writes its output.
    #[test]
    fn a_relu_after_a_convolution_is_fused_into_it() {
        let input: super::ast::Input = syn::parse_quote! {
            (::nn)
            struct Cnn: [1, 6, 6] {
                Conv2d(1, 2, 3) -> ReLU -> Flatten -> Linear(32, 2) -> ReLU
            }
        };
        let expanded = super::expand_all(&input).to_string().replace(' ', "");
        for fused in ["forward_relu(&", "backward_relu(&mut", "forward_rows_relu(&", "backward_rows_relu(&mut"] {
            let call = format!("FusedReLU<36usize,32usize>>::{fused}self.layer0,context,&mutbuffers.c0");
            assert_eq!(expanded.matches(&call).count(), 1, "{call}");
        }
        assert!(
            expanded.contains("forward_rows_relu(&self.layer0,context,&mutbuffers.c0,inputs,&mutbuffers.a1[..rows])")
        );
        let relu_after_convolution = "ReLUas::nn::__private::Layer<32usize,32usize>>::";
        for pass in ["forward(", "backward(", "forward_rows(", "backward_rows(", "gradient_bound("] {
            let call = format!("{relu_after_convolution}{pass}");
            assert!(!expanded.contains(&call), "{call}");
        }
        assert!(
            expanded.contains("ReLUas::nn::__private::Layer<2usize,2usize>>::forward_rows("),
            "the last ReLU stays"
        );
    }

    /// A `ReLU` and a max pooling with windows that do not overlap after a convolution are
    /// applied by the convolution (`FusedReLUMaxPool`); an overlapping pooling is not.
    #[test]
    fn a_relu_and_a_max_pooling_after_a_convolution_are_fused_into_it() {
        let input: super::ast::Input = syn::parse_quote! {
            (::nn)
            struct Cnn: [1, 8, 8] {
                Conv2d(1, 2, 3) -> ReLU -> MaxPool2d(2) -> Conv2d(2, 2, 2) -> ReLU -> MaxPool2d(2, stride = 1)
                    -> Flatten -> Linear(2, 2)
            }
        };
        let expanded = super::expand_all(&input).to_string().replace(' ', "");
        let fused = "FusedReLUMaxPool<::nn::__private::MaxPool2d<2usize,2usize,2usize,2usize,2usize,6usize,6usize,3usize,3usize>,64usize,72usize,18usize>>::";
        for pass in ["forward_relu_max_pool(&", "backward_relu_max_pool(&mut", "forward_rows_relu_max_pool(&"] {
            let call = format!("{fused}{pass}self.layer0,context,&mutbuffers.c0");
            assert_eq!(expanded.matches(&call).count(), 1, "{call}");
        }
        assert!(expanded.contains(&format!(
            "{fused}forward_rows_relu_max_pool(&self.layer0,context,&mutbuffers.c0,inputs,&mutbuffers.a2[..rows])"
        )));
        assert!(expanded.contains(&format!("{fused}gradient_bound_max_pool(&self.layer0")));
        for skipped in
            ["ReLUas::nn::__private::Layer<72usize,72usize>>::forward_rows(", "Layer<72usize,18usize>>::forward_rows("]
        {
            assert!(!expanded.contains(skipped), "{skipped}");
        }
        for unused in ["a0", "d0", "a1", "d1"] {
            assert!(!expanded.contains(&format!("grow_rows(&mutbuffers.{unused},rows)")), "{unused} is never grown");
        }
        assert!(expanded.contains("FusedReLU<18usize,8usize>>::forward_rows_relu(&self.layer3"), "only the ReLU");
        assert!(expanded.contains("Layer<8usize,2usize>>::forward_rows(&self.layer5"), "the overlapping pooling stays");
    }
}
