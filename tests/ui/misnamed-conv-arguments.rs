use nn::network;

network! {
    struct Net: [1, 8, 8] {
        Conv2d(1, 4, 3, strides = 2) -> Conv2d(4, 4, 3, padding = 1, padding = 2) -> Conv2d(4, 4, stride = 1, 3)
    }
}

fn main() {}
