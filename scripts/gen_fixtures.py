"""Regenerates every committed fixture under fixtures/ from real PyTorch.

    apt-get install -y python3-torch   # PyTorch 1.13 for /usr/bin/python3
    /usr/bin/python3 scripts/gen_fixtures.py

CI never runs this: the fixtures are committed data.
"""
import os
import runpy
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
sys.path.insert(0, HERE)

for script in sorted(os.listdir(HERE)):
    if script.endswith('_cases.py'):
        runpy.run_path(os.path.join(HERE, script), run_name='__main__')
