// scaled_dot_product_attention with a key-tiled CPU kernel (O(L·d) memory).
