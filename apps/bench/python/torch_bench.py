"""PyTorch side of `pnpm bench`: a line-oriented JSON server on stdin/stdout.

{"cmd": "setup", "file": path, "config": {...}} builds nn.RNN, nn.LSTM or nn.GRU (config["cell"]), loads
the input and weights (raw float32, in the order input, then per layer and direction weight_ih, weight_hh,
bias_ih, bias_hh, each G*H rows: G = 1, 4, 3), runs one forward, writes the output (B, T, D*H) to
path + ".out" and replies {"threads": n}. A config with "lengths" (packed) runs, in every forward,
pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), the module, and
pad_packed_sequence(..., batch_first=True, total_length=T): zeros past each length. A streamed config
("stream": true) runs the sequence one step at a time, model(x[:, t:t+1], state), the state carried.
A training config ("train": true; then the file ends with the MSE target, (B, T, D*H)) puts the module in
training mode with torch.optim.SGD(lr=msg["lr"]), runs one step (zero_grad, forward, F.mse_loss against the
target, backward, step) and writes [that step's loss, then the output of a no_grad forward with the updated
weights] instead.
{"cmd": "time", "n": n, "batch": b} replies {"times": [...]}: n samples, each the mean ms of b forwards (of b
training steps on a training config).
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
stream = False
target = None
opt = None
MODULES = {"RNN": (torch.nn.RNN, 1), "LSTM": (torch.nn.LSTM, 4), "GRU": (torch.nn.GRU, 3)}


def forward():
    if stream:
        # one step at a time, the state carried: each step's output as it comes
        state, outputs = None, []
        for t in range(x.shape[1]):
            y, state = model(x[:, t : t + 1], state)
            outputs.append(y)
        return torch.cat(outputs, 1)
    if lengths is None:
        return model(x)[0]
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(model(packed)[0], batch_first=True, total_length=x.shape[1])[0]


def train_step():
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(forward(), target)
    loss.backward()
    opt.step()
    return loss


def setup(msg):
    global model, x, lengths, stream, target, opt
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
    stream = bool(c.get("stream"))
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
    target = opt = None
    loss = []
    if c.get("train"):
        target = take(c["batch"], c["steps"], D * H)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=msg["lr"])
        loss = [train_step().item()]
    with torch.no_grad():
        y = forward()
    np.concatenate([np.array(loss, dtype="<f4"), y.numpy().ravel()]).astype("<f4").tofile(msg["file"] + ".out")
    return {"threads": torch.get_num_threads()}


def timing(msg):
    times = []
    step = train_step if opt is not None else forward
    with torch.set_grad_enabled(opt is not None):
        for _ in range(msg["n"]):
            start = time.perf_counter()
            for _ in range(msg["batch"]):
                step()
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
