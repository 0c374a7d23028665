"""Corrections of how Rasa runs its graph (the NLU for every message, the policies for every
prediction).

12. **The graph to run is worked out once.** For every run Rasa's graph runner asks the schema
   for the nodes the targets need (``GraphSchema.minimal_graph_schema``), a walk of every path
   through the graph (6.6 % of the process). The schema does not change after the model is
   loaded, so the answer is kept per schema and targets.
15. **The graph is run without dask's scheduler.** ``DaskGraphRunner.run`` hands each run to
   ``dask.get``, which orders the tasks and keeps a scheduler's state for a graph of some twenty
   nodes (about 6 %). The graphs are run by evaluating each target's dependencies first, each
   node once, as dask does; nodes that do not depend on each other are independent functions of
   their inputs, so their order does not change what they return.
"""
from __future__ import annotations

from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, replace, wrap


def _minimal_schema_once(original: Any) -> Any:
    def minimal_graph_schema(self: Any, targets: Any = None) -> Any:
        """``GraphSchema.minimal_graph_schema``, kept per schema and targets."""
        kept = self.__dict__.setdefault("_koege_minimal", {})
        key = tuple(targets) if targets else None
        if key not in kept:
            kept[key] = original(self, targets)
        return kept[key]

    return minimal_graph_schema


def evaluate(graph: dict[str, Any], targets: list[str]) -> list[Any]:
    """What ``dask.get(graph, targets)`` returns for Rasa's graphs: a task is a tuple whose first
    element is callable and whose other elements are names of tasks (their values are passed)
    or values (passed as they are); anything else in the graph is a value. Each task runs once."""
    results: dict[str, Any] = {}

    def value(key: str) -> Any:
        if key not in results:
            entry = graph[key]
            if type(entry) is tuple and entry and callable(entry[0]):
                results[key] = entry[0](*(value(arg) if isinstance(arg, str) and arg in graph else arg
                                          for arg in entry[1:]))
            else:
                results[key] = entry
        return results[key]

    return [value(target) for target in targets]


def _run_graph(self: Any, inputs: Any = None, targets: Any = None) -> dict[str, Any]:
    """``DaskGraphRunner.run`` with :func:`evaluate` instead of ``dask.get``."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    run_graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    try:
        return dict(evaluate(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def _install_12() -> None:
    from rasa.engine.graph import GraphSchema

    wrap(GraphSchema, "minimal_graph_schema", _minimal_schema_once)


def _install_15() -> None:
    from rasa.engine.runner.dask import DaskGraphRunner

    replace(DaskGraphRunner, "run", _run_graph)


CORRECTIONS = (
    Correction(12, "the graph to run worked out once", Kind.SPEED, (
        Target("rasa.engine.graph:GraphSchema.minimal_graph_schema", "58dfb30335499fff"),
    ), _install_12),
    Correction(15, "the graph run without dask's scheduler", Kind.SPEED, (
        Target("rasa.engine.runner.dask:DaskGraphRunner.run", "45f0f52f574f3aa9"),
        Target("rasa.engine.runner.dask:DaskGraphRunner._build_dask_graph", "5bb99f974d512a36"),
    ), _install_15),
)
