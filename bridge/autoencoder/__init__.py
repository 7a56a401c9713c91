"""The convolutional spiking autoencoder of the hyperexcitability paper (snntorch, MNIST)."""
