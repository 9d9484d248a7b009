"""Downloads: each layer, or a filtered part of it, in every registered format."""
