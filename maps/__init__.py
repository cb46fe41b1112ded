"""What people look at: the web UI's static files (vendored libraries, no CDN) and report maps."""
