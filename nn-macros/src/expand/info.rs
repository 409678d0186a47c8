//! The descriptive strings of a network: its summary table.

use crate::ast::Model;

/// A Keras-style table of the layers, their output shapes and parameter counts.
pub fn summary(model: &Model) -> String {
    let rows: Vec<[String; 4]> = model
        .layers
        .iter()
        .map(|layer| {
            [
                layer.index.to_string(),
                layer.kind.describe(),
                layer.output.to_string(),
                thousands(layer.kind.parameters()),
            ]
        })
        .collect();
    let header = ["#".to_owned(), "Layer".to_owned(), "Output shape".to_owned(), "Parameters".to_owned()];
    let widths: Vec<usize> = (0..4)
        .map(|column| rows.iter().chain([&header]).map(|row| row[column].chars().count()).max().unwrap_or(0))
        .collect();
    let line = |row: &[String; 4]| {
        format!(
            "{:>w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
    };
    let mut table = vec![format!("{} (input shape {})", model.name, model.input()), line(&header)];
    table.extend(rows.iter().map(line));
    table.push(format!("Total parameters: {}", thousands(model.parameters())));
    table.join("\n")
}

/// `79510` as `79,510`.
fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(79_510), "79,510");
        assert_eq!(thousands(16_781_312), "16,781,312");
    }
}
