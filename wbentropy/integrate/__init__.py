"""k-space integration machinery: uniform meshes, adaptive refinement, MPI ranks, threads, memory.

Nothing here knows a physical quantity: the integrators call an evaluator's batch functions
(:class:`wbentropy.evaluate.Evaluator`) and add what they return.
"""
