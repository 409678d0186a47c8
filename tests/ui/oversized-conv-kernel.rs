use nn::network;

network! {
    struct Net: [3, 8, 8] {
        Conv2d(3, 8, 5) -> ReLU -> Conv2d(8, 8, (3, 5), padding = (1, 0))
    }
}

fn main() {}
