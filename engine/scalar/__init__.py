"""The scalar teaching path: ``Value`` (autograd over Python floats), its tiny nn, and the
safe parser of the command line's expressions."""
