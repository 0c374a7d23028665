"""Køge Erhvervsbot: the Danish business-service assistant's own Python package.

Importing it sets one thread for OpenBLAS (numpy's and scipy's linear algebra) unless
``OPENBLAS_NUM_THREADS`` is set already. Every server process of the project imports ``bot``
before numpy is loaded, and OpenBLAS reads the variable when it is loaded. A server computes one
message at a time with small matrices; with a thread per core, OpenBLAS's idle worker spun
between calls and kept a second core busy: the Rasa server used 21 ms of CPU per message
instead of 11, taken from the action server and the rest of the machine (docs/performance.md).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
