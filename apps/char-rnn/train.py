"""Trains the char-rnn example: Embedding -> LSTM (2 layers) -> Linear on data/coriolanus.txt, and writes

    model/char_lstm.safetensors   the whole state dict, exported by @recurrent/nn's export_model (metadata:
                                  every submodule's constructor options, and the vocabulary)
    model/generation.json         the vocabulary, a prompt, PyTorch's greedy generation from it, and the
                                  logits of its first LOGIT_STEPS steps

Run from the repository root (two to three minutes on one core; PyTorch 1.13, Debian's python3-torch):

    OMP_NUM_THREADS=1 /usr/bin/python3 apps/char-rnn/train.py

The text is the opening of Shakespeare's Coriolanus (Act I, Scene 1; public domain), the first 9,068
characters of tinyshakespeare's input.txt (https://github.com/karpathy/char-rnn, data/tinyshakespeare).
"""
import json
import os
import sys

os.environ.setdefault('OMP_NUM_THREADS', '1')

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'packages', 'nn', 'scripts'))
from export_safetensors import export_model  # noqa: E402

SEED = 0
EMBEDDING_DIM = 32
HIDDEN_SIZE = 96
NUM_LAYERS = 2
SEQ_LEN = 96
BATCH = 32
STEPS = 1500
LR = 3e-3
PROMPT = 'MENENIUS:\n'
GENERATE = 300
LOGIT_STEPS = 20
# A greedy step whose two best logits are closer than this could pick another character on another backend
# (float32 rounding differs by ~1e-5 relative); the script refuses such a generation instead of committing it.
MIN_MARGIN = 1e-3


class CharModel(torch.nn.Module):
    """The model the TypeScript CharModel (src/char-model.ts) writes the same way."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, EMBEDDING_DIM)
        self.rnn = torch.nn.LSTM(EMBEDDING_DIM, HIDDEN_SIZE, NUM_LAYERS, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN_SIZE, vocab_size)

    def forward(self, ids, state=None):
        out, state = self.rnn(self.embed(ids), state)
        return self.head(out), state


def encode_value(v):
    # 9 significant digits round-trip any float32 (as scripts/fixtures/common.py writes fixtures)
    return float('%.9g' % v)


def encode_tensor(t):
    return {'shape': list(t.shape), 'data': [encode_value(v) for v in t.reshape(-1).tolist()]}


def train(text, vocab):
    index = {c: i for i, c in enumerate(vocab)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    model = CharModel(len(vocab))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for step in range(1, STEPS + 1):
        starts = torch.randint(0, len(data) - SEQ_LEN - 1, (BATCH,))
        x = torch.stack([data[s:s + SEQ_LEN] for s in starts.tolist()])
        y = torch.stack([data[s + 1:s + SEQ_LEN + 1] for s in starts.tolist()])
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, len(vocab)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step % 100 == 0:
            print('step %4d  loss %.4f' % (step, loss.item()))
    return model.eval()


@torch.no_grad()
def generate(model, vocab, prompt, steps):
    """Greedy generation as src/generate.ts does it: the prompt but its last character as one sequence
    (for the state), then one character at a time from the last one, each argmax fed back with the state."""
    index = {c: i for i, c in enumerate(vocab)}
    ids = [index[c] for c in prompt]
    state = None
    if len(ids) > 1:
        _, state = model(torch.tensor([ids[:-1]]))
    token = ids[-1]
    tokens, logits_seen, margins = [], [], []
    for _ in range(steps):
        logits, state = model(torch.tensor([[token]]), state)
        row = logits[0, -1]
        top = torch.topk(row, 2).values
        margins.append((top[0] - top[1]).item())
        token = int(torch.argmax(row).item())
        tokens.append(token)
        if len(logits_seen) < LOGIT_STEPS:
            logits_seen.append(row.clone())
    return tokens, torch.stack(logits_seen), margins


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    with open(os.path.join(HERE, 'data', 'coriolanus.txt'), encoding='utf-8') as f:
        text = f.read()
    vocab = sorted(set(text))
    print('%d characters, vocabulary of %d' % (len(text), len(vocab)))
    trained = train(text, vocab)

    os.makedirs(os.path.join(HERE, 'model'), exist_ok=True)
    path = os.path.join(HERE, 'model', 'char_lstm.safetensors')
    size = export_model(trained, path, metadata={'vocab': json.dumps(vocab, ensure_ascii=False)})
    print('wrote %s (%d bytes)' % (os.path.relpath(path, ROOT), size))

    # generate with the weights as the file holds them (float32: the same values), in a fresh model
    model = CharModel(len(vocab)).eval()
    model.load_state_dict(trained.state_dict())
    tokens, logits, margins = generate(model, vocab, PROMPT, GENERATE)
    generated = ''.join(vocab[t] for t in tokens)
    print('%r -> %r' % (PROMPT, generated))
    print('smallest margin between the two best logits: %.3g' % min(margins))
    if min(margins) < MIN_MARGIN:
        sys.exit('a greedy step is too close to a tie (margin %.3g < %g); change PROMPT or the seed'
                 % (min(margins), MIN_MARGIN))

    payload = {
        'torch': torch.__version__,
        'source': "Shakespeare, Coriolanus, Act I Scene 1 (public domain): data/coriolanus.txt",
        'vocab': vocab,
        'prompt': PROMPT,
        'steps': GENERATE,
        'tokens': tokens,
        'text': generated,
        'minMargin': encode_value(min(margins)),
        'logits': encode_tensor(logits),
    }
    out = os.path.join(HERE, 'model', 'generation.json')
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(payload, f, ensure_ascii=False, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes)' % (os.path.relpath(out, ROOT), os.path.getsize(out)))


if __name__ == '__main__':
    main()
