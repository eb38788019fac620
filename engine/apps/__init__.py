"""The user's doors: the command line, the demo, the training recipes and their pictures.
Nothing in the library imports them."""
