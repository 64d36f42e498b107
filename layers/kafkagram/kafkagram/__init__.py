"""kafkagram's shared Lambda layer: configuration, data access and event schemas."""
