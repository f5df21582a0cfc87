"""Ground-layer runtime helpers every other layer may use: torchrun process groups, gradient
averaging across ranks, and learning-rate schedules. Nothing here imports from the rest of the package."""
