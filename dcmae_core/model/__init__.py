"""The DCMAE model: masking, diffusion schedule, STTA encoder, cross-attention decoder, classifier."""
