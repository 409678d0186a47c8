//! `impl Parse` for the DSL.

use crate::ast::{Input, InputShape, LayerArgs, LayerDecl, NetworkDecl};
use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, parenthesized, Attribute, Ident, Token, Visibility};

impl Parse for Input {
    /// `($crate) item*`: the wrapper in the facade passes its `$crate` first.
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let krate;
        parenthesized!(krate in input);
        let krate: TokenStream = krate.parse()?;
        let mut networks = Vec::new();
        while !input.is_empty() {
            networks.push(input.parse()?);
        }
        Ok(Input { krate, networks })
    }
}

impl Parse for NetworkDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![struct]) {
            return Err(input.error("expected `struct`: declare a network as `pub struct Name { Linear(784, 10) }`"));
        }
        input.parse::<Token![struct]>()?;
        let name: Ident = input.parse()?;
        let shape = if input.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            Some(input.parse::<InputShape>()?)
        } else {
            None
        };
        if !input.peek(syn::token::Brace) {
            return Err(input.error(format!(
                "expected `{{` and the layers of `{name}`; a network takes no generic parameters or `;`"
            )));
        }
        let body;
        let brace = braced!(body in input);
        Ok(NetworkDecl { attrs, vis, name, input: shape, body: body.parse()?, body_span: brace.span.join() })
    }
}

impl Parse for InputShape {
    /// `[dim, ...]`: the input shape after `:`.
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(syn::token::Bracket) {
            return Err(input.error("expected the input shape in brackets after `:`, like `: [1, 28, 28]`"));
        }
        let content;
        let bracket = bracketed!(content in input);
        Ok(InputShape { span: bracket.span.join(), dims: Punctuated::parse_terminated(&content)? })
    }
}

/// Parses the body of a network: layers separated by `->`.
pub fn parse_layers(body: TokenStream) -> syn::Result<Vec<LayerDecl>> {
    let parser = |input: ParseStream| {
        let mut layers = Vec::new();
        while !input.is_empty() {
            layers.push(input.parse::<LayerDecl>()?);
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![->]) {
                return Err(input.error("expected `->` between layers"));
            }
            let arrow: Token![->] = input.parse()?;
            if input.is_empty() {
                return Err(syn::Error::new_spanned(arrow, "expected a layer after `->`"));
            }
        }
        Ok(layers)
    };
    parser.parse2(body)
}

impl Parse for LayerDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident) {
            return Err(input.error("expected a layer, like `Linear(784, 100)` or `ReLU`"));
        }
        let name: Ident = input.parse()?;
        let args = if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            Some(LayerArgs { span: paren.span.join(), values: Punctuated::parse_terminated(&content)? })
        } else {
            None
        };
        Ok(LayerDecl { name, args })
    }
}
