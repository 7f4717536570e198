// Convolutions: conv1d, conv2d (stride, padding, dilation, groups), conv_transpose2d.
