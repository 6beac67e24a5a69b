"""The live channel gateway: how each channel pushes, signs and expects to be answered."""
