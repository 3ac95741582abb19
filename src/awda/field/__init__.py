"""Field data collection: XLSForm templates, OpenRosa form lists, downloads and submissions."""
