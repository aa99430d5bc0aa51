"""PyTorch side of `pnpm bench`: a line-oriented JSON server on stdin/stdout.

{"cmd": "setup", "file": path, "config": {...}} builds nn.RNN, nn.LSTM or nn.GRU (config["cell"]), loads
the input and weights (raw float32, in the order input, then per layer and direction weight_ih, weight_hh,
bias_ih, bias_hh, each G*H rows: G = 1, 4, 3), runs one forward, writes the output (B, T, D*H) to
path + ".out" and replies {"threads": n}. A config with "lengths" (packed) runs, in every forward,
pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), the module, and
pad_packed_sequence(..., batch_first=True, total_length=T): zeros past each length.
{"cmd": "time", "n": n, "batch": b} replies {"times": [...]}: n samples, each the mean ms of b forwards.
A request that raises replies {"error": message}.
"""
import json
import sys
import time

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

model = None
x = None
lengths = None
MODULES = {"RNN": (torch.nn.RNN, 1), "LSTM": (torch.nn.LSTM, 4), "GRU": (torch.nn.GRU, 3)}


def forward():
    if lengths is None:
        return model(x)[0]
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(model(packed)[0], batch_first=True, total_length=x.shape[1])[0]


def setup(msg):
    global model, x, lengths
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
    lengths = torch.tensor(c["lengths"], dtype=torch.int64) if c.get("lengths") else None
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
        y = forward()
    y.numpy().astype("<f4").tofile(msg["file"] + ".out")
    return {"threads": torch.get_num_threads()}


def timing(msg):
    times = []
    with torch.no_grad():
        for _ in range(msg["n"]):
            start = time.perf_counter()
            for _ in range(msg["batch"]):
                forward()
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
