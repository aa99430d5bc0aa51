"""Regenerates every committed fixture under fixtures/ from real PyTorch.

    apt-get install -y python3-torch   # PyTorch 1.13 for /usr/bin/python3
    /usr/bin/python3 scripts/gen_fixtures.py

Runs each scripts/fixtures/*_cases.py (rnn_cases.py writes rnn.json, lstm_gru_cases.py lstm_gru.json,
checkpoint_cases.py checkpoints.json and checkpoints/, ...). CI never runs this: the fixtures are committed data.

PyTorch's CPU GEMMs go to OpenBLAS, which picks its kernels by CPU: an FMA kernel rounds differently from
the AVX one, so the outputs' last bits would depend on the machine. The committed fixtures come from the
AVX (Sandybridge) kernel, which every x86-64 CPU with AVX runs, so this pins it before torch is loaded;
running one *_cases.py by itself does not.
"""
import os
import platform
import runpy
import sys

if platform.machine().lower() in ('x86_64', 'amd64'):
    os.environ['OPENBLAS_CORETYPE'] = 'Sandybridge'

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
sys.path.insert(0, HERE)

for script in sorted(os.listdir(HERE)):
    if script.endswith('_cases.py'):
        # each ends with sys.exit(main()): a clean exit goes on to the next script, a failure stops here
        try:
            runpy.run_path(os.path.join(HERE, script), run_name='__main__')
        except SystemExit as e:
            if e.code not in (None, 0):
                raise
