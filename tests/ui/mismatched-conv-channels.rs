use nn::network;

network! {
    struct Net: [1, 28, 28] {
        Conv2d(1, 6, 5) -> ReLU -> Conv2d(16, 32, 3)
    }
}

fn main() {}
