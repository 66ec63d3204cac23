#!/usr/bin/env python3
"""How much of each attribute survives the autoencoder: the classifier's accuracy on held-out
reconstructions (the ceiling for the diffusion model), and a picture of originals over reconstructions.
Usage: check_autoencoder.py [out.png]"""
import os
import sys

import numpy as np
import torch

import common
import nets
import shapes_data


def main():
    common.setup()
    ae = nets.Autoencoder()
    ae.load_state_dict(torch.load(os.path.join(common.WORK, "autoencoder.pt"), map_location="cpu")["model"])
    classifier = nets.AttributeClassifier([len(v) for v in shapes_data.ATTRIBUTES.values()])
    classifier.load_state_dict(torch.load(os.path.join(common.WORK, "classifier.pt"), map_location="cpu")["model"])
    ae.eval()
    classifier.eval()
    images, attributes = common.dataset(common.HELD_OUT_COUNT, common.HELD_OUT_SEED)
    x = common.to_tensor(images[:500])
    with torch.no_grad():
        recon = ae.decoder(ae.encoder(x)).clamp(-1, 1)
        logits = classifier((recon + 1) / 2)
    accuracy = {k: float((l.argmax(1).numpy() == attributes[:500, i]).mean()) for i, (k, l) in enumerate(zip(shapes_data.ATTRIBUTES, logits))}
    print("classifier accuracy on reconstructions:", {k: round(v, 3) for k, v in accuracy.items()})
    if len(sys.argv) > 1:
        from PIL import Image
        grid = torch.cat([torch.cat(list(x[:8]), 2), torch.cat(list(recon[:8]), 2)], 1)
        Image.fromarray(((grid.permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).byte().numpy()).resize((1024, 256), 0).save(sys.argv[1])


if __name__ == "__main__":
    main()
