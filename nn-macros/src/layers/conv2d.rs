//! `Conv2d(in, out, kernel, stride = s, padding = p)`: a 2-D convolution.

use super::pool::{image, stride};
use super::{Entry, Init, LayerKind, Site};
use crate::args::{self, describe_pair};
use crate::ast::{LayerDecl, Shape};
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::Error;

pub const ENTRY: Entry =
    Entry { name: "Conv2d", usage: "Conv2d(in_channels, out_channels, kernel, stride = 1, padding = 0)", parse };

struct Conv2d {
    in_channels: usize,
    out_channels: usize,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    name: Span,
    in_token: TokenStream,
    kernel_token: TokenStream,
}

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    let usage =
        "(in_channels, out_channels, kernel), like `Conv2d(1, 32, 3)`, then `stride = s` or `padding = p` if needed";
    let ([in_channels, out_channels, kernel], named) = args::with_names::<3>(decl, &["stride", "padding"], usage)?;
    let [in_size, out_size] = args::sizes([in_channels, out_channels])?;
    Ok(Box::new(Conv2d {
        in_channels: in_size,
        out_channels: out_size,
        kernel: args::pair(kernel, false)?,
        stride: stride(named.named("stride"))?,
        padding: named.named("padding").map_or(Ok((0, 0)), |padding| args::pair(padding, true))?,
        name: decl.name.span(),
        in_token: in_channels.to_token_stream(),
        kernel_token: kernel.to_token_stream(),
    }))
}

impl LayerKind for Conv2d {
    fn describe(&self) -> String {
        let mut written = format!("Conv2d({}, {}, {}", self.in_channels, self.out_channels, describe_pair(self.kernel));
        if self.stride != (1, 1) {
            written += &format!(", stride={}", describe_pair(self.stride));
        }
        if self.padding != (0, 0) {
            written += &format!(", padding={}", describe_pair(self.padding));
        }
        written + ")"
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        let (channels, height, width) = image("Conv2d", self.name, input)?;
        if channels != self.in_channels {
            let message = format!(
                "expected {channels} input channels: the previous layer outputs shape {input}, but this Conv2d takes {}",
                self.in_channels
            );
            return Err(Error::new_spanned(&self.in_token, message));
        }
        let padded = (height + 2 * self.padding.0, width + 2 * self.padding.1);
        if self.kernel.0 > padded.0 || self.kernel.1 > padded.1 {
            let message = format!(
                "the kernel {} x {} is larger than its padded input {} x {} (shape {input}, padding {})",
                self.kernel.0,
                self.kernel.1,
                padded.0,
                padded.1,
                describe_pair(self.padding)
            );
            return Err(Error::new_spanned(&self.kernel_token, message));
        }
        let output = |padded: usize, kernel: usize, stride: usize| (padded - kernel) / stride + 1;
        Ok(Shape(
            vec![
                self.out_channels,
                output(padded.0, self.kernel.0, self.stride.0),
                output(padded.1, self.kernel.1, self.stride.1),
            ],
            None,
        ))
    }

    fn parameters(&self) -> usize {
        self.out_channels * self.in_channels * self.kernel.0 * self.kernel.1 + self.out_channels
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let runtime = site.runtime;
        let (channels, filters) = (self.in_channels, self.out_channels);
        let ((kh, kw), (sh, sw), (ph, pw)) = (self.kernel, self.stride, self.padding);
        let (h, w, oh, ow) = (site.input.0[1], site.input.0[2], site.output.0[1], site.output.0[2]);
        quote!(#runtime::Conv2d<#channels, #filters, #kh, #kw, #sh, #sw, #ph, #pw, #h, #w, #oh, #ow>)
    }

    fn init(&self, site: &Site, init: Init) -> TokenStream {
        let (ty, init) = (self.runtime_type(site), init.tokens(site.runtime));
        quote!(<#ty>::new(#init, rng))
    }

    fn zeroed(&self, site: &Site) -> TokenStream {
        let ty = self.runtime_type(site);
        quote!(<#ty>::zeroed())
    }

    fn fuses_relu(&self) -> bool {
        true
    }
}
