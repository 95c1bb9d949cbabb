"""Where campaigns and their histories live: the store interface and its backends."""
