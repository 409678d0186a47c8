//! The `network!` procedural macro of the [`nn`](https://docs.rs/nn) crate.
//!
//! Use it through `nn::network!`, which passes the runtime's path in; this crate is an
//! implementation detail. The macro parses the DSL (`parse`), checks it and infers every
//! shape (`check`), then writes the code (`expand`).

mod ast;
mod check;
mod expand;
mod parse;

use proc_macro::TokenStream;

/// Declares networks. Called by `nn::network!` as `network_impl! { ($crate) items }`.
#[doc(hidden)]
#[proc_macro]
pub fn network_impl(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as ast::Input);
    let networks = input.networks.iter().map(|decl| {
        let model = parse::parse_layers(decl.body.clone()).and_then(|layers| check::check(decl, layers));
        match model {
            Ok(model) => expand::expand(&expand::Context::new(&input.krate, &model)),
            Err(error) => expand::fallback(decl, error),
        }
    });
    quote::quote!(#(#networks)*).into()
}
