// unfold / fold (im2col / col2im).
