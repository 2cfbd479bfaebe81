"""Replay a whole training step (batch gather, forward, backward, AdamW) as one CUDA graph.

A step at batch 32 on 32x32 frames is launch-bound on a GPU: hundreds of small kernels, each
waiting on the CPU to launch it. ``GraphedStep(fn)`` runs ``fn(*inputs)`` eagerly for the first
``warmup`` calls of each input shape (on a side stream, as CUDA graph capture requires), then
captures one call in a CUDA graph and from then on copies the inputs into the captured (static)
buffers and replays the graph: one launch per step.

Every call is a real step: warm-up calls train, the capture call is replayed right after
capture, so a graphed run takes the same steps as an eager one. ``fn`` must

* start with ``optimizer.zero_grad(set_to_none=True)`` (backward then writes fresh gradients,
  which replays repeat instead of accumulating),
* use an optimiser built with ``capturable=True`` and a tensor lr (``make_optimizer(...,
  capturable=True)``; the scheduler fills the lr tensor in place),
* draw no random numbers and read no value on the host (no ``.item()``),
* return tensors (their values are updated in place by each replay).

Disabled (``enabled=False``, or not on CUDA), ``GraphedStep`` simply calls ``fn``."""

from __future__ import annotations

from typing import Callable

import torch


def _key(inputs) -> tuple:
    return tuple(None if t is None else (tuple(t.shape), t.dtype, str(t.device)) for t in inputs)


class GraphedStep:
    def __init__(self, fn: Callable, enabled: bool = True, warmup: int = 3):
        self.fn = fn
        self.enabled = bool(enabled) and torch.cuda.is_available()
        self.warmup = warmup
        self._calls: dict[tuple, int] = {}
        self._graphs: dict[tuple, tuple] = {}  # key -> (graph, static inputs, static outputs)
        self._stream = None

    @property
    def n_graphs(self) -> int:
        return len(self._graphs)

    def __call__(self, *inputs):
        if not self.enabled:
            return self.fn(*inputs)
        key = _key(inputs)
        entry = self._graphs.get(key)
        if entry is not None:
            graph, static_in, static_out = entry
            for dst, src in zip(static_in, inputs):
                if dst is not None:
                    dst.copy_(src)
            graph.replay()
            return static_out
        if self._stream is None:
            self._stream = torch.cuda.Stream()
        current = torch.cuda.current_stream()
        self._stream.wait_stream(current)
        n = self._calls.get(key, 0)
        if n < self.warmup:
            self._calls[key] = n + 1
            with torch.cuda.stream(self._stream):
                out = self.fn(*inputs)
            current.wait_stream(self._stream)
            return out
        static_in = tuple(None if t is None else t.clone() for t in inputs)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=self._stream):
            static_out = self.fn(*static_in)
        current.wait_stream(self._stream)
        self._graphs[key] = (graph, static_in, static_out)
        graph.replay()  # capture records the step without running it
        return static_out
