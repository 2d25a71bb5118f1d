"""The verified-transformation engine as a small compiler: front ends build a typed
:class:`~ellora.tools.loops.model.LoopModel`, :mod:`~ellora.tools.loops.legality` decides what
the loop is (map, reduction, scan, search, scatter, ...) or names the dependence that stops
it, and the emitters lower a verdict to OpenMP, Kokkos or MPI edits."""
