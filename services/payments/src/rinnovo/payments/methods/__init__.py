"""Payment-method plugins and the protocols they satisfy."""
