"""The `awda` command line: thin commands over the services."""
