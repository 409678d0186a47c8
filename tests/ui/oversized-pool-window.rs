use nn::network;

network! {
    struct Net: [1, 6, 6] {
        MaxPool2d(4) -> AvgPool2d(2)
    }
}

fn main() {}
