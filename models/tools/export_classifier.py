#!/usr/bin/env python3
"""Exports the trained attribute classifier to models/evaluation/: attribute_classifier.onnx
(input `image` float32 [B,3,64,64] RGB in [0,1]; one logits output per attribute, named after it)
and classifier.json (class names in output order and the held-out accuracy)."""
import json
import os

import torch
from torch import nn

import common
import nets
import shapes_data


class Wrapper(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model(image)


def main():
    common.setup()
    state = torch.load(os.path.join(common.WORK, "classifier.pt"), map_location="cpu")
    model = nets.AttributeClassifier([len(v) for v in shapes_data.ATTRIBUTES.values()])
    model.load_state_dict(state["model"])
    model.eval()
    out_dir = os.path.join(common.MODELS, "evaluation")
    names = list(shapes_data.ATTRIBUTES)
    with torch.no_grad():
        torch.onnx.export(Wrapper(model), (torch.rand(1, 3, 64, 64),), os.path.join(out_dir, "attribute_classifier.onnx"),
                          opset_version=17, input_names=["image"], output_names=names,
                          dynamic_axes={"image": {0: "batch"}, **{n: {0: "batch"} for n in names}})
    with open(os.path.join(out_dir, "classifier.json"), "w") as f:
        json.dump({"generated_by": "models/tools/train_classifier.py + export_classifier.py", "input": "image",
                   "input_size": shapes_data.IMAGE_SIZE, "input_range": [0, 1], "attributes": shapes_data.ATTRIBUTES,
                   "training_steps": state["step"],
                   "held_out_accuracy": dict(zip(names, state["accuracy"]))}, f, indent=1)
        f.write("\n")
    print("exported", out_dir, dict(zip(names, state["accuracy"])))


if __name__ == "__main__":
    main()
