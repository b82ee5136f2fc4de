"""A cluster's infrastructure adapters: the node link over Redis."""
