"""Reading, checking and storing data: one module per layer, the snapshot store, the demo generator."""
