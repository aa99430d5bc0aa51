"""Export a PyTorch state dict (an nn.RNN's, LSTM's, GRU's or any other) to a .safetensors file, for @recurrent/nn.

    /usr/bin/python3 scripts/export_safetensors.py model.pt model.safetensors [--dtype f16] [--trust]

model.pt is what `torch.save(rnn.state_dict(), 'model.pt')` wrote; a whole pickled module
(`torch.save(rnn, ...)`) needs --trust, because unpickling it can run arbitrary code. From Python:

    from export_safetensors import export_recurrent, export_state_dict
    export_recurrent(lstm, 'lstm.safetensors')  # + metadata 'module' ('LSTM') and 'rnn_options' (its arguments)
    export_model(model, 'model.safetensors')     # any nn.Module: + metadata 'modules' (see below)
    export_state_dict(any_state_dict, 'model.safetensors', metadata={'format': 'pt'})

export_recurrent takes an nn.RNN, nn.LSTM or nn.GRU (export_rnn is the same function, its first name) and
refuses any other module. export_model takes any nn.Module (Embedding -> LSTM -> Linear, ...) and records,
as metadata 'modules', the constructor arguments of every submodule @recurrent/nn has (nn.RNN, nn.LSTM,
nn.GRU, their cells, nn.Embedding, nn.Linear) under its state-dict prefix, in JSON:

    {"rnn": {"module": "LSTM", "options": {"inputSize": 8, "hiddenSize": 16, ...}},
     "embed": {"module": "Embedding", "options": {"numEmbeddings": 20, "embeddingDim": 8}}, ...}

(the module itself, when it is one of them, under the prefix ""). An nn.RNN, nn.LSTM or nn.GRU exported
whole also keeps 'module' and 'rnn_options'. A whole pickled module given to the command line (--trust)
gets export_model's metadata; a state dict is written with metadata['format'] alone.

Shipped with @recurrent/nn as node_modules/@recurrent/nn/scripts/export_safetensors.py (the same file).

Only the standard library writes the file (struct + json; torch only hands over the tensors). The
layout is the format's (https://github.com/huggingface/safetensors#format), byte for byte as the
reference writer (`safetensors.torch.save_file`) lays it out:

    8 bytes   N, the header length: unsigned 64-bit little-endian
    N bytes   UTF-8 JSON, compact: {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}, ...}
              with __metadata__ first (when there is any), then the tensors by descending dtype
              alignment and then by name (byte order), padded with spaces so N is a multiple of 8
    the rest  each tensor's elements, little-endian, row-major, back to back in header order;
              data_offsets [begin, end) count from the start of this section
"""
import argparse
import json
import pickle
import struct
import sys

import torch

# torch dtype -> (safetensors name, struct code of an integer of the same width). The bits go through
# the integer view, so every value, NaN payloads included, is copied exactly.
DTYPES = {
    torch.float64: ('F64', 'q'),
    torch.float32: ('F32', 'i'),
    torch.float16: ('F16', 'h'),
    torch.bfloat16: ('BF16', 'h'),
    torch.int64: ('I64', 'q'),
    torch.int32: ('I32', 'i'),
    torch.int16: ('I16', 'h'),
    torch.int8: ('I8', 'b'),
    torch.uint8: ('U8', 'B'),
    torch.bool: ('BOOL', 'B'),
}
INT_VIEW = {'q': torch.int64, 'i': torch.int32, 'h': torch.int16, 'b': torch.int8, 'B': torch.uint8}

# The reference's Dtype enum, in its declaration order (ascending alignment); it writes the
# tensors in descending order of it, then by name.
DTYPE_ORDER = ['BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'I16',
               'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64']

CONVERT = {'f32': torch.float32, 'f16': torch.float16, 'bf16': torch.bfloat16, 'f64': torch.float64}


def tensor_bytes(t):
    """The tensor's elements as little-endian bytes, row-major."""
    name, code = DTYPES[t.dtype]
    flat = t.detach().cpu().contiguous().reshape(-1)
    values = flat.view(INT_VIEW[code]).tolist()
    return name, struct.pack('<%d%s' % (len(values), code), *values)


def serialize(state_dict, metadata=None):
    """The safetensors bytes of `state_dict` (name -> tensor) with an optional str -> str `metadata`."""
    entries = []
    for name, t in state_dict.items():
        if not isinstance(name, str) or name == '__metadata__':
            raise ValueError('tensor names must be strings other than "__metadata__", got %r' % (name,))
        if not isinstance(t, torch.Tensor):
            raise TypeError('%s: expected a tensor, got %s' % (name, type(t).__name__))
        if t.dtype not in DTYPES:
            raise TypeError('%s: dtype %s has no safetensors equivalent here' % (name, t.dtype))
        dtype, data = tensor_bytes(t)
        entries.append((name, dtype, list(t.shape), data))
    entries.sort(key=lambda e: (-DTYPE_ORDER.index(e[1]), e[0].encode('utf-8')))

    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError('metadata must map strings to strings')
        header['__metadata__'] = {k: metadata[k] for k in sorted(metadata, key=lambda k: k.encode('utf-8'))}
    offset = 0
    for name, dtype, shape, data in entries:
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(e[3] for e in entries)


def export_state_dict(state_dict, path, metadata=None):
    """Writes `state_dict` to `path` as safetensors; returns the number of bytes written."""
    data = serialize(state_dict, metadata)
    with open(path, 'wb') as f:
        f.write(data)
    return len(data)


# The modules export_recurrent takes, by the name it records as metadata['module'].
RECURRENT_MODULES = {'RNN': torch.nn.RNN, 'LSTM': torch.nn.LSTM, 'GRU': torch.nn.GRU}


def module_type(module):
    """'RNN', 'LSTM' or 'GRU' for an nn.RNN, nn.LSTM or nn.GRU (or a subclass); a TypeError for anything else."""
    for name, cls in RECURRENT_MODULES.items():
        if isinstance(module, cls):
            return name
    raise TypeError('expected an nn.RNN, nn.LSTM or nn.GRU, got %s (%s.%s); use export_state_dict for any other '
                    'state dict' % (type(module).__name__, type(module).__module__, type(module).__qualname__))


def export_recurrent(module, path, metadata=None):
    """Writes an nn.RNN's, nn.LSTM's or nn.GRU's state dict to `path`, with what rebuilds it as metadata:
    'module' ('RNN', 'LSTM' or 'GRU') and 'rnn_options', its arguments as @recurrent/nn's options in JSON
    (camelCase), so `new RNN(JSON.parse(metadata.rnn_options))` (or LSTM, GRU) rebuilds it. Any other
    module is refused with a TypeError. Returns the number of bytes written."""
    meta = recurrent_metadata(module)
    meta.update(metadata or {})
    return export_state_dict(module.state_dict(), path, meta)


# The first name of export_recurrent, from when it took only nn.RNN.
export_rnn = export_recurrent


def recurrent_metadata(module):
    """The metadata export_recurrent writes: {'format': 'pt', 'module': ..., 'rnn_options': JSON}."""
    return {'format': 'pt', 'module': module_type(module),
            'rnn_options': json.dumps(rnn_options(module), separators=(',', ':'))}


# Every module whose arguments export_model records, by the name @recurrent/nn gives it (subclasses
# count as their base: a subclass of nn.LSTM is recorded as an 'LSTM').
KNOWN_MODULES = [('RNN', torch.nn.RNN), ('LSTM', torch.nn.LSTM), ('GRU', torch.nn.GRU),
                 ('RNNCell', torch.nn.RNNCell), ('LSTMCell', torch.nn.LSTMCell), ('GRUCell', torch.nn.GRUCell),
                 ('Embedding', torch.nn.Embedding), ('Linear', torch.nn.Linear)]


def module_options(module):
    """(name, options) for a module @recurrent/nn has (see KNOWN_MODULES), its constructor arguments as
    @recurrent/nn's options (camelCase); None for any other module."""
    for name, cls in KNOWN_MODULES:
        if isinstance(module, cls):
            break
    else:
        return None
    if name in RECURRENT_MODULES:
        return name, rnn_options(module)
    if name == 'Embedding':
        options = {'numEmbeddings': module.num_embeddings, 'embeddingDim': module.embedding_dim}
        if module.padding_idx is not None:
            options['paddingIdx'] = module.padding_idx
        return name, options
    if name == 'Linear':
        return name, {'inFeatures': module.in_features, 'outFeatures': module.out_features,
                      'bias': module.bias is not None}
    options = {'inputSize': module.input_size, 'hiddenSize': module.hidden_size, 'bias': module.bias}
    if name == 'RNNCell':
        options['nonlinearity'] = module.nonlinearity
    return name, options


def modules_metadata(model):
    """{prefix: {'module': name, 'options': {...}}} for every submodule module_options knows, by its
    state-dict prefix ('rnn', 'head.0'; '' for `model` itself)."""
    found = {}
    for prefix, module in model.named_modules():
        known = module_options(module)
        if known is not None:
            found[prefix] = {'module': known[0], 'options': known[1]}
    return found


def model_metadata(model):
    """The metadata export_model writes: 'format', 'modules' (JSON), and for an nn.RNN, nn.LSTM or nn.GRU
    also export_recurrent's 'module' and 'rnn_options'."""
    metadata = {'format': 'pt'}
    if isinstance(model, tuple(RECURRENT_MODULES.values())):
        metadata = recurrent_metadata(model)
    metadata['modules'] = json.dumps(modules_metadata(model), separators=(',', ':'))
    return metadata


def export_model(model, path, metadata=None):
    """Writes any nn.Module's whole state dict to `path`, with model_metadata(model) (plus `metadata`):
    @recurrent/nn's readSafetensors gives the options of every RNN, LSTM, GRU, cell, Embedding and Linear
    in it by prefix. Returns the number of bytes written."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError('expected an nn.Module, got %s; use export_state_dict for a state dict'
                        % type(model).__name__)
    meta = model_metadata(model)
    meta.update(metadata or {})
    return export_state_dict(model.state_dict(), path, meta)


def rnn_options(module):
    """An nn.RNN's, nn.LSTM's or nn.GRU's constructor arguments as @recurrent/nn's options (camelCase):
    an nn.RNN's include its nonlinearity, an nn.LSTM's its projSize (0: no projection)."""
    kind = module_type(module)
    options = {'inputSize': module.input_size, 'hiddenSize': module.hidden_size, 'numLayers': module.num_layers}
    if kind == 'RNN':
        options['nonlinearity'] = module.nonlinearity
    options.update({'bias': module.bias, 'batchFirst': module.batch_first, 'dropout': module.dropout,
                    'bidirectional': module.bidirectional})
    if kind == 'LSTM':
        options['projSize'] = module.proj_size
    return options


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('source', help='a torch.save()d state dict (or, with --trust, module)')
    parser.add_argument('target', help='the .safetensors file to write')
    parser.add_argument('--dtype', choices=sorted(CONVERT), help='convert floating-point tensors first')
    parser.add_argument('--trust', action='store_true', help='unpickle whole modules (runs code from the file)')
    args = parser.parse_args(argv)

    try:
        obj = torch.load(args.source, map_location='cpu', weights_only=not args.trust)
    except pickle.UnpicklingError as e:
        parser.error('%s is not a plain state dict (%s); if you trust the file, rerun with --trust'
                     % (args.source, str(e).split('WeightsUnpickler error: ')[-1]))
    metadata = model_metadata(obj) if isinstance(obj, torch.nn.Module) else {'format': 'pt'}
    state = obj.state_dict() if isinstance(obj, torch.nn.Module) else obj
    if not isinstance(state, dict):
        parser.error('%s holds a %s, not a state dict or module' % (args.source, type(state).__name__))
    if args.dtype:
        state = {k: v.to(CONVERT[args.dtype]) if v.is_floating_point() else v for k, v in state.items()}
    size = export_state_dict(state, args.target, metadata)
    print('wrote %s: %d tensors, %d bytes' % (args.target, len(state), size))


if __name__ == '__main__':
    sys.exit(main())
