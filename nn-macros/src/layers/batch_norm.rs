//! `BatchNorm1d(features)` and `BatchNorm2d(channels)`: batch normalization.

use super::{Entry, Init, LayerKind, Site};
use crate::args;
use crate::ast::{LayerDecl, Shape};
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::Error;

pub const ENTRY_1D: Entry = Entry { name: "BatchNorm1d", usage: "BatchNorm1d(features)", parse: parse_1d };
pub const ENTRY_2D: Entry = Entry { name: "BatchNorm2d", usage: "BatchNorm2d(channels)", parse: parse_2d };

struct BatchNorm {
    /// 1 or 2.
    dimensions: usize,
    channels: usize,
    name: Span,
    channels_token: TokenStream,
}

fn parse(decl: &LayerDecl, dimensions: usize) -> syn::Result<Box<dyn LayerKind>> {
    let usage = match dimensions {
        1 => "(the number of features), like `BatchNorm1d(128)`",
        _ => "(the number of channels), like `BatchNorm2d(32)`",
    };
    let [channels] = args::exactly::<1>(decl, usage)?;
    Ok(Box::new(BatchNorm {
        dimensions,
        channels: args::size(channels)?,
        name: decl.name.span(),
        channels_token: channels.to_token_stream(),
    }))
}

fn parse_1d(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    parse(decl, 1)
}

fn parse_2d(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    parse(decl, 2)
}

impl BatchNorm {
    fn name(&self) -> String {
        format!("BatchNorm{}d", self.dimensions)
    }

    /// Values per channel: 1 for a flat input, the positions of an image.
    fn positions(input: &Shape) -> usize {
        input.0[1..].iter().product()
    }
}

impl LayerKind for BatchNorm {
    fn describe(&self) -> String {
        format!("{}({})", self.name(), self.channels)
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        let (expected, what) = match self.dimensions {
            1 => (&[1, 2][..], "[features] or [features, length]"),
            _ => (&[3][..], "[channels, height, width]"),
        };
        if !expected.contains(&input.0.len()) {
            let message =
                format!("{} takes an input of shape {what}, but the previous layer outputs shape {input}", self.name());
            return Err(Error::new(self.name, message));
        }
        if input.0[0] != self.channels {
            let unit = if self.dimensions == 1 { "features" } else { "channels" };
            let message = format!(
                "expected {} {unit}: the previous layer outputs shape {input}, but this {} takes {}",
                input.0[0],
                self.name(),
                self.channels
            );
            return Err(Error::new_spanned(&self.channels_token, message));
        }
        Ok(input.clone())
    }

    fn parameters(&self) -> usize {
        2 * self.channels
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let (runtime, channels, positions) = (site.runtime, self.channels, Self::positions(site.input));
        quote!(#runtime::BatchNorm<#channels, #positions>)
    }

    fn init(&self, site: &Site, _init: Init) -> TokenStream {
        self.zeroed(site)
    }

    /// γ = 1 and a running variance of 1, as PyTorch starts (loading overwrites them).
    fn zeroed(&self, site: &Site) -> TokenStream {
        let ty = self.runtime_type(site);
        quote!(<#ty>::new())
    }
}
