//! The arguments of a layer: counting them, and reading sizes and numbers.

use crate::ast::LayerDecl;
use quote::ToTokens;
use syn::{BinOp, Error, Expr, Lit, UnOp};

/// A layer written without arguments.
pub fn none(decl: &LayerDecl) -> syn::Result<()> {
    match &decl.args {
        None => Ok(()),
        Some(args) => {
            let name = &decl.name;
            Err(Error::new(args.span, format!("`{name}` takes no arguments; write `{name}`")))
        }
    }
}

/// Exactly `N` arguments, or an error that shows the `usage`.
pub fn exactly<'a, const N: usize>(decl: &'a LayerDecl, usage: &str) -> syn::Result<[&'a Expr; N]> {
    let found: Vec<&Expr> = decl.args.iter().flat_map(|args| args.values.iter()).collect();
    found.try_into().map_err(|found: Vec<&Expr>| {
        let plural = if N == 1 { "argument" } else { "arguments" };
        Error::new(decl.args_span(), format!("`{}` takes {N} {plural} {usage}; found {}", decl.name, found.len()))
    })
}

/// The arguments of a layer that takes positional arguments, then optional `name = value` ones.
pub struct Arguments<'a> {
    pub positional: Vec<&'a Expr>,
    pub named: Vec<(String, &'a Expr)>,
}

impl<'a> Arguments<'a> {
    /// The value written for `name`, if any.
    pub fn named(&self, name: &str) -> Option<&'a Expr> {
        self.named.iter().find(|(written, _)| written == name).map(|(_, value)| *value)
    }
}

/// `N` positional arguments, then any of the `names` as `name = value`, each at most once.
pub fn with_names<'a, const N: usize>(
    decl: &'a LayerDecl,
    names: &[&str],
    usage: &str,
) -> syn::Result<([&'a Expr; N], Arguments<'a>)> {
    let mut arguments = Arguments { positional: Vec::new(), named: Vec::new() };
    let layer = &decl.name;
    for expr in decl.args.iter().flat_map(|args| args.values.iter()) {
        match expr {
            Expr::Assign(assign) => {
                let name = assign.left.to_token_stream().to_string();
                if !names.contains(&name.as_str()) {
                    let known = names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
                    return Err(Error::new_spanned(
                        &assign.left,
                        format!("`{layer}` has no argument `{name}`; it takes {known} by name"),
                    ));
                }
                if arguments.named(&name).is_some() {
                    return Err(Error::new_spanned(&assign.left, format!("`{name}` is given twice")));
                }
                arguments.named.push((name, &assign.right));
            }
            _ if !arguments.named.is_empty() => {
                return Err(Error::new_spanned(expr, "positional arguments come before the named ones"));
            }
            _ => arguments.positional.push(expr),
        }
    }
    let positional: [&Expr; N] = arguments.positional.clone().try_into().map_err(|found: Vec<&Expr>| {
        let plural = if N == 1 { "argument" } else { "arguments" };
        Error::new(decl.args_span(), format!("`{layer}` takes {N} {plural} {usage}; found {}", found.len()))
    })?;
    Ok((positional, arguments))
}

/// A size or a pair of sizes for height and width, `5` or `(5, 3)`; with `zero`, 0 is allowed
/// (a padding).
pub fn pair(expr: &Expr, zero: bool) -> syn::Result<(usize, usize)> {
    let one = |expr: &Expr| if zero { integer(expr) } else { size(expr) };
    match expr {
        Expr::Tuple(tuple) if tuple.elems.len() == 2 => Ok((one(&tuple.elems[0])?, one(&tuple.elems[1])?)),
        Expr::Tuple(tuple) => Err(Error::new_spanned(
            tuple,
            format!("expected one size or a pair `(height, width)`, found {} values", tuple.elems.len()),
        )),
        _ => {
            let value = one(expr)?;
            Ok((value, value))
        }
    }
}

/// `5` or `(5, 3)` as written in an architecture string.
pub fn describe_pair((height, width): (usize, usize)) -> String {
    if height == width {
        height.to_string()
    } else {
        format!("({height}, {width})")
    }
}

/// Every expression as a [`size`], with the problems of all of them reported together.
pub fn sizes<const N: usize>(exprs: [&Expr; N]) -> syn::Result<[usize; N]> {
    let mut error: Option<Error> = None;
    let values = exprs.map(|expr| {
        size(expr).unwrap_or_else(|problem| {
            match &mut error {
                Some(error) => error.combine(problem),
                None => error = Some(problem),
            }
            0
        })
    });
    match error {
        Some(error) => Err(error),
        None => Ok(values),
    }
}

/// A size: a positive integer, written as a literal or as integer arithmetic on literals
/// (`28 * 28`, `(32 - 4) / 2`), evaluated here.
pub fn size(expr: &Expr) -> syn::Result<usize> {
    let value = integer(expr)?;
    if value == 0 {
        return Err(Error::new_spanned(expr, format!("a layer size must be at least 1, found {}", describe(expr, 0))));
    }
    Ok(value)
}

/// `expr` and its value, `28 * 28 = 784`, or the literal alone.
fn describe(expr: &Expr, value: usize) -> String {
    match expr {
        Expr::Lit(_) => value.to_string(),
        _ => format!("`{}` = {value}", expr.to_token_stream()),
    }
}

/// The value of an integer expression: literals, `+ - * / %` and parentheses.
pub fn integer(expr: &Expr) -> syn::Result<usize> {
    let expected = || {
        Error::new_spanned(
            expr,
            format!(
                "expected a layer size (a positive integer, or integer arithmetic like `28 * 28`), found `{}`",
                expr.to_token_stream()
            ),
        )
    };
    match expr {
        Expr::Lit(syn::ExprLit { lit: Lit::Int(literal), .. }) => {
            if !literal.suffix().is_empty() && literal.suffix() != "usize" {
                return Err(expected());
            }
            literal.base10_parse().map_err(|_| expected())
        }
        Expr::Paren(inner) => integer(&inner.expr),
        Expr::Group(inner) => integer(&inner.expr),
        Expr::Binary(binary) => {
            let (left, right) = (integer(&binary.left)?, integer(&binary.right)?);
            let (value, what) = match binary.op {
                BinOp::Add(_) => (left.checked_add(right), "overflows"),
                BinOp::Sub(_) => (left.checked_sub(right), "is negative"),
                BinOp::Mul(_) => (left.checked_mul(right), "overflows"),
                BinOp::Div(_) => (left.checked_div(right), "divides by zero"),
                BinOp::Rem(_) => (left.checked_rem(right), "divides by zero"),
                _ => return Err(expected()),
            };
            value.ok_or_else(|| {
                Error::new_spanned(expr, format!("`{}` {what}: {left} and {right}", expr.to_token_stream()))
            })
        }
        _ => Err(expected()),
    }
}

/// A real number: an integer or float literal, possibly negated.
pub fn number(expr: &Expr) -> syn::Result<f32> {
    let expected =
        || Error::new_spanned(expr, format!("expected a number, like `0.2`, found `{}`", expr.to_token_stream()));
    let (negative, literal) = match expr {
        Expr::Unary(syn::ExprUnary { op: UnOp::Neg(_), expr, .. }) => (true, expr.as_ref()),
        other => (false, other),
    };
    let value: f32 = match literal {
        Expr::Lit(syn::ExprLit { lit: Lit::Float(float), .. }) => float.base10_parse().map_err(|_| expected())?,
        Expr::Lit(syn::ExprLit { lit: Lit::Int(int), .. }) => int.base10_parse().map_err(|_| expected())?,
        _ => return Err(expected()),
    };
    if !value.is_finite() {
        return Err(expected());
    }
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size_of(tokens: &str) -> Result<usize, String> {
        size(&syn::parse_str(tokens).unwrap()).map_err(|error| error.to_string())
    }

    #[test]
    fn sizes_may_be_integer_arithmetic() {
        assert_eq!(size_of("784"), Ok(784));
        assert_eq!(size_of("28 * 28"), Ok(784));
        assert_eq!(size_of("32 * 13 * 13"), Ok(5408));
        assert_eq!(size_of("(28 - 4) / 2 + 1"), Ok(13));
        assert_eq!(size_of("10 % 4"), Ok(2));
        assert_eq!(size_of("100usize"), Ok(100));
    }

    #[test]
    fn bad_sizes_say_why() {
        assert_eq!(size_of("0"), Err("a layer size must be at least 1, found 0".into()));
        assert_eq!(size_of("4 - 4"), Err("a layer size must be at least 1, found `4 - 4` = 0".into()));
        assert_eq!(size_of("3 - 4"), Err("`3 - 4` is negative: 3 and 4".into()));
        assert_eq!(size_of("4 / 0"), Err("`4 / 0` divides by zero: 4 and 0".into()));
        assert!(size_of("1 << 3").unwrap_err().starts_with("expected a layer size"));
        assert!(size_of("n").unwrap_err().starts_with("expected a layer size"));
        assert!(size_of("2.5").unwrap_err().starts_with("expected a layer size"));
    }
}
