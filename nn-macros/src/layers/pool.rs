//! What the 2-D layers share: reading an image shape, strides, and the pooling layers' kind.

use super::{Init, LayerKind, Site};
use crate::args::{self, describe_pair};
use crate::ast::{LayerDecl, Shape};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Error, Expr};

/// `(channels, height, width)` of `input`, which must be an image: `[C, H, W]`.
pub fn image(layer: &str, span: Span, input: &Shape) -> syn::Result<(usize, usize, usize)> {
    match input.0[..] {
        [channels, height, width] => Ok((channels, height, width)),
        _ => Err(Error::new(
            span,
            format!(
                "{layer} takes an input of shape [channels, height, width], but the previous layer outputs shape {input}; \
                 declare an image input like `struct Net: [1, 28, 28] {{ ... }}`"
            ),
        )),
    }
}

/// A stride written as `stride = s` or `stride = (sh, sw)`: at least 1; `(1, 1)` when absent.
pub fn stride(written: Option<&Expr>) -> syn::Result<(usize, usize)> {
    let Some(expr) = written else {
        return Ok((1, 1));
    };
    let stride = args::pair(expr, true)?;
    if stride.0 == 0 || stride.1 == 0 {
        return Err(Error::new_spanned(expr, format!("a stride must be at least 1, found {}", describe_pair(stride))));
    }
    Ok(stride)
}

/// `MaxPool2d(kernel, stride = s)` or `AvgPool2d(...)`: a window over each channel, no padding.
pub struct Pool {
    /// The DSL name, also the runtime type's.
    pub name: &'static str,
    kernel: (usize, usize),
    stride: (usize, usize),
    span: Span,
    kernel_token: TokenStream,
}

impl Pool {
    /// Validates a declaration of the pooling layer `name`; the stride defaults to the kernel.
    pub fn parse(name: &'static str, decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
        let usage = format!("(kernel), like `{name}(2)`, then `stride = s` if it differs from the kernel");
        let ([kernel], named) = args::with_names::<1>(decl, &["stride"], &usage)?;
        let kernel_size = args::pair(kernel, false)?;
        let stride = match named.named("stride") {
            Some(_) => stride(named.named("stride"))?,
            None => kernel_size,
        };
        Ok(Box::new(Pool {
            name,
            kernel: kernel_size,
            stride,
            span: decl.name.span(),
            kernel_token: kernel.to_token_stream(),
        }))
    }
}

impl LayerKind for Pool {
    fn describe(&self) -> String {
        let kernel = describe_pair(self.kernel);
        match self.stride == self.kernel {
            true => format!("{}({kernel})", self.name),
            false => format!("{}({kernel}, stride={})", self.name, describe_pair(self.stride)),
        }
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        let (channels, height, width) = image(self.name, self.span, input)?;
        if self.kernel.0 > height || self.kernel.1 > width {
            let message = format!(
                "the pooling window {} x {} is larger than its input {height} x {width} (shape {input})",
                self.kernel.0, self.kernel.1
            );
            return Err(Error::new_spanned(&self.kernel_token, message));
        }
        let output = |size: usize, kernel: usize, stride: usize| (size - kernel) / stride + 1;
        Ok(Shape(
            vec![channels, output(height, self.kernel.0, self.stride.0), output(width, self.kernel.1, self.stride.1)],
            None,
        ))
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let (runtime, name) = (site.runtime, Ident::new(self.name, Span::call_site()));
        let ((kh, kw), (sh, sw)) = (self.kernel, self.stride);
        let (c, h, w, oh, ow) = (site.input.0[0], site.input.0[1], site.input.0[2], site.output.0[1], site.output.0[2]);
        quote!(#runtime::#name<#c, #kh, #kw, #sh, #sw, #h, #w, #oh, #ow>)
    }

    fn init(&self, site: &Site, _init: Init) -> TokenStream {
        self.zeroed(site)
    }

    fn is_fusable_max_pool(&self) -> bool {
        self.name == "MaxPool2d" && self.stride.0 >= self.kernel.0 && self.stride.1 >= self.kernel.1
    }

    fn zeroed(&self, site: &Site) -> TokenStream {
        let ty = self.runtime_type(site);
        quote!(<#ty as ::core::default::Default>::default())
    }
}
