"""PyTorch side of `pnpm bench`: a line-oriented JSON server on stdin/stdout.

{"cmd": "setup", "file": path, "config": {...}} builds nn.RNN, nn.LSTM or nn.GRU (config["cell"]), loads
the input and weights (raw float32, in the order input, then per layer and direction weight_ih, weight_hh,
bias_ih, bias_hh, each G*H rows: G = 1, 4, 3), runs one forward, writes the output (B, T, D*H) to
path + ".out" and replies {"threads": n}.
{"cmd": "time", "n": n, "batch": b} replies {"times": [...]}: n samples, each the mean ms of b forwards.
A request that raises replies {"error": message}.
"""
import json
import sys
import time

import numpy as np
import torch

model = None
x = None
MODULES = {"RNN": (torch.nn.RNN, 1), "LSTM": (torch.nn.LSTM, 4), "GRU": (torch.nn.GRU, 3)}


def setup(msg):
    global model, x
    c = msg["config"]
    D = 2 if c["bidirectional"] else 1
    H = c["hiddenSize"]
    module, G = MODULES[c.get("cell", "RNN")]
    raw = np.fromfile(msg["file"], dtype="<f4")
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        t = torch.from_numpy(raw[at : at + n].copy()).reshape(*shape)
        at += n
        return t

    x = take(c["batch"], c["steps"], c["inputSize"])
    model = module(
        c["inputSize"], H, c["numLayers"], batch_first=True, bidirectional=c["bidirectional"]
    ).eval()
    state = {}
    for k in range(c["numLayers"]):
        inp = c["inputSize"] if k == 0 else D * H
        for s in ["", "_reverse"][:D]:
            state[f"weight_ih_l{k}{s}"] = take(G * H, inp)
            state[f"weight_hh_l{k}{s}"] = take(G * H, H)
            state[f"bias_ih_l{k}{s}"] = take(G * H)
            state[f"bias_hh_l{k}{s}"] = take(G * H)
    model.load_state_dict(state)
    with torch.no_grad():
        y, _ = model(x)
    y.numpy().astype("<f4").tofile(msg["file"] + ".out")
    return {"threads": torch.get_num_threads()}


def timing(msg):
    times = []
    with torch.no_grad():
        for _ in range(msg["n"]):
            start = time.perf_counter()
            for _ in range(msg["batch"]):
                model(x)
            times.append((time.perf_counter() - start) * 1000 / msg["batch"])
    return {"times": times}


for line in sys.stdin:
    msg = json.loads(line)
    try:
        reply = setup(msg) if msg["cmd"] == "setup" else timing(msg)
    except Exception as e:  # the bench reports it as this runner's failure instead of waiting forever
        reply = {"error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
